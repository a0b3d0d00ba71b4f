/**
 * Saturation layers (docs/methods.md §1, "Looking Beyond the Top-1"): the layer from which the lens
 * ranking of rank r no longer changes.
 *
 * Layer convention (beyond_top1): **0-based j = 0 … L−1, where j means the residual state h_{j+1}**
 * (`blocks.{j}.hook_resid_post`, lensed); the embedding h_0 is excluded. `L` = number of blocks.
 *
 * Definition: with T[j][r] = id of the r-th largest lens logit at layer j,
 * s_r = (last j with T[j][r] ≠ T[L−1][r]) + 1, so s_r ∈ 0 … L−1 and s_r = L−1 means "fixed only at the
 * last layer". When the rank-r token is the same at every layer, the default is s_r = 0; the option
 * `quirkAllAgreeIsL` returns L instead, as the original top-k routine `calc_top_k_saturation_layers`
 * does (its top-1 routine `calc_top1_satur_layer` returns 0).
 */
import { InvalidArgumentError, ShapeMismatchError } from '../errors.js';
import type * as tf from '@tensorflow/tfjs-core';
import { hostArray, isHostArray, toHostArray, type HostArray } from '../math/host-array.js';

/** Saturation layers of N examples: `[N, k]` (`data[n * k + r]` is rank r of example n). */
export type SaturationBatch = HostArray<Int32Array, readonly [number, number]>;

/** Options of the saturation routines. */
export interface SaturationOptions {
  /**
   * Reproduce the original top-k routine: a rank whose token agrees at all L layers gets s_r = L (an
   * out-of-range value that later analyses drop) instead of 0. Default false.
   */
  quirkAllAgreeIsL?: boolean;
}

function checkRanks(ranks: readonly (readonly number[])[]): { L: number; k: number } {
  const L = ranks.length;
  if (L === 0) throw new InvalidArgumentError('saturation: the rank table has no layers');
  const k = ranks[0]!.length;
  if (k === 0) throw new InvalidArgumentError('saturation: the rank table has no ranks (k = 0)');
  for (let j = 0; j < L; j++) {
    if (ranks[j]!.length !== k) throw new ShapeMismatchError(`saturation: rank table row ${j}`, `[${k}] like row 0`, [ranks[j]!.length]);
    checkIdRow(ranks[j]!, j);
  }
  return { L, k };
}

/** Rank-table entries are token ids: integers ≥ 0 (NaN would compare unequal to itself and fake a change). */
function checkIdRow(row: readonly unknown[], j: number): void {
  const r = row.findIndex((id) => typeof id !== 'number' || !Number.isInteger(id) || id < 0);
  if (r >= 0) throw new InvalidArgumentError(`saturation: rank table [${j}][${r}] is ${String(row[r])}, not a token id (an integer ≥ 0)`);
}

/**
 * Saturation layers s_0 … s_{k−1} of one example.
 * @param ranks `[L][k]` token ids: `ranks[j][r]` = r-th ranked id at layer j (j = 0 … L−1 meaning h_{j+1}).
 * @returns `[k]` saturation layers, each in 0 … L−1 (or L for all-agree ranks with `quirkAllAgreeIsL`).
 */
export function saturationLayers(ranks: readonly (readonly number[])[] | HostArray | tf.Tensor, opts: SaturationOptions = {}): number[] {
  if (!Array.isArray(ranks)) {
    const host = toHostArray(ranks as HostArray | tf.Tensor, { what: 'saturationLayers: ranks', rank: 2 });
    const [L, k] = host.shape as [number, number];
    return Array.from(saturationLayersBatch(Int32Array.from(host.data), [1, L, k], opts).data);
  }
  ranks = ranks as readonly (readonly number[])[];
  const { L, k } = checkRanks(ranks);
  const out = new Array<number>(k);
  const last = ranks[L - 1]!;
  for (let r = 0; r < k; r++) {
    const finalId = last[r];
    let s = -1;
    for (let j = L - 2; j >= 0; j--) {
      if (ranks[j]![r] !== finalId) {
        s = j + 1;
        break;
      }
    }
    out[r] = s >= 0 ? s : opts.quirkAllAgreeIsL ? L : 0;
  }
  return out;
}

/**
 * Top-1 saturation layer (the original `calc_top1_satur_layer`, used by intervention and early exit):
 * s_0 with the all-layers-agree case mapped to 0.
 * @param ranks `[L][k]` (k ≥ 1; only column 0 is read) or `[L]` top-1 ids.
 */
export function top1SaturationLayer(ranks: readonly (readonly number[])[] | readonly number[]): number {
  const L = ranks.length;
  if (L === 0) throw new InvalidArgumentError('top1SaturationLayer: the rank table has no layers');
  const top1 = (j: number): number => {
    const row = ranks[j]!;
    return typeof row === 'number' ? row : (row as readonly number[])[0]!;
  };
  for (let j = 0; j < L; j++) checkIdRow([top1(j)], j);
  const finalId = top1(L - 1);
  for (let j = L - 2; j >= 0; j--) if (top1(j) !== finalId) return j + 1;
  return 0;
}

