/**
 * Reads an input file (image, audio) into memory, turning file-system failures into `InvalidInputError`
 * that names the file.
 */
import { readFileSync } from 'node:fs';
import { InvalidInputError } from '../errors.js';

/**
 * Returns the bytes of `path`.
 * @param kind what the file should hold, for the message (`'image'`, `'WAV audio'`).
 * @throws InvalidInputError when the file is missing, a directory or unreadable.
 */
export function readInputFile(path: string, kind: string): Uint8Array {
  try {
    const buffer = readFileSync(path);
    return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new InvalidInputError(path, `${kind} file not found`, 'check the path');
    if (code === 'EISDIR') throw new InvalidInputError(path, `is a directory, expected a ${kind} file`);
    throw new InvalidInputError(path, `cannot read ${kind} file (${(err as Error).message})`);
  }
}

/** The name used in error messages for an in-memory input. */
export const BYTES_SOURCE = '<bytes>';
