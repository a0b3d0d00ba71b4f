import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { EigenvalueDecomposition, Matrix, pseudoInverse } from 'ml-matrix';
import { GemmEngine, GramAccumulator, invertGram, symmetricEigen } from '../../../lib/linreg/index.js';
import { jsGemmKernel } from '../../../lib/linreg/gemm-kernel.js';
import { createRng } from '../../../lib/math/rng.js';
import { setBackend } from '../../../lib/backend/index.js';
import { ShapeMismatchError } from '../../../lib/errors.js';
import { testBackend } from '../../helpers/backend.js';

function randomMatrix(seed: number, rows: number, cols: number): Float64Array {
  const rng = createRng(seed);
  return Float64Array.from({ length: rows * cols }, () => rng.normal());
}
const toMl = (data: ArrayLike<number>, rows: number, cols: number) => new Matrix(Array.from({ length: rows }, (_, r) => Array.from({ length: cols }, (_, c) => data[r * cols + c]!)));
function maxRelDiff(a: ArrayLike<number>, b: Matrix): number {
  let num = 0;
  let den = 0;
  for (let r = 0; r < b.rows; r++) for (let c = 0; c < b.columns; c++) {
    num = Math.max(num, Math.abs(a[r * b.columns + c]! - b.get(r, c)));
    den = Math.max(den, Math.abs(b.get(r, c)));
  }
  return num / den;
}

test('Gram statistics equal XᵀX, XᵀY and column sums from ml-matrix', () => {
  const [n, dIn, dOut] = [137, 11, 6]; // odd sizes exercise the zero padding
  const X = randomMatrix(1, n, dIn);
  const Y = randomMatrix(2, n, dOut);
  const acc = new GramAccumulator(dIn, dOut, { threads: 1 });
  acc.add({ data: X, shape: [n, dIn] }, { data: Y, shape: [n, dOut] });
  const s = acc.statistics();
  const Xm = toMl(X, n, dIn);
  assert.ok(maxRelDiff(s.xtx, Xm.transpose().mmul(Xm)) < 1e-14);
  assert.ok(maxRelDiff(s.xty, Xm.transpose().mmul(toMl(Y, n, dOut))) < 1e-14);
  assert.ok(maxRelDiff(s.sumX, new Matrix([Xm.sum('column')])) < 1e-14);
  assert.equal(s.count, n);
});

test('batched accumulation equals one-shot accumulation; parallel equals serial', async () => {
  const [n, dIn, dOut] = [3000, 40, 36];
  const X = randomMatrix(3, n, dIn);
  const Y = randomMatrix(4, n, dOut);
  const one = new GramAccumulator(dIn, dOut, { threads: 1 });
  one.add({ data: X, shape: [n, dIn] }, { data: Y, shape: [n, dOut] });
  const batched = new GramAccumulator(dIn, dOut, { threads: 1 });
  for (let start = 0; start < n; start += 701) {
    const rows = Math.min(701, n - start);
    batched.add({ data: X.subarray(start * dIn, (start + rows) * dIn), shape: [rows, dIn] }, { data: Y.subarray(start * dOut, (start + rows) * dOut), shape: [rows, dOut] });
  }
  const parallel = new GramAccumulator(dIn, dOut, { threads: 3 });
  await parallel.addAsync({ data: X, shape: [n, dIn] }, { data: Y, shape: [n, dOut] });
  parallel.dispose();
  const a = one.statistics();
  const b = batched.statistics();
  const c = parallel.statistics();
  const ref = toMl(a.xtx, dIn, dIn);
  assert.ok(maxRelDiff(b.xtx, ref) < 1e-13);
  assert.ok(maxRelDiff(c.xtx, ref) < 1e-13);
  assert.ok(maxRelDiff(b.xty, toMl(a.xty, dIn, dOut)) < 1e-13);
  assert.ok(maxRelDiff(c.xty, toMl(a.xty, dIn, dOut)) < 1e-13);
  const wa = one.solve().weight;
  const wb = batched.solve().weight;
  for (let i = 0; i < wa.length; i++) assert.ok(Math.abs(wa[i]! - wb[i]!) < 1e-12);
});

test("device 'tfjs' accumulates float32 products in float64 and leaks no tensors", async () => {
  await setBackend(testBackend('cpu'));
  const [n, dIn, dOut] = [500, 8, 5];
  const X = Float32Array.from(randomMatrix(5, n, dIn));
  const Y = Float32Array.from(randomMatrix(6, n, dOut));
  const before = tf.memory().numTensors;
  const acc = new GramAccumulator(dIn, dOut, { device: 'tfjs', tfjsSliceRows: 128 });
  acc.add({ data: X, shape: [n, dIn] }, { data: Y, shape: [n, dOut] });
  await acc.addAsync({ data: X, shape: [n, dIn] }, { data: Y, shape: [n, dOut] });
  assert.equal(tf.memory().numTensors, before);
  const s = acc.statistics();
  const Xm = toMl(X, n, dIn);
  assert.ok(maxRelDiff(s.xtx, Xm.transpose().mmul(Xm).mul(2)) < 1e-5);
  assert.ok(maxRelDiff(s.xty, Xm.transpose().mmul(toMl(Y, n, dOut)).mul(2)) < 1e-5);
  assert.equal(s.count, 2 * n);
});

test('shape errors name the operand', () => {
  const acc = new GramAccumulator(3, 2, { threads: 1 });
  assert.throws(() => acc.add({ data: new Float64Array(8), shape: [2, 4] }, { data: new Float64Array(4), shape: [2, 2] }), ShapeMismatchError);
  assert.throws(() => acc.add({ data: new Float64Array(6), shape: [2, 3] }, { data: new Float64Array(6), shape: [3, 2] }), ShapeMismatchError);
});

