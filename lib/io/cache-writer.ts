/**
 * Streaming activation caches on disk. `ShardedCacheWriter` appends batches (`[batch, ...]`) per name along
 * axis 0, buffers them on the host up to `maxShardBytes`, and writes each full buffer as one safetensors shard
 * (`cache-00001.safetensors`, …) that Python's `safetensors` reads; `close()` writes `cache.index.json`, which
 * lists the shards and, per name, its dtype, full shape and the rows each shard holds. `readCacheShards`
 * streams one name shard by shard; `readCacheTensor` assembles a whole (small) cache entry.
 *
 * Layout of `cache.index.json`:
 *
 *     { "format": "tfjs-lens-activation-cache", "version": 1, "metadata": {…},
 *       "shards": [{ "file": "cache-00001.safetensors", "bytes": 1073741824 }, …],
 *       "tensors": [{ "name": "blocks.0.hook_resid_post", "dtype": "F32", "shape": [N, T, d],
 *                     "parts": [{ "file": "cache-00001.safetensors", "rows": [0, 512] }, …] }, …] }
 *
 * `rows` are half-open row ranges of the full tensor; the shard entry of that name holds exactly those rows.
 */
import { mkdir, readdir, readFile, rm, writeFile, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { CheckpointError, InvalidArgumentError, ShapeMismatchError } from '../errors.js';
import { DTYPE_SIZE } from './dtypes.js';
import { withSafetensors, type HostTensor } from './safetensors.js';
import { saveSafetensors, type HostValues } from './safetensors-writer.js';

/** File name of the cache index. */
export const CACHE_INDEX_FILE = 'cache.index.json';
/** Value of the index's `format` field. */
export const CACHE_FORMAT = 'tfjs-lens-activation-cache';
const SHARD_NAME = /^cache-\d{5,}\.safetensors$/;

/** Dtypes a cache stores: float32, int32 and bool activations as they are held in tfjs. */
export type CacheDtype = 'F32' | 'I32' | 'BOOL';

/** Options of `ShardedCacheWriter`. */
export interface CacheWriterOptions {
  /** Largest data size of one shard in bytes (default 1 GiB). A single row larger than this gets a shard of its own. */
  maxShardBytes?: number;
  /** String metadata stored in the index and in every shard's `__metadata__`. */
  metadata?: Record<string, string>;
  /** Replace an existing cache in `dir` (its shards and index only). Default false: an existing cache raises. */
  overwrite?: boolean;
}

/** A batch to append: a tfjs tensor, or host values, shaped `[batch, ...rowShape]`. */
export type CacheValue = tf.Tensor | HostTensor | HostValues;

const partSchema = z.object({ file: z.string().regex(SHARD_NAME), rows: z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()]) });
const indexSchema = z.object({
  format: z.literal(CACHE_FORMAT),
  version: z.literal(1),
  metadata: z.record(z.string(), z.string()),
  shards: z.array(z.object({ file: z.string().regex(SHARD_NAME), bytes: z.number().int().nonnegative() })),
  tensors: z.array(
    z.object({
      name: z.string(),
      dtype: z.enum(['F32', 'I32', 'BOOL']),
      shape: z.array(z.number().int().nonnegative()).min(1),
      parts: z.array(partSchema),
    }),
  ),
});

/** The parsed `cache.index.json`. */
export type CacheIndex = z.infer<typeof indexSchema>;

type CacheData = Float32Array | Int32Array | Uint8Array;

/** Rows of one name waiting in the host buffer. */
interface PendingChunk {
  name: string;
  data: CacheData;
  rows: number;
}

/** What the writer knows about one name. */
interface NameState {
  dtype: CacheDtype;
  rowShape: number[];
  /** Values per row. */
  rowSize: number;
  totalRows: number;
  parts: { file: string; rows: [number, number] }[];
}

function dtypeLabel(dtype: CacheDtype): string {
  return dtype === 'F32' ? 'float32' : dtype === 'I32' ? 'int32' : 'bool';
}

