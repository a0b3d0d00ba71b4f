/**
 * Classification metrics of the probes (docs/methods.md §3), matching sklearn: confusion matrix
 * (rows = true class, columns = predicted), per-class recall (diagonal / row sum), balanced accuracy
 * (mean recall over the classes present in y_true) and one-vs-rest ROC-AUC by the Mann–Whitney
 * statistic (ties between a positive and a negative score count ½).
 */
import { InvalidArgumentError, ShapeMismatchError } from '../errors.js';
import { isHostArray, type HostArray } from '../math/host-array.js';

function checkLabels(labels: ArrayLike<number>, K: number, what: string): void {
  for (let i = 0; i < labels.length; i++) {
    const v = labels[i]!;
    if (!Number.isInteger(v) || v < 0 || v >= K) throw new InvalidArgumentError(`${what}: label ${v} at index ${i} is outside 0..${K - 1}`);
  }
}

/**
 * Confusion matrix.
 * @param yTrue `[n]` labels 0 … K−1; @param yPred `[n]` labels 0 … K−1.
 * @returns `[K][K]` counts, `m[true][pred]`.
 */
export function confusionMatrix(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, K: number): number[][] {
  if (yTrue.length !== yPred.length) throw new InvalidArgumentError(`confusionMatrix: ${yTrue.length} true labels but ${yPred.length} predictions`);
  if (!Number.isInteger(K) || K < 1) throw new InvalidArgumentError(`confusionMatrix: K must be a positive integer, got ${K}`);
  checkLabels(yTrue, K, 'confusionMatrix: yTrue');
  checkLabels(yPred, K, 'confusionMatrix: yPred');
  const m = Array.from({ length: K }, () => new Array<number>(K).fill(0));
  for (let i = 0; i < yTrue.length; i++) m[yTrue[i]!]![yPred[i]!]!++;
  return m;
}

/**
 * Per-class recall from a confusion matrix: diagonal / row sum (NaN for a class absent from y_true).
 * @param confusion `[K][K]`, rows = true class.
 * @returns `[K]`.
 */
export function perClassRecall(confusion: readonly (readonly number[])[]): number[] {
  return confusion.map((row, c) => {
    const total = row.reduce((s, v) => s + v, 0);
    return total > 0 ? row[c]! / total : NaN;
  });
}

/**
 * Balanced accuracy: mean per-class recall over the classes present in y_true (sklearn
 * `balanced_accuracy_score`, adjusted = false). NaN when y_true is empty.
 */
export function balancedAccuracy(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, K: number): number {
  return balancedAccuracyFromConfusion(confusionMatrix(yTrue, yPred, K));
}

/** Balanced accuracy from a confusion matrix `[K][K]` (mean of the non-NaN recalls). */
export function balancedAccuracyFromConfusion(confusion: readonly (readonly number[])[]): number {
  return nanMean(perClassRecall(confusion));
}

/** Mean of the non-NaN entries (NaN when there are none). */
export function nanMean(values: ArrayLike<number>): number {
  let s = 0;
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isNaN(v)) {
      s += v;
      n++;
    }
  }
  return n ? s / n : NaN;
}

/**
 * Binary ROC-AUC by the Mann–Whitney statistic:
 * AUC = (#{(p, q): s_p > s_q} + ½ #{(p, q): s_p = s_q}) / (n_pos · n_neg) over positive p, negative q,
 * computed from average ranks in O(n log n). NaN when either group is empty.
 * @param isPositive `[n]` truthy for positives; @param scores `[n]`.
 */
export function rocAuc(isPositive: ArrayLike<boolean | number>, scores: ArrayLike<number>): number {
  const n = scores.length;
  if (isPositive.length !== n) throw new InvalidArgumentError(`rocAuc: ${isPositive.length} labels but ${n} scores`);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  let rankSumPos = 0;
  let nPos = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1]!] === scores[order[i]!]) j++;
    const avgRank = (i + j) / 2 + 1; // 1-based average rank of the tie group
    for (let t = i; t <= j; t++) {
      if (isPositive[order[t]!]) {
        rankSumPos += avgRank;
        nPos++;
      }
    }
    i = j + 1;
  }
  const nNeg = n - nPos;
  if (nPos === 0 || nNeg === 0) return NaN;
  return (rankSumPos - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

/**
 * One-vs-rest ROC-AUC per class, scoring class c by its probability column.
 * @param yTrue `[n]` labels 0 … K−1.
 * @param proba `[n, K]` scores: a `HostArray` (e.g. `predictProba`'s), or row-major values and `K`.
 * @returns `[K]` (NaN for a class that is absent, or the only one present, in y_true).
 */
export function rocAucOvR(yTrue: ArrayLike<number>, scores: HostArray | ArrayLike<number>, nClasses?: number): number[] {
  const n = yTrue.length;
  let proba: ArrayLike<number>;
  let K: number;
  if (isHostArray(scores)) {
    if (scores.shape.length !== 2 || (nClasses !== undefined && scores.shape[1] !== nClasses)) throw new ShapeMismatchError('rocAucOvR: proba', `[${n}, ${nClasses ?? 'K'}]`, scores.shape);
    proba = scores.data;
    K = scores.shape[1]!;
  } else {
    if (nClasses === undefined) throw new InvalidArgumentError('rocAucOvR: flat probabilities need the class count K', 'pass a [n, K] HostArray or (values, K)');
    proba = scores;
    K = nClasses;
  }
  if (proba.length !== n * K) throw new InvalidArgumentError(`rocAucOvR: proba has ${proba.length} values, expected ${n}·${K}`);
  checkLabels(yTrue, K, 'rocAucOvR: yTrue');
  const col = new Float64Array(n);
  const pos = new Uint8Array(n);
  const out: number[] = [];
  for (let c = 0; c < K; c++) {
    for (let i = 0; i < n; i++) {
      col[i] = proba[i * K + c]!;
      pos[i] = yTrue[i] === c ? 1 : 0;
    }
    out.push(rocAuc(pos, col));
  }
  return out;
}
