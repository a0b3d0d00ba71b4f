import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { setBackend } from '../../../lib/backend/index.js';
import { loadModel } from '../../../lib/nn/load.js';
import type { HookedGPT2 } from '../../../lib/nn/gpt2.js';
import type { LensModel } from '../../../lib/nn/lens-model.js';
import { InvalidArgumentError } from '../../../lib/errors.js';
import { LAMBDA_GRID_ID, LAMBDA_GRID_MAT } from '../../../lib/linreg/calm.js';
import { calmEarlyExit, calmScores, runCalmEarlyExit, type CalmSample, type CalmScores } from '../../../lib/lens/calm-exit.js';
import { fixtureDir, readFixture } from '../../helpers/fixtures.js';
import { testBackend } from '../../helpers/backend.js';

/** A lens that is the identity: the states are the logits (d = V = 4). */
const identityLens: LensModel = { nLayers: 3, residPrefix: '', lensPositions: 'all', lensLogits: (x) => tf.clone(x) };

/** Logits with value ln(a) at `id`, 0 elsewhere: softmax margin (a − 1)/(a + 3). */
const peaked = (id: number, a: number) => Float32Array.from({ length: 4 }, (_, k) => (k === id ? Math.log(a) : 0));

/**
 * Two samples, L = 3, N = mean(t + 1) = (1 + 5)/2 = 3.
 * A (t = 0): h_0 very confident (must never exit at ℓ = 0), h_1 → id 1, c = 0.5; h_2 → id 2, c = 20/24;
 *   final h_3 → id 2. Threshold 0.9λ + 0.1.
 * B (t = 4): h_1 → id 0, c = 8/12; h_2 → id 3, c = 0.5; final → id 0. Threshold 0.9λ + 0.1·e^{−16/3}.
 */
function samples(): CalmSample[] {
  return [
    { t: 0, states: [peaked(3, 1000), peaked(1, 5), peaked(2, 21), peaked(2, 9)] },
    { t: 4, states: [peaked(1, 1000), peaked(0, 9), peaked(3, 5), peaked(0, 5)] },
  ];
}

const close = (a: number, b: number, tol = 1e-6) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

test('calmScores (id) with an identity lens: confidences are the hand-computed softmax margins', async () => {
  await setBackend(testBackend('cpu'));
  const before = tf.memory().numTensors;
  const scores = await calmScores(identityLens, samples(), { mapping: 'id', batchSize: 1 });
  assert.equal(tf.memory().numTensors, before, 'calmScores leaked tensors');
  assert.equal(scores.K, 4); // topK 10 capped at the vocabulary
  const c = (s: number, l: number) => scores.confidence[s * 4 + l]!;
  assert.ok(Number.isNaN(c(0, 0)) && Number.isNaN(c(0, 3)));
  close(c(0, 1), 0.5);
  close(c(0, 2), 20 / 24);
  close(c(1, 1), 8 / 12);
  close(c(1, 2), 0.5);
  // Top ids: the peak first, then the tied zeros by lower id; row ℓ = L is the final output.
  assert.deepEqual(Array.from(scores.topK.subarray((0 * 4 + 1) * 4, (0 * 4 + 2) * 4)), [1, 0, 2, 3]);
  assert.deepEqual(Array.from(scores.topK.subarray((1 * 4 + 3) * 4, (1 * 4 + 4) * 4)), [0, 1, 2, 3]);
});

test('calmEarlyExit: exits by hand for the λ grid, strict threshold, never at ℓ = 0', async () => {
  await setBackend(testBackend('cpu'));
  const scores = await calmScores(identityLens, samples(), { mapping: 'id' });
  const res = calmEarlyExit(scores, { lambdas: [-1.112, 0.5, 0.6, 0.8, 0.9, 1.112] });
  const byLambda = new Map(res.map((r) => [r.lambda, r]));
  const expectRow = (lambda: number, exits: number[], p1: number) => {
    const r = byLambda.get(lambda)!;
    assert.deepEqual(Array.from(r.exitLayer), exits, `λ = ${lambda}`);
    close(r.meanLayers, (exits[0]! + exits[1]!) / 2);
    close(r.precisionAt1, p1);
  };
  // −1.112: everyone exits at ℓ = 1 (A outputs id 1 ≠ final 2; B id 0 = final).
  expectRow(-1.112, [1, 1], 0.5);
  // 0.5: A threshold 0.55 → ℓ = 2 (id 2 ✓); B threshold 0.4505 → ℓ = 1 (id 0 ✓).
  expectRow(0.5, [2, 1], 1);
  expectRow(0.6, [2, 1], 1);
  // 0.8: A threshold 0.82 < 20/24 → ℓ = 2; B threshold 0.7205 > 8/12 → never (L = 3, final output).
  expectRow(0.8, [2, 3], 1);
  expectRow(0.9, [3, 3], 1);
  expectRow(1.112, [3, 3], 1);
  // Output top-K at the exit: A at λ = −1.112 outputs h_1's ranking.
  assert.deepEqual(Array.from(byLambda.get(-1.112)!.output.subarray(0, 4)), [1, 0, 2, 3]);

  // Strict: with λ = 0, t = 0, N = 1 the threshold is exactly 0.1; confidence 0.1 does not exit.
  const hand: CalmScores = {
    S: 2,
    L: 2,
    K: 2,
    confidence: Float64Array.from([NaN, 0.1, NaN, NaN, 0.1000001, NaN]),
    topK: Int32Array.from([-1, -1, 7, 8, 5, 6, -1, -1, 7, 8, 5, 6]),
    t: Int32Array.from([0, 0]),
  };
  const strict = calmEarlyExit(hand, { lambdas: [0], N: 1 })[0]!;
  assert.deepEqual(Array.from(strict.exitLayer), [2, 1]);
  close(strict.precisionAt1, 0.5); // sample 1 outputs 7 at ℓ = 1, final is 5
  // ℓ = 0 never exits even when scored (threshold 2 there).
  const l0: CalmScores = { ...hand, confidence: Float64Array.from([0.99, NaN, NaN, 0.99, NaN, NaN]) };
  assert.deepEqual(Array.from(calmEarlyExit(l0, { lambdas: [-1.112], N: 1 })[0]!.exitLayer), [2, 2]);
  // Default grids.
  assert.equal(calmEarlyExit(hand).length, LAMBDA_GRID_MAT.length);
  assert.equal(calmEarlyExit(hand, { mapping: 'id' }).length, LAMBDA_GRID_ID.length);
});