test('symmetric eigendecomposition matches ml-matrix and reconstructs G', () => {
  const d = 12;
  const B = randomMatrix(7, 20, d);
  const G = toMl(B, 20, d).transpose().mmul(toMl(B, 20, d));
  const Gf = Float64Array.from(G.to1DArray());
  const { values, vectorsRows } = symmetricEigen(Gf, d);
  const refValues = [...new EigenvalueDecomposition(G).realEigenvalues].sort((a, b) => a - b);
  values.forEach((v, k) => assert.ok(Math.abs(v - refValues[k]!) < 1e-10 * refValues[d - 1]!));
  for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) {
    let s = 0;
    for (let k = 0; k < d; k++) s += values[k]! * vectorsRows[k * d + a]! * vectorsRows[k * d + b]!;
    assert.ok(Math.abs(s - G.get(a, b)) < 1e-10 * refValues[d - 1]!);
  }
});

test('invertGram: Cholesky inverse, and pseudo-inverse of a singular Gram matrix', () => {
  const engine = GemmEngine.create({ threads: 1 });
  const d = 7;
  const B = randomMatrix(8, 30, d);
  const G = toMl(B, 30, d).transpose().mmul(toMl(B, 30, d));
  const inv = invertGram(Float64Array.from(G.to1DArray()), d, engine);
  assert.equal(inv.method, 'cholesky');
  const prod = G.mmul(toMl(inv.inverse, d, d));
  for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) assert.ok(Math.abs(prod.get(a, b) - (a === b ? 1 : 0)) < 1e-12);
  const low = randomMatrix(9, 30, 3);
  const Bs = toMl(low, 30, 3).mmul(toMl(randomMatrix(10, 3, d), 3, d)); // rank 3
  const Gs = Bs.transpose().mmul(Bs);
  const pinv = invertGram(Float64Array.from(Gs.to1DArray()), d, engine);
  assert.equal(pinv.method, 'pseudo-inverse');
  assert.equal(pinv.rank, 3);
  assert.ok(maxRelDiff(pinv.inverse, pseudoInverse(Gs)) < 1e-8);
  const zero = invertGram(new Float64Array(d * d), d, engine);
  assert.equal(zero.rank, 0);
  assert.ok(zero.inverse.every((v) => v === 0));
});

test('the JavaScript fallback kernel computes the same products as the wasm kernel', () => {
  const engine = GemmEngine.create({ threads: 1 });
  assert.ok(engine.usesWasm, 'WebAssembly SIMD kernel is available on Node ≥ 20');
  const [n, p, q] = [300, 10, 7];
  const X = randomMatrix(11, n, p);
  const Y = randomMatrix(12, n, q);
  const px = engine.pack(X, n, p);
  const py = engine.pack(Y, n, q);
  const wasm = engine.productTNSync(px, py);
  const ldc = py.blocks * 4;
  const c = engine.alloc(px.blocks * 4 * ldc);
  engine.heap().fill(0, c / 8, c / 8 + px.blocks * 4 * ldc);
  const kernel = jsGemmKernel(() => engine.heap());
  for (let chunk = 0; chunk < px.chunks; chunk++) kernel(px.offset + chunk * px.chunkBytes, py.offset + chunk * py.chunkBytes, c, 0, px.blocks, py.blocks, 128, ldc * 8, 0);
  const js = engine.copyOut(c, ldc, p, q);
  const ref = toMl(X, n, p).transpose().mmul(toMl(Y, n, q));
  assert.ok(maxRelDiff(wasm, ref) < 1e-14);
  assert.ok(maxRelDiff(js, ref) < 1e-14);
  // a whole engine on the JavaScript kernel (growable plain memory, one thread)
  const jsEngine = GemmEngine.create({ kernel: 'js', threads: 4 });
  assert.equal(jsEngine.usesWasm, false);
  assert.equal(jsEngine.threads, 1);
  const big = randomMatrix(15, 3000, 30); // 3000·30·8 bytes > the initial 1 MiB: memory must grow
  const pb = jsEngine.pack(big, 3000, 30);
  const G = jsEngine.productTNSync(pb, pb, true);
  assert.ok(maxRelDiff(G, toMl(big, 3000, 30).transpose().mmul(toMl(big, 3000, 30))) < 1e-14);
});

test('overlapping addAsync calls run one after the other; add during addAsync is refused', async () => {
  const [n, dIn, dOut] = [2000, 24, 24];
  const X = randomMatrix(13, n, dIn);
  const Y = randomMatrix(14, n, dOut);
  const acc = new GramAccumulator(dIn, dOut, { threads: 2 });
  const half = (n / 2) * dIn;
  const first = acc.addAsync({ data: X.subarray(0, half), shape: [n / 2, dIn] }, { data: Y.subarray(0, half), shape: [n / 2, dOut] });
  const second = acc.addAsync({ data: X.subarray(half), shape: [n / 2, dIn] }, { data: Y.subarray(half), shape: [n / 2, dOut] });
  assert.throws(() => acc.add({ data: X.subarray(0, dIn), shape: [1, dIn] }, { data: Y.subarray(0, dOut), shape: [1, dOut] }), /still running/);
  await Promise.all([first, second]);
  acc.dispose();
  const ref = toMl(X, n, dIn).transpose().mmul(toMl(Y, n, dOut));
  assert.ok(maxRelDiff(acc.statistics().xty, ref) < 1e-13);
  assert.equal(acc.count, n);
});
