/**
 * Cross-validated probing (docs/methods.md §3): seeded shuffled F-fold CV of "standardise on the training
 * fold, then one-vs-rest L2 logistic regression", with per-fold balanced accuracy, per-class recall and
 * one-vs-rest ROC-AUC (probability column), summarised as mean balanced accuracy ± SEM (std ddof 0 /
 * √folds) and per-class recall / AUC averaged over folds (folds where a class is absent from the test
 * set are skipped for that class). Also the two controls: "random embeddings" (per-class scalar
 * mean/std Gaussian features, as the original) and a label-shuffle control.
 *
 * Folds follow sklearn `KFold(shuffle=True)`: a seeded permutation cut into F consecutive parts, the
 * first n mod F of them one item longer. The original used an unseeded shuffle; ours is seeded
 * (`createRng(seed)`, xoshiro128**) and the seed is reported.
 */
import { InvalidArgumentError } from '../errors.js';
import { toHostMatrixSync, type HostMatrix, type MatrixInput } from '../linreg/types.js';
import { createRng } from '../math/rng.js';
import { mean, semDdof0 } from '../math/stats.js';
import { fitStandardScaler, transformStandard, type StandardScaler } from './scaler.js';
import { fitLogisticOvR, predictProba, argmaxRows, type ClassScores, type LogisticModel, type LogisticOptions } from './logistic.js';
import { balancedAccuracyFromConfusion, confusionMatrix, nanMean, perClassRecall, rocAucOvR } from './metrics.js';

/** A trained probe: the scaler fitted on its training fold and the logistic model. */
export interface Probe {
  scaler: StandardScaler;
  model: LogisticModel;
}

/** Options of `crossValidateProbe`. */
export interface CrossValidationOptions extends Omit<LogisticOptions, 'nClasses'> {
  /** Number of folds F (default 5). */
  folds?: number;
  /** Seed of the fold shuffle (default 0). */
  seed?: number;
  /** Number of classes K (default max(y) + 1). */
  nClasses?: number;
  /** Keep the probe of the fold with the highest balanced accuracy (default true). */
  keepBestProbe?: boolean;
}

/** Metrics of one fold. */
export interface FoldMetrics {
  /** Fold index 0 … F−1. */
  fold: number;
  trainSize: number;
  testSize: number;
  /** Mean per-class recall on the test fold. */
  balancedAccuracy: number;
  /** `[K]` recall per class (NaN for a class absent from the test fold). */
  perClassRecall: number[];
  /** `[K]` one-vs-rest ROC-AUC per class from the probability column (NaN when undefined). */
  perClassAuc: number[];
  /** `[K][K]` confusion matrix, rows = true class. */
  confusion: number[][];
  /** True when every binary problem of this fold's probe converged. */
  converged: boolean;
}

/** Result of `crossValidateProbe`. */
export interface CrossValidationResult {
  /** Seed of the fold shuffle. */
  seed: number;
  nSamples: number;
  nFeatures: number;
  nClasses: number;
  /** Samples per class `[K]`. */
  classCounts: number[];
  /** Chance level 1/K of balanced accuracy. */
  chance: number;
  /** Per-fold metrics `[F]`. */
  folds: FoldMetrics[];
  /** Mean balanced accuracy over folds. */
  meanBalancedAccuracy: number;
  /** SEM of the balanced accuracy: std (ddof 0) / √F. */
  semBalancedAccuracy: number;
  /** `[K]` per-class recall averaged over folds. */
  perClassRecall: number[];
  /** `[K]` per-class ROC-AUC averaged over folds. */
  perClassAuc: number[];
  /** Index of the fold with the highest balanced accuracy (first on ties). */
  bestFold: number;
  /** That fold's probe (when `keepBestProbe`). */
  bestProbe?: Probe;
}

/**
 * Shuffled K-fold split (sklearn `KFold(shuffle=True)` layout, seeded).
 * @returns `[F]` folds, each `{ train, test }` index arrays (test indices in permutation order).
 */
