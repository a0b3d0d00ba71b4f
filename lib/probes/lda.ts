/**
 * Linear discriminant analysis, closed form in float64 (scikit-learn's `LinearDiscriminantAnalysis` with
 * the `lsqr` solver): class means μ_k, priors π_k = class frequencies, the shared covariance
 * Σ = Σ_k π_k Cov_k (each Cov_k with ddof 0, i.e. the within-class scatter / n), optionally shrunk to
 * Σ_α = (1 − α)Σ + α·(tr Σ / d)·I; then coef_k = Σ_α⁻¹ μ_k and intercept_k = −½ μ_k·coef_k + ln π_k.
 * The decision values are X·coefᵀ + intercept; probabilities their softmax; the prediction the argmax.
 */
import { InvalidArgumentError } from '../errors.js';
import { choleskyLower } from '../math/cholesky.js';
import { toHostMatrixSync, type MatrixInput } from '../linreg/types.js';
import { argmaxRows, type ClassScores } from './logistic.js';
import { hostArray } from '../math/host-array.js';

/** Options of `fitLda`. */
export interface LdaOptions {
  /** Shrinkage α in [0, 1] (default 0.001: keeps Σ positive definite when features are collinear). */
  shrinkage?: number;
  /** Number of classes K (default max(y) + 1); every class needs at least one sample. */
  nClasses?: number;
}

/** A fitted LDA classifier. */
export interface LdaModel {
  nClasses: number;
  nFeatures: number;
  /** Class means `[K, d]` row-major. */
  means: Float64Array;
  /** Priors `[K]`. */
  priors: Float64Array;
  /** Σ_α⁻¹ μ_k `[K, d]` row-major. */
  coef: Float64Array;
  /** `[K]`. */
  intercept: Float64Array;
  shrinkage: number;
}

/** Solves A x = b for symmetric positive definite A `[d, d]` given its lower Cholesky factor. */
function choleskySolve(Lf: Float64Array, d: number, b: Float64Array): Float64Array {
  const z = new Float64Array(d);
  for (let i = 0; i < d; i++) {
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= Lf[i * d + k]! * z[k]!;
    z[i] = s / Lf[i * d + i]!;
  }
  const x = new Float64Array(d);
  for (let i = d - 1; i >= 0; i--) {
    let s = z[i]!;
    for (let k = i + 1; k < d; k++) s -= Lf[k * d + i]! * x[k]!;
    x[i] = s / Lf[i * d + i]!;
  }
  return x;
}

/**
 * Fits LDA.
 * @param X `[n, d]`; @param y `[n]` labels 0 … K−1.
 * @throws InvalidArgumentError for bad labels, an empty class, or a singular covariance (raise `shrinkage`).
 */
