/**
 * Image decoding to 8-bit RGB with the conventions of Pillow's `Image.open(…).convert('RGB')`, which is
 * what Hugging Face image processors see: PNG through `pngjs`, JPEG through `jpeg-js`, picked by the
 * file's magic bytes (never by its extension).
 *
 * Conversions: alpha is dropped (not composited), grayscale is replicated to three channels, palettes are
 * looked up, 1/2/4-bit samples are scaled to 0–255 (×255, ×85, ×17), 16-bit samples keep their high byte
 * (Pillow's `RGB;16B` unpacking). A `tRNS` colour key of a grayscale/truecolour PNG is ignored, as
 * `convert('RGB')` ignores it (pngjs would blank those pixels to black).
 */
import { PNG } from 'pngjs';
import jpeg from 'jpeg-js';
import { InvalidInputError } from '../errors.js';
import { BYTES_SOURCE } from './read-input.js';

/** A decoded image: interleaved 8-bit RGB, `[height, width, 3]` row-major. */
export interface RgbImage {
  width: number;
  height: number;
  /** `width · height · 3` bytes, R, G, B per pixel, rows top to bottom. */
  rgb: Uint8Array;
}

/** Image container formats recognised by their magic bytes. */
export type ImageFormat = 'png' | 'jpeg' | 'gif' | 'bmp' | 'webp' | 'tiff' | 'unknown';

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function startsWith(bytes: Uint8Array, magic: readonly number[], at = 0): boolean {
  if (bytes.length < at + magic.length) return false;
  for (let i = 0; i < magic.length; i++) if (bytes[at + i] !== magic[i]) return false;
  return true;
}

function ascii(s: string): number[] {
  return [...s].map((c) => c.charCodeAt(0));
}

/** Identifies an image container by its first bytes. */
export function sniffImageFormat(bytes: Uint8Array): ImageFormat {
  if (startsWith(bytes, PNG_MAGIC)) return 'png';
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (startsWith(bytes, ascii('GIF8'))) return 'gif';
  if (startsWith(bytes, ascii('BM'))) return 'bmp';
  if (startsWith(bytes, ascii('RIFF')) && startsWith(bytes, ascii('WEBP'), 8)) return 'webp';
  if (startsWith(bytes, ascii('II*\0')) || startsWith(bytes, ascii('MM\0*'))) return 'tiff';
  return 'unknown';
}

/**
 * Decodes a PNG or JPEG file's bytes to 8-bit RGB.
 * @param bytes the whole file.
 * @param source file name for error messages (default `'<bytes>'`).
 * @throws InvalidInputError for other formats and for corrupt or truncated files.
 */
export function decodeImage(bytes: Uint8Array, source: string = BYTES_SOURCE): RgbImage {
  const format = sniffImageFormat(bytes);
  switch (format) {
    case 'png':
      return decodePng(bytes, source);
    case 'jpeg':
      return decodeJpeg(bytes, source);
    case 'unknown': {
      const head = [...bytes.subarray(0, 8)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
      throw new InvalidInputError(source, `not a PNG or JPEG image (first bytes: ${head || 'none, the input is empty'})`, 'convert the image to PNG or JPEG');
    }
    default:
      throw new InvalidInputError(source, `${format.toUpperCase()} images are not supported`, 'convert the image to PNG or JPEG');
  }
}

interface PngHeader {
  depth: number;
  colorType: number;
}

function readPngHeader(bytes: Uint8Array, source: string): PngHeader {
  // Signature (8) + IHDR length (4) + 'IHDR' (4) + width, height (8) + depth, colour type (2).
  if (bytes.length < 26 || !startsWith(bytes, ascii('IHDR'), 12)) {
    throw new InvalidInputError(source, 'corrupt PNG: missing or truncated IHDR header');
  }
  return { depth: bytes[24], colorType: bytes[25] };
}

/** Returns the PNG without its `tRNS` chunk (other chunks and their CRCs are untouched). */
function withoutTrns(bytes: Uint8Array): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const kept: Uint8Array[] = [bytes.subarray(0, 8)];
  let pos = 8;
  let found = false;
  while (pos + 12 <= bytes.length) {
    const length = view.getUint32(pos);
    const end = pos + 12 + length;
    if (end > bytes.length) break;
    const isTrns = bytes[pos + 4] === 0x74 && bytes[pos + 5] === 0x52 && bytes[pos + 6] === 0x4e && bytes[pos + 7] === 0x53;
    if (isTrns) found = true;
    else kept.push(bytes.subarray(pos, end));
    pos = end;
  }
  if (!found) return bytes;
  kept.push(bytes.subarray(pos));
  const out = new Uint8Array(kept.reduce((n, k) => n + k.length, 0));
  let at = 0;
  for (const k of kept) {
    out.set(k, at);
    at += k.length;
  }
  return out;
}

function decodePng(bytes: Uint8Array, source: string): RgbImage {
  const { depth, colorType } = readPngHeader(bytes, source);
  const input = colorType === 0 || colorType === 2 ? withoutTrns(bytes) : bytes;
  let png: { width: number; height: number; data: ArrayLike<number> };
  try {
    png = PNG.sync.read(Buffer.from(input.buffer, input.byteOffset, input.byteLength), { skipRescale: depth === 16 });
  } catch (err) {
    throw new InvalidInputError(source, `corrupt PNG (${err instanceof Error ? err.message : String(err)})`);
  }
  const { width, height, data } = png;
  const shift = depth === 16 ? 8 : 0;
  const rgb = new Uint8Array(width * height * 3);
  for (let p = 0, q = 0; q < rgb.length; p += 4, q += 3) {
    rgb[q] = data[p] >> shift;
    rgb[q + 1] = data[p + 1] >> shift;
    rgb[q + 2] = data[p + 2] >> shift;
  }
  return { width, height, rgb };
}

function decodeJpeg(bytes: Uint8Array, source: string): RgbImage {
  let decoded: { width: number; height: number; data: Uint8Array };
  try {
    decoded = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true });
  } catch (err) {
    throw new InvalidInputError(source, `corrupt or unsupported JPEG (${err instanceof Error ? err.message : String(err)})`);
  }
  const { width, height, data } = decoded;
  if (!width || !height || data.length < width * height * 4) {
    throw new InvalidInputError(source, 'corrupt JPEG: no image data');
  }
  const rgb = new Uint8Array(width * height * 3);
  for (let p = 0, q = 0; q < rgb.length; p += 4, q += 3) {
    rgb[q] = data[p];
    rgb[q + 1] = data[p + 1];
    rgb[q + 2] = data[p + 2];
  }
  return { width, height, rgb };
}
