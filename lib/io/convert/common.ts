/** Helpers shared by the per-architecture weight converters. */
import * as tf from '@tensorflow/tfjs-core';
import { CheckpointError, ShapeMismatchError } from '../../errors.js';
import type { Checkpoint } from '../checkpoint.js';
import { endianness } from 'node:os';
import { fileTensorsAvailable, mappableRegion, tensorFromFile } from '../../backend/file-tensors.js';
import { materialize } from '../../backend/materialize.js';
import { reusableAllocator, stagingAllocator, type HostAllocator } from '../../backend/staging-memory.js';
import type { HostTensor } from '../safetensors.js';
import { TrackedCheckpoint } from './key-check.js';

/** Stored little-endian bytes are the host's values only on a little-endian host. */
const LITTLE_ENDIAN = endianness() === 'LE';

/** One of the two sets of host buffers that reads alternate between. */
interface ReadSlot {
  /** Values that become tensors: a buffer the backend copies from (no garbage per weight). */
  values: HostAllocator;
  /** A whole fused tensor that is cut on the host (`floatLastAxisBlocks`). */
  fused: HostAllocator;
  /** Settles when the tensors made from this slot's last read exist (its buffers may then be overwritten). */
  free: Promise<unknown>;
}

/**
 * Reads tensors from a checkpoint by name, trying each prefix in turn (e.g. `transformer.` and none).
 *
 * Reads are pipelined: they run one at a time, alternating between two sets of reused buffers, and each read's
 * values are copied into the backend on a later macrotask — after the next queued read has started — so the
 * backend's copy (libtensorflow's, single-threaded) overlaps the kernel's read of the next tensor. Converters
 * queue many reads at once (`readBlocks`) to keep the pipeline full.
 *
 * Where the backend can map file regions (tensorflow, see backend/file-tensors.ts), a float32 tensor stored at a
 * 64-byte aligned offset is not read at all: its tensor maps the file's bytes.
 */
