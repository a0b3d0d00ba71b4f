import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { Matrix, SingularValueDecomposition, EigenvalueDecomposition } from 'ml-matrix';
import { setBackend } from '../../../lib/backend/index.js';
import { createRng } from '../../../lib/math/rng.js';
import { FactoredMatrix, eigenvaluesGeneral, jacobiSvd } from '../../../lib/lens/factored-matrix.js';
import { relError } from '../../helpers/fixtures.js';
import { testBackend } from '../../helpers/backend.js';

function randn(rows: number, cols: number, seed: number): number[][] {
  const rng = createRng(seed);
  return Array.from({ length: rows }, () => Array.from({ length: cols }, () => rng.normal()));
}

function mul(a: number[][], b: number[][]): number[][] {
  return a.map((row) => b[0]!.map((_, j) => row.reduce((s, v, k) => s + v * b[k]![j]!, 0)));
}

function toArray(t: tf.Tensor): number[][] {
  return t.arraySync() as number[][];
}

/** A FactoredMatrix of two nested arrays (the temporary input tensors are freed). */
function fmOf(a: number[][] | tf.Tensor, b: number[][]): FactoredMatrix {
  const A = a instanceof tf.Tensor ? a : tf.tensor2d(a);
  const B = tf.tensor2d(b);
  const fm = new FactoredMatrix(A, B);
  tf.dispose([A, B]);
  return fm;
}

function diag(values: ArrayLike<number>): number[][] {
  return Array.from({ length: values.length }, (_, i) => Array.from({ length: values.length }, (_, j) => (i === j ? values[i]! : 0)));
}

/** Eigenvalues from ml-matrix, sorted like ours (|λ| desc, then re desc, then im desc). */
function oracleEigen(m: number[][]): { re: number[]; im: number[] } {
  const evd = new EigenvalueDecomposition(new Matrix(m));
  const pairs = evd.realEigenvalues.map((re, i) => ({ re, im: evd.imaginaryEigenvalues[i]! }));
  pairs.sort((a, b) => Math.hypot(b.re, b.im) - Math.hypot(a.re, a.im) || b.re - a.re || b.im - a.im);
  return { re: pairs.map((p) => p.re), im: pairs.map((p) => p.im) };
}

