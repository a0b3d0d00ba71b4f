// Output files appear under their name only when complete; failures are OutputWriteErrors that leave nothing behind.
import { test, after, mock } from 'node:test';
import assert from 'node:assert/strict';
import fs, { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic, ensureOutputDir } from '../../../lib/io/atomic-write.js';
import { systemErrorReason } from '../../../lib/io/system-error.js';
import { OutputWriteError } from '../../../lib/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'tfjs-lens-atomic-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('writeFileAtomic writes the bytes, creates the folder, replaces an old file and leaves no temporary file', () => {
  const path = join(dir, 'sub', 'a.bin');
  writeFileAtomic(path, new Uint8Array([1, 2, 3]));
  assert.deepEqual([...readFileSync(path)], [1, 2, 3]);
  writeFileAtomic(path, 'text');
  assert.equal(readFileSync(path, 'utf8'), 'text');
  assert.deepEqual(readdirSync(join(dir, 'sub')), ['a.bin']);
});

test('a full disk mid-write: OutputWriteError naming the file, no partial file under either name', () => {
  const target = join(dir, 'full', 'chart.png');
  ensureOutputDir(join(dir, 'full'));
  const original = fs.writeFileSync;
  mock.method(fs, 'writeFileSync', (file: string, data: Uint8Array) => {
    original(file, data.subarray(0, 2));
    throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', syscall: 'write' });
  });
  syncBuiltinESMExports();
  try {
    assert.throws(() => writeFileAtomic(target, new Uint8Array(10)), (err: unknown) => {
      assert.ok(err instanceof OutputWriteError);
      assert.equal(err.code, 'E_OUTPUT_WRITE');
      assert.equal(err.path, target);
      assert.match(err.message, /cannot write .*chart\.png: no space left on device \(ENOSPC\)/);
      return true;
    });
  } finally {
    mock.restoreAll();
    syncBuiltinESMExports();
  }
  assert.deepEqual(readdirSync(join(dir, 'full')), []);
});

test('a folder that cannot be created is an OutputWriteError naming the folder', () => {
  const file = join(dir, 'plain-file');
  writeFileSync(file, 'x');
  assert.throws(() => writeFileAtomic(join(file, 'out', 'a.png'), 'x'), (err: unknown) => err instanceof OutputWriteError && /plain-file\/out: cannot create the folder: .*\(ENOTDIR\)/.test(err.message));
});

test('systemErrorReason words the common codes and falls back to the message', () => {
  const err = (code: string) => Object.assign(new Error(`${code}: x`), { code });
  assert.equal(systemErrorReason(err('EROFS')), 'read-only file system (EROFS)');
  assert.equal(systemErrorReason(err('EACCES')), 'permission denied (EACCES)');
  assert.equal(systemErrorReason(new Error('plain\nsecond')), 'plain');
});
