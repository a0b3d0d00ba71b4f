/**
 * Reads a file the CLI analyses as text (`--text-file`, `--ids-file`): it must be UTF-8 text. An image,
 * audio or other binary file is rejected with what it looks like, instead of being tokenised as garbage.
 */
import { InvalidInputError } from '../errors.js';
import { readInputFile } from '../data/read-input.js';
import { sniffImageFormat } from '../data/image-decode.js';

/** How many leading bytes are searched for a NUL byte (binary files have them early). */
const SNIFF_BYTES = 8192;

/** What a non-text file looks like, for the message: `'a PNG image'`, `'WAV audio'`, `'binary data'`. */
export function binaryKind(bytes: Uint8Array): string {
  const image = sniffImageFormat(bytes);
  if (image !== 'unknown') return `a ${image.toUpperCase()} image`;
  const head = new TextDecoder('latin1').decode(bytes.subarray(0, 12));
  if (head.startsWith('RIFF') && head.slice(8, 12) === 'WAVE') return 'WAV audio';
  if (head.startsWith('%PDF')) return 'a PDF document';
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) return 'gzip-compressed data';
  if (head.startsWith('PK\x03\x04')) return 'a zip archive';
  return 'binary data';
}

/**
 * Returns the text of `path`.
 * @param option the flag that named the file, for messages (`'--text-file'`).
 * @throws InvalidInputError when the file is missing, unreadable, or not UTF-8 text (NUL bytes or
 *   invalid UTF-8), naming what it looks like.
 */
export function readTextFile(path: string, option: string): string {
  const bytes = readInputFile(path, 'text');
  const binary = bytes.subarray(0, SNIFF_BYTES).includes(0);
  let text: string | undefined;
  if (!binary) {
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      text = undefined;
    }
  }
  if (text === undefined) {
    const kind = binaryKind(bytes);
    throw new InvalidInputError(path, `is ${kind}, not a text file (${binary ? 'it holds NUL bytes' : 'it is not valid UTF-8'})`, `${option} takes UTF-8 text, one ${option === '--ids-file' ? 'id sequence' : 'sentence'} per line`);
  }
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}