export class WeightReader {
  private readonly slots: ReadSlot[] = [0, 1].map(() => ({ values: stagingAllocator(), fused: reusableAllocator(), free: Promise.resolve() }));
  /** Stored bytes that are decoded (F16, BF16, …) before they become values; used only inside a read. */
  private readonly scratch = reusableAllocator();
  /** Reads queued so far (picks the slot). */
  private queued = 0;
  /** The read in progress: reads run one at a time. */
  private lastRead: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly ckpt: Checkpoint,
    private readonly prefixes: readonly string[],
  ) {}

  /**
   * Queues `read` (after every read queued before it, into the next slot once that slot's previous tensors exist),
   * then `make` on a later macrotask: the next read's I/O is already under way while `make` copies into the backend.
   */
  private pipelined<H, T>(read: (slot: ReadSlot) => Promise<H>, make: (host: H, slot: ReadSlot) => T): Promise<T> {
    const slot = this.slots[this.queued++ % 2]!;
    const host = Promise.all([this.lastRead, slot.free]).then(() => read(slot));
    this.lastRead = host.catch(() => undefined);
    const made = host.then(
      (h) =>
        new Promise<T>((resolve, reject) =>
          setImmediate(() => {
            try {
              resolve(make(h, slot));
            } catch (err) {
              reject(err);
            }
          }),
        ),
    );
    slot.free = made.catch(() => undefined);
    return made;
  }

  /** The full key under which `name` is stored, or undefined. */
  find(name: string): string | undefined {
    for (const p of this.prefixes) if (this.ckpt.has(p + name)) return p + name;
    return undefined;
  }

  /** True when `name` exists under some prefix. */
  has(name: string): boolean {
    return this.find(name) !== undefined;
  }

  /**
   * True when a missing tensor is recorded rather than thrown (the checkpoint is tracked by `loadModel`, which
   * lists every missing tensor in one error): converters then name the first candidate of alternatives.
   */
  get collectsMissing(): boolean {
    return this.ckpt instanceof TrackedCheckpoint;
  }

  /** The key `name` would have: under the first prefix the checkpoint uses (`transformer.h.0…` or `h.0…`). */
  private expectedKey(name: string): string {
    const keys = this.ckpt.keys();
    const prefix = this.prefixes.find((p) => keys.some((k) => k.startsWith(p))) ?? this.prefixes[0] ?? '';
    return prefix + name;
  }

  /**
   * Reads `name` as a float32 tensor, checking its shape. A missing tensor is a CheckpointError, or, in a
   * tracked checkpoint, recorded as missing and read as zeros (the load fails after the conversion).
   */
  float(name: string, shape: readonly number[]): Promise<tf.Tensor> {
    const mapped = this.mapped(name, shape);
    if (mapped) return Promise.resolve(mapped);
    return this.pipelined(
      (slot) => this.readHost(name, shape, slot.values),
      // Into the backend now (tfjs-node would keep the host array until the first forward: 2× the weights).
      (host) => (host ? materialize(tf.tensor(host.data as Float32Array, host.shape, 'float32')) : tf.zeros(shape as number[], 'float32')),
    );
  }

  /**
   * `name` as a tensor that maps its bytes in the checkpoint file (see backend/file-tensors.ts), when the backend
   * can and the stored tensor is float32 of `shape` at a 64-byte aligned offset; otherwise undefined (read it).
   */
  private mapped(name: string, shape: readonly number[]): tf.Tensor | undefined {
    if (!this.ckpt.fileRegion || !LITTLE_ENDIAN || !fileTensorsAvailable()) return undefined;
    const key = this.find(name);
    if (!key) return undefined;
    const info = this.ckpt.info(key);
    if (info.dtype !== 'F32' || !tf.util.arraysEqual(info.shape, shape as number[]) || !mappableRegion(info.start, info.byteLength)) return undefined;
    const region = this.ckpt.fileRegion(key);
    return region && tensorFromFile(region.fd, region.start, region.byteLength, shape, `tensor '${key}' in ${this.ckpt.dir}`);
  }

  /** Host values of `name` in memory from `allocate` (undefined: missing from a tracked checkpoint, recorded). */
  private async readHost(name: string, shape: readonly number[], allocate: HostAllocator): Promise<HostTensor | undefined> {
    const key = this.find(name);
    if (!key && this.ckpt instanceof TrackedCheckpoint) {
      this.ckpt.noteMissing(this.expectedKey(name), shape.reduce((a, b) => a * b, 1));
      return undefined;
    }
    if (!key) {
      throw new CheckpointError(
        `checkpoint ${this.ckpt.dir} has no tensor '${name}' (tried prefixes ${this.prefixes.map((p) => `'${p}'`).join(', ')})`,
        'is this checkpoint of the model type its config.json says?',
      );
    }
    const host = await this.ckpt.read(key, { allocate, scratch: this.scratch });
    if (!tf.util.arraysEqual(host.shape, shape as number[])) throw new ShapeMismatchError(`tensor '${key}' in ${this.ckpt.dir}`, `[${shape.join(',')}]`, host.shape);
    if (host.dtype !== 'float32') throw new CheckpointError(`tensor '${key}' has dtype ${host.dtype}, expected a float type`);
    return host;
  }

  /**
   * Reads a float tensor of `shape` (`[cols]` or `[rows, cols]`, row-major) and returns its last axis cut into
   * `parts` equal blocks (GPT-2's fused `c_attn` → W_Q, W_K, W_V and their biases). The cut is made on the host
   * in reused buffers: a backend split op would write the fused matrix into fresh memory a second time.
   */
  floatLastAxisBlocks(name: string, shape: readonly number[], parts: number): Promise<tf.Tensor[]> {
    const cols = shape[shape.length - 1]!;
    const rows = shape.length === 2 ? shape[0]! : 1;
    const width = cols / parts;
    if (shape.length < 1 || shape.length > 2 || !Number.isInteger(width)) {
      return Promise.reject(new ShapeMismatchError(`blocks of '${name}'`, `[cols] or [rows, cols] with cols a multiple of ${parts}`, [...shape]));
    }
    const blockShape = shape.length === 2 ? [rows, width] : [width];
    return this.pipelined(
      (slot) => this.readHost(name, shape, slot.fused),
      (host, slot) => {
        if (!host) return tf.tidy(() => tf.split(tf.zeros(shape as number[], 'float32'), parts, shape.length - 1)); // missing: recorded
        const src = host.data as Float32Array;
        return Array.from({ length: parts }, (_, p) => {
          const bytes = slot.values(rows * width * 4);
          const block = new Float32Array(bytes.buffer, bytes.byteOffset, rows * width);
          for (let r = 0; r < rows; r++) block.set(src.subarray(r * cols + p * width, r * cols + (p + 1) * width), r * width);
          return materialize(tf.tensor(block, blockShape, 'float32'));
        });
      },
    );
  }

  /** Reads a PyTorch `nn.Linear` weight `[out, in]` and returns it input-major `[in, out]`. */
  async linearWeight(name: string, dOut: number, dIn: number): Promise<tf.Tensor2D> {
    const w = await this.float(name, [dOut, dIn]);
    const t = tf.transpose(w) as tf.Tensor2D;
    w.dispose();
    return t;
  }
}

/** Reads an `nn.Linear` (weight `[out, in]`, optional bias) as input-major weights. */
export async function readLinear(reader: WeightReader, prefix: string, dIn: number, dOut: number, bias = true): Promise<{ W: tf.Tensor2D; b?: tf.Tensor1D }> {
  const W = await reader.linearWeight(`${prefix}.weight`, dOut, dIn);
  const b = bias ? ((await reader.float(`${prefix}.bias`, [dOut])) as tf.Tensor1D) : undefined;
  return { W, b };
}

/** Reads a LayerNorm's gain and bias. */
export async function readLayerNorm(reader: WeightReader, prefix: string, d: number): Promise<{ w: tf.Tensor1D; b: tf.Tensor1D }> {
  return {
    w: (await reader.float(`${prefix}.weight`, [d])) as tf.Tensor1D,
    b: (await reader.float(`${prefix}.bias`, [d])) as tf.Tensor1D,
  };
}

/**
 * Reads blocks `0 … n−1` with `readBlock`, all started at once, so that the reader always has the next tensor
 * queued (see `WeightReader`); resolves with the blocks in order. When one fails, the others are first allowed to
 * settle — every tensor is then made inside the loader's scope, which frees them — and the error of the first
 * failing block is thrown.
 */
export async function readBlocks<B>(n: number, readBlock: (i: number) => Promise<B>): Promise<B[]> {
  const settled = await Promise.allSettled(Array.from({ length: n }, (_, i) => readBlock(i)));
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((s) => (s as PromiseFulfilledResult<B>).value);
}
