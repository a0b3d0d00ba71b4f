/**
 * One-call least squares: `fitLinearMap(X, Y)` → A with Y ≈ X·Aᵀ (+ b), and `applyLinearMap`.
 * Float64 normal equations through `GramAccumulator` (see there for the method and the options).
 */
import * as tf from '@tensorflow/tfjs-core';
import { ShapeMismatchError } from '../errors.js';
import { GemmEngine } from './gemm-engine.js';
import { GramAccumulator, type GramAccumulatorOptions, type SolveOptions } from './gram.js';
import { matrixShape, toHostMatrixSync, type FloatArray, type HostMatrix, type LinearMap, type MatrixInput } from './types.js';

/** Options of `fitLinearMap`. */
export interface FitOptions extends SolveOptions, GramAccumulatorOptions {
  /** Rows per accumulated batch (bounds the working memory). Default 16384. */
  batchRows?: number;
}

/**
 * Fits A `[dOut, dIn]` (and b `[dOut]` with `intercept`) minimising Σ_n ‖y_n − A·x_n − b‖² + ridge·‖A‖².
 * Rank-deficient X gives the minimum-norm solution (as numpy/scipy `lstsq`).
 * @param X `[N, dIn]` samples (host Float32Array/Float64Array + shape, or a float32 `tf.Tensor2D`).
 * @param Y `[N, dOut]` targets.
 * @returns the map; `weight` is float64 unless `dtype: 'float32'`.
 */
export async function fitLinearMap(X: MatrixInput, Y: MatrixInput, opts: FitOptions = {}): Promise<LinearMap> {
  if (Array.isArray(X)) X = toHostMatrixSync(X, 'fitLinearMap: X');
  if (Array.isArray(Y)) Y = toHostMatrixSync(Y, 'fitLinearMap: Y');
  const [n, dIn] = matrixShape(X);
  const [ny, dOut] = matrixShape(Y);
  if (ny !== n) throw new ShapeMismatchError('fitLinearMap: Y', `[${n}, dOut] (same rows as X)`, [ny, dOut]);
  const acc = new GramAccumulator(dIn, dOut, opts);
  try {
    const batchRows = opts.batchRows ?? 16384;
    if (X instanceof tf.Tensor || Y instanceof tf.Tensor || n <= batchRows) {
      await acc.addAsync(X, Y);
    } else {
      for (let start = 0; start < n; start += batchRows) {
        const rows = Math.min(batchRows, n - start);
        await acc.addAsync(rowSlice(X as HostMatrix, start, rows), rowSlice(Y as HostMatrix, start, rows));
      }
    }
    return acc.solve(opts);
  } finally {
    acc.dispose();
  }
}

function rowSlice(m: HostMatrix, start: number, rows: number): HostMatrix {
  const cols = m.shape[1];
  return { data: m.data.subarray(start * cols, (start + rows) * cols), shape: [rows, cols] };
}

/**
 * Applies a fitted map to row-major samples: Y = X·Aᵀ (+ b), computed in float64.
 * @param X `[N, dIn]`.
 * @returns `[N, dOut]` (Float32Array unless `dtype: 'float64'`).
 */
export function applyLinearMap(map: LinearMap, X: MatrixInput, opts: { dtype?: 'float32' | 'float64' } = {}): FloatArray {
  X = toHostMatrixSync(X, 'applyLinearMap: X');
  const [n, dIn] = X.shape;
  const [dOut, mapIn] = map.shape;
  if (dIn !== mapIn) throw new ShapeMismatchError('applyLinearMap: X', `[N, ${mapIn}]`, [n, dIn]);
  const out64 = new Float64Array(n * dOut);
  if (n > 0) {
    // Y = (Xᵀ)ᵀ·(Aᵀ): both operands transposed to put the summation index (dIn) in rows.
    const xt = transpose(X.data, n, dIn);
    const at = transpose(map.weight, dOut, dIn);
    const engine = GemmEngine.shared();
    const mark = engine.mark();
    try {
      out64.set(engine.productTNSync(engine.pack(xt, dIn, n), engine.pack(at, dIn, dOut)));
    } finally {
      engine.release(mark);
    }
  }
  if (map.bias) {
    for (let r = 0; r < n; r++) for (let o = 0; o < dOut; o++) out64[r * dOut + o] += map.bias[o]!;
  }
  return opts.dtype === 'float64' ? out64 : Float32Array.from(out64);
}

function transpose(data: FloatArray, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c]!;
  return out;
}
