/**
 * Sampling of the one position per sentence that the mat pipeline uses (docs/methods.md §7, §10):
 * t uniform on 0 … n−1 for a sentence of n tokens, drawn from a seeded generator so a run can be repeated.
 */
import { InvalidArgumentError } from '../errors.js';
import { createRng } from '../math/rng.js';

/** Options of `sampleShortcutPositions`. */
export interface SamplePositionsOptions {
  /** Seed of the xoshiro128** generator (`createRng`). */
  seed: number;
}

/**
 * One uniformly random position per sentence.
 * @param tokenized token ids per sentence (only the lengths n are read; every n must be ≥ 1).
 * @returns `[nSentences]` positions t with 0 ≤ t ≤ n−1 (the last token, e.g. a trailing newline, included).
 */
export function sampleShortcutPositions(tokenized: readonly (ArrayLike<number>)[], opts: SamplePositionsOptions): Int32Array {
  if (!opts || !Number.isFinite(opts.seed)) throw new InvalidArgumentError(`sampleShortcutPositions: seed must be a finite number, got ${String(opts?.seed)}`);
  const rng = createRng(opts.seed);
  const positions = new Int32Array(tokenized.length);
  for (let s = 0; s < tokenized.length; s++) {
    const n = tokenized[s]!.length;
    if (n < 1) throw new InvalidArgumentError(`sampleShortcutPositions: sentence ${s} has no tokens`, 'drop empty sentences before sampling');
    positions[s] = rng.uniformInt(n);
  }
  return positions;
}
