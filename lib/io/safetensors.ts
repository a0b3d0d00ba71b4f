/**
 * Streaming safetensors reader: validates the header as the reference implementation does
 * (`safetensors-header.ts`, `safetensors-layout.ts`), then reads tensors on demand.
 *
 * Why not the npm `safetensors` package: it reads whole files into one ArrayBuffer, which fails for
 * checkpoints over 2–4 GB (gpt2-xl is 6.4 GB). This reader parses and validates the header, then reads
 * each tensor lazily with positional `fs` reads, so memory use is one tensor at a time.
 *
 * Format: u64 little-endian header length N, N bytes of JSON `{name: {dtype, shape, data_offsets:[b,e]},
 * __metadata__?: {string: string}}`, then the byte buffer; offsets are relative to the buffer start.
 */
import type { FileHandle } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { SafetensorsFormatError, UnsupportedDtypeError, CheckpointError, TfjsLensError } from '../errors.js';
import { isSupportedDtype, decodeBytes, tfDtypeOf, type ByteAllocator, type DecodedData } from './dtypes.js';
import { parseHeaderText } from './safetensors-header.js';
import { layoutTensors, type TensorInfo } from './safetensors-layout.js';
import { openRegularFile } from './regular-file.js';

export type { TensorInfo } from './safetensors-layout.js';
export type { ByteAllocator } from './dtypes.js';

/** Largest header accepted (the reference implementation's bound). */
export const MAX_HEADER_BYTES = 100_000_000;

/** A validated header: entries in data-offset order plus the free-form metadata. */
export interface SafetensorsHeader {
  tensors: TensorInfo[];
  metadata: Record<string, string>;
  /** Byte offset where the data buffer starts (8 + header length). */
  dataStart: number;
}

/** Options of `read`. */
export interface ReadOptions {
  /**
   * Where float32 values go: F32 tensors are read straight into it, other float dtypes are decoded into it
   * (e.g. one reused buffer, `lib/backend/staging-memory.ts`). Default: new arrays.
   */
  allocate?: ByteAllocator;
  /** Where the stored bytes of a tensor that is decoded into `allocate`'s memory are read (default: a new array). */
  scratch?: ByteAllocator;
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
 * Parses and validates the JSON header of a file of `fileSize` bytes as the reference implementation does
 * (see `parseHeaderText` and `layoutTensors`): strict UTF-8 JSON starting with `{`, known dtypes, integer
 * shapes and offsets, spans that tile the data buffer exactly.
 * @throws SafetensorsFormatError, or UnsupportedDtypeError for a dtype name the format does not have.
 */
export function parseHeaderJson(json: Uint8Array, fileSize: number, file: string): SafetensorsHeader {
  const dataStart = 8 + json.byteLength;
  if (fileSize < dataStart) throw new SafetensorsFormatError(file, `header of ${json.byteLength} bytes runs past the end of the ${fileSize}-byte file`);
  let text: string;
  try {
    // ignoreBOM: a byte order mark stays in the text, where the parser rejects it as the reference does.
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(json);
  } catch {
    throw new SafetensorsFormatError(file, 'header is not valid UTF-8');
  }
  const { entries, metadata } = parseHeaderText(text, file);
  return { tensors: layoutTensors(entries, dataStart, fileSize - dataStart, file), metadata, dataStart };
}

/** A tensor's bytes in an open file (for mapping them): descriptor, absolute byte offset, length. */
export interface FileRegion {
  fd: number;
  start: number;
  byteLength: number;
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
    let size: number;
    try {
      // Never blocks: a FIFO, device, socket or directory is refused by fstat before any read.
      ({ handle, size } = await openRegularFile(path));
    } catch (err) {
      if (err instanceof TfjsLensError) throw err;
      throw new CheckpointError(`cannot open safetensors file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 'check the path');
    }
    try {
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

  /** Where `name`'s bytes lie: this file's open descriptor (valid until `close()`), absolute offset, length. */
  region(name: string): FileRegion {
    const info = this.info(name);
    return { fd: this.handle.fd, start: info.start, byteLength: info.byteLength };
  }

  /** Fills `target` with the file's bytes from `position` on; returns `target`. */
  async readRange(position: number, target: Uint8Array): Promise<Uint8Array> {
    await readExactly(this.handle, target, position, this.path);
    return target;
  }

  /** Raw little-endian bytes of one tensor (into memory from `allocate` when given). */
  async readBytes(name: string, allocate?: ByteAllocator): Promise<Uint8Array> {
    const info = this.info(name);
    const bytes = allocate ? allocate(info.byteLength) : new Uint8Array(info.byteLength);
    await readExactly(this.handle, bytes, info.start, this.path);
    return bytes;
  }

  /**
   * One tensor decoded to float32 / int32 / bool host storage.
   * @throws UnsupportedDtypeError for a valid dtype this library does not decode (F4, C64, U64, …).
   */
  async read(name: string, opts: ReadOptions = {}): Promise<HostTensor> {
    const info = this.info(name);
    const { dtype, shape } = info;
    if (!isSupportedDtype(dtype)) throw new UnsupportedDtypeError(dtype, `${this.path}: tensor '${name}'`);
    if (!shape.every(Number.isSafeInteger)) {
      throw new SafetensorsFormatError(this.path, `tensor '${name}' has a dimension above 2^53, which a JavaScript number cannot hold exactly (the tensor is empty)`);
    }
    // F32 is used as read: straight into the caller's memory. Other dtypes are decoded into it.
    const bytes = await this.readBytes(name, dtype === 'F32' ? opts.allocate : opts.scratch);
    return { dtype: tfDtypeOf(dtype), shape, data: decodeBytes(bytes, dtype, `${this.path}: ${name}`, opts.allocate) };
  }

  /** Closes the file handle. */
  async close(): Promise<void> {
    await this.handle.close();
  }
}

/** Reads at least this many bytes in parallel parts (one per core, up to four). */
export const PARALLEL_READ_BYTES = 16 * 2 ** 20;
const READ_PARTS = Math.max(1, Math.min(4, availableParallelism()));

/**
 * Fills `target` from `position`. A large read is split into page-aligned parts read concurrently: most of a
 * cold weight read is the kernel touching fresh pages, which then runs on every core instead of one.
 */
async function readExactly(handle: FileHandle, target: Uint8Array, position: number, path: string): Promise<void> {
  const parts = target.byteLength >= PARALLEL_READ_BYTES ? READ_PARTS : 1;
  const step = Math.ceil(target.byteLength / parts / 4096) * 4096;
  const reads: Promise<void>[] = [];
  for (let begin = 0; begin < target.byteLength; begin += step) {
    reads.push(readRange(handle, target, begin, Math.min(begin + step, target.byteLength), position, path));
  }
  await Promise.all(reads);
}

/** Fills `target[begin, end)` from file bytes `position + begin …`. */
async function readRange(handle: FileHandle, target: Uint8Array, begin: number, end: number, position: number, path: string): Promise<void> {
  let done = begin;
  while (done < end) {
    const chunk = Math.min(end - done, 1 << 30);
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
