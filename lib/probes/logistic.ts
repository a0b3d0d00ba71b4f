/**
 * One-vs-rest L2 logistic regression, the probe of docs/methods.md §3 (sklearn `LogisticRegression`,
 * C = 1, solver 'lbfgs', tol 1e-4, max_iter 1000, multi_class 'ovr'), in float64 on the host.
 *
 * Per class c the binary problem (y = +1 for class c, −1 otherwise) minimises
 *   F(w, b) = ½‖w‖² + C Σᵢ log(1 + exp(−yᵢ (w·xᵢ + b)))          (intercept b not penalised).
 * Like sklearn, the solver works on F/(C·n) = mean log-loss + ‖w‖²/(2Cn) (same minimiser) and applies
 * the gradient tolerance `tol` to that scaled objective. F is strictly convex (the penalty is strictly
 * convex in w and the loss in b whenever both labels occur), so the optimum is unique.
 *
 * Prediction = argmax of the K decision values w_c·x + b_c (lowest class on ties); probabilities = the
 * K sigmoids σ(w_c·x + b_c) renormalised to sum 1 (sklearn's OvR convention). With exactly two classes
 * a single binary problem (class 1 vs class 0) is fitted, as sklearn does; its decision values are then
 * reported as [−z, z] and its probabilities as [1 − σ(z), σ(z)].
 *
 * Standardise the features first (`fitStandardScaler` / `transformStandard`); the probe of §3 always does.
 */
import { InvalidArgumentError } from '../errors.js';
import { toHostMatrixSync, type MatrixInput } from '../linreg/types.js';
import { hostArray, isHostArray, type HostArray } from '../math/host-array.js';

/** `[n, K]` per-class values of n rows (`data[i * K + c]`). */
export type ClassScores = HostArray<Float64Array, readonly [number, number]>;
import { minimizeLbfgs, type LbfgsStatus } from './lbfgs.js';

/** Options of `fitLogisticOvR` and `fitBinaryLogistic`. */
export interface LogisticOptions {
  /** Inverse regularisation strength (default 1). */
  C?: number;
  /** Gradient tolerance on the scaled objective (default 1e-4, sklearn's `tol`). */
  tol?: number;
  /** L-BFGS iteration limit per class (default 1000). */
  maxIter?: number;
  /** Number of classes K (default max(y) + 1). Labels must be integers in 0 … K−1. */
  nClasses?: number;
}

/** A fitted binary logistic regression. */
export interface BinaryLogistic {
  /** Weights `[d]`. */
  weight: Float64Array;
  /** Intercept. */
  bias: number;
  /** L-BFGS iterations used. */
  iterations: number;
  /** Stopping reason. */
  status: LbfgsStatus;
  /** max|∇| of the scaled objective at the solution. */
  gradMax: number;
}

/** A fitted one-vs-rest logistic regression. */
export interface LogisticModel {
  /** Number of classes K. */
  nClasses: number;
  /** Number of features d. */
  nFeatures: number;
  /** Weights `[nProblems, d]` row-major (nProblems = K, or 1 when K = 2). */
  weights: Float64Array;
  /** Intercepts `[nProblems]`. */
  intercepts: Float64Array;
  /** Iterations per binary problem `[nProblems]`. */
  iterations: number[];
  /** True per binary problem when L-BFGS met its tolerance (not the iteration limit). */
  converged: boolean[];
  /** C used. */
  C: number;
}

/** log(1 + exp(u)) without overflow. */
export function softplus(u: number): number {
  return u > 0 ? u + Math.log1p(Math.exp(-u)) : Math.log1p(Math.exp(u));
}

/** σ(u) = 1 / (1 + exp(−u)) without overflow. */
export function sigmoid(u: number): number {
  if (u >= 0) return 1 / (1 + Math.exp(-u));
  const e = Math.exp(u);
  return e / (1 + e);
}

