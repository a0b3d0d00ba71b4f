/**
 * Rotary position embeddings in Hugging Face's `rotate_half` layout (non-interleaved: dim i pairs with
 * i + rotaryDim/2, the Llama and GPT-NeoX convention). Only the first `rotaryDim ≤ dHead` dims of each head
 * rotate (GPT-NeoX's `rotary_pct`); the rest pass through. Stateless: the model computes the cos/sin tables
 * once per forward (per distinct `RopeParams`, e.g. Gemma 3's local and global bases) from its position ids
 * `[batch, pos]` (left padding: each row's positions restart at its first real token) and hands them to
 * every attention layer that uses them.
 *
 * Inverse frequencies follow transformers' `ROPE_INIT_FUNCTIONS` (default, linear, dynamic, llama3, yarn).
 * `dynamic` (NTK) is computed for the sequence length of the call, `max(seqLen, max_position_embeddings)`, as a
 * freshly loaded HF model does (HF caches a grown base across calls until a short input resets it).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { RopeParams } from '../../io/config/rope.js';
import { InvalidArgumentError, ShapeMismatchError } from '../../errors.js';

export type { RopeParams, RopeScaling } from '../../io/config/rope.js';

/** Inverse frequencies `[rotaryDim / 2]` (float32, as torch computes them) and the cos/sin multiplier (yarn's attention factor, else 1). */
export interface RopeFrequencies {
  invFreq: Float32Array;
  attentionFactor: number;
}

/** cos and sin of position × inverse frequency, each `[batch, pos, rotaryDim]` (the half-table repeated twice). */
export interface RotaryTables {
  cos: tf.Tensor3D;
  sin: tf.Tensor3D;
}

/** θ^(−2i/dim) for i < dim/2, in float64 (rounded to float32 by the caller). */
function plainInvFreq(base: number, dim: number): number[] {
  return Array.from({ length: dim / 2 }, (_, i) => 1 / base ** ((2 * i) / dim));
}

/** yarn's attention scaling 0.1·m·ln(s) + 1 (1 for s ≤ 1). */
function yarnMscale(scale: number, m = 1): number {
  return scale <= 1 ? 1 : 0.1 * m * Math.log(scale) + 1;
}

/**
 * Inverse frequencies of `params` for a call on `seqLen` positions (used by `dynamic` only).
 * Raises InvalidArgumentError for an odd or non-positive `rotaryDim`.
 */
export function ropeFrequencies(params: RopeParams, seqLen = 0): RopeFrequencies {
  const dim = params.rotaryDim;
  if (!Number.isInteger(dim) || dim <= 0 || dim % 2) throw new InvalidArgumentError(`rotary dim must be a positive even integer, got ${dim}`);
  const s = params.scaling;
  let base = params.base;
  let inv: number[];
  let attentionFactor = 1;
  switch (s.type) {
    case 'default':
      inv = plainInvFreq(base, dim);
      break;
    case 'linear':
      inv = plainInvFreq(base, dim).map((f) => Math.fround(f) / s.factor);
      break;
    case 'dynamic': {
      const len = Math.max(seqLen, s.maxPositionEmbeddings);
      base = base * ((s.factor * len) / s.maxPositionEmbeddings - (s.factor - 1)) ** (dim / (dim - 2));
      inv = plainInvFreq(base, dim);
      break;
    }
    case 'llama3': {
      const lowWavelen = s.originalMaxPositionEmbeddings / s.lowFreqFactor;
      const highWavelen = s.originalMaxPositionEmbeddings / s.highFreqFactor;
      inv = plainInvFreq(base, dim).map((raw) => {
        const f = Math.fround(raw);
        const wavelen = (2 * Math.PI) / f;
        if (wavelen < highWavelen) return f;
        if (wavelen > lowWavelen) return f / s.factor;
        const smooth = (s.originalMaxPositionEmbeddings / wavelen - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor);
        return ((1 - smooth) * f) / s.factor + smooth * f;
      });
      break;
    }
    case 'yarn': {
      attentionFactor = s.attentionFactor ?? (s.mscale && s.mscaleAllDim ? yarnMscale(s.factor, s.mscale) / yarnMscale(s.factor, s.mscaleAllDim) : yarnMscale(s.factor));
      const correctionDim = (rotations: number) => (dim * Math.log(s.originalMaxPositionEmbeddings / (rotations * 2 * Math.PI))) / (2 * Math.log(base));
      let low = correctionDim(s.betaFast);
      let high = correctionDim(s.betaSlow);
      if (s.truncate) [low, high] = [Math.floor(low), Math.ceil(high)];
      low = Math.max(low, 0);
      high = Math.min(high, dim - 1);
      if (low === high) high += 0.001;
      inv = Array.from({ length: dim / 2 }, (_, i) => {
        const posFreq = Math.fround(base ** ((2 * i) / dim));
        const extrapolation = 1 / posFreq;
        const interpolation = 1 / (s.factor * posFreq);
        const ramp = Math.min(Math.max((i - low) / (high - low), 0), 1);
        const extrapolationFactor = 1 - ramp;
        return interpolation * (1 - extrapolationFactor) + extrapolation * extrapolationFactor;
      });
      break;
    }
  }
  return { invFreq: Float32Array.from(inv), attentionFactor };
}

