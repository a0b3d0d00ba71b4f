import { test } from 'node:test';
import assert from 'node:assert/strict';
import { balancedAccuracy, confusionMatrix, perClassRecall, rocAuc, rocAucOvR } from '../../../lib/probes/metrics.js';
import { createRng } from '../../../lib/math/rng.js';
import { InvalidArgumentError, ShapeMismatchError } from '../../../lib/errors.js';
import { hostArray } from '../../../lib/math/host-array.js';

test('confusion matrix, per-class recall and balanced accuracy of a hand-made example', () => {
  const yTrue = [0, 0, 1, 1, 2, 2, 2];
  const yPred = [0, 1, 1, 1, 2, 0, 2];
  const m = confusionMatrix(yTrue, yPred, 3);
  assert.deepEqual(m, [[1, 1, 0], [0, 2, 0], [1, 0, 2]]);
  const r = perClassRecall(m);
  assert.deepEqual(r, [0.5, 1, 2 / 3]);
  assert.ok(Math.abs(balancedAccuracy(yTrue, yPred, 3) - (0.5 + 1 + 2 / 3) / 3) < 1e-15);
  // A class absent from y_true has NaN recall and is left out of the mean (sklearn).
  const m4 = confusionMatrix([0, 1, 1], [0, 1, 3], 4);
  assert.deepEqual(perClassRecall(m4).map((v) => (Number.isNaN(v) ? 'nan' : v)), [1, 0.5, 'nan', 'nan']);
  assert.equal(balancedAccuracy([0, 1, 1], [0, 1, 3], 4), 0.75);
  assert.throws(() => confusionMatrix([0, 3], [0, 1], 3), InvalidArgumentError);
  assert.throws(() => confusionMatrix([0], [0, 1], 3), InvalidArgumentError);
});

test('ROC-AUC by hand: ties between a positive and a negative count ½', () => {
  // positives 0.9, 0.4, 0.6; negatives 0.4, 0.2 → pairs 1 + 1 + ½ + 1 + 1 + 1 = 5.5 of 6.
  assert.equal(rocAuc([1, 1, 1, 0, 0], [0.9, 0.4, 0.6, 0.4, 0.2]), 5.5 / 6);
  assert.equal(rocAuc([1, 0], [0.3, 0.3]), 0.5);
  assert.equal(rocAuc([1, 1, 0, 0], [0.1, 0.2, 0.3, 0.4]), 0);
  assert.ok(Number.isNaN(rocAuc([1, 1], [0.1, 0.2])));
});

test('ROC-AUC equals the brute-force Mann–Whitney pair count on random scores with many ties', () => {
  const rng = createRng(3);
  const n = 200;
  const pos = Array.from({ length: n }, () => rng.uniform() < 0.4);
  const scores = Array.from({ length: n }, () => rng.uniformInt(12) / 12);
  let wins = 0;
  let pairs = 0;
  for (let a = 0; a < n; a++) {
    if (!pos[a]) continue;
    for (let b = 0; b < n; b++) {
      if (pos[b]) continue;
      pairs++;
      wins += scores[a]! > scores[b]! ? 1 : scores[a] === scores[b] ? 0.5 : 0;
    }
  }
  assert.ok(Math.abs(rocAuc(pos, scores) - wins / pairs) < 1e-12);
});

test('one-vs-rest AUC uses each class probability column', () => {
  const yTrue = [0, 1, 2, 0];
  const proba = [
    0.7, 0.2, 0.1,
    0.3, 0.4, 0.3,
    0.1, 0.5, 0.4,
    0.2, 0.3, 0.5,
  ];
  const auc = rocAucOvR(yTrue, proba, 3);
  // class 0: pos {0.7, 0.2} vs neg {0.3, 0.1} → (1 + 1 + 0 + 1)/4; class 1: pos {0.4} vs {0.2, 0.5, 0.3} → 2/3;
  // class 2: pos {0.4} vs {0.1, 0.3, 0.5} → 2/3.
  assert.deepEqual(auc, [0.75, 2 / 3, 2 / 3]);
  assert.deepEqual(rocAucOvR(yTrue, hostArray(Float64Array.from(proba), [4, 3])), auc);
  assert.throws(() => rocAucOvR(yTrue, hostArray(Float64Array.from(proba), [4, 3]), 4), ShapeMismatchError);
  assert.throws(() => rocAucOvR(yTrue, proba), InvalidArgumentError);
  assert.ok(Number.isNaN(rocAucOvR([0, 0], [0.5, 0.5, 0.5, 0.5], 2)[0]!));
});