function checkOptions(opts: LogisticOptions): { C: number; tol: number; maxIter: number } {
  const C = opts.C ?? 1;
  const tol = opts.tol ?? 1e-4;
  const maxIter = opts.maxIter ?? 1000;
  if (!(C > 0) || !Number.isFinite(C)) throw new InvalidArgumentError(`logistic regression: C must be a positive finite number, got ${C}`);
  if (!(tol >= 0)) throw new InvalidArgumentError(`logistic regression: tol must be ≥ 0, got ${tol}`);
  if (!Number.isInteger(maxIter) || maxIter < 1) throw new InvalidArgumentError(`logistic regression: maxIter must be a positive integer, got ${maxIter}`);
  return { C, tol, maxIter };
}

/**
 * The unscaled binary objective F(w, b) = ½‖w‖² + C Σ log(1 + exp(−y(w·x + b))) (for checks and reports).
 * @param X `[n, d]`; @param y `[n]` labels ±1.
 */
export function binaryLogisticObjective(X: MatrixInput, y: ArrayLike<number>, weight: ArrayLike<number>, bias: number, C = 1): number {
  X = toHostMatrixSync(X, 'binaryLogisticObjective: X');
  const [n, d] = X.shape;
  let loss = 0;
  for (let i = 0; i < n; i++) {
    let z = bias;
    for (let c = 0; c < d; c++) z += X.data[i * d + c]! * weight[c]!;
    loss += softplus(-y[i]! * z);
  }
  let ww = 0;
  for (let c = 0; c < d; c++) ww += weight[c]! * weight[c]!;
  return 0.5 * ww + C * loss;
}

/**
 * Fits one binary L2 logistic regression (see the module comment) with L-BFGS from w = 0, b = 0.
 * @param X standardised samples `[n, d]`.
 * @param y `[n]` labels, +1 or −1.
 */
export function fitBinaryLogistic(X: MatrixInput, y: ArrayLike<number>, opts: LogisticOptions = {}): BinaryLogistic {
  X = toHostMatrixSync(X, 'fitBinaryLogistic: X');
  const [n, d] = X.shape;
  if (n === 0) throw new InvalidArgumentError('fitBinaryLogistic: X has no rows');
  if (y.length !== n) throw new InvalidArgumentError(`fitBinaryLogistic: y has ${y.length} labels for ${n} rows`);
  for (let i = 0; i < n; i++) if (y[i] !== 1 && y[i] !== -1) throw new InvalidArgumentError(`fitBinaryLogistic: label ${y[i]} at row ${i} is not ±1`);
  const { C, tol, maxIter } = checkOptions(opts);
  const data = X.data;
  const z = new Float64Array(n);
  const r = new Float64Array(n);
  const penalty = 1 / (C * n);
  // θ = [w_0 … w_{d−1}, b]; f = mean softplus(−y z) + ‖w‖²/(2Cn).
  const fg = (theta: Float64Array, grad: Float64Array): number => {
    const b = theta[d]!;
    let loss = 0;
    for (let i = 0; i < n; i++) {
      let zi = b;
      const row = i * d;
      for (let c = 0; c < d; c++) zi += data[row + c]! * theta[c]!;
      z[i] = zi;
      const yi = y[i]!;
      loss += softplus(-yi * zi);
      r[i] = -yi * sigmoid(-yi * zi);
    }
    let ww = 0;
    for (let c = 0; c < d; c++) {
      ww += theta[c]! * theta[c]!;
      grad[c] = penalty * theta[c]!;
    }
    let gb = 0;
    for (let i = 0; i < n; i++) {
      const ri = r[i]! / n;
      gb += ri;
      const row = i * d;
      for (let c = 0; c < d; c++) grad[c] = grad[c]! + ri * data[row + c]!;
    }
    grad[d] = gb;
    return loss / n + 0.5 * penalty * ww;
  };
  const res = minimizeLbfgs(fg, new Float64Array(d + 1), { gtol: tol, maxIter });
  return { weight: res.x.slice(0, d), bias: res.x[d]!, iterations: res.iterations, status: res.status, gradMax: res.gradMax };
}

/**
 * Fits a one-vs-rest L2 logistic regression (docs/methods.md §3).
 * @param X standardised samples `[n, d]`.
 * @param y `[n]` integer class labels 0 … K−1.
 */
