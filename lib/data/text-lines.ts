/**
 * UTF-8 text files for the dataset loaders: the text (a leading BOM removed) or its lines, with a file that
 * is not UTF-8 text refused by name instead of being read as garbage.
 */
import { InvalidInputError } from '../errors.js';
import { readInputFile } from './read-input.js';

/**
 * The text of a UTF-8 file.
 * @param kind what the file should hold, for messages (`'JSONL'`, `'synset list'`).
 * @throws InvalidInputError when the file is missing, unreadable, holds NUL bytes or is not valid UTF-8.
 */
export function utf8Text(path: string, kind: string): string {
  const bytes = readInputFile(path, kind);
  let text: string;
  try {
    if (bytes.includes(0)) throw new Error('NUL byte');
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new InvalidInputError(path, `is not UTF-8 text (expected a ${kind} file)`);
  }
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** The lines of a UTF-8 file (`\n` or `\r\n`); a final newline does not add an empty line. Line i is line i + 1 of the file. */
export function utf8Lines(path: string, kind: string): string[] {
  const lines = utf8Text(path, kind).split(/\r?\n/);
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  return lines;
}
