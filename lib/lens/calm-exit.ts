/**
 * CALM-style early exit with the id and mat mappings (docs/methods.md §9, BERT variant §10; "Jump to
 * Conclusions", Yom Din et al.).
 *
 * Layer convention (mat): ℓ = 0 … L meaning h_ℓ (embedding included). Per sample (one position t):
 * process one block at a time; after reaching layer ℓ with 1 ≤ ℓ < L compute the mapped distribution
 * p = softmax(lens(M_ℓ(h_ℓ))) — M_ℓ = identity (`id`, the logit lens: LN_f then W_E; BERT: the MLM head)
 * or A_{L,ℓ} (`mat`: lens(A_{L,ℓ} h_ℓ)) — and its confidence c = p_(1) − p_(2). Exit iff
 * c > λ_{ℓ,t} (strict) with λ_{ℓ,t} = 0.9·λ + 0.1·exp(−τ·t/N) for ℓ ≥ 1 and 2 (never) at ℓ = 0
 * (`calmThreshold`), τ = 4, N = mean over the samples of (t + 1). On exit the output is the mapped
 * top-10 and the layers processed are ℓ (the mapping is free); otherwise the output is the model's real
 * final output (lens of h_L) and the layers processed are L.
 *
 * The work is split in two: `calmScores` runs the lens once per sample and layer (independent of λ);
 * `calmEarlyExit` sweeps the λ grid on those scores (plain arrays, no tensors).
 */
import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError, ShapeMismatchError } from '../errors.js';
import type { LensModel } from '../nn/lens-model.js';
import { applyLinearMap } from '../linreg/fit.js';
import { calmThreshold, meanPrefixLength, LAMBDA_GRID_ID, LAMBDA_GRID_MAT } from '../linreg/calm.js';
import { precisionAtK } from '../linreg/metrics.js';
import type { HostMatrix, LinearMap } from '../linreg/types.js';
import { topKTieSafe } from './topk.js';

/** One validation sample: the states h_0 … h_L at its position t. */
export interface CalmSample {
  /** h_0 … h_L (L+1 vectors of length dModel), or one `[L+1, dModel]` row-major array. */
  states: readonly Float32Array[] | Float32Array;
  /** 0-based position t of the sample in its sentence (the prefix is x_0 … x_t). */
  t: number;
}

/**
 * A_{L,ℓ} for ℓ = 1 … L−1 (`[dModel, dModel]`, applied as A·h): a fitted `LinearMap` (e.g. a
 * `ShortcutMap` from `fitAllShortcuts`, key `ℓ_L`) or a plain host matrix.
 */
export type CalmMapProvider = (layer: number) => LinearMap | HostMatrix | Promise<LinearMap | HostMatrix>;

/** Options of `calmScores`. */
export interface CalmScoresOptions {
  /** 'id' (logit lens) or 'mat' (lens∘A_{L,ℓ}; needs `maps`). */
  mapping: 'id' | 'mat';
  /** A_{L,ℓ} provider for `mapping: 'mat'`. */
  maps?: CalmMapProvider;
  /** How many top ids to keep per layer (default 10; at least 2, at most the vocabulary). */
  topK?: number;
  /** Samples per lens call (default 64): bounds the `[batch, dVocab]` logits alive at once. */
  batchSize?: number;
}

/** λ-independent scores of every sample and layer. */
export interface CalmScores {
  /** Number of samples S. */
  S: number;
  /** Number of blocks L. */
  L: number;
  /** Ids kept per layer K. */
  K: number;
  /** Confidence p_(1) − p_(2) `[S, L+1]` of the mapped distribution; NaN at ℓ = 0 and ℓ = L (never tested). */
  confidence: Float64Array;
  /** Mapped top-K ids `[S, L+1, K]`; row ℓ = L is the real final output (lens of h_L); row 0 unused (−1). */
  topK: Int32Array;
  /** Positions t `[S]`. */
  t: Int32Array;
}

/** States of one sample at layer ℓ. */
function stateAt(sample: CalmSample, layer: number, L: number, d: number, index: number): Float32Array {
  if (Array.isArray(sample.states)) {
    const list = sample.states as readonly Float32Array[];
    if (list.length !== L + 1) throw new ShapeMismatchError(`calmScores: sample ${index} states`, `${L + 1} vectors h_0 … h_${L}`, `${list.length} vectors`);
    const v = list[layer]!;
    if (v.length !== d) throw new ShapeMismatchError(`calmScores: sample ${index} h_${layer}`, `[${d}]`, [v.length]);
    return v;
  }
  const flat = sample.states as Float32Array;
  if (flat.length !== (L + 1) * d) throw new ShapeMismatchError(`calmScores: sample ${index} states`, `[${L + 1}, ${d}]`, `${flat.length} values`);
  return flat.subarray(layer * d, (layer + 1) * d);
}

