/** Independent references of the CLI tests: the lens top-k by a host sort, head scores read off attention patterns. */
import * as tf from '@tensorflow/tfjs-core';
import { logitLens, residNamesFilter, type HookedLensModel } from '../../lib/lens/logit-lens.js';
import type { TokenInput } from '../../lib/nn/token-input.js';

/**
 * The full logit lens of one sequence at `position`, softmaxed and sorted on the host (prob desc, id asc):
 * per residual state h_0 … h_L its top `k` `{ id, p }`.
 */
export async function hostLensTopK(model: HookedLensModel<TokenInput>, ids: number[], position: number, k: number): Promise<{ id: number; p: number }[][]> {
  const { output, cache } = await model.runWithCache([ids], { namesFilter: residNamesFilter(model) });
  const lens = logitLens(model, cache);
  const probs = tf.tidy(() => tf.softmax(tf.squeeze(tf.slice(lens, [0, 0, position, 0], [-1, 1, 1, -1]), [1, 2])).arraySync()) as number[][];
  tf.dispose([output, lens]);
  cache.dispose();
  return probs.map((row) => row.map((p, id) => ({ p, id })).sort((a, b) => b.p - a.p || a.id - b.id).slice(0, k));
}

/**
 * Induction and previous-token scores of head `h` from a pattern `[batch][H][T][T]` of repeated random tokens
 * (BOS + N tokens + the same N again): the mean attention to the token after the previous occurrence
 * (queries N−1 … 2N) and to the previous token (queries 1 … T−1).
 */
export function patternScores(pattern: number[][][][], h: number, N: number): { induction: number; previousToken: number } {
  const T = 2 * N + 1;
  let induction = 0;
  let prev = 0;
  for (const row of pattern) {
    for (let q = N - 1; q <= 2 * N; q++) induction += row[h]![q]![q - N + 1]!;
    for (let q = 1; q < T; q++) prev += row[h]![q]![q - 1]!;
  }
  return { induction: induction / (pattern.length * (N + 2)), previousToken: prev / (pattern.length * (T - 1)) };
}