/**
 * Batch form of `saturationLayers`.
 * @param ranks `[N, L, k]` token ids (layer j = 0 … L−1 meaning h_{j+1}): a host array or an int32 tensor,
 *   or row-major `Int32Array` values followed by their `shape`.
 * @returns `[N, k]` saturation layers.
 */
export function saturationLayersBatch(ranks: HostArray | tf.Tensor, opts?: SaturationOptions): SaturationBatch;
export function saturationLayersBatch(ranks: Int32Array, shape: readonly [number, number, number], opts?: SaturationOptions): SaturationBatch;
export function saturationLayersBatch(input: Int32Array | HostArray | tf.Tensor, shapeOrOpts?: readonly [number, number, number] | SaturationOptions, maybeOpts: SaturationOptions = {}): SaturationBatch {
  let ranks: ArrayLike<number>;
  let shape: readonly [number, number, number];
  let opts = maybeOpts;
  if (input instanceof Int32Array) {
    ranks = input;
    shape = shapeOrOpts as readonly [number, number, number];
  } else {
    const host = toHostArray(input, { what: 'saturationLayersBatch: ranks', rank: 3 });
    ranks = host.data;
    shape = host.shape as readonly [number, number, number];
    opts = (shapeOrOpts as SaturationOptions | undefined) ?? {};
  }
  const [N, L, k] = shape;
  if (!(L > 0 && k > 0 && N >= 0)) throw new InvalidArgumentError(`saturationLayersBatch: bad shape [${shape.join(',')}]`);
  if (ranks.length !== N * L * k) throw new ShapeMismatchError('saturationLayersBatch: ranks', `[${N},${L},${k}] (${N * L * k} values)`, `${ranks.length} values`);
  const out = new Int32Array(N * k);
  const allAgree = opts.quirkAllAgreeIsL ? L : 0;
  for (let n = 0; n < N; n++) {
    const base = n * L * k;
    for (let r = 0; r < k; r++) {
      const finalId = ranks[base + (L - 1) * k + r];
      let s = allAgree;
      for (let j = L - 2; j >= 0; j--) {
        if (ranks[base + j * k + r] !== finalId) {
          s = j + 1;
          break;
        }
      }
      out[n * k + r] = s;
    }
  }
  return hostArray(out, [N, k] as const);
}

/** Options of `filterBySaturation`. */
export interface SaturationFilterOptions {
  /** Keep examples with s_0 ≤ floor(fraction·L). Default 0.85 (GPT2-XL 40, ViT-L 20, Whisper-large 27). */
  fraction?: number;
}

/** The largest s_0 that `filterBySaturation` keeps: floor(fraction·L) (guarded against 0.85·20 = 16.999…). */
export function saturationFilterMax(L: number, fraction = 0.85): number {
  return Math.floor(fraction * L + 1e-9);
}

/** What `filterBySaturation` kept. */
export interface SaturationFilterResult {
  /** Kept rows, in input order. */
  kept: number[][];
  /** Indices of the kept rows in the input. */
  indices: number[];
  /** The threshold used: keep iff s_0 ≤ maxS0. */
  maxS0: number;
}

/**
 * Example filter of the order analysis and probing (§1): keep an example iff s_0 ≤ floor(0.85·L).
 * (The better-LM analysis of §6 does not filter.)
 * @param S `[N][k]` saturation layers per example (`saturationLayers` output), s_0 first.
 * @param L number of blocks.
 */
export function filterBySaturation(S: readonly (readonly number[])[], L: number, opts: SaturationFilterOptions = {}): SaturationFilterResult {
  const fraction = opts.fraction ?? 0.85;
  if (!(fraction >= 0 && fraction <= 1)) throw new InvalidArgumentError(`filterBySaturation: fraction must be in [0, 1], got ${fraction}`);
  const maxS0 = saturationFilterMax(L, fraction);
  const kept: number[][] = [];
  const indices: number[] = [];
  S.forEach((row, i) => {
    if (row.length === 0) throw new InvalidArgumentError(`filterBySaturation: example ${i} has no saturation layers`);
    if (row[0]! <= maxS0) {
      kept.push([...row]);
      indices.push(i);
    }
  });
  return { kept, indices, maxS0 };
}

/**
 * Batch form of the filter: a `[N]` mask (1 = keep) for `[N, k]` saturation layers.
 * @param S `[N, k]` (`saturationLayersBatch` output).
 */
export function saturationKeepMask(S: HostArray, L: number, opts: SaturationFilterOptions = {}): Uint8Array {
  if (!isHostArray(S) || S.shape.length !== 2 || !(S.shape[1]! > 0)) throw new ShapeMismatchError('saturationKeepMask: S', '[N, k] saturation layers (a HostArray, e.g. saturationLayersBatch output)', isHostArray(S) ? S.shape : typeof S);
  const [N, k] = S.shape as readonly [number, number];
  const maxS0 = saturationFilterMax(L, opts.fraction ?? 0.85);
  const mask = new Uint8Array(N);
  for (let n = 0; n < N; n++) mask[n] = S.data[n * k]! <= maxS0 ? 1 : 0;
  return mask;
}
