/**
 * Preloaded into a spawned CLI with `node --import` to simulate file-system failures no test can cause
 * for real as root: with `TFJS_LENS_TEST_FAIL_DIR` and `TFJS_LENS_TEST_FAIL_CODE` set, every
 * `fs.writeFileSync` below that folder fails with that code — `ENOSPC` after writing half the bytes
 * (a full disk), `EROFS` / `EACCES` before writing any (a read-only folder). With
 * `TFJS_LENS_TEST_THROW` set, the command's first write to stdout throws a TypeError (a bug).
 */
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';

const dir = process.env.TFJS_LENS_TEST_FAIL_DIR;
const code = process.env.TFJS_LENS_TEST_FAIL_CODE;
if (dir && code) {
  const original = fs.writeFileSync;
  const failing = (file: fs.PathOrFileDescriptor, data: string | NodeJS.ArrayBufferView, options?: fs.WriteFileOptions): void => {
    if (typeof file !== 'string' || !file.startsWith(dir)) return original(file, data, options);
    if (code === 'ENOSPC') {
      const bytes = typeof data === 'string' ? Buffer.from(data) : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
      original(file, bytes.subarray(0, bytes.length >> 1));
    }
    throw Object.assign(new Error(`${code}: simulated failure, write '${file}'`), { code, syscall: code === 'ENOSPC' ? 'write' : 'open', path: file });
  };
  fs.writeFileSync = failing as typeof fs.writeFileSync;
  syncBuiltinESMExports();
}
if (process.env.TFJS_LENS_TEST_THROW) {
  // the command's first write to stdout throws, as a bug inside a command would
  process.stdout.write = (() => {
    throw new TypeError('simulated bug: x.y is not a function');
  }) as typeof process.stdout.write;
}
