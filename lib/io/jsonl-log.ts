/**
 * An append-only JSON-lines log that survives a crash: every record is one line written with a single
 * `write` and flushed (`fsync`) before the next, so a killed process leaves at most one torn last line (no
 * trailing newline, or not valid JSON). `openJsonlLog` reads the records written so far, cuts such a torn
 * tail off the file, and appends from there; a bad line anywhere else is an error (the file is not a log of
 * this kind), never skipped silently.
 */
import { closeSync, existsSync, fsyncSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs';
import { InvalidInputError, OutputWriteError } from '../errors.js';
import { systemErrorReason } from './system-error.js';
import { ensureOutputDir } from './atomic-write.js';
import { dirname } from 'node:path';

/** An open log. */
export interface JsonlLog<T> {
  path: string;
  /** The complete records found when the log was opened, in file order. */
  records: T[];
  /** Bytes of a torn last line that were cut off when opening (0 when the file ended cleanly). */
  repairedBytes: number;
  /** Appends one record as one line and flushes it to disk. */
  append(record: T): void;
  close(): void;
}

/**
 * Opens (creating it if needed) a JSON-lines log for appending.
 * @throws InvalidInputError when a line other than the last is not valid JSON; OutputWriteError when the
 *   file cannot be opened, truncated or written.
 */
export function openJsonlLog<T = unknown>(path: string): JsonlLog<T> {
  const records: T[] = [];
  let keep = 0;
  let size = 0;
  if (existsSync(path)) {
    const bytes = readFileSync(path);
    size = bytes.length;
    let start = 0;
    let lineNo = 0;
    while (start < bytes.length) {
      const nl = bytes.indexOf(0x0a, start);
      lineNo++;
      const end = nl < 0 ? bytes.length : nl;
      const text = bytes.subarray(start, end).toString('utf8');
      let parsed: T | undefined;
      let ok = true;
      if (text.trim()) {
        try {
          parsed = JSON.parse(text) as T;
        } catch {
          ok = false;
        }
      }
      if (nl < 0 || !ok) {
        // a torn record may only be the last line
        const rest = bytes.subarray(nl < 0 ? bytes.length : nl + 1);
        if (!ok && rest.toString('utf8').trim()) throw new InvalidInputError(path, `line ${lineNo} is not valid JSON and is not the last line`, 'a JSON-lines log is only ever torn at its end; move the file away to start a new log');
        break;
      }
      if (parsed !== undefined) records.push(parsed);
      keep = nl + 1;
      start = nl + 1;
    }
  } else {
    ensureOutputDir(dirname(path));
  }
  let fd: number;
  try {
    fd = openSync(path, existsSync(path) ? 'r+' : 'w');
    if (keep < size) ftruncateSync(fd, keep);
  } catch (err) {
    throw new OutputWriteError(path, `cannot open the log for appending: ${systemErrorReason(err)}`);
  }
  let position = keep;
  return {
    path,
    records,
    repairedBytes: size - keep,
    append(record: T): void {
      const line = Buffer.from(`${JSON.stringify(record)}\n`, 'utf8');
      try {
        let off = 0;
        while (off < line.length) off += writeSync(fd, line, off, line.length - off, position + off);
        fsyncSync(fd);
      } catch (err) {
        throw new OutputWriteError(path, `cannot append to the log: ${systemErrorReason(err)}`);
      }
      position += line.length;
    },
    close(): void {
      closeSync(fd);
    },
  };
}
