/**
 * z-score standardisation of probe features (docs/methods.md §3: fit on the training fold only), like
 * sklearn's `StandardScaler`: mean and population standard deviation (ddof 0) per feature, computed in
 * float64 with two passes; features whose standard deviation is zero (or below round-off,
 * ≤ 10·ε·max(1, |mean|)) get scale 1, so they are only centred.
 */
import { InvalidArgumentError } from '../errors.js';
import { toHostMatrixSync, type HostMatrix, type MatrixInput } from '../linreg/types.js';

/** A fitted standard scaler. */
export interface StandardScaler {
  /** Per-feature mean `[d]`. */
  mean: Float64Array;
  /** Per-feature scale `[d]` (standard deviation, ddof 0; 1 for constant features). */
  scale: Float64Array;
}

/**
 * Fits a standard scaler.
 * @param X samples `[n, d]` row-major, n ≥ 1.
 */
export function fitStandardScaler(X: MatrixInput): StandardScaler {
  X = toHostMatrixSync(X, 'fitStandardScaler: X');
  const [n, d] = X.shape;
  if (n === 0) throw new InvalidArgumentError('fitStandardScaler: X has no rows');
  const mean = new Float64Array(d);
  const scale = new Float64Array(d);
  const data = X.data;
  for (let i = 0; i < n; i++) {
    const row = i * d;
    for (let c = 0; c < d; c++) mean[c] = mean[c]! + data[row + c]!;
  }
  for (let c = 0; c < d; c++) mean[c] = mean[c]! / n;
  for (let i = 0; i < n; i++) {
    const row = i * d;
    for (let c = 0; c < d; c++) {
      const dev = data[row + c]! - mean[c]!;
      scale[c] = scale[c]! + dev * dev;
    }
  }
  for (let c = 0; c < d; c++) {
    const std = Math.sqrt(scale[c]! / n);
    scale[c] = std > 10 * Number.EPSILON * Math.max(1, Math.abs(mean[c]!)) ? std : 1;
  }
  return { mean, scale };
}

/**
 * Applies a fitted scaler: (x − mean) / scale.
 * @param X samples `[n, d]`.
 * @returns a new float64 matrix `[n, d]`.
 */
export function transformStandard(scaler: StandardScaler, X: MatrixInput): HostMatrix {
  X = toHostMatrixSync(X, 'transformStandard: X');
  const [n, d] = X.shape;
  if (d !== scaler.mean.length) throw new InvalidArgumentError(`transformStandard: X has ${d} features, the scaler was fitted on ${scaler.mean.length}`);
  const out = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    const row = i * d;
    for (let c = 0; c < d; c++) out[row + c] = (X.data[row + c]! - scaler.mean[c]!) / scaler.scale[c]!;
  }
  return { data: out, shape: [n, d] };
}
