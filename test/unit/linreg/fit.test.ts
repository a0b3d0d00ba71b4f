import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { Matrix, inverse, pseudoInverse, solve } from 'ml-matrix';
import { applyLinearMap, fitLinearMap } from '../../../lib/linreg/index.js';
import { createRng } from '../../../lib/math/rng.js';
import { setBackend } from '../../../lib/backend/index.js';
import { InvalidArgumentError, ShapeMismatchError } from '../../../lib/errors.js';
import { testBackend } from '../../helpers/backend.js';

function randomMatrix(seed: number, rows: number, cols: number): Float64Array {
  const rng = createRng(seed);
  return Float64Array.from({ length: rows * cols }, () => rng.normal());
}
const toMl = (data: ArrayLike<number>, rows: number, cols: number) => new Matrix(Array.from({ length: rows }, (_, r) => Array.from({ length: cols }, (_, c) => data[r * cols + c]!)));
/** max |ours[o, a] − ref[a, o]| over A [dOut, dIn] and refᵀ [dIn, dOut]. */
function maxDiffTransposed(weight: ArrayLike<number>, ref: Matrix, dOut: number, dIn: number): number {
  let m = 0;
  for (let o = 0; o < dOut; o++) for (let a = 0; a < dIn; a++) m = Math.max(m, Math.abs(weight[o * dIn + a]! - ref.get(a, o)));
  return m;
}

test('full-rank least squares matches ml-matrix solve (QR)', async () => {
  const [n, dIn, dOut] = [60, 9, 5];
  const X = randomMatrix(1, n, dIn);
  const Y = randomMatrix(2, n, dOut);
  const map = await fitLinearMap({ data: X, shape: [n, dIn] }, { data: Y, shape: [n, dOut] });
  const ref = solve(toMl(X, n, dIn), toMl(Y, n, dOut));
  assert.equal(map.method, 'cholesky');
  assert.equal(map.rank, dIn);
  assert.deepEqual(map.shape, [dOut, dIn]);
  assert.equal(map.bias, null);
  assert.ok(map.weight instanceof Float64Array);
  assert.ok(maxDiffTransposed(map.weight, ref, dOut, dIn) < 1e-12);
});

test('rank-deficient X gives the minimum-norm solution (ml-matrix pseudoInverse)', async () => {
  const [n, dIn, dOut] = [40, 8, 3];
  const base = randomMatrix(3, n, 5);
  const mix = randomMatrix(4, 5, dIn); // X = base·mix has rank 5 < 8
  const X = new Float64Array(n * dIn);
  for (let r = 0; r < n; r++) for (let c = 0; c < dIn; c++) for (let k = 0; k < 5; k++) X[r * dIn + c] += base[r * 5 + k]! * mix[k * dIn + c]!;
  const Y = randomMatrix(5, n, dOut);
  const map = await fitLinearMap({ data: X, shape: [n, dIn] }, { data: Y, shape: [n, dOut] });
  assert.equal(map.method, 'pseudo-inverse');
  assert.equal(map.rank, 5);
  const ref = pseudoInverse(toMl(X, n, dIn)).mmul(toMl(Y, n, dOut));
  assert.ok(maxDiffTransposed(map.weight, ref, dOut, dIn) < 1e-9);
});

test('a duplicated column and an all-zero column: minimum-norm split', async () => {
  const [n, dOut] = [30, 2];
  const x = randomMatrix(6, n, 2);
  const X = new Float64Array(n * 4);
  for (let r = 0; r < n; r++) X.set([x[r * 2]!, x[r * 2 + 1]!, x[r * 2]!, 0], r * 4);
  const Y = new Float64Array(n * dOut);
  for (let r = 0; r < n; r++) Y.set([2 * x[r * 2]! - x[r * 2 + 1]!, x[r * 2 + 1]!], r * dOut);
  const map = await fitLinearMap({ data: X, shape: [n, 4] }, { data: Y, shape: [n, dOut] });
  // y0 = 2·x0 − x1 with x0 in two identical columns: minimum norm puts 1 on each copy, 0 on the zero column
  const expected = [1, -1, 1, 0, 0, 1, 0, 0];
  expected.forEach((v, i) => assert.ok(Math.abs(map.weight[i]! - v) < 1e-10, `weight[${i}] = ${map.weight[i]}`));
  assert.equal(map.rank, 2);
});

test('intercept matches ml-matrix on [X, 1]', async () => {
  const [n, dIn, dOut] = [50, 6, 4];
  const X = randomMatrix(7, n, dIn).map((v, i) => v + (i % dIn) * 3); // non-zero column means
  const Y = randomMatrix(8, n, dOut).map((v) => v + 10);
  const map = await fitLinearMap({ data: X, shape: [n, dIn] }, { data: Y, shape: [n, dOut] }, { intercept: true });
  const aug = new Float64Array(n * (dIn + 1));
  for (let r = 0; r < n; r++) {
    aug.set(X.subarray(r * dIn, (r + 1) * dIn), r * (dIn + 1));
    aug[r * (dIn + 1) + dIn] = 1;
  }
  const ref = solve(toMl(aug, n, dIn + 1), toMl(Y, n, dOut)); // [dIn+1, dOut]
  assert.ok(maxDiffTransposed(map.weight, ref, dOut, dIn) < 1e-10);
  for (let o = 0; o < dOut; o++) assert.ok(Math.abs(map.bias![o]! - ref.get(dIn, o)) < 1e-10);
});