test('bertFixedPos3 uses t = 3 in the threshold for every sample (original BERT bug)', async () => {
  await setBackend(testBackend('cpu'));
  const scores = await calmScores(identityLens, samples(), { mapping: 'id' });
  // N stays mean(t + 1) = 3; A's threshold at λ = 0.5 becomes 0.45 + 0.1·e^{−4} < 0.5 → exits at ℓ = 1.
  const [r] = calmEarlyExit(scores, { lambdas: [0.5], bertFixedPos3: true });
  assert.deepEqual(Array.from(r!.exitLayer), [1, 1]);
  close(r!.precisionAt1, 0.5);
  close(r!.meanLayers, 1);
});

test('mat mapping applies A_{L,ℓ} for ℓ = 1 … L−1 only, never to the final output', async () => {
  await setBackend(testBackend('cpu'));
  // Permutation swapping ids 1 and 2 at ℓ = 1, identity at ℓ = 2.
  const swap12 = Float32Array.from([1, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 1]);
  const eye = Float32Array.from([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]);
  const asked: number[] = [];
  const maps = (l: number) => {
    asked.push(l);
    return { data: l === 1 ? swap12 : eye, shape: [4, 4] as const };
  };
  const res = await runCalmEarlyExit(identityLens, samples(), { mapping: 'mat', maps, lambdas: [-1.112] });
  assert.deepEqual(asked, [1, 2]);
  // At ℓ = 1 sample A's peak moves from id 1 to id 2 = its final top-1 → Precision@1 = 1.
  assert.deepEqual(Array.from(res[0]!.exitLayer), [1, 1]);
  close(res[0]!.precisionAt1, 1);
  assert.deepEqual(Array.from(res[0]!.output.subarray(0, 4)), [2, 0, 1, 3]);
  await assert.rejects(calmScores(identityLens, samples(), { mapping: 'mat' }), InvalidArgumentError);
});

test('calmScores on gpt2-tiny states reproduces the fixture lens (softmax margins, final top ids)', async () => {
  await setBackend(testBackend('cpu'));
  const { expected } = await readFixture('gpt2-tiny');
  const model = (await loadModel(fixtureDir('gpt2-tiny'))) as HookedGPT2;
  const L = model.nLayers;
  const d = 64;
  const names = ['blocks.0.hook_resid_pre', 'blocks.0.hook_resid_post', 'blocks.1.hook_resid_post', 'blocks.2.hook_resid_post'];
  const positions = [2, 5, 8];
  const list: CalmSample[] = positions.map((t) => ({
    t,
    states: names.map((n) => Float32Array.from(expected.get(n)!.data.subarray(t * d, (t + 1) * d))),
  }));
  await calmScores(model, list, { mapping: 'id' }); // warm-up
  const before = tf.memory().numTensors;
  const scores = await calmScores(model, list, { mapping: 'id', batchSize: 2 });
  assert.equal(tf.memory().numTensors, before, 'calmScores leaked tensors');
  const lens = expected.get('lens.logits')!;
  const [, B, T, V] = lens.shape as number[];
  positions.forEach((t, s) => {
    for (let l = 1; l <= L; l++) {
      const base = ((l * B! + 0) * T! + t) * V!;
      const row = Array.from(lens.data.subarray(base, base + V!));
      const order = row.map((_, i) => i).sort((a, b) => row[b]! - row[a]! || a - b);
      const max = row[order[0]!]!;
      const z = row.reduce((acc, x) => acc + Math.exp(x - max), 0);
      assert.deepEqual(Array.from(scores.topK.subarray((s * (L + 1) + l) * 10, (s * (L + 1) + l + 1) * 10)), order.slice(0, 10), `top-10 at ℓ ${l}, t ${t}`);
      if (l < L) close(scores.confidence[s * (L + 1) + l]!, (1 - Math.exp(row[order[1]!]! - max)) / z, 1e-5);
    }
  });
  // λ = 1.112 never exits: Precision@1 = 1 and L layers.
  const never = calmEarlyExit(scores, { lambdas: [1.112] })[0]!;
  assert.equal(never.meanLayers, L);
  assert.equal(never.precisionAt1, 1);
});
