/**
 * Image decoding to 8-bit RGB with the conventions of transformers' `load_image`
 * (`PIL.ImageOps.exif_transpose(Image.open(…)).convert('RGB')`), which is what Hugging Face image processors
 * see: PNG through `pngjs`, JPEG through libjpeg-turbo's decoder (mozjpeg, a libjpeg-turbo fork, compiled to
 * wasm by `@jsquash/jpeg`: fancy chroma upsampling and the islow IDCT, Pillow's defaults), picked by the
 * file's magic bytes (never by its extension). An EXIF Orientation tag (JPEG `Exif` APP1, PNG `eXIf`) is
 * applied as `exif_transpose` applies it.
 *
 * Conversions: alpha is dropped (not composited), grayscale is replicated to three channels, palettes are
 * looked up, 1/2/4-bit samples are scaled to 0–255 (×255, ×85, ×17), 16-bit samples keep their high byte
 * (Pillow's `RGB;16B` unpacking). A `tRNS` colour key of a grayscale/truecolour PNG is ignored, as
 * `convert('RGB')` ignores it (pngjs would blank those pixels to black).
 */
import { PNG } from 'pngjs';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import mozjpegFactory from '@jsquash/jpeg/codec/dec/mozjpeg_dec.js';
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
 * Decodes a PNG or JPEG file's bytes to 8-bit RGB, with its EXIF orientation applied.
 * @param bytes the whole file.
 * @param source file name for error messages (default `'<bytes>'`).
 * @throws InvalidInputError for other formats, for corrupt or truncated files and for CMYK JPEGs.
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

/** The PNG's chunks in file order: type, and where the whole chunk and its data lie. */
function pngChunks(bytes: Uint8Array): { type: string; start: number; end: number; data: Uint8Array }[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const chunks: { type: string; start: number; end: number; data: Uint8Array }[] = [];
  let pos = 8;
  while (pos + 12 <= bytes.length) {
    const length = view.getUint32(pos);
    const end = pos + 12 + length;
    if (end > bytes.length) break;
    chunks.push({ type: String.fromCharCode(...bytes.subarray(pos + 4, pos + 8)), start: pos, end, data: bytes.subarray(pos + 8, pos + 8 + length) });
    pos = end;
  }
  return chunks;
}

/** Returns the PNG without its `tRNS` chunk (other chunks and their CRCs are untouched). */
function withoutTrns(bytes: Uint8Array, chunks: ReturnType<typeof pngChunks>): Uint8Array {
  if (!chunks.some((c) => c.type === 'tRNS')) return bytes;
  const kept: Uint8Array[] = [bytes.subarray(0, 8)];
  for (const c of chunks) if (c.type !== 'tRNS') kept.push(bytes.subarray(c.start, c.end));
  kept.push(bytes.subarray(chunks.length ? chunks[chunks.length - 1]!.end : 8));
  const out = new Uint8Array(kept.reduce((n, k) => n + k.length, 0));
  let at = 0;
  for (const k of kept) {
    out.set(k, at);
    at += k.length;
  }
  return out;
}

/** EXIF Orientation of a PNG's (last) `eXIf` chunk, as Pillow reads it; 1 if none. */
function pngExifOrientation(chunks: ReturnType<typeof pngChunks>): number {
  const exif = chunks.filter((c) => c.type === 'eXIf').pop();
  return exif ? tiffOrientation(exif.data) : 1;
}

function decodePng(bytes: Uint8Array, source: string): RgbImage {
  const { depth, colorType } = readPngHeader(bytes, source);
  const chunks = pngChunks(bytes);
  const input = colorType === 0 || colorType === 2 ? withoutTrns(bytes, chunks) : bytes;
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
  return applyExifOrientation({ width, height, rgb }, pngExifOrientation(chunks));
}

/** The embind API of `@jsquash/jpeg`'s decoder (squoosh's `mozjpeg_dec.cpp`): RGBA out, `null` on failure. */
interface MozJpegDecoder {
  decode(data: Uint8Array, applyOrientation: boolean): { width: number; height: number; data: Uint8ClampedArray } | null;
}

let jpegWasm: WebAssembly.Module | undefined;
let jpegDecoder: MozJpegDecoder | undefined;
/** What libjpeg printed (warnings and the error that ended a decode) since the last `decodeJpeg` began. */
let jpegMessages: string[] = [];

/**
 * The wasm decoder, instantiated synchronously (the package's own `init` is asynchronous and fetches the
 * .wasm by URL, which Node's fetch cannot do for `file:`), so `decodeImage` stays synchronous.
 */
function mozjpeg(): MozJpegDecoder {
  if (jpegDecoder) return jpegDecoder;
  if (!jpegWasm) {
    const wasmPath = createRequire(import.meta.url).resolve('@jsquash/jpeg/codec/dec/mozjpeg_dec.wasm');
    jpegWasm = new WebAssembly.Module(readFileSync(wasmPath));
  }
  const wasm = jpegWasm;
  const record = (line: unknown): void => void jpegMessages.push(String(line));
  const moduleArg: Record<string, unknown> = {
    noInitialRun: true,
    print: record,
    printErr: record,
    instantiateWasm(imports: WebAssembly.Imports, done: (instance: WebAssembly.Instance) => void) {
      const instance = new WebAssembly.Instance(wasm, imports);
      done(instance);
      return instance.exports;
    },
  };
  // Emscripten fills `moduleArg` in place; with a synchronous instantiateWasm the API is there on return.
  const ready = (mozjpegFactory as unknown as (arg: object) => Promise<unknown>)(moduleArg);
  ready.catch(() => undefined);
  if (typeof moduleArg.decode !== 'function') throw new Error('the @jsquash/jpeg decoder did not initialise synchronously');
  jpegDecoder = moduleArg as unknown as MozJpegDecoder;
  return jpegDecoder;
}