/** dModel of the first sample. */
function sampleDim(sample: CalmSample, L: number): number {
  if (Array.isArray(sample.states)) return (sample.states as readonly Float32Array[])[0]?.length ?? 0;
  return (sample.states as Float32Array).length / (L + 1);
}

/** A host matrix as a `LinearMap` (no intercept), so `applyLinearMap` can apply it. */
function asLinearMap(m: LinearMap | HostMatrix, layer: number, d: number): LinearMap {
  if ('weight' in m) {
    if (m.shape[0] !== d || m.shape[1] !== d) throw new ShapeMismatchError(`calm mat: A_{L,${layer}}`, `[${d}, ${d}]`, m.shape);
    return m;
  }
  if (m.shape[0] !== d || m.shape[1] !== d || m.data.length !== d * d) throw new ShapeMismatchError(`calm mat: A_{L,${layer}}`, `[${d}, ${d}]`, m.shape);
  return { weight: m.data, bias: null, shape: [d, d], method: 'cholesky', rank: d, samples: 0, ridge: 0 };
}

/**
 * Lens of every sample at every layer ℓ = 1 … L (ℓ < L through the mapping, ℓ = L the real final output):
 * the top-K ids and the confidence p_(1) − p_(2) (full-vocabulary softmax, ties by lower id).
 *
 * @param model any `LensModel` (GPT-2: LN_f + W_E; BERT: the MLM head, §10).
 * @param samples S samples with states h_0 … h_L `[L+1, dModel]` at their position t.
 */
export async function calmScores(model: LensModel, samples: readonly CalmSample[], opts: CalmScoresOptions): Promise<CalmScores> {
  const L = model.nLayers;
  const S = samples.length;
  if (S === 0) throw new InvalidArgumentError('calmScores: no samples');
  if (opts.mapping !== 'id' && opts.mapping !== 'mat') throw new InvalidArgumentError(`calmScores: mapping must be 'id' or 'mat', got '${String(opts.mapping)}'`);
  if (opts.mapping === 'mat' && !opts.maps) throw new InvalidArgumentError("calmScores: mapping 'mat' needs maps (A_{L,ℓ} per layer)", 'pass maps: (l) => shortcuts.get(`${l}_${L}`)');
  const batchSize = opts.batchSize ?? 64;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new InvalidArgumentError(`calmScores: batchSize must be a positive integer, got ${batchSize}`);
  const d = sampleDim(samples[0]!, L);
  if (!Number.isInteger(d) || d < 1) throw new ShapeMismatchError('calmScores: sample 0 states', `[${L + 1}, dModel]`, 'no usable values');
  let K = opts.topK ?? 10;
  const t = new Int32Array(S);
  samples.forEach((s, i) => {
    if (!Number.isInteger(s.t) || s.t < 0) throw new InvalidArgumentError(`calmScores: sample ${i} has position t = ${s.t}; expected an integer ≥ 0`);
    t[i] = s.t;
  });
  let topK: Int32Array | undefined;
  const confidence = new Float64Array(S * (L + 1)).fill(NaN);
  for (let layer = 1; layer <= L; layer++) {
    let X: Float32Array = new Float32Array(S * d);
    samples.forEach((s, i) => X.set(stateAt(s, layer, L, d, i), i * d));
    if (opts.mapping === 'mat' && layer < L) {
      const map = asLinearMap(await opts.maps!(layer), layer, d);
      X = applyLinearMap(map, { data: X, shape: [S, d] }) as Float32Array;
    }
    for (let start = 0; start < S; start += batchSize) {
      const rows = Math.min(batchSize, S - start);
      const logits = tf.tidy(() => model.lensLogits(tf.tensor2d(X.subarray(start * d, (start + rows) * d), [rows, d])));
      try {
        const V = logits.shape[logits.rank - 1]!;
        if (!topK) {
          K = Math.min(K, V);
          if (!Number.isInteger(K) || K < 2) throw new InvalidArgumentError(`calmScores: topK must be an integer ≥ 2 (and the vocabulary ≥ 2), got ${K}`);
          topK = new Int32Array(S * (L + 1) * K).fill(-1);
        }
        const top = await topKTieSafe(logits, K);
        for (let r = 0; r < rows; r++) {
          const s = start + r;
          topK.set(top.ids.subarray(r * K, (r + 1) * K), (s * (L + 1) + layer) * K);
          if (layer < L) confidence[s * (L + 1) + layer] = top.probs[r * K]! - top.probs[r * K + 1]!;
        }
      } finally {
        logits.dispose();
      }
    }
  }
  return { S, L, K, confidence, topK: topK!, t };
}

