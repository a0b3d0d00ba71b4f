/**
 * Streaming safetensors reader and writer.
 *
 * Why not the npm `safetensors` package: it reads whole files into one ArrayBuffer, which fails for
 * checkpoints over 2–4 GB (gpt2-xl is 6.4 GB). This reader parses and validates the header, then reads
 * each tensor lazily with positional `fs` reads, so memory use is one tensor at a time.
 *
 * Format: u64 little-endian header length N, N bytes of JSON `{name: {dtype, shape, data_offsets:[b,e]},
 * __metadata__?: {string: string}}`, then the byte buffer; offsets are relative to the buffer start.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { SafetensorsFormatError, UnsupportedDtypeError, CheckpointError } from '../errors.js';
import { DTYPE_SIZE, isSupportedDtype, decodeBytes, tfDtypeOf, type SafetensorsDtype, type DecodedData } from './dtypes.js';

/** Largest header accepted (the reference implementation's bound). */
export const MAX_HEADER_BYTES = 100_000_000;

/** One tensor entry of a validated header. */
export interface TensorInfo {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  /** Absolute byte offset of the data in the file. */
  start: number;
  /** Byte length of the data. */
  byteLength: number;
}

/** A validated header: entries in file order plus the free-form metadata. */
export interface SafetensorsHeader {
  tensors: TensorInfo[];
  metadata: Record<string, string>;
  /** Byte offset where the data buffer starts (8 + header length). */
  dataStart: number;
}

/** Raw values of one tensor, decoded to tfjs storage. */
export interface HostTensor {
  dtype: 'float32' | 'int32' | 'bool';
  shape: number[];
  data: DecodedData;
}

/**
 * Reads the header length prefix. Exposed for the fuzz tests and for readers of other sources.
 * @throws SafetensorsFormatError when the length is absurd or past the end of the file.
 */
export function parseHeaderLength(prefix: Uint8Array, fileSize: number, file: string): number {
  if (fileSize < 8 || prefix.byteLength < 8) throw new SafetensorsFormatError(file, `file is ${fileSize} bytes, too short for the 8-byte header length`);
  const length = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (length > BigInt(MAX_HEADER_BYTES)) throw new SafetensorsFormatError(file, `header length ${length} exceeds the ${MAX_HEADER_BYTES}-byte bound`);
  const n = Number(length);
  if (n < 2) throw new SafetensorsFormatError(file, `header length ${n} is too small for a JSON object`);
  if (8 + n > fileSize) throw new SafetensorsFormatError(file, `header length ${n} runs past the end of the ${fileSize}-byte file (truncated?)`);
  return n;
}

/**
 * Parses and validates the JSON header: known dtypes, integer shapes, `product(shape)·size == span`,
 * spans inside the buffer, no overlapping spans.
 */
export function parseHeaderJson(json: Uint8Array, fileSize: number, file: string): SafetensorsHeader {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(json));
  } catch (err) {
    throw new SafetensorsFormatError(file, `header is not valid UTF-8 JSON (${(err as Error).message})`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new SafetensorsFormatError(file, 'header JSON is not an object');
  }
  const dataStart = 8 + json.byteLength;
  const bufferSize = fileSize - dataStart;
  const metadata: Record<string, string> = {};
  const tensors: TensorInfo[] = [];
  for (const [name, entry] of Object.entries(parsed as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) throw new SafetensorsFormatError(file, '__metadata__ is not an object');
      for (const [k, v] of Object.entries(entry as Record<string, unknown>)) {
        if (typeof v !== 'string') throw new SafetensorsFormatError(file, `__metadata__.${clip(k)} is not a string`);
        // defineProperty: a key such as '__proto__' is stored as data, never as the object's prototype.
        Object.defineProperty(metadata, k, { value: v, enumerable: true, writable: true, configurable: true });
      }
      continue;
    }
    tensors.push(validateEntry(name, entry, bufferSize, dataStart, file));
  }
  const ordered = [...tensors].sort((a, b) => a.start - b.start || a.byteLength - b.byteLength);
  for (let i = 1; i < ordered.length; i++) {
    const prev = ordered[i - 1]!;
    const cur = ordered[i]!;
    if (cur.start < prev.start + prev.byteLength) {
      throw new SafetensorsFormatError(file, `tensors '${clip(prev.name)}' and '${clip(cur.name)}' have overlapping byte spans`);
    }
  }
  return { tensors: ordered, metadata, dataStart };
}

