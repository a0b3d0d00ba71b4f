/**
 * Metrics of the fixed-exit predictions (docs/methods.md §8), on plain typed arrays.
 *
 * - Precision@k = mean over samples of [the mapping's **top-1** id ∈ the model's final **top-k**]
 *   (direction matters: not "final top-1 in the mapped top-k").
 * - Surprisal = mean over samples of −ln p_final(top-1 of the mapping), p_final = the model's real
 *   output softmax.
 */
import { InvalidArgumentError, ShapeMismatchError } from '../errors.js';

/**
 * Precision@k of mapped top-1 predictions against the final top-k.
 * @param mappedTop1 `[N]` top-1 id of the mapping per sample.
 * @param finalTopK `[N, width]` row-major final top ids per sample, best first (width = 10 in §8).
 * @param k 1 ≤ k ≤ width.
 * @returns the fraction of samples whose mapped top-1 is among the first k final ids.
 */
export function precisionAtK(mappedTop1: Int32Array, finalTopK: Int32Array, k: number): number {
  const n = mappedTop1.length;
  if (n === 0) return NaN;
  if (finalTopK.length % n !== 0) throw new ShapeMismatchError('precisionAtK: finalTopK', `[${n}, width]`, `${finalTopK.length} values`);
  const width = finalTopK.length / n;
  if (!Number.isInteger(k) || k < 1 || k > width) throw new InvalidArgumentError(`precisionAtK: k must be in 1..${width}, got ${k}`);
  let hits = 0;
  for (let s = 0; s < n; s++) {
    const id = mappedTop1[s];
    const base = s * width;
    for (let r = 0; r < k; r++) {
      if (finalTopK[base + r] === id) {
        hits++;
        break;
      }
    }
  }
  return hits / n;
}

/** Options of `surprisal`. */
export interface SurprisalOptions {
  /** What `finalScores` holds: 'logprobs' (log-softmax, default) or raw 'logits' (log-softmax taken here, float64). */
  input?: 'logprobs' | 'logits';
}

/** Result of `surprisal`. */
export interface SurprisalResult {
  /** Mean surprisal in nats. */
  mean: number;
  /** `[N]` per-sample surprisal −ln p_final(mapped top-1). */
  perSample: Float64Array;
}

/**
 * Surprisal of the mapping's top-1 under the model's final distribution.
 * @param mappedTop1 `[N]` top-1 id of the mapping per sample.
 * @param finalScores `[N, vocabSize]` row-major final log-probabilities (or logits with `input: 'logits'`).
 */
export function surprisal(mappedTop1: Int32Array, finalScores: ArrayLike<number>, vocabSize: number, opts: SurprisalOptions = {}): SurprisalResult {
  const n = mappedTop1.length;
  if (!Number.isInteger(vocabSize) || vocabSize < 1) throw new InvalidArgumentError(`surprisal: vocabSize must be a positive integer, got ${vocabSize}`);
  if (finalScores.length !== n * vocabSize) throw new ShapeMismatchError('surprisal: finalScores', `[${n}, ${vocabSize}]`, `${finalScores.length} values`);
  const perSample = new Float64Array(n);
  let sum = 0;
  for (let s = 0; s < n; s++) {
    const id = mappedTop1[s]!;
    if (id < 0 || id >= vocabSize) throw new InvalidArgumentError(`surprisal: mapped id ${id} of sample ${s} is outside 0..${vocabSize - 1}`);
    const base = s * vocabSize;
    let logp: number;
    if (opts.input === 'logits') {
      let max = -Infinity;
      for (let v = 0; v < vocabSize; v++) max = Math.max(max, finalScores[base + v]!);
      let z = 0;
      for (let v = 0; v < vocabSize; v++) z += Math.exp(finalScores[base + v]! - max);
      logp = finalScores[base + id]! - max - Math.log(z);
    } else {
      logp = finalScores[base + id]!;
    }
    perSample[s] = -logp;
    sum += -logp;
  }
  return { mean: n ? sum / n : NaN, perSample };
}