test('FactoredMatrix: AB, BA, T, norm and SVD match explicit products and ml-matrix', async () => {
  await setBackend(testBackend('cpu'));
  const before = tf.memory().numTensors;
  const a = randn(7, 3, 1);
  const b = randn(3, 5, 2);
  const explicit = mul(a, b);
  const A = tf.tensor2d(a);
  const B = tf.tensor2d(b);
  const fm = new FactoredMatrix(A, B);
  assert.deepEqual(fm.shape, [7, 5]);
  const ab = fm.AB;
  assert.ok(relError(ab.dataSync(), explicit.flat()) < 1e-6);
  const t = fm.T;
  const tab = t.AB;
  assert.ok(relError(tab.dataSync(), new Matrix(explicit).transpose().to1DArray()) < 1e-6);
  // Frobenius norm.
  const frob = Math.sqrt(explicit.flat().reduce((s, v) => s + v * v, 0));
  const nrm = fm.norm();
  assert.ok(Math.abs(nrm.dataSync()[0]! - frob) / frob < 1e-5);
  // SVD vs ml-matrix on the explicit product.
  const oracle = new SingularValueDecomposition(new Matrix(explicit));
  const { U, S, V } = await fm.svd();
  assert.deepEqual(U.shape, [7, 3]);
  assert.deepEqual(S.shape, [3]);
  assert.deepEqual(V.shape, [5, 3]);
  const s = S.dataSync();
  for (let i = 0; i < 3; i++) assert.ok(Math.abs(s[i]! - oracle.diagonal[i]!) / oracle.diagonal[0]! < 1e-6, `σ${i} ${s[i]} vs ${oracle.diagonal[i]}`);
  for (let i = 3; i < 5; i++) assert.ok(oracle.diagonal[i]! < 1e-10);
  const recon = mul(mul(toArray(U), diag(s)), new Matrix(toArray(V)).transpose().to2DArray());
  assert.ok(relError(recon.flat(), explicit.flat()) < 1e-5);
  const utu = mul(new Matrix(toArray(U)).transpose().to2DArray(), toArray(U));
  assert.ok(relError(utu.flat(), Matrix.eye(3).to1DArray()) < 1e-5);
  // collapseL / collapseR / makeEven keep the product.
  const cl = await fm.collapseL();
  const cr = await fm.collapseR();
  assert.ok(relError(mul(toArray(U), toArray(cl)).flat(), explicit.flat()) < 1e-5);
  assert.ok(relError(mul(toArray(cr), new Matrix(toArray(V)).transpose().to2DArray()).flat(), explicit.flat()) < 1e-5);
  const even = await fm.makeEven();
  const evenAB = even.AB;
  assert.ok(relError(evenAB.dataSync(), explicit.flat()) < 1e-5);
  // Balanced: column norms of A equal row norms of B (= √σ).
  const ea = toArray(even.A);
  const eb = toArray(even.B);
  for (let j = 0; j < 3; j++) {
    const ca = Math.sqrt(ea.reduce((acc, row) => acc + row[j]! ** 2, 0));
    const rb = Math.sqrt(eb[j]!.reduce((acc, v) => acc + v * v, 0));
    assert.ok(Math.abs(ca - Math.sqrt(s[j]!)) < 1e-4 && Math.abs(rb - Math.sqrt(s[j]!)) < 1e-4);
  }
  // Corner, rows, cols.
  const corner = fm.getCorner(2);
  assert.ok(relError(corner.dataSync(), [explicit[0]![0]!, explicit[0]![1]!, explicit[1]![0]!, explicit[1]![1]!]) < 1e-6);
  const rows = fm.rows(2, 5);
  const rowsAB = rows.AB;
  assert.ok(relError(rowsAB.dataSync(), explicit.slice(2, 5).flat()) < 1e-6);
  const cols = fm.cols(1, 4);
  const colsAB = cols.AB;
  assert.ok(relError(colsAB.dataSync(), explicit.map((r) => r.slice(1, 4)).flat()) < 1e-6);
  tf.dispose([A, B, ab, tab, nrm, U, S, V, cl, cr, evenAB, corner, rowsAB, colsAB]);
  for (const f of [fm, t, even, rows, cols]) f.dispose();
  assert.equal(tf.memory().numTensors, before);
});

test('FactoredMatrix: eigenvalues of BA match ml-matrix (real and complex), and the nonzero eigenvalues of AB', async () => {
  await setBackend(testBackend('cpu'));
  const before = tf.memory().numTensors;
  const a = randn(6, 4, 3);
  const b = randn(4, 6, 4);
  const fm = fmOf(a, b);
  const ev = await fm.eigenvalues();
  const re = ev.real.dataSync();
  const im = ev.imag.dataSync();
  const oracleBA = oracleEigen(mul(b, a));
  for (let i = 0; i < 4; i++) {
    assert.ok(Math.abs(re[i]! - oracleBA.re[i]!) < 1e-4, `re ${re[i]} vs ${oracleBA.re[i]}`);
    assert.ok(Math.abs(Math.abs(im[i]!) - Math.abs(oracleBA.im[i]!)) < 1e-4, `im ${im[i]} vs ${oracleBA.im[i]}`);
  }
  const oracleAB = oracleEigen(mul(a, b)); // 6 eigenvalues: the 4 of BA and two zeros
  for (let i = 0; i < 4; i++) assert.ok(Math.abs(re[i]! - oracleAB.re[i]!) < 1e-4);
  // Trace check: Σλ = tr(BA).
  const trace = mul(b, a).reduce((s, row, i) => s + row[i]!, 0);
  assert.ok(Math.abs(Array.from(re).reduce((acc, v) => acc + v, 0) - trace) < 1e-4);
  tf.dispose([ev.real, ev.imag]);
  fm.dispose();
  // Host solver on larger matrices: a random 30×30 (complex pairs) and a rotation block.
  const big = randn(30, 30, 5);
  const mine = eigenvaluesGeneral(Float64Array.from(big.flat()), 30);
  const ref = oracleEigen(big);
  for (let i = 0; i < 30; i++) {
    assert.ok(Math.abs(Math.hypot(mine.re[i]!, mine.im[i]!) - Math.hypot(ref.re[i]!, ref.im[i]!)) < 1e-9, `|λ${i}|`);
    assert.ok(Math.abs(mine.re[i]! - ref.re[i]!) < 1e-8, `re λ${i} ${mine.re[i]} vs ${ref.re[i]}`);
    assert.ok(Math.abs(Math.abs(mine.im[i]!) - Math.abs(ref.im[i]!)) < 1e-8);
  }
  const rot = eigenvaluesGeneral(Float64Array.from([0, -2, 0, 2, 0, 0, 0, 0, 3]), 3);
  assert.deepEqual([...rot.re].map((v) => +v.toFixed(12)), [3, 0, 0]);
  assert.deepEqual([...rot.im].map((v) => +v.toFixed(12)), [0, 2, -2]);
  assert.equal(tf.memory().numTensors, before);
});

