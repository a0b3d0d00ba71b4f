/**
 * The gradient-trained probes: written-out gradients against central finite differences of the loss;
 * the linear probe trained to convergence against the optimum of the same convex objective found by an
 * independent float64 L-BFGS (lib/probes/lbfgs.ts on an objective written here); early stopping keeps the
 * epoch with the lowest validation loss (recomputed on the host from the returned weights); the MLP fits
 * XOR where the linear probe cannot; no tensor leaks.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { setBackend } from '../../../lib/backend/index.js';
import { probeGradients, predictNeuralProbe, trainNeuralProbe, type NeuralProbe } from '../../../lib/probes/neural.js';
import { minimizeLbfgs } from '../../../lib/probes/lbfgs.js';
import { createRng } from '../../../lib/math/rng.js';
import { testBackend } from '../../helpers/backend.js';

before(async () => {
  await setBackend(testBackend('cpu'));
});

function blobs(n: number, d: number, K: number, seed: number): { X: Float64Array; y: Int32Array } {
  const rng = createRng(seed);
  const centres = Array.from({ length: K * d }, () => 1.2 * rng.normal());
  const X = new Float64Array(n * d);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % K;
    for (let c = 0; c < d; c++) X[i * d + c] = centres[y[i]! * d + c]! + rng.normal();
  }
  return { X, y };
}

/** Host float64 mean cross-entropy + ½·l2·‖W‖² of a linear probe θ = [W (d×K) row-major, b (K)]. */
function linearObjective(X: Float64Array, y: Int32Array, n: number, d: number, K: number, l2: number) {
  return (theta: Float64Array, grad: Float64Array): number => {
    grad.fill(0);
    let loss = 0;
    const z = new Float64Array(K);
    for (let i = 0; i < n; i++) {
      let max = -Infinity;
      for (let k = 0; k < K; k++) {
        let s = theta[d * K + k]!;
        for (let c = 0; c < d; c++) s += X[i * d + c]! * theta[c * K + k]!;
        z[k] = s;
        max = Math.max(max, s);
      }
      let sum = 0;
      for (let k = 0; k < K; k++) sum += Math.exp(z[k]! - max);
      loss += max + Math.log(sum) - z[y[i]!]!;
      for (let k = 0; k < K; k++) {
        const g = (Math.exp(z[k]! - max) / sum - (k === y[i] ? 1 : 0)) / n;
        for (let c = 0; c < d; c++) grad[c * K + k] += g * X[i * d + c]!;
        grad[d * K + k] += g;
      }
    }
    loss /= n;
    for (let j = 0; j < d * K; j++) {
      loss += 0.5 * l2 * theta[j]! ** 2;
      grad[j] += l2 * theta[j]!;
    }
    return loss;
  };
}

test('probeGradients matches central finite differences of its loss (linear and MLP)', () => {
  const rng = createRng(3);
  const [n, d, H, K, l2] = [7, 3, 4, 3, 0.05];
  const x = tf.tensor2d(Float32Array.from({ length: n * d }, () => rng.normal()), [n, d]);
  const oneHot = tf.oneHot(tf.tensor1d(Int32Array.from({ length: n }, (_, i) => i % K), 'int32'), K) as tf.Tensor2D;
  for (const [kind, shapes] of [['linear', [[d, K], [K]]], ['mlp', [[d, H], [H], [H, K], [K]]]] as const) {
    const w = shapes.map((s) => tf.tensor(Float32Array.from({ length: s.reduce((a, b) => a * b, 1) }, () => 0.7 * rng.normal()), [...s]));
    const { grads } = tf.tidy(() => {
      const r = probeGradients(kind, x, oneHot, w, l2);
      return { grads: r.grads.map((g) => g.arraySync() as number | number[] | number[][]) };
    });
    const lossAt = (ws: tf.Tensor[]) => tf.tidy(() => probeGradients(kind, x, oneHot, ws, l2).loss.dataSync()[0]!);
    const eps = 1e-2;
    for (let li = 0; li < w.length; li++) {
      const base = w[li]!.dataSync();
      const flat = [grads[li]].flat(2) as number[];
      for (let j = 0; j < base.length; j++) {
        const plus = Float32Array.from(base);
        const minus = Float32Array.from(base);
        plus[j] += eps;
        minus[j] -= eps;
        const wp = w.map((t, i) => (i === li ? tf.tensor(plus, t.shape) : t));
        const wm = w.map((t, i) => (i === li ? tf.tensor(minus, t.shape) : t));
        const fd = (lossAt(wp) - lossAt(wm)) / (2 * eps);
        wp[li]!.dispose();
        wm[li]!.dispose();
        assert.ok(Math.abs(fd - flat[j]!) <= 2e-3 + 2e-2 * Math.abs(fd), `${kind} layer ${li} entry ${j}: analytic ${flat[j]} vs finite difference ${fd}`);
      }
    }
    w.forEach((t) => t.dispose());
  }
  x.dispose();
  oneHot.dispose();
});