function validateEntry(name: string, entry: unknown, bufferSize: number, dataStart: number, file: string): TensorInfo {
  const label = clip(name);
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) throw new SafetensorsFormatError(file, `entry '${label}' is not an object`);
  const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
  if (typeof dtype !== 'string') throw new SafetensorsFormatError(file, `entry '${label}' has no dtype`);
  if (!isSupportedDtype(dtype)) throw new UnsupportedDtypeError(clip(dtype), `${file}: tensor '${label}'`);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new SafetensorsFormatError(file, `entry '${label}' has an invalid shape ${describe(shape)}`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
    throw new SafetensorsFormatError(file, `entry '${label}' has invalid data_offsets ${describe(offsets)}`);
  }
  // `+ 0` turns a JSON -0 into 0.
  const begin = (offsets as [number, number])[0] + 0;
  const end = (offsets as [number, number])[1] + 0;
  if (end < begin) throw new SafetensorsFormatError(file, `entry '${label}' has data_offsets [${begin},${end}] with end before begin`);
  if (end > bufferSize) throw new SafetensorsFormatError(file, `entry '${label}' ends at byte ${end}, past the ${bufferSize}-byte data buffer (truncated file?)`);
  // Checked product, as the reference implementation does: [2^40, 2^40, 0] is an overflow, not an empty tensor.
  let expected = DTYPE_SIZE[dtype];
  for (const d of shape as number[]) {
    expected *= d;
    if (!Number.isSafeInteger(expected)) throw new SafetensorsFormatError(file, `entry '${label}': shape ${describe(shape)} × ${dtype} overflows`);
  }
  if (expected !== end - begin) {
    throw new SafetensorsFormatError(file, `entry '${label}': shape ${describe(shape)} × ${dtype} needs ${expected} bytes but data_offsets span ${end - begin}`);
  }
  return { name, dtype, shape: (shape as number[]).map((d) => d + 0), start: dataStart + begin, byteLength: end - begin };
}

/** Shortens untrusted text for an error message. */
function clip(text: string, max = 120): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** Describes an untrusted JSON value for an error message without recursing (a hostile header may nest deeply). */
function describe(value: unknown): string {
  if (Array.isArray(value)) {
    const items = value.slice(0, 8).map((v) => (Array.isArray(v) ? '[…]' : v !== null && typeof v === 'object' ? '{…}' : clip(String(typeof v === 'string' ? JSON.stringify(v) : v), 40)));
    return `[${items.join(',')}${value.length > 8 ? ',…' : ''}]`;
  }
  if (value !== null && typeof value === 'object') return '{…}';
  return clip(typeof value === 'string' ? JSON.stringify(value) : String(value), 40);
}

/**
 * An open safetensors file. Tensors are read on demand by positional reads; call `close()` when done
 * (or use `withSafetensors`).
 */
export class SafetensorsFile {
  private readonly byName: Map<string, TensorInfo>;

  private constructor(
    /** Path the file was opened from. */
    readonly path: string,
    private readonly handle: FileHandle,
    /** The validated header. */
    readonly header: SafetensorsHeader,
  ) {
    this.byName = new Map(header.tensors.map((t) => [t.name, t]));
  }

  /** Opens and validates a file; reads only the header. */
  static async open(path: string): Promise<SafetensorsFile> {
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (err) {
      throw new CheckpointError(`cannot open safetensors file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 'check the path');
    }
    try {
      const stats = await handle.stat();
      if (!stats.isFile()) throw new CheckpointError(`${path} is not a regular file`, 'pass the path of a .safetensors file');
      const size = stats.size;
      const prefix = new Uint8Array(8);
      if (size >= 8) await readExactly(handle, prefix, 0, path);
      const length = parseHeaderLength(prefix, size, path);
      const json = new Uint8Array(length);
      await readExactly(handle, json, 8, path);
      return new SafetensorsFile(path, handle, parseHeaderJson(json, size, path));
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  /** Tensor names in file order. */
  keys(): string[] {
    return this.header.tensors.map((t) => t.name);
  }

  /** True when the file holds `name`. */
  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** Header entry of `name`. */
  info(name: string): TensorInfo {
    const info = this.byName.get(name);
    if (!info) throw new CheckpointError(`${this.path} has no tensor '${name}'`, `it holds ${this.keys().slice(0, 8).join(', ')}${this.keys().length > 8 ? ', …' : ''}`);
    return info;
  }

  /** Raw little-endian bytes of one tensor. */
  async readBytes(name: string): Promise<Uint8Array> {
    const info = this.info(name);
    const bytes = new Uint8Array(info.byteLength);
    await readExactly(this.handle, bytes, info.start, this.path);
    return bytes;
  }

  /** One tensor decoded to float32 / int32 / bool host storage. */
  async read(name: string): Promise<HostTensor> {
    const info = this.info(name);
    const bytes = await this.readBytes(name);
    return { dtype: tfDtypeOf(info.dtype), shape: info.shape, data: decodeBytes(bytes, info.dtype, `${this.path}: ${name}`) };
  }

  /** Closes the file handle. */
  async close(): Promise<void> {
    await this.handle.close();
  }
}

async function readExactly(handle: FileHandle, target: Uint8Array, position: number, path: string): Promise<void> {
  let done = 0;
  while (done < target.byteLength) {
    const chunk = Math.min(target.byteLength - done, 1 << 30);
    const { bytesRead } = await handle.read(target, done, chunk, position + done);
    if (bytesRead === 0) throw new SafetensorsFormatError(path, `unexpected end of file at byte ${position + done}`);
    done += bytesRead;
  }
}

/** Opens `path`, runs `fn`, and always closes the file. */
export async function withSafetensors<T>(path: string, fn: (file: SafetensorsFile) => Promise<T>): Promise<T> {
  const file = await SafetensorsFile.open(path);
  try {
    return await fn(file);
  } finally {
    await file.close();
  }
}

/** Reads every tensor of a (small) file into host memory. */
export async function readAllSafetensors(path: string): Promise<Map<string, HostTensor>> {
  return withSafetensors(path, async (file) => {
    const out = new Map<string, HostTensor>();
    for (const name of file.keys()) out.set(name, await file.read(name));
    return out;
  });
}
