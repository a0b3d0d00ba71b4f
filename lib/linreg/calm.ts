/**
 * CALM-style early-exit threshold of "Jump to Conclusions" (docs/methods.md §9) and its λ grids.
 *
 * At layer ℓ (mat convention, ℓ = 0 … L) and position t, a sample exits iff its confidence
 * c = p_(1) − p_(2) of the mapped distribution exceeds (strictly) λ_{ℓ,t} =
 * 0.9·λ + 0.1·exp(−τ·t/N) for ℓ ≥ 1 (the minimal exit layer), and 2 (never) for ℓ = 0;
 * τ = 4 and N = mean over the validation set of (t + 1).
 */
import { InvalidArgumentError } from '../errors.js';

/** Options of `calmThreshold`. */
export interface CalmThresholdOptions {
  /** Decay τ. Default 4. */
  tau?: number;
  /** Layers below this never exit (threshold 2). Default 1. */
  minimalLayer?: number;
}

/**
 * λ_{ℓ,t} of §9.
 * @param lambda the grid value λ.
 * @param layer exit layer ℓ (0 … L).
 * @param t 0-based position of the predicted token (the BERT variant of the original always passes 3,
 *   see `bertFixedPos3` in §10).
 * @param N mean of (t + 1) over the validation set (`meanPrefixLength`).
 */
export function calmThreshold(lambda: number, layer: number, t: number, N: number, opts: CalmThresholdOptions = {}): number {
  const tau = opts.tau ?? 4;
  const minimalLayer = opts.minimalLayer ?? 1;
  if (!(N > 0)) throw new InvalidArgumentError(`calmThreshold: N (mean prefix length) must be > 0, got ${N}`);
  if (layer < minimalLayer) return 2;
  return 0.9 * lambda + 0.1 * Math.exp((-tau * t) / N);
}

/** N of §9: the mean over validation samples of (t + 1), t the 0-based sampled position. */
export function meanPrefixLength(positions: ArrayLike<number>): number {
  if (positions.length === 0) throw new InvalidArgumentError('meanPrefixLength: no positions');
  let s = 0;
  for (let i = 0; i < positions.length; i++) s += positions[i]! + 1;
  return s / positions.length;
}

/** λ grid for mat (13 values): −1.112 (exit at layer 1), 0.0, 0.1, …, 1.0, 1.112 (never exits). */
export const LAMBDA_GRID_MAT: readonly number[] = Object.freeze([-1.112, 0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.112]);

/** λ grid for id (22 values): the mat grid plus 1.0112, 1.0224, …, 1.1008, ascending. */
export const LAMBDA_GRID_ID: readonly number[] = Object.freeze(
  [...LAMBDA_GRID_MAT, ...Array.from({ length: 9 }, (_, k) => Number((1 + 0.0112 * (k + 1)).toFixed(4)))].sort((a, b) => a - b),
);