/**
 * Host cos/sin rows for positions 0 … n−1 `[n, rotaryDim]`: angle = fround(position · invFreq) (the float32
 * product, as HF), cos/sin in float64 rounded to float32, the half-row repeated, times the attention factor.
 * Computed on the host because GPU sin/cos are approximate (WebGPU/Vulkan allow 2^-11 absolute error; measured
 * here: 1.6e-4 relative error in the attention scores on SwiftShader against 8e-7 with host tables).
 */
function hostTables(freqs: RopeFrequencies, n: number): { cos: Float32Array; sin: Float32Array } {
  const half = freqs.invFreq.length;
  const dim = 2 * half;
  const cos = new Float32Array(n * dim);
  const sin = new Float32Array(n * dim);
  for (let p = 0; p < n; p++) {
    for (let i = 0; i < half; i++) {
      const angle = Math.fround(p * freqs.invFreq[i]!);
      const c = Math.fround(Math.cos(angle) * freqs.attentionFactor);
      const s = Math.fround(Math.sin(angle) * freqs.attentionFactor);
      cos[p * dim + i] = c;
      cos[p * dim + half + i] = c;
      sin[p * dim + i] = s;
      sin[p * dim + half + i] = s;
    }
  }
  return { cos, sin };
}

/**
 * `positions [batch, pos]` (int32 or float32, integer values) → cos/sin tables `[batch, pos, rotaryDim]`: rows of
 * a host-computed table for positions 0 … pos−1 gathered by position (values outside that range — padding —
 * are clamped; their rows are masked out downstream).
 */
export function rotaryTables(positions: tf.Tensor2D, freqs: RopeFrequencies): RotaryTables {
  const n = Math.max(1, positions.shape[1]);
  const host = hostTables(freqs, n);
  const dim = 2 * freqs.invFreq.length;
  return tf.tidy(() => {
    const index = tf.clipByValue(tf.cast(positions, 'int32'), 0, n - 1);
    const cos = tf.gather(tf.tensor2d(host.cos, [n, dim]), index);
    const sin = tf.gather(tf.tensor2d(host.sin, [n, dim]), index);
    return { cos: cos as tf.Tensor as tf.Tensor3D, sin: sin as tf.Tensor as tf.Tensor3D };
  });
}

/**
 * Rotates `x [batch, pos, head, dHead]` by the tables `[batch, pos, rotaryDim]`: the first rotaryDim dims become
 * `x·cos + rotate_half(x)·sin` (rotate_half(x) = [−x₂, x₁] of the halves), the remaining dims pass unchanged.
 */
export function applyRotary(x: tf.Tensor, tables: RotaryTables): tf.Tensor4D {
  const [batch, pos, , dHead] = x.shape as [number, number, number, number];
  const [tb, tp, rotaryDim] = tables.cos.shape;
  if (x.rank !== 4 || tb !== batch || tp !== pos || rotaryDim > dHead) {
    throw new ShapeMismatchError('rotary input', `[${tb}, ${tp}, head, ≥${rotaryDim}] for tables [${tables.cos.shape.join(',')}]`, x.shape);
  }
  const cos = tf.expandDims(tables.cos, 2);
  const sin = tf.expandDims(tables.sin, 2);
  const rot = rotaryDim === dHead ? x : tf.slice(x, [0, 0, 0, 0], [-1, -1, -1, rotaryDim]);
  const [x1, x2] = tf.split(rot, 2, 3);
  const rotated = tf.add(tf.mul(rot, cos), tf.mul(tf.concat([tf.neg(x2!), x1!], 3), sin));
  if (rotaryDim === dHead) return rotated as tf.Tensor4D;
  return tf.concat([rotated, tf.slice(x, [0, 0, 0, rotaryDim], [-1, -1, -1, dHead - rotaryDim])], 3) as tf.Tensor4D;
}
