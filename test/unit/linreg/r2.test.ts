import { test } from 'node:test';
import assert from 'node:assert/strict';
import { r2Score, r2ScoreId } from '../../../lib/linreg/index.js';
import { ShapeMismatchError } from '../../../lib/errors.js';

test('r² by hand, with a zero-variance column predicted exactly', () => {
  const yTrue = [1, 2, 5, 2, 4, 5, 3, 6, 5];
  const yPred = [1, 2, 5, 2, 5, 5, 4, 6, 5];
  // col 0: mean 2, SS_tot 2, SS_res 1 → 0.5; col 1: mean 4, SS_tot 8, SS_res 1 → 0.875; col 2: constant, exact → 1
  const raw = r2Score(yTrue, yPred, [3, 3], { multioutput: 'raw_values' });
  assert.deepEqual([...raw], [0.5, 0.875, 1]);
  assert.equal(r2Score(yTrue, yPred, [3, 3]), (0.5 + 0.875 + 1) / 3);
});

test('a zero-variance column predicted wrongly scores 0; r² can be negative', () => {
  const yTrue = [1, 5, 2, 5, 3, 5];
  const yPred = [3, 5, 2, 5.5, 1, 5];
  // col 0: SS_tot 2, SS_res 4 + 0 + 4 = 8 → −3; col 1: constant, mispredicted → 0
  assert.deepEqual([...r2Score(yTrue, yPred, [3, 2], { multioutput: 'raw_values' })], [-3, 0]);
  assert.equal(r2Score(yTrue, yPred, [3, 2]), -1.5);
});

test('r2ScoreId is r2Score(h_j, h_i); fewer than 2 samples → NaN; shape checks', () => {
  const hi = Float32Array.from([0, 1, 2, 3]);
  const hj = Float32Array.from([0, 2, 4, 6]);
  assert.equal(r2ScoreId(hj, hi, [2, 2]), r2Score(hj, hi, [2, 2]));
  // col 0: y = [0,4], ŷ = [0,2]: SS_tot 8, SS_res 4 → 0.5; col 1: y = [2,6], ŷ = [1,3]: SS_tot 8, SS_res 10 → −0.25
  assert.equal(r2ScoreId(hj, hi, [2, 2]), (0.5 - 0.25) / 2);
  assert.ok(Number.isNaN(r2Score([1, 2], [1, 2], [1, 2])));
  assert.throws(() => r2Score([1, 2, 3], [1, 2], [1, 3]), ShapeMismatchError);
});