test('FactoredMatrix: products on both sides stay factored; leading axes broadcast; jacobiSvd on wide input', async () => {
  await setBackend(testBackend('cpu'));
  const before = tf.memory().numTensors;
  const a = randn(5, 2, 6);
  const b = randn(2, 4, 7);
  const explicit = mul(a, b);
  const fm = fmOf(a, b);
  // Right product with a matrix, n (4) > k (2): stays (A, B·X) with inner size 2.
  const x = randn(4, 3, 8);
  const X = tf.tensor2d(x);
  const right = fm.matmul(X) as FactoredMatrix;
  assert.equal(right.mdim, 2);
  const rightAB = right.AB;
  assert.ok(relError(rightAB.dataSync(), mul(explicit, x).flat()) < 1e-5);
  // Left product with a matrix, m (5) > k (2).
  const y = randn(3, 5, 9);
  const Y = tf.tensor2d(y);
  const left = fm.rmatmul(Y) as FactoredMatrix;
  assert.equal(left.mdim, 2);
  const leftAB = left.AB;
  assert.ok(relError(leftAB.dataSync(), mul(y, explicit).flat()) < 1e-5);
  // Product of two factored matrices.
  const other = fmOf(randn(4, 1, 10), randn(1, 6, 11));
  const both = fm.matmul(other);
  const bothAB = both.AB;
  const otherAB = other.AB;
  assert.ok(relError(bothAB.dataSync(), mul(explicit, toArray(otherAB)).flat()) < 1e-5);
  // Vectors.
  const v = tf.tensor1d([1, -2, 0.5, 3]);
  const mv = fm.matmul(v) as tf.Tensor;
  assert.ok(relError(mv.dataSync(), explicit.map((r) => r[0]! - 2 * r[1]! + 0.5 * r[2]! + 3 * r[3]!)) < 1e-5);
  // Leading axes: A [2, 5, 2] with a shared B [2, 4].
  const stackedA = tf.tidy(() => tf.stack([tf.tensor2d(a), tf.mul(tf.tensor2d(a), 2)]));
  const batched = fmOf(stackedA, b);
  assert.deepEqual(batched.shape, [2, 5, 4]);
  const second = batched.at(1);
  const secondAB = second.AB;
  assert.ok(relError(secondAB.dataSync(), explicit.flat().map((q) => 2 * q)) < 1e-5);
  const norms = batched.norm();
  const n0 = Math.sqrt(explicit.flat().reduce((s, q) => s + q * q, 0));
  assert.ok(relError(norms.dataSync(), [n0, 2 * n0]) < 1e-5);
  const bs = await batched.svd();
  assert.deepEqual(bs.S.shape, [2, 2]);
  const sv = bs.S.dataSync();
  assert.ok(Math.abs(sv[2]! - 2 * sv[0]!) < 1e-4 && Math.abs(sv[3]! - 2 * sv[1]!) < 1e-4);
  tf.dispose([X, Y, rightAB, leftAB, bothAB, otherAB, v, mv, stackedA, secondAB, norms, bs.U, bs.S, bs.V]);
  for (const f of [fm, right, left, other, both, batched, second]) f.dispose();
  // Host Jacobi SVD on a wide 3×6 matrix (column-major) vs ml-matrix.
  const w = randn(3, 6, 12);
  const colMajor = new Float64Array(18);
  for (let i = 0; i < 3; i++) for (let j = 0; j < 6; j++) colMajor[j * 3 + i] = w[i]![j]!;
  const js = jacobiSvd(colMajor, 3, 6);
  const ref = new SingularValueDecomposition(new Matrix(w));
  for (let i = 0; i < 3; i++) assert.ok(Math.abs(js.s[i]! - ref.diagonal[i]!) < 1e-10);
  assert.equal(tf.memory().numTensors, before);
});
