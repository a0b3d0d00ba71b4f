/** Helpers shared by the per-architecture weight converters. */
import * as tf from '@tensorflow/tfjs-core';
import { CheckpointError, ShapeMismatchError } from '../../errors.js';
import type { Checkpoint } from '../checkpoint.js';
import { materialize } from '../../backend/materialize.js';
import { reusableAllocator, stagingAllocator } from '../../backend/staging-memory.js';
import { TrackedCheckpoint } from './key-check.js';

/** Reads tensors from a checkpoint by name, trying each prefix in turn (e.g. `transformer.` and none). */
export class WeightReader {
  /** Values that become tensors: one buffer the backend copies from (no garbage per weight). */
  private readonly values = stagingAllocator();
  /** Stored bytes that are decoded (F16, BF16, …) before they become values. */
  private readonly scratch = reusableAllocator();
  /** A whole fused tensor that is cut on the host (`floatLastAxisBlocks`). */
  private readonly fused = reusableAllocator();

  /** The read in progress: reads share the buffers above, so they run one at a time. */
  private last: Promise<unknown> = Promise.resolve();

  /** Runs `read` after every read started before it (calls may overlap; the buffers may not). */
  private exclusive<T>(read: () => Promise<T>): Promise<T> {
    const next = this.last.then(read, read);
    this.last = next.catch(() => undefined);
    return next;
  }

  constructor(
    private readonly ckpt: Checkpoint,
    private readonly prefixes: readonly string[],
  ) {}

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
    return this.exclusive(() => this.readFloat(name, shape));
  }

  private async readFloat(name: string, shape: readonly number[]): Promise<tf.Tensor> {
    const key = this.find(name);
    if (!key && this.ckpt instanceof TrackedCheckpoint) {
      this.ckpt.noteMissing(this.expectedKey(name), shape.reduce((a, b) => a * b, 1));
      return tf.zeros(shape as number[], 'float32');
    }
    if (!key) {
      throw new CheckpointError(
        `checkpoint ${this.ckpt.dir} has no tensor '${name}' (tried prefixes ${this.prefixes.map((p) => `'${p}'`).join(', ')})`,
        'is this checkpoint of the model type its config.json says?',
      );
    }
    // Into the reused buffer, then into the backend before the next read (see staging-memory.ts).
    const host = await this.ckpt.read(key, { allocate: this.values, scratch: this.scratch });
    if (!tf.util.arraysEqual(host.shape, shape as number[])) throw new ShapeMismatchError(`tensor '${key}' in ${this.ckpt.dir}`, `[${shape.join(',')}]`, host.shape);
    if (host.dtype !== 'float32') throw new CheckpointError(`tensor '${key}' has dtype ${host.dtype}, expected a float type`);
    // Into the backend now (tfjs-node would keep the host array until the first forward: 2× the weights).
    return materialize(tf.tensor(host.data as Float32Array, host.shape, 'float32'));
  }

  /**
   * Reads a float tensor of `shape` (`[cols]` or `[rows, cols]`, row-major) and returns its last axis cut into
   * `parts` equal blocks (GPT-2's fused `c_attn` → W_Q, W_K, W_V and their biases). The cut is made on the host
   * in reused buffers: a backend split op would write the fused matrix into fresh memory a second time.
   */
  floatLastAxisBlocks(name: string, shape: readonly number[], parts: number): Promise<tf.Tensor[]> {
    return this.exclusive(() => this.readLastAxisBlocks(name, shape, parts));
  }

  private async readLastAxisBlocks(name: string, shape: readonly number[], parts: number): Promise<tf.Tensor[]> {
    const cols = shape[shape.length - 1]!;
    const rows = shape.length === 2 ? shape[0]! : 1;
    const width = cols / parts;
    if (shape.length < 1 || shape.length > 2 || !Number.isInteger(width)) throw new ShapeMismatchError(`blocks of '${name}'`, `[cols] or [rows, cols] with cols a multiple of ${parts}`, [...shape]);
    const key = this.find(name);
    if (!key) {
      const whole = await this.readFloat(name, shape); // missing: the error, or the tracked checkpoint's zeros
      const blocks = tf.split(whole, parts, shape.length - 1);
      whole.dispose();
      return blocks;
    }
    const host = await this.ckpt.read(key, { allocate: this.fused, scratch: this.scratch });
    if (!tf.util.arraysEqual(host.shape, shape as number[])) throw new ShapeMismatchError(`tensor '${key}' in ${this.ckpt.dir}`, `[${shape.join(',')}]`, host.shape);
    if (host.dtype !== 'float32') throw new CheckpointError(`tensor '${key}' has dtype ${host.dtype}, expected a float type`);
    const src = host.data as Float32Array;
    const blockShape = shape.length === 2 ? [rows, width] : [width];
    return Array.from({ length: parts }, (_, p) => {
      const bytes = this.values(rows * width * 4);
      const block = new Float32Array(bytes.buffer, bytes.byteOffset, rows * width);
      for (let r = 0; r < rows; r++) block.set(src.subarray(r * cols + p * width, r * cols + (p + 1) * width), r * width);
      return materialize(tf.tensor(block, blockShape, 'float32'));
    });
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
