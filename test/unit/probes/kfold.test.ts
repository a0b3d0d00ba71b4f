import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyProbe, crossValidateProbe, kFoldSplits, randomEmbeddingControl, shuffleLabels } from '../../../lib/probes/kfold.js';
import { createRng } from '../../../lib/math/rng.js';
import type { HostMatrix } from '../../../lib/linreg/types.js';
import { InvalidArgumentError } from '../../../lib/errors.js';

/**
 * K classes in d dimensions: class c has feature c at +shift, every entry N(0, 1) noise. All classes have
 * the same scalar mean (shift/d) and nearly the same scalar std, so the random-embedding control is at chance.
 */
function directionData(seed: number, K: number, d: number, perClass: number, shift: number): { X: HostMatrix; y: Int32Array } {
  const rng = createRng(seed);
  const n = K * perClass;
  const data = new Float64Array(n * d);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % K;
    y[i] = c;
    for (let t = 0; t < d; t++) data[i * d + t] = rng.normal() + (t === c ? shift : 0);
  }
  return { X: { data, shape: [n, d] }, y };
}

test('kFoldSplits: a seeded partition with sklearn fold sizes', () => {
  const splits = kFoldSplits(23, 5, 4);
  assert.deepEqual(splits.map((s) => s.test.length), [5, 5, 5, 4, 4]);
  const seen = new Set<number>();
  for (const { train, test: held } of splits) {
    assert.equal(train.length + held.length, 23);
    const trainSet = new Set(train);
    for (const i of held) {
      assert.ok(!trainSet.has(i));
      assert.ok(!seen.has(i));
      seen.add(i);
    }
  }
  assert.equal(seen.size, 23);
  assert.deepEqual(kFoldSplits(23, 5, 4).map((s) => Array.from(s.test)), splits.map((s) => Array.from(s.test)));
  assert.notDeepEqual(kFoldSplits(23, 5, 5).map((s) => Array.from(s.test)), splits.map((s) => Array.from(s.test)));
  assert.throws(() => kFoldSplits(3, 5, 0), InvalidArgumentError);
  assert.throws(() => kFoldSplits(10, 1, 0), InvalidArgumentError);
});

test('cross-validation: separable classes score high; summary = fold means and std(ddof 0)/√F', () => {
  const { X, y } = directionData(1, 4, 6, 30, 4);
  const cv = crossValidateProbe(X, y, { folds: 5, seed: 7 });
  assert.equal(cv.folds.length, 5);
  assert.deepEqual(cv.classCounts, [30, 30, 30, 30]);
  assert.equal(cv.chance, 0.25);
  const bal = cv.folds.map((f) => f.balancedAccuracy);
  const m = bal.reduce((s, v) => s + v, 0) / 5;
  const sd = Math.sqrt(bal.reduce((s, v) => s + (v - m) ** 2, 0) / 5);
  assert.ok(Math.abs(cv.meanBalancedAccuracy - m) < 1e-15);
  assert.ok(Math.abs(cv.semBalancedAccuracy - sd / Math.sqrt(5)) < 1e-15);
  assert.ok(cv.meanBalancedAccuracy > 0.9, `balanced accuracy ${cv.meanBalancedAccuracy}`);
  for (let c = 0; c < 4; c++) {
    assert.ok(cv.perClassAuc[c]! > 0.95);
    assert.ok(Math.abs(cv.perClassRecall[c]! - cv.folds.reduce((s, f) => s + f.perClassRecall[c]!, 0) / 5) < 1e-12);
  }
  // Each fold's metrics are consistent with its confusion matrix; test sizes sum to n.
  assert.equal(cv.folds.reduce((s, f) => s + f.testSize, 0), 120);
  for (const f of cv.folds) {
    const total = f.confusion.flat().reduce((s, v) => s + v, 0);
    assert.equal(total, f.testSize);
  }
  // The best fold's probe is kept and reproduces that fold's high accuracy on all data.
  assert.ok(cv.bestProbe);
  assert.equal(cv.folds[cv.bestFold]!.balancedAccuracy, Math.max(...bal));
  const { predicted, proba: probaScores } = applyProbe(cv.bestProbe!, X);
  assert.deepEqual(probaScores.shape, [120, 4]);
  const proba = probaScores.data;
  assert.ok(predicted.filter((p, i) => p === y[i]).length / 120 > 0.9);
  for (let i = 0; i < 120; i++) assert.ok(Math.abs(proba[i * 4]! + proba[i * 4 + 1]! + proba[i * 4 + 2]! + proba[i * 4 + 3]! - 1) < 1e-12);
  // Same seed, same result.
  assert.equal(crossValidateProbe(X, y, { folds: 5, seed: 7 }).meanBalancedAccuracy, cv.meanBalancedAccuracy);
});

test('controls: label shuffle and direction-only classes under random embeddings fall to chance', () => {
  const { X, y } = directionData(2, 4, 8, 40, 3);
  const real = crossValidateProbe(X, y, { seed: 1 });
  const shuffled = crossValidateProbe(X, shuffleLabels(y, 5), { seed: 1 });
  const random = crossValidateProbe(randomEmbeddingControl(X, y, 6), y, { seed: 1 });
  assert.ok(real.meanBalancedAccuracy > 0.8, `real ${real.meanBalancedAccuracy}`);
  assert.ok(shuffled.meanBalancedAccuracy < 0.45, `shuffled ${shuffled.meanBalancedAccuracy}`);
  assert.ok(random.meanBalancedAccuracy < 0.45, `random ${random.meanBalancedAccuracy}`);
  // shuffleLabels is a permutation.
  assert.deepEqual(Array.from(shuffleLabels(y, 5)).sort(), Array.from(y).sort());
});

test('random-embedding control keeps each class scalar mean and std (so scale differences stay learnable)', () => {
  // Class 0 entries ~ N(1, 0.5²), class 1 entries ~ N(−2, 3²).
  const rng = createRng(8);
  const n = 200;
  const d = 10;
  const data = new Float64Array(n * d);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % 2;
    for (let t = 0; t < d; t++) data[i * d + t] = y[i] === 0 ? 1 + 0.5 * rng.normal() : -2 + 3 * rng.normal();
  }
  const X = { data, shape: [n, d] as [number, number] };
  const ctrl = randomEmbeddingControl(X, y, 3);
  for (const c of [0, 1]) {
    const vals = (m: HostMatrix): number[] => Array.from(m.data).filter((_, k) => y[Math.floor(k / d)] === c);
    const stats = (v: number[]): [number, number] => {
      const mu = v.reduce((s, x) => s + x, 0) / v.length;
      return [mu, Math.sqrt(v.reduce((s, x) => s + (x - mu) ** 2, 0) / v.length)];
    };
    const [m0, s0] = stats(vals(X));
    const [m1, s1] = stats(vals(ctrl));
    // 1000 draws: standard error of the mean s/√1000, of the std ≈ s/√2000.
    assert.ok(Math.abs(m1 - m0) < 4 * s0 / Math.sqrt(1000), `class ${c} mean ${m1} vs ${m0}`);
    assert.ok(Math.abs(s1 - s0) < 4 * s0 / Math.sqrt(2000), `class ${c} std ${s1} vs ${s0}`);
  }
  assert.ok(crossValidateProbe(ctrl, y, { seed: 0 }).meanBalancedAccuracy > 0.7);
});