test('ridge matches the closed form (XᵀX + λI)⁻¹XᵀY', async () => {
  const [n, dIn, dOut] = [25, 5, 3];
  const X = randomMatrix(9, n, dIn);
  const Y = randomMatrix(10, n, dOut);
  const map = await fitLinearMap({ data: X, shape: [n, dIn] }, { data: Y, shape: [n, dOut] }, { ridge: 2.5 });
  const Xm = toMl(X, n, dIn);
  const ref = inverse(Xm.transpose().mmul(Xm).add(Matrix.eye(dIn).mul(2.5))).mmul(Xm.transpose()).mmul(toMl(Y, n, dOut));
  assert.ok(maxDiffTransposed(map.weight, ref, dOut, dIn) < 1e-12);
  assert.equal(map.ridge, 2.5);
});

test('exact recovery of a known A from noiseless float32 data, and applyLinearMap', async () => {
  const [n, d] = [200, 16];
  const rng = createRng(11);
  const A = Float64Array.from({ length: d * d }, () => rng.normal());
  const X = Float32Array.from({ length: n * d }, () => rng.normal());
  const Y = new Float64Array(n * d);
  for (let r = 0; r < n; r++) for (let o = 0; o < d; o++) for (let a = 0; a < d; a++) Y[r * d + o] += A[o * d + a]! * X[r * d + a]!;
  const map = await fitLinearMap({ data: X, shape: [n, d] }, { data: Y, shape: [n, d] });
  let err = 0;
  for (let i = 0; i < d * d; i++) err = Math.max(err, Math.abs(map.weight[i]! - A[i]!));
  assert.ok(err < 1e-10, `max error ${err}`);
  const pred = applyLinearMap(map, { data: X, shape: [n, d] }, { dtype: 'float64' });
  let perr = 0;
  for (let i = 0; i < n * d; i++) perr = Math.max(perr, Math.abs(pred[i]! - Y[i]!));
  assert.ok(perr < 1e-9);
  const f32 = await fitLinearMap({ data: X, shape: [n, d] }, { data: Y, shape: [n, d] }, { dtype: 'float32' });
  assert.ok(f32.weight instanceof Float32Array);
});

test('batched fit (batchRows) equals one-shot fit', async () => {
  const [n, dIn, dOut] = [1000, 12, 7];
  const X = randomMatrix(12, n, dIn);
  const Y = randomMatrix(13, n, dOut);
  const one = await fitLinearMap({ data: X, shape: [n, dIn] }, { data: Y, shape: [n, dOut] });
  const batched = await fitLinearMap({ data: X, shape: [n, dIn] }, { data: Y, shape: [n, dOut] }, { batchRows: 97 });
  for (let i = 0; i < one.weight.length; i++) assert.ok(Math.abs(one.weight[i]! - batched.weight[i]!) < 1e-13);
  assert.equal(batched.samples, n);
});

test('tf.Tensor2D inputs, host and tfjs devices, without leaking tensors', async () => {
  await setBackend(testBackend('cpu'));
  const [n, dIn, dOut] = [300, 10, 4];
  const X = Float32Array.from(randomMatrix(14, n, dIn));
  const Y = Float32Array.from(randomMatrix(15, n, dOut));
  const ref = solve(toMl(X, n, dIn), toMl(Y, n, dOut));
  const before = tf.memory().numTensors;
  const xt = tf.tensor2d(X, [n, dIn]);
  const yt = tf.tensor2d(Y, [n, dOut]);
  const host = await fitLinearMap(xt, yt);
  assert.ok(maxDiffTransposed(host.weight, ref, dOut, dIn) < 1e-10);
  const viaTfjs = await fitLinearMap(xt, yt, { device: 'tfjs', tfjsSliceRows: 64 });
  assert.ok(maxDiffTransposed(viaTfjs.weight, ref, dOut, dIn) < 1e-4); // float32 slices, float64 sums
  xt.dispose();
  yt.dispose();
  assert.equal(tf.memory().numTensors, before);
});

test('bad inputs raise typed errors', async () => {
  await assert.rejects(fitLinearMap({ data: new Float64Array(6), shape: [3, 2] }, { data: new Float64Array(4), shape: [2, 2] }), ShapeMismatchError);
  await assert.rejects(fitLinearMap({ data: new Float64Array(5), shape: [3, 2] }, { data: new Float64Array(6), shape: [3, 2] }), ShapeMismatchError);
  await assert.rejects(fitLinearMap({ data: new Float64Array(6), shape: [3, 2] }, { data: new Float64Array(6), shape: [3, 2] }, { ridge: -1 }), InvalidArgumentError);
  await assert.rejects(fitLinearMap({ data: new Float64Array(0), shape: [0, 2] }, { data: new Float64Array(0), shape: [0, 2] }), InvalidArgumentError);
});
