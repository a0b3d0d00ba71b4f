/**
 * Writes an output file so that its final name only ever holds a complete file: the bytes go to a
 * hidden temporary name in the same folder, which is renamed over the target when the write succeeded
 * and removed when it failed (read-only folder, full disk, …). Failures are `OutputWriteError`s.
 */
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { OutputWriteError } from '../errors.js';
import { systemErrorReason } from './system-error.js';

/** Creates `dir` (and its parents); a failure is an `OutputWriteError` naming the folder. */
export function ensureOutputDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw new OutputWriteError(dir, `cannot create the folder: ${systemErrorReason(err)}`);
  }
}

/**
 * Writes `data` to `path` atomically (temporary name + rename); creates the parent folder.
 * @throws OutputWriteError when the folder cannot be created or the file cannot be written; no partial
 *   file is left under `path` or under the temporary name.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const dir = dirname(path);
  ensureOutputDir(dir);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.partial`);
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (err) {
    try {
      rmSync(tmp, { force: true });
    } catch {
      // the temporary name may not exist, or the folder refuses even that: the error below says why
    }
    throw new OutputWriteError(path, systemErrorReason(err));
  }
}