export function kFoldSplits(n: number, folds: number, seed: number): { train: Int32Array; test: Int32Array }[] {
  if (!Number.isInteger(folds) || folds < 2) throw new InvalidArgumentError(`kFoldSplits: folds must be an integer ≥ 2, got ${folds}`);
  if (!Number.isInteger(n) || n < folds) throw new InvalidArgumentError(`kFoldSplits: cannot split ${n} samples into ${folds} folds`, 'collect more examples or lower J0 / minPerLayer');
  const perm = createRng(seed).permutation(n);
  const out: { train: Int32Array; test: Int32Array }[] = [];
  let start = 0;
  for (let f = 0; f < folds; f++) {
    const size = Math.floor(n / folds) + (f < n % folds ? 1 : 0);
    const test = perm.slice(start, start + size);
    const train = new Int32Array(n - size);
    train.set(perm.subarray(0, start), 0);
    train.set(perm.subarray(start + size), start);
    out.push({ train, test });
    start += size;
  }
  return out;
}

/**
 * Rows of a matrix, as float64.
 * @param X `[n, d]`; @param rows indices into 0 … n−1.
 * @returns `[rows.length, d]`.
 */
export function selectRows(X: MatrixInput, rows: ArrayLike<number>): HostMatrix {
  X = toHostMatrixSync(X, 'selectRows: X');
  const [, d] = X.shape;
  const out = new Float64Array(rows.length * d);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    for (let c = 0; c < d; c++) out[i * d + c] = X.data[r * d + c]!;
  }
  return { data: out, shape: [rows.length, d] };
}

/**
 * Fits a probe (scaler + one-vs-rest logistic regression) on all of `X`.
 * @param X `[n, d]` raw features; @param y `[n]` labels 0 … K−1.
 */
export function trainProbe(X: MatrixInput, y: ArrayLike<number>, opts: LogisticOptions = {}): Probe {
  const scaler = fitStandardScaler(X);
  return { scaler, model: fitLogisticOvR(transformStandard(scaler, X), y, opts) };
}

/**
 * Applies a probe to raw features.
 * @param X `[n, d]` raw features (the scaler is applied here).
 * @returns `proba` `[n, K]` and `predicted` `[n]` labels.
 */
export function applyProbe(probe: Probe, X: MatrixInput): { proba: ClassScores; predicted: Int32Array } {
  const proba = predictProba(probe.model, transformStandard(probe.scaler, X));
  return { proba, predicted: argmaxRows(proba) };
}

function checkLabelsFor(X: MatrixInput, y: ArrayLike<number>, what: string): { n: number; d: number; maxLabel: number } {
  X = toHostMatrixSync(X, `${what}: X`);
  const [n, d] = X.shape;
  if (y.length !== n) throw new InvalidArgumentError(`${what}: y has ${y.length} labels for ${n} rows`);
  let maxLabel = -1;
  for (let i = 0; i < n; i++) {
    const v = y[i]!;
    if (!Number.isInteger(v) || v < 0) throw new InvalidArgumentError(`${what}: label ${v} at row ${i} is not a non-negative integer`);
    maxLabel = Math.max(maxLabel, v);
  }
  return { n, d, maxLabel };
}

/**
 * F-fold cross-validation of the §3 probe.
 * @param X `[n, d]` raw features (standardised inside each training fold).
 * @param y `[n]` labels 0 … K−1.
 */