/** EXIF Orientation (1–8) from the first IFD of a JPEG's `Exif` APP1 segments, as Pillow reads it; 1 if none. */
export function jpegExifOrientation(bytes: Uint8Array): number {
  // Pillow joins every `Exif\0\0` APP1 payload (the first one with its header) and reads IFD0 from it.
  const parts: Uint8Array[] = [];
  let pos = 2;
  while (pos + 4 <= bytes.length) {
    if (bytes[pos] !== 0xff) break;
    const marker = bytes[pos + 1];
    if (marker === 0xff) {
      pos += 1;
      continue;
    }
    if (marker === 0xda || marker === 0xd9) break;
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      pos += 2;
      continue;
    }
    const length = (bytes[pos + 2] << 8) | bytes[pos + 3];
    if (length < 2) break;
    const seg = bytes.subarray(pos + 4, Math.min(bytes.length, pos + 2 + length));
    if (marker === 0xe1 && startsWith(seg, ascii('Exif\0\0'))) parts.push(parts.length ? seg.subarray(6) : seg);
    pos += 2 + length;
  }
  if (!parts.length) return 1;
  const exif = parts.length === 1 ? parts[0] : Uint8Array.from(parts.flatMap((p) => [...p]));
  return tiffOrientation(exif.subarray(6));
}

/** The Orientation tag (1–8) of a TIFF-structured EXIF block's first IFD; 1 if absent or not 1–8. */
function tiffOrientation(tiff: Uint8Array): number {
  if (tiff.length < 8) return 1;
  const little = tiff[0] === 0x49 && tiff[1] === 0x49;
  if (!little && !(tiff[0] === 0x4d && tiff[1] === 0x4d)) return 1;
  const view = new DataView(tiff.buffer, tiff.byteOffset, tiff.byteLength);
  if (view.getUint16(2, little) !== 42) return 1;
  const ifd = view.getUint32(4, little);
  if (ifd + 2 > tiff.length) return 1;
  const count = view.getUint16(ifd, little);
  for (let e = 0; e < count; e++) {
    const at = ifd + 2 + 12 * e;
    if (at + 12 > tiff.length) break;
    if (view.getUint16(at, little) !== 0x0112) continue;
    const type = view.getUint16(at + 2, little);
    if (view.getUint32(at + 4, little) !== 1) return 1;
    const value = type === 3 ? view.getUint16(at + 8, little) : type === 4 ? view.getUint32(at + 8, little) : type === 1 ? tiff[at + 8] : 0;
    return value >= 1 && value <= 8 ? value : 1;
  }
  return 1;
}

/**
 * Applies EXIF orientation `o` (1–8) to interleaved RGB, as `exif_transpose` does: 2 mirror, 3 rotate 180°,
 * 4 flip, 5 transpose, 6 rotate 90° clockwise, 7 transverse, 8 rotate 90° counter-clockwise.
 */
export function applyExifOrientation(image: RgbImage, o: number): RgbImage {
  if (!(o >= 2 && o <= 8)) return image;
  const { width: w, height: h, rgb } = image;
  const swap = o >= 5;
  const ow = swap ? h : w;
  const oh = swap ? w : h;
  const out = new Uint8Array(rgb.length);
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      let sx: number;
      let sy: number;
      switch (o) {
        case 2: sx = w - 1 - x; sy = y; break;
        case 3: sx = w - 1 - x; sy = h - 1 - y; break;
        case 4: sx = x; sy = h - 1 - y; break;
        case 5: sx = y; sy = x; break;
        case 6: sx = y; sy = h - 1 - x; break;
        case 7: sx = w - 1 - y; sy = h - 1 - x; break;
        default: sx = w - 1 - y; sy = x; break;
      }
      const p = (sy * w + sx) * 3;
      const q = (y * ow + x) * 3;
      out[q] = rgb[p];
      out[q + 1] = rgb[p + 1];
      out[q + 2] = rgb[p + 2];
    }
  }
  return { width: ow, height: oh, rgb: out };
}

function decodeJpeg(bytes: Uint8Array, source: string): RgbImage {
  jpegMessages = [];
  let decoded: { width: number; height: number; data: Uint8ClampedArray } | null;
  try {
    decoded = mozjpeg().decode(bytes, false);
  } catch (err) {
    // libjpeg's error_exit calls exit(): start from a fresh instance (and heap) next time.
    jpegDecoder = undefined;
    const why = jpegMessages.at(-1) ?? (err instanceof Error ? err.message : String(err));
    if (/Unsupported color conversion/i.test(why)) {
      throw new InvalidInputError(source, 'CMYK and YCCK JPEGs are not supported', 'convert the image to RGB');
    }
    throw new InvalidInputError(source, `corrupt or unsupported JPEG (${why})`);
  }
  // Pillow refuses a JPEG whose entropy-coded data ends early ("image file is truncated"); libjpeg warns and
  // fills the rest with grey.
  if (jpegMessages.some((m) => /Premature end of JPEG file/i.test(m))) {
    throw new InvalidInputError(source, 'truncated JPEG (the compressed data ends before the image does)');
  }
  if (!decoded || !decoded.width || !decoded.height || decoded.data.length < decoded.width * decoded.height * 4) {
    throw new InvalidInputError(source, 'corrupt JPEG: no image data');
  }
  const { width, height, data } = decoded;
  const rgb = new Uint8Array(width * height * 3);
  for (let p = 0, q = 0; q < rgb.length; p += 4, q += 3) {
    rgb[q] = data[p];
    rgb[q + 1] = data[p + 1];
    rgb[q + 2] = data[p + 2];
  }
  return applyExifOrientation({ width, height, rgb }, jpegExifOrientation(bytes));
}
