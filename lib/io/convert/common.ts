/** Helpers shared by the per-architecture weight converters. */
import * as tf from '@tensorflow/tfjs-core';
import { CheckpointError, ShapeMismatchError } from '../../errors.js';
import type { Checkpoint } from '../checkpoint.js';
import { materialize } from '../../backend/materialize.js';
import { adoptableAllocator } from '../../backend/adoptable-memory.js';
import { TrackedCheckpoint } from './key-check.js';

/** Reads tensors from a checkpoint by name, trying each prefix in turn (e.g. `transformer.` and none). */
export class WeightReader {
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
  async float(name: string, shape: readonly number[]): Promise<tf.Tensor> {
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
    // Read into memory the backend keeps as the weight's storage where it can (tensorflow: no second copy).
    const host = await this.ckpt.read(key, { allocate: adoptableAllocator() });
    if (!tf.util.arraysEqual(host.shape, shape as number[])) throw new ShapeMismatchError(`tensor '${key}' in ${this.ckpt.dir}`, `[${shape.join(',')}]`, host.shape);
    if (host.dtype !== 'float32') throw new CheckpointError(`tensor '${key}' has dtype ${host.dtype}, expected a float type`);
    // Into the backend now (tfjs-node would keep the host array until the first forward: 2× the weights).
    return materialize(tf.tensor(host.data as Float32Array, host.shape, 'float32'));
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