/** Normalises an appended value to host storage (always a private copy). */
async function toHost(value: CacheValue, name: string): Promise<{ dtype: CacheDtype; shape: number[]; data: CacheData }> {
  if (value instanceof tf.Tensor) {
    if (value.dtype !== 'float32' && value.dtype !== 'int32' && value.dtype !== 'bool') {
      throw new InvalidArgumentError(`cache entry '${name}': cannot store a ${value.dtype} tensor`, 'cast it to float32 or int32 first');
    }
    const data = (await value.data()) as CacheData;
    const dtype: CacheDtype = value.dtype === 'float32' ? 'F32' : value.dtype === 'int32' ? 'I32' : 'BOOL';
    return { dtype, shape: [...value.shape], data: data.slice() };
  }
  const { shape, data } = value;
  const declared = (value as { dtype?: string }).dtype;
  let dtype: CacheDtype;
  if (declared === 'float32' || declared === 'F32') dtype = 'F32';
  else if (declared === 'int32' || declared === 'I32') dtype = 'I32';
  else if (declared === 'bool' || declared === 'BOOL') dtype = 'BOOL';
  else if (declared === undefined) dtype = data instanceof Int32Array ? 'I32' : data instanceof Uint8Array ? 'BOOL' : 'F32';
  else throw new InvalidArgumentError(`cache entry '${name}': dtype ${declared} is not stored in caches`, 'use float32 (F32), int32 (I32) or bool (BOOL)');
  if (!shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new ShapeMismatchError(`cache entry '${name}'`, '[batch, ...] with non-negative integer sizes', [...shape]);
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) throw new InvalidArgumentError(`cache entry '${name}': shape [${shape.join(',')}] holds ${count} values but data has ${data.length}`);
  const copy = dtype === 'F32' ? Float32Array.from(data) : dtype === 'I32' ? Int32Array.from(data) : Uint8Array.from(data, (v) => (v ? 1 : 0));
  return { dtype, shape: [...shape], data: copy };
}

function allocate(dtype: CacheDtype, length: number): CacheData {
  return dtype === 'F32' ? new Float32Array(length) : dtype === 'I32' ? new Int32Array(length) : new Uint8Array(length);
}

function shardFileName(index: number): string {
  return `cache-${String(index).padStart(5, '0')}.safetensors`;
}

/**
 * Streams activations to disk as safetensors shards.
 *
 * ```ts
 * const writer = new ShardedCacheWriter('cache/', { maxShardBytes: 512 * 2 ** 20, metadata: { model: 'gpt2' } });
 * for (const batch of batches) await writer.append('blocks.5.hook_resid_post', residPost); // [batch, pos, dModel]
 * await writer.close();
 * for await (const part of readCacheShards('cache/', 'blocks.5.hook_resid_post')) { … } // [rows, pos, dModel]
 * ```
 *
 * Calls are queued, so un-awaited appends still land in order. Tensors passed to `append` are read, not disposed.
 */
export class ShardedCacheWriter {
  /** Largest data size of one shard in bytes. */
  readonly maxShardBytes: number;
  private readonly metadata: Record<string, string>;
  private readonly overwrite: boolean;
  private readonly names = new Map<string, NameState>();
  private readonly shards: { file: string; bytes: number }[] = [];
  private pending: PendingChunk[] = [];
  private pendingBytes = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private prepared = false;
  private closed = false;
  private failure: unknown;

  /**
   * @param dir directory of the cache (created when missing).
   * @param opts shard size limit, metadata, overwrite.
   */
  constructor(readonly dir: string, opts: CacheWriterOptions = {}) {
    this.maxShardBytes = opts.maxShardBytes ?? 2 ** 30;
    if (!Number.isSafeInteger(this.maxShardBytes) || this.maxShardBytes <= 0) {
      throw new InvalidArgumentError(`maxShardBytes must be a positive integer, got ${opts.maxShardBytes}`);
    }
    // Shard data is written with one fs write per tensor, which Node caps at 2 GiB.
    if (this.maxShardBytes > 2 ** 31 - 1) throw new InvalidArgumentError(`maxShardBytes ${this.maxShardBytes} exceeds the 2 GiB limit of one write`);
    this.metadata = { ...(opts.metadata ?? {}) };
    for (const [k, v] of Object.entries(this.metadata)) if (typeof v !== 'string') throw new InvalidArgumentError(`cache metadata '${k}' must be a string`);
    this.overwrite = opts.overwrite ?? false;
  }

  /** Number of shards written so far. */
  get shardCount(): number {
    return this.shards.length;
  }