/** Options of `calmEarlyExit`. */
export interface CalmExitOptions {
  /** λ grid (default: `LAMBDA_GRID_MAT`, or `LAMBDA_GRID_ID` with `mapping: 'id'`). */
  lambdas?: readonly number[];
  /** Picks the default λ grid. Default 'mat'. */
  mapping?: 'id' | 'mat';
  /** τ (default 4). */
  tau?: number;
  /** N (default: mean over the samples of t + 1, `meanPrefixLength`). */
  N?: number;
  /** Layers below this never exit (default 1: ℓ = 0 never exits). */
  minimalLayer?: number;
  /** Original BERT bug (§10): use t = 3 in the threshold for every sample. Default false. */
  bertFixedPos3?: boolean;
}

/** Result for one λ. */
export interface CalmLambdaResult {
  lambda: number;
  /** Mean layers processed (exit layer ℓ, or L when never exited). */
  meanLayers: number;
  /** Mean Precision@1: fraction of samples whose output top-1 equals the final output's top-1. */
  precisionAt1: number;
  /** Exit layer per sample `[S]` (L = never exited). */
  exitLayer: Int32Array;
  /** Output top-K per sample `[S, K]` (mapped top-K at the exit, else the final output's). */
  output: Int32Array;
}

/**
 * Sweeps the λ grid on precomputed scores (§9): for each λ and sample, the first ℓ = 1 … L−1 with
 * confidence > λ_{ℓ,t} is the exit; returns mean layers processed and Precision@1 vs the final output.
 */
export function calmEarlyExit(scores: CalmScores, opts: CalmExitOptions = {}): CalmLambdaResult[] {
  const { S, L, K } = scores;
  if (scores.confidence.length !== S * (L + 1)) throw new ShapeMismatchError('calmEarlyExit: confidence', `[${S}, ${L + 1}]`, `${scores.confidence.length} values`);
  if (scores.topK.length !== S * (L + 1) * K) throw new ShapeMismatchError('calmEarlyExit: topK', `[${S}, ${L + 1}, ${K}]`, `${scores.topK.length} values`);
  if (scores.t.length !== S) throw new ShapeMismatchError('calmEarlyExit: t', `[${S}]`, `${scores.t.length} values`);
  const lambdas = opts.lambdas ?? (opts.mapping === 'id' ? LAMBDA_GRID_ID : LAMBDA_GRID_MAT);
  const N = opts.N ?? meanPrefixLength(scores.t);
  const thresholdOpts = { tau: opts.tau ?? 4, minimalLayer: opts.minimalLayer ?? 1 };
  const finalTop1 = new Int32Array(S);
  for (let s = 0; s < S; s++) finalTop1[s] = scores.topK[(s * (L + 1) + L) * K]!;
  return lambdas.map((lambda) => {
    const exitLayer = new Int32Array(S);
    const output = new Int32Array(S * K);
    const outTop1 = new Int32Array(S);
    let layersSum = 0;
    for (let s = 0; s < S; s++) {
      const t = opts.bertFixedPos3 ? 3 : scores.t[s]!;
      let exit = L;
      for (let layer = 0; layer < L; layer++) {
        const c = scores.confidence[s * (L + 1) + layer]!;
        // NaN (ℓ = 0, never scored) compares false: no exit.
        if (c > calmThreshold(lambda, layer, t, N, thresholdOpts)) {
          exit = layer;
          break;
        }
      }
      exitLayer[s] = exit;
      layersSum += exit;
      const base = (s * (L + 1) + exit) * K;
      output.set(scores.topK.subarray(base, base + K), s * K);
      outTop1[s] = scores.topK[base]!;
    }
    return { lambda, meanLayers: layersSum / S, precisionAt1: precisionAtK(outTop1, finalTop1, 1), exitLayer, output };
  });
}

/** `calmScores` then `calmEarlyExit` (the default λ grid follows `mapping`). */
export async function runCalmEarlyExit(model: LensModel, samples: readonly CalmSample[], opts: CalmScoresOptions & Omit<CalmExitOptions, 'mapping'>): Promise<CalmLambdaResult[]> {
  const scores = await calmScores(model, samples, opts);
  return calmEarlyExit(scores, { ...opts, mapping: opts.mapping });
}