export function crossValidateProbe(X: MatrixInput, y: ArrayLike<number>, opts: CrossValidationOptions = {}): CrossValidationResult {
  const { n, d, maxLabel } = checkLabelsFor(X, y, 'crossValidateProbe');
  const K = opts.nClasses ?? maxLabel + 1;
  if (K < 2) throw new InvalidArgumentError(`crossValidateProbe: needs at least 2 classes, got ${K}`);
  if (maxLabel >= K) throw new InvalidArgumentError(`crossValidateProbe: label ${maxLabel} is outside 0..${K - 1}`);
  const F = opts.folds ?? 5;
  const seed = opts.seed ?? 0;
  const logisticOpts: LogisticOptions = { C: opts.C, tol: opts.tol, maxIter: opts.maxIter, nClasses: K };
  const splits = kFoldSplits(n, F, seed);
  const folds: FoldMetrics[] = [];
  let bestFold = 0;
  let bestProbe: Probe | undefined;
  splits.forEach(({ train, test }, f) => {
    const yTrain = Int32Array.from(train, (i) => y[i]!);
    const yTest = Int32Array.from(test, (i) => y[i]!);
    const probe = trainProbe(selectRows(X, train), yTrain, logisticOpts);
    const { proba, predicted } = applyProbe(probe, selectRows(X, test));
    const confusion = confusionMatrix(yTest, predicted, K);
    const metrics: FoldMetrics = {
      fold: f,
      trainSize: train.length,
      testSize: test.length,
      balancedAccuracy: balancedAccuracyFromConfusion(confusion),
      perClassRecall: perClassRecall(confusion),
      perClassAuc: rocAucOvR(yTest, proba),
      confusion,
      converged: probe.model.converged.every(Boolean),
    };
    folds.push(metrics);
    if (f === 0 || metrics.balancedAccuracy > folds[bestFold]!.balancedAccuracy) {
      bestFold = f;
      if (opts.keepBestProbe ?? true) bestProbe = probe;
    }
  });
  const bal = folds.map((m) => m.balancedAccuracy);
  const classCounts = new Array<number>(K).fill(0);
  for (let i = 0; i < n; i++) classCounts[y[i]!]!++;
  const result: CrossValidationResult = {
    seed,
    nSamples: n,
    nFeatures: d,
    nClasses: K,
    classCounts,
    chance: 1 / K,
    folds,
    meanBalancedAccuracy: mean(bal),
    semBalancedAccuracy: semDdof0(bal),
    perClassRecall: Array.from({ length: K }, (_, c) => nanMean(folds.map((m) => m.perClassRecall[c]!))),
    perClassAuc: Array.from({ length: K }, (_, c) => nanMean(folds.map((m) => m.perClassAuc[c]!))),
    bestFold,
  };
  if (bestProbe) result.bestProbe = bestProbe;
  return result;
}

/**
 * The "random embeddings" control of §3: for each class c, i.i.d. Gaussian features with that class's
 * scalar mean and scalar standard deviation (ddof 0) over all entries of its rows of X. Labels are
 * unchanged (so the control can still carry label information through class-wise mean/scale, as in the
 * original).
 * @param X `[n, d]`; @param y `[n]` labels.
 * @returns `[n, d]` float64 random features, row i drawn for class y[i].
 */
export function randomEmbeddingControl(X: MatrixInput, y: ArrayLike<number>, seed: number): HostMatrix {
  X = toHostMatrixSync(X, 'randomEmbeddingControl: X');
  const { n, d, maxLabel } = checkLabelsFor(X, y, 'randomEmbeddingControl');
  const K = maxLabel + 1;
  const sum = new Float64Array(K);
  const count = new Float64Array(K);
  for (let i = 0; i < n; i++) {
    const c = y[i]!;
    count[c] = count[c]! + d;
    for (let t = 0; t < d; t++) sum[c] = sum[c]! + X.data[i * d + t]!;
  }
  const classMean = Float64Array.from(sum, (s, c) => (count[c]! ? s / count[c]! : 0));
  const sq = new Float64Array(K);
  for (let i = 0; i < n; i++) {
    const c = y[i]!;
    for (let t = 0; t < d; t++) {
      const dev = X.data[i * d + t]! - classMean[c]!;
      sq[c] = sq[c]! + dev * dev;
    }
  }
  const classStd = Float64Array.from(sq, (s, c) => (count[c]! ? Math.sqrt(s / count[c]!) : 0));
  const rng = createRng(seed);
  const out = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    const c = y[i]!;
    for (let t = 0; t < d; t++) out[i * d + t] = classMean[c]! + classStd[c]! * rng.normal();
  }
  return { data: out, shape: [n, d] };
}

/** Label-shuffle control: a seeded uniform permutation of the labels. @returns `[n]`. */
export function shuffleLabels(y: ArrayLike<number>, seed: number): Int32Array {
  return createRng(seed).shuffle(Int32Array.from(y as ArrayLike<number>));
}