  /**
   * Runs `task` after every earlier call. A rejected batch (wrong shape or dtype, raised before any state
   * changes) leaves the writer usable; any other failure (a shard write) poisons it, since the cache on disk
   * would no longer match what was appended.
   */
  private enqueue<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(async () => {
      if (this.failure !== undefined) throw this.failure;
      try {
        return await task();
      } catch (err) {
        if (!(err instanceof InvalidArgumentError || err instanceof ShapeMismatchError)) this.failure = err;
        throw err;
      }
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async prepare(): Promise<void> {
    if (this.prepared) return;
    await mkdir(this.dir, { recursive: true });
    const existing = (await readdir(this.dir)).filter((f) => SHARD_NAME.test(f) || f === CACHE_INDEX_FILE);
    if (existing.length) {
      if (!this.overwrite) {
        throw new InvalidArgumentError(`${this.dir} already holds an activation cache (${existing.slice(0, 3).join(', ')}${existing.length > 3 ? ', …' : ''})`, 'pass { overwrite: true } or choose another directory');
      }
      for (const f of existing) await rm(join(this.dir, f), { force: true });
    }
    this.prepared = true;
  }

  /**
   * Appends `value` (`[batch, ...rowShape]`) to the cache entry `name` along axis 0. Every append to one name
   * must have the same dtype and row shape. Writes shards whenever the host buffer reaches `maxShardBytes`.
   */
  append(name: string, value: CacheValue): Promise<void> {
    if (this.closed) return Promise.reject(new InvalidArgumentError(`cannot append '${name}': the cache writer for ${this.dir} is closed`));
    // Read tensors now, before the caller may dispose them.
    const host = toHost(value, name);
    host.catch(() => undefined);
    return this.enqueue(async () => {
      const { dtype, shape, data } = await host;
      if (shape.length < 1) throw new ShapeMismatchError(`cache entry '${name}'`, '[batch, ...]', shape);
      const rowShape = shape.slice(1);
      let state = this.names.get(name);
      if (!state) {
        state = { dtype, rowShape, rowSize: rowShape.reduce((a, b) => a * b, 1), totalRows: 0, parts: [] };
        this.names.set(name, state);
      }
      if (state.dtype !== dtype) throw new InvalidArgumentError(`cache entry '${name}' holds ${dtypeLabel(state.dtype)} but the new batch is ${dtypeLabel(dtype)}`);
      if (rowShape.length !== state.rowShape.length || rowShape.some((d, i) => d !== state.rowShape[i])) {
        throw new ShapeMismatchError(`cache entry '${name}'`, `[batch, ${state.rowShape.join(', ')}]`, shape);
      }
      await this.prepare();
      if (shape[0] === 0) return;
      this.pending.push({ name, data, rows: shape[0]! });
      this.pendingBytes += data.length * DTYPE_SIZE[dtype];
      while (this.pendingBytes >= this.maxShardBytes) await this.writeShard();
    });
  }

  /** Writes the oldest buffered rows, up to `maxShardBytes` (at least one row), as the next shard. */
  private async writeShard(): Promise<void> {
    const taken = new Map<string, CacheData[]>();
    const rowsTaken = new Map<string, number>();
    let used = 0;
    while (this.pending.length) {
      const chunk = this.pending[0]!;
      const state = this.names.get(chunk.name)!;
      const rowBytes = state.rowSize * DTYPE_SIZE[state.dtype];
      let rows = rowBytes === 0 ? chunk.rows : Math.min(chunk.rows, Math.floor(Math.max(0, this.maxShardBytes - used) / rowBytes));
      if (rows === 0 && used === 0) rows = 1; // one row larger than the limit: a shard of its own
      if (rows === 0) break;
      const cut = rows * state.rowSize;
      const list = taken.get(chunk.name) ?? [];
      list.push(chunk.data.subarray(0, cut));
      taken.set(chunk.name, list);
      rowsTaken.set(chunk.name, (rowsTaken.get(chunk.name) ?? 0) + rows);
      used += rows * rowBytes;
      if (rows === chunk.rows) this.pending.shift();
      else {
        chunk.data = chunk.data.subarray(cut);
        chunk.rows -= rows;
      }
    }
    if (!taken.size) return;
    this.pendingBytes -= used;
    const file = shardFileName(this.shards.length + 1);
    const tensors = new Map<string, HostValues>();
    for (const [name, pieces] of taken) {
      const state = this.names.get(name)!;
      const rows = rowsTaken.get(name)!;
      const data = allocate(state.dtype, rows * state.rowSize);
      let at = 0;
      for (const piece of pieces) {
        data.set(piece, at);
        at += piece.length;
      }
      tensors.set(name, { shape: [rows, ...state.rowShape], data, dtype: state.dtype });
      state.parts.push({ file, rows: [state.totalRows, state.totalRows + rows] });
      state.totalRows += rows;
    }
    // Write under a temporary name, then rename: a shard with its final name is always complete.
    const path = join(this.dir, file);
    await saveSafetensors(`${path}.partial`, tensors, this.metadata);
    await rename(`${path}.partial`, path);
    this.shards.push({ file, bytes: used });
  }

  /** Writes the remaining rows and `cache.index.json`; returns the index. The writer accepts no appends after. */
  close(): Promise<CacheIndex> {
    if (this.closed) return Promise.reject(new InvalidArgumentError(`the cache writer for ${this.dir} is already closed`));
    this.closed = true;
    return this.enqueue(async () => {
      await this.prepare();
      while (this.pending.length) await this.writeShard();
      const index: CacheIndex = {
        format: CACHE_FORMAT,
        version: 1,
        metadata: this.metadata,
        shards: this.shards,
        tensors: [...this.names.entries()].map(([name, s]) => ({ name, dtype: s.dtype, shape: [s.totalRows, ...s.rowShape], parts: s.parts })),
      };
      await writeFile(join(this.dir, CACHE_INDEX_FILE), `${JSON.stringify(index, null, 1)}\n`);
      return index;
    });
  }
}

/**
 * Reads and validates `cache.index.json` of a cache directory.
 * @throws CheckpointError when the index is missing (writer not closed?) or malformed.
 */
export async function readCacheIndex(dir: string): Promise<CacheIndex> {
  const path = join(dir, CACHE_INDEX_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    const exists = await stat(dir).then(() => true, () => false);
    throw new CheckpointError(exists ? `no ${CACHE_INDEX_FILE} in ${dir}` : `cache directory ${dir} does not exist`, 'an activation cache is complete once ShardedCacheWriter.close() has run');
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new CheckpointError(`${path} is not valid JSON (${(err as Error).message})`, 'the cache index is damaged; write the cache again');
  }
  const parsed = indexSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new CheckpointError(`${path} is not an activation cache index: ${issue.path.join('.') || '(root)'}: ${issue.message}`, 'the cache index is damaged; write the cache again');
  }
  return parsed.data;
}

function findEntry(index: CacheIndex, dir: string, name: string): CacheIndex['tensors'][number] {
  const entry = index.tensors.find((t) => t.name === name);
  if (!entry) {
    const names = index.tensors.map((t) => t.name);
    throw new CheckpointError(`activation cache ${dir} has no entry '${name}'`, names.length ? `it holds ${names.slice(0, 8).join(', ')}${names.length > 8 ? ', …' : ''}` : 'the cache is empty');
  }
  return entry;
}

/**
 * Streams the cache entry `name` shard by shard: each item holds that shard's rows, `[rows, ...rowShape]`,
 * in row order. Memory use is one shard's rows of this name at a time.
 * @throws CheckpointError when the entry or a shard is missing or a shard disagrees with the index.
 */
export async function* readCacheShards(dir: string, name: string): AsyncGenerator<HostTensor> {
  const index = await readCacheIndex(dir);
  const entry = findEntry(index, dir, name);
  const rowShape = entry.shape.slice(1);
  let expectedStart = 0;
  for (const part of entry.parts) {
    const [start, end] = part.rows;
    if (start !== expectedStart || end < start) throw new CheckpointError(`${join(dir, CACHE_INDEX_FILE)}: rows of '${name}' are not contiguous at ${part.file}`);
    expectedStart = end;
    const path = join(dir, part.file);
    const host = await withSafetensors(path, async (file) => {
      if (!file.has(name)) throw new CheckpointError(`cache shard ${path} has no entry '${name}'`, 'the cache is damaged; write it again');
      return file.read(name);
    });
    const expectedShape = [end - start, ...rowShape];
    const expectedDtype = dtypeLabel(entry.dtype);
    if (host.dtype !== expectedDtype || host.shape.length !== expectedShape.length || host.shape.some((d, i) => d !== expectedShape[i])) {
      throw new CheckpointError(`cache shard ${path}: '${name}' is ${host.dtype} [${host.shape.join(',')}], the index says ${expectedDtype} [${expectedShape.join(',')}]`, 'the cache is damaged; write it again');
    }
    yield host;
  }
  if (expectedStart !== entry.shape[0]) throw new CheckpointError(`${join(dir, CACHE_INDEX_FILE)}: parts of '${name}' hold ${expectedStart} rows, its shape says ${entry.shape[0]}`);
}

/**
 * Reads the whole cache entry `name` (`[totalRows, ...rowShape]`) into host memory. For caches that fit in
 * memory; stream larger ones with `readCacheShards`.
 */
export async function readCacheTensor(dir: string, name: string): Promise<HostTensor> {
  const entry = findEntry(await readCacheIndex(dir), dir, name);
  const rowSize = entry.shape.slice(1).reduce((a, b) => a * b, 1);
  const data = allocate(entry.dtype, entry.shape[0]! * rowSize);
  let at = 0;
  for await (const part of readCacheShards(dir, name)) {
    data.set(part.data, at);
    at += part.data.length;
  }
  return { dtype: dtypeLabel(entry.dtype) as HostTensor['dtype'], shape: [...entry.shape], data };
}