export function fitLogisticOvR(X: MatrixInput, y: ArrayLike<number>, opts: LogisticOptions = {}): LogisticModel {
  X = toHostMatrixSync(X, 'fitLogisticOvR: X');
  const [n, d] = X.shape;
  if (y.length !== n) throw new InvalidArgumentError(`fitLogisticOvR: y has ${y.length} labels for ${n} rows`);
  let maxLabel = -1;
  for (let i = 0; i < n; i++) {
    const v = y[i]!;
    if (!Number.isInteger(v) || v < 0) throw new InvalidArgumentError(`fitLogisticOvR: label ${v} at row ${i} is not a non-negative integer`);
    maxLabel = Math.max(maxLabel, v);
  }
  const K = opts.nClasses ?? maxLabel + 1;
  if (K < 2) throw new InvalidArgumentError(`fitLogisticOvR: needs at least 2 classes, got ${K}`);
  if (maxLabel >= K) throw new InvalidArgumentError(`fitLogisticOvR: label ${maxLabel} is outside 0..${K - 1}`);
  const { C } = checkOptions(opts);
  const problems = K === 2 ? [1] : Array.from({ length: K }, (_, c) => c);
  const weights = new Float64Array(problems.length * d);
  const intercepts = new Float64Array(problems.length);
  const iterations: number[] = [];
  const converged: boolean[] = [];
  const yBin = new Float64Array(n);
  problems.forEach((cls, p) => {
    for (let i = 0; i < n; i++) yBin[i] = y[i] === cls ? 1 : -1;
    const fit = fitBinaryLogistic(X, yBin, opts);
    weights.set(fit.weight, p * d);
    intercepts[p] = fit.bias;
    iterations.push(fit.iterations);
    converged.push(fit.status === 'gtol' || fit.status === 'ftol');
  });
  return { nClasses: K, nFeatures: d, weights, intercepts, iterations, converged, C };
}

/**
 * Decision values w_c·x + b_c.
 * @param X `[n, d]` (standardised like the training data).
 * @returns `[n, K]` (binary models: [−z, z]).
 */
export function decisionFunction(model: LogisticModel, X: MatrixInput): ClassScores {
  X = toHostMatrixSync(X, 'decisionFunction: X');
  const [n, d] = X.shape;
  if (d !== model.nFeatures) throw new InvalidArgumentError(`decisionFunction: X has ${d} features, the model ${model.nFeatures}`);
  const K = model.nClasses;
  const nProblems = model.intercepts.length;
  const out = new Float64Array(n * K);
  for (let i = 0; i < n; i++) {
    const row = i * d;
    for (let p = 0; p < nProblems; p++) {
      let z = model.intercepts[p]!;
      const wRow = p * d;
      for (let c = 0; c < d; c++) z += X.data[row + c]! * model.weights[wRow + c]!;
      if (nProblems === 1) {
        out[i * K] = -z;
        out[i * K + 1] = z;
      } else {
        out[i * K + p] = z;
      }
    }
  }
  return hostArray(out, [n, K] as const);
}

/**
 * Class probabilities: per-class sigmoids of the decision values renormalised to sum 1.
 * @returns `[n, K]`.
 */
export function predictProba(model: LogisticModel, X: MatrixInput): ClassScores {
  const scores = decisionFunction(model, X);
  const dec = scores.data;
  const [n, K] = scores.shape;
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let c = 0; c < K; c++) {
      const s = sigmoid(dec[i * K + c]!);
      dec[i * K + c] = s;
      sum += s;
    }
    for (let c = 0; c < K; c++) dec[i * K + c] = sum > 0 ? dec[i * K + c]! / sum : 1 / K;
  }
  return scores;
}

/** Row-wise argmax of a `[n, K]` matrix (lowest column on ties) → `[n]`. */
export function argmaxRows(scores: HostArray): Int32Array {
  if (!isHostArray(scores) || scores.shape.length !== 2) throw new InvalidArgumentError('argmaxRows takes a [n, K] HostArray');
  const [n, K] = scores.shape as readonly [number, number];
  const values = scores.data;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < K; c++) if (values[i * K + c]! > values[i * K + best]!) best = c;
    out[i] = best;
  }
  return out;
}

/**
 * Predicted classes: argmax of the decision values.
 * @returns `[n]` labels 0 … K−1.
 */
export function predictLogistic(model: LogisticModel, X: MatrixInput): Int32Array {
  return argmaxRows(decisionFunction(model, X));
}
