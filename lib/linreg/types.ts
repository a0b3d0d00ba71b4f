/**
 * Plain data types of `linreg/`: host matrices, fitted linear maps, and conversions from tfjs tensors.
 */
import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError, ShapeMismatchError } from '../errors.js';
import { toHostArray, type HostArray } from '../math/host-array.js';
import { readSync } from '../math/sync-read.js';

/** A float typed array. */
export type FloatArray = Float32Array | Float64Array;

/** A row-major host matrix `[rows, cols]`: a rank-2 float `HostArray`. */
export interface HostMatrix extends HostArray<FloatArray, readonly [number, number]> {
  data: FloatArray;
  shape: readonly [number, number];
}

/** A matrix given as host values, a 2-D tfjs tensor (read back to the host when needed) or nested rows. */
export type MatrixInput = HostMatrix | tf.Tensor2D | readonly (readonly number[])[];

/** A fitted affine map y ≈ A·x (+ b). */
export interface LinearMap {
  /** `[dOut, dIn]` row-major: y = weight·x, i.e. Y ≈ X·weightᵀ for row-major samples X `[N, dIn]`. */
  weight: FloatArray;
  /** `[dOut]` intercept, or null when fitted without intercept. */
  bias: FloatArray | null;
  /** [dOut, dIn]. */
  shape: [number, number];
  /** How the normal equations were solved. */
  method: 'cholesky' | 'pseudo-inverse';
  /** Numerical rank of the (centred, ridge-shifted) Gram matrix used. */
  rank: number;
  /** Number of samples the Gram matrices were accumulated from. */
  samples: number;
  /** Ridge penalty λ used (0 = ordinary least squares). */
  ridge: number;
}

/** Checks a host matrix (data length = rows·cols) and returns [rows, cols]. */
export function checkHostMatrix(m: HostMatrix, what: string): [number, number] {
  const [rows, cols] = m.shape;
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 1) {
    throw new InvalidArgumentError(`${what}: bad shape [${m.shape.join(',')}]`);
  }
  if (m.data.length !== rows * cols) throw new ShapeMismatchError(`${what}`, `[${rows},${cols}] (${rows * cols} values)`, `${m.data.length} values`);
  return [rows, cols];
}

/** Host values of a matrix input (tensors via a synchronous read, refused on webgpu in Node; float32 tensors only; nested rows as float64). */
export function toHostMatrixSync(m: MatrixInput, what: string): HostMatrix {
  if (m instanceof tf.Tensor) {
    if (m.rank !== 2) throw new ShapeMismatchError(what, '[rows, cols]', m.shape);
    if (m.dtype !== 'float32') throw new InvalidArgumentError(`${what}: expected a float32 tensor, got ${m.dtype}`);
    return { data: readSync(m, what, 'read it first with `await tensor.data()`, or use the async entry point (e.g. GramAccumulator.addAsync)') as Float32Array, shape: [m.shape[0], m.shape[1]] };
  }
  if (Array.isArray(m)) return nestedMatrix(m as readonly (readonly number[])[], what);
  checkHostMatrix(m as HostMatrix, what);
  return m as HostMatrix;
}

function nestedMatrix(m: readonly (readonly number[])[], what: string): HostMatrix {
  const host = toHostArray(m, { what, rank: 2 });
  return { data: host.data as Float64Array, shape: [host.shape[0]!, host.shape[1]!] };
}

/** Host values of a matrix input (tensors via `await data()`). */
export async function toHostMatrix(m: MatrixInput, what: string): Promise<HostMatrix> {
  if (m instanceof tf.Tensor) {
    if (m.rank !== 2) throw new ShapeMismatchError(what, '[rows, cols]', m.shape);
    if (m.dtype !== 'float32') throw new InvalidArgumentError(`${what}: expected a float32 tensor, got ${m.dtype}`);
    return { data: (await m.data()) as Float32Array, shape: [m.shape[0], m.shape[1]] };
  }
  return toHostMatrixSync(m, what);
}

/** Shape of a matrix input. */
export function matrixShape(m: MatrixInput): [number, number] {
  if (m instanceof tf.Tensor) {
    if (m.rank !== 2) throw new ShapeMismatchError('matrix', '[rows, cols]', m.shape);
    return [m.shape[0], m.shape[1]];
  }
  if (Array.isArray(m)) return [m.length, m.length ? (m[0] as readonly number[]).length : 0];
  const h = m as HostMatrix;
  return [h.shape[0], h.shape[1]];
}