export function fitLda(X: MatrixInput, y: ArrayLike<number>, opts: LdaOptions = {}): LdaModel {
  const M = toHostMatrixSync(X, 'fitLda: X');
  const [n, d] = M.shape;
  if (y.length !== n) throw new InvalidArgumentError(`fitLda: y has ${y.length} labels for ${n} rows`);
  const alpha = opts.shrinkage ?? 1e-3;
  if (!(alpha >= 0 && alpha <= 1)) throw new InvalidArgumentError(`fitLda: shrinkage must be in [0, 1], got ${alpha}`);
  let K = opts.nClasses ?? 0;
  for (let i = 0; i < n; i++) {
    const v = y[i]!;
    if (!Number.isInteger(v) || v < 0) throw new InvalidArgumentError(`fitLda: label ${v} at row ${i} is not a non-negative integer`);
    if (opts.nClasses === undefined) K = Math.max(K, v + 1);
    else if (v >= K) throw new InvalidArgumentError(`fitLda: label ${v} at row ${i} is not below nClasses = ${K}`);
  }
  const counts = new Float64Array(K);
  const means = new Float64Array(K * d);
  for (let i = 0; i < n; i++) {
    const k = y[i]!;
    counts[k]!++;
    for (let c = 0; c < d; c++) means[k * d + c] += M.data[i * d + c]!;
  }
  for (let k = 0; k < K; k++) {
    if (counts[k] === 0) throw new InvalidArgumentError(`fitLda: class ${k} has no sample`, 'every class 0 … K−1 needs training samples');
    for (let c = 0; c < d; c++) means[k * d + c] /= counts[k]!;
  }
  // Σ = within-class scatter / n (= Σ_k π_k Cov_k with ddof 0).
  const cov = new Float64Array(d * d);
  const dev = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const k = y[i]!;
    for (let c = 0; c < d; c++) dev[c] = M.data[i * d + c]! - means[k * d + c]!;
    for (let a = 0; a < d; a++) {
      const va = dev[a]!;
      if (va === 0) continue;
      for (let b = 0; b <= a; b++) cov[a * d + b] += va * dev[b]!;
    }
  }
  let trace = 0;
  for (let a = 0; a < d; a++) trace += cov[a * d + a]! / n;
  for (let a = 0; a < d; a++) {
    for (let b = 0; b <= a; b++) {
      const v = ((1 - alpha) * cov[a * d + b]!) / n + (a === b ? (alpha * trace) / d : 0);
      cov[a * d + b] = v;
      cov[b * d + a] = v;
    }
  }
  const Lf = choleskyLower(cov, d, 1e-12 * Math.max(trace / d, Number.MIN_VALUE));
  if (!Lf) throw new InvalidArgumentError(`fitLda: the shared covariance of ${n} samples × ${d} features is singular (shrinkage ${alpha})`, 'raise the shrinkage (e.g. 0.01) or use fewer, less collinear features');
  const priors = Float64Array.from(counts, (c) => c / n);
  const coef = new Float64Array(K * d);
  const intercept = new Float64Array(K);
  for (let k = 0; k < K; k++) {
    const mu = means.subarray(k * d, (k + 1) * d);
    const w = choleskySolve(Lf, d, mu);
    coef.set(w, k * d);
    let dot = 0;
    for (let c = 0; c < d; c++) dot += mu[c]! * w[c]!;
    intercept[k] = -0.5 * dot + Math.log(priors[k]!);
  }
  return { nClasses: K, nFeatures: d, means, priors, coef, intercept, shrinkage: alpha };
}

/** Decision values `[n, K]` row-major: X·coefᵀ + intercept. */
export function ldaDecision(model: LdaModel, X: MatrixInput): ClassScores {
  const M = toHostMatrixSync(X, 'ldaDecision: X');
  const [n, d] = M.shape;
  if (d !== model.nFeatures) throw new InvalidArgumentError(`ldaDecision: X has ${d} features, the model ${model.nFeatures}`);
  const K = model.nClasses;
  const out = new Float64Array(n * K);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < K; k++) {
      let s = model.intercept[k]!;
      for (let c = 0; c < d; c++) s += M.data[i * d + c]! * model.coef[k * d + c]!;
      out[i * K + k] = s;
    }
  }
  return hostArray(out, [n, K] as const);
}

/** Class probabilities `[n, K]` (softmax of the decision values). */
export function ldaProba(model: LdaModel, X: MatrixInput): ClassScores {
  const scores = ldaDecision(model, X);
  const z = scores.data;
  const K = model.nClasses;
  for (let i = 0; i < z.length; i += K) {
    let max = -Infinity;
    for (let k = 0; k < K; k++) max = Math.max(max, z[i + k]!);
    let s = 0;
    for (let k = 0; k < K; k++) s += z[i + k] = Math.exp(z[i + k]! - max);
    for (let k = 0; k < K; k++) z[i + k] /= s;
  }
  return scores;
}

/** Predicted classes `[n]`. */
export function predictLda(model: LdaModel, X: MatrixInput): Int32Array {
  return argmaxRows(ldaDecision(model, X));
}