test('linear probe trained to convergence reaches the optimum an independent float64 L-BFGS finds', async () => {
  const [n, d, K, l2] = [120, 4, 3, 0.05];
  const { X, y } = blobs(n, d, K, 11);
  const before = tf.memory().numTensors;
  const probe = await trainNeuralProbe({ data: X, shape: [n, d] }, y, { kind: 'linear', valFraction: 0, standardize: false, epochs: 1500, batchSize: n, learningRate: 0.05, l2, seed: 1 });
  assert.equal(tf.memory().numTensors, before, 'trainNeuralProbe leaked tensors');
  const f = linearObjective(X, y, n, d, K, l2);
  const ref = minimizeLbfgs(f, new Float64Array(d * K + K), { gtol: 1e-10, maxIter: 2000 });
  const theta = Float64Array.from([...probe.weights[0]!.data, ...probe.weights[1]!.data]);
  const got = f(theta, new Float64Array(theta.length));
  assert.ok(Math.abs(got - ref.f) <= 1e-5 * Math.max(1, ref.f), `objective ${got} vs L-BFGS optimum ${ref.f}`);
  // the objective is strongly convex in W and convex in b; the weights agree closely
  let num = 0;
  let den = 0;
  for (let j = 0; j < d * K; j++) [num, den] = [num + (theta[j]! - ref.x[j]!) ** 2, den + ref.x[j]! ** 2];
  assert.ok(Math.sqrt(num / den) <= 1e-2, `‖W − W*‖/‖W*‖ = ${Math.sqrt(num / den)}`);
  assert.equal(probe.trainLoss.length, 1500);
  assert.ok(Math.abs(probe.trainLoss[1499]! - ref.f) <= 1e-4, 'the last epoch\'s training loss is the objective');
});

/** Host validation cross-entropy of a probe on rows (for the early-stopping check). */
function hostCrossEntropy(probe: NeuralProbe, X: Float64Array, y: Int32Array, rows: ArrayLike<number>, d: number): number {
  const sub = new Float64Array(rows.length * d);
  for (let i = 0; i < rows.length; i++) sub.set(X.subarray(rows[i]! * d, (rows[i]! + 1) * d), i * d);
  const K = probe.nClasses;
  // the network's math written out on the host in float64
  const s = probe.scaler!;
  let loss = 0;
  for (let i = 0; i < rows.length; i++) {
    const x = Array.from({ length: d }, (_, c) => (sub[i * d + c]! - s.mean[c]!) / s.scale[c]!);
    let h = x;
    const layers = probe.weights;
    const dense = (inp: number[], W: Float32Array, b: Float32Array, out: number) => Array.from({ length: out }, (_, o) => inp.reduce((acc, v, c) => acc + v * W[c * out + o]!, b[o]!));
    if (probe.kind === 'mlp') h = dense(h, layers[0]!.data, layers[1]!.data, layers[1]!.data.length).map((v) => Math.max(0, v));
    const z = probe.kind === 'mlp' ? dense(h, layers[2]!.data, layers[3]!.data, K) : dense(h, layers[0]!.data, layers[1]!.data, K);
    const max = Math.max(...z);
    const lse = max + Math.log(z.reduce((a, v) => a + Math.exp(v - max), 0));
    loss += lse - z[y[rows[i]!]!]!;
  }
  return loss / rows.length;
}

test('early stopping keeps the best validation epoch and stops `patience` epochs after it', async () => {
  const [n, d, K] = [150, 6, 3];
  const { X, y } = blobs(n, d, K, 5);
  const patience = 5;
  const probe = await trainNeuralProbe({ data: X, shape: [n, d] }, y, { kind: 'mlp', hidden: 16, epochs: 400, patience, learningRate: 0.05, valFraction: 0.3, seed: 2 });
  const best = probe.valLoss.indexOf(Math.min(...probe.valLoss));
  assert.equal(probe.bestEpoch, best);
  assert.ok(probe.epochs < 400, 'stopped early');
  assert.equal(probe.epochs, best + patience + 1);
  assert.equal(probe.nVal, 45);
  // the validation rows are the first nVal of the seeded permutation (recomputed here)
  const valRows = createRng(2).permutation(n).subarray(0, probe.nVal);
  const recomputed = hostCrossEntropy(probe, X, y, valRows, d);
  assert.ok(Math.abs(recomputed - probe.valLoss[best]!) <= 1e-5 * Math.max(1, recomputed), `host val loss ${recomputed} vs recorded ${probe.valLoss[best]}`);
});

test('the MLP probe fits XOR; the linear probe cannot (real accuracies)', async () => {
  const n = 400;
  const rng = createRng(9);
  const X = new Float64Array(2 * n);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const a = 2 * rng.uniform() - 1;
    const b = 2 * rng.uniform() - 1;
    [X[2 * i], X[2 * i + 1], y[i]] = [a, b, a * b > 0 ? 1 : 0];
  }
  const acc = (p: Int32Array) => p.reduce((s, v, i) => s + (v === y[i] ? 1 : 0), 0) / n;
  const mlp = await trainNeuralProbe({ data: X, shape: [n, 2] }, y, { kind: 'mlp', hidden: 32, epochs: 300, patience: 30, learningRate: 0.02, seed: 1 });
  const lin = await trainNeuralProbe({ data: X, shape: [n, 2] }, y, { kind: 'linear', epochs: 300, patience: 30, learningRate: 0.02, seed: 1 });
  const aMlp = acc(await predictNeuralProbe(mlp, { data: X, shape: [n, 2] }));
  const aLin = acc(await predictNeuralProbe(lin, { data: X, shape: [n, 2] }));
  assert.ok(aMlp >= 0.95, `mlp accuracy ${aMlp}`);
  assert.ok(aLin <= 0.7, `linear accuracy ${aLin}`);
});
