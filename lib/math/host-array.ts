/**
 * The one host-array type of the public API: row-major values and a shape, `{ data, shape }`.
 *
 * It is the `data`/`shape` part of a scijs `ndarray`, so a contiguous ndarray (offset 0, row-major
 * strides) passes wherever a `HostArray` is read, and swapping this type for `ndarray` later changes
 * what the functions return, not what they accept. Functions that read arrays take an `ArrayInput`:
 * a `HostArray`, a tfjs tensor (read back to the host) or nested JS arrays.
 */
import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError, ShapeMismatchError } from '../errors.js';
import { readSync } from './sync-read.js';

/** Typed arrays a `HostArray` may hold. */
export type NumericArray = Float32Array | Float64Array | Int32Array | Uint8Array;

/** Row-major host values with their shape (`data.length` = product of `shape`). */
export interface HostArray<D extends NumericArray = NumericArray, S extends readonly number[] = readonly number[]> {
  readonly data: D;
  readonly shape: S;
}

/** Nested JS arrays of numbers (rectangular). */
export type NestedNumbers = number | readonly NestedNumbers[];

/** What functions that read arrays accept. */
export type ArrayInput = HostArray | tf.Tensor | readonly NestedNumbers[];

/** Builds a `HostArray`, checking that `data` has the shape's number of values. */
export function hostArray<D extends NumericArray, S extends readonly number[]>(data: D, shape: S, what = 'array'): HostArray<D, S> {
  checkShape(data.length, shape, what);
  return { data, shape };
}

/** True for `{ data: typed array, shape: number[] }` objects (ndarrays included). */
export function isHostArray(x: unknown): x is HostArray {
  if (typeof x !== 'object' || x === null || x instanceof tf.Tensor) return false;
  const o = x as { data?: unknown; shape?: unknown };
  return ArrayBuffer.isView(o.data) && !(o.data instanceof DataView) && Array.isArray(o.shape);
}

function checkShape(length: number, shape: readonly number[], what: string): void {
  if (!shape.every((s) => Number.isInteger(s) && s >= 0)) throw new InvalidArgumentError(`${what}: bad shape [${shape.join(',')}]`);
  const size = shape.reduce((a, b) => a * b, 1);
  if (length !== size) throw new ShapeMismatchError(what, `[${shape.join(',')}] (${size} values)`, `${length} values`);
}

function nestedShape(x: NestedNumbers, what: string): number[] {
  const shape: number[] = [];
  let level: NestedNumbers = x;
  while (Array.isArray(level)) {
    shape.push(level.length);
    if (!level.length) break;
    level = level[0]!;
  }
  const check = (v: NestedNumbers, depth: number): void => {
    if (depth === shape.length) {
      if (typeof v !== 'number') throw new ShapeMismatchError(what, `a rectangular [${shape.join(',')}] array`, 'ragged rows');
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[depth]) throw new ShapeMismatchError(what, `a rectangular [${shape.join(',')}] array`, 'ragged rows');
    for (const c of v as readonly NestedNumbers[]) check(c, depth + 1);
  };
  check(x, 0);
  return shape;
}

/** Options of `toHostArray`. */
export interface ToHostArrayOptions {
  /** Name in error messages. */
  what?: string;
  /** Required rank. */
  rank?: number;
}

/**
 * Host values of any `ArrayInput` (tensors via a synchronous read, refused on webgpu in Node: use
 * `toHostArrayAsync` there; nested arrays as float64; a strided ndarray view must be contiguous). Host arrays
 * are returned as they are (no copy).
 */
export function toHostArray(x: ArrayInput, opts: ToHostArrayOptions = {}): HostArray {
  const what = opts.what ?? 'array';
  if (x instanceof tf.Tensor) return hostOfTensor(x, readSync(checkNumeric(x, what), what) as NumericArray, opts);
  return toHostArrayNoTensor(x, opts);
}

/** `toHostArray` that reads tensors with `await data()` (every backend, webgpu in Node included). */
export async function toHostArrayAsync(x: ArrayInput, opts: ToHostArrayOptions = {}): Promise<HostArray> {
  const what = opts.what ?? 'array';
  if (x instanceof tf.Tensor) return hostOfTensor(x, (await checkNumeric(x, what).data()) as NumericArray, opts);
  return toHostArrayNoTensor(x, opts);
}

function checkNumeric(x: tf.Tensor, what: string): tf.Tensor {
  if (x.dtype === 'string' || x.dtype === 'complex64') throw new InvalidArgumentError(`${what}: a ${x.dtype} tensor has no numeric host array`);
  return x;
}

function hostOfTensor(x: tf.Tensor, data: NumericArray, opts: ToHostArrayOptions): HostArray {
  if (opts.rank !== undefined && x.shape.length !== opts.rank) throw new ShapeMismatchError(opts.what ?? 'array', `rank ${opts.rank}`, [...x.shape]);
  return { data, shape: x.shape };
}

function toHostArrayNoTensor(x: Exclude<ArrayInput, tf.Tensor>, opts: ToHostArrayOptions): HostArray {
  const what = opts.what ?? 'array';
  let out: HostArray;
  if (isHostArray(x)) {
    const strided = x as HostArray & { stride?: readonly number[]; offset?: number };
    if (strided.offset || (strided.stride && !isRowMajor(strided.shape, strided.stride))) {
      throw new InvalidArgumentError(`${what}: a strided view (offset or non-row-major strides) is not a contiguous host array`, 'copy it into a contiguous array first');
    }
    checkShape(x.data.length, x.shape, what);
    out = x;
  } else if (Array.isArray(x)) {
    const shape = nestedShape(x as NestedNumbers, what);
    out = { data: Float64Array.from((x as unknown[]).flat(Infinity) as number[]), shape };
  } else {
    throw new InvalidArgumentError(`${what}: expected { data, shape }, a tensor or nested arrays`);
  }
  if (opts.rank !== undefined && out.shape.length !== opts.rank) throw new ShapeMismatchError(what, `rank ${opts.rank}`, [...out.shape]);
  return out;
}

function isRowMajor(shape: readonly number[], stride: readonly number[]): boolean {
  let expected = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    if (shape[i]! > 1 && stride[i] !== expected) return false;
    expected *= shape[i]!;
  }
  return true;
}
