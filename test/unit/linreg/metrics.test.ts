import { test } from 'node:test';
import assert from 'node:assert/strict';
import { calmThreshold, LAMBDA_GRID_ID, LAMBDA_GRID_MAT, meanPrefixLength, precisionAtK, surprisal } from '../../../lib/linreg/index.js';
import { InvalidArgumentError, ShapeMismatchError } from '../../../lib/errors.js';

test('Precision@k: mapped top-1 among the final top-k (direction matters)', () => {
  const mapped = Int32Array.from([5, 7, 9, 1]);
  const finalTop = Int32Array.from([
    5, 1, 2, // hit at rank 0
    1, 7, 3, // hit at rank 1
    1, 2, 9, // hit at rank 2
    9, 8, 7, // miss
  ]);
  assert.equal(precisionAtK(mapped, finalTop, 1), 1 / 4);
  assert.equal(precisionAtK(mapped, finalTop, 2), 2 / 4);
  assert.equal(precisionAtK(mapped, finalTop, 3), 3 / 4);
  assert.throws(() => precisionAtK(mapped, finalTop, 4), InvalidArgumentError);
  assert.throws(() => precisionAtK(mapped, finalTop.subarray(0, 10), 1), ShapeMismatchError);
});

test('surprisal from log-probabilities and from logits', () => {
  // logits [0, ln 3, −∞-ish] → p = [1/4, 3/4, ~0]
  const logits = Float32Array.from([0, Math.log(3), -100, 0, 0, 0]);
  const mapped = Int32Array.from([0, 2]);
  const fromLogits = surprisal(mapped, logits, 3, { input: 'logits' });
  assert.ok(Math.abs(fromLogits.perSample[0]! - Math.log(4)) < 1e-6);
  assert.ok(Math.abs(fromLogits.perSample[1]! - Math.log(3)) < 1e-12);
  const logProbs = Float64Array.from([Math.log(0.25), Math.log(0.75), -Infinity, Math.log(0.5), Math.log(0.25), Math.log(0.25)]);
  const fromLogProbs = surprisal(mapped, logProbs, 3);
  assert.deepEqual([...fromLogProbs.perSample], [Math.log(4), Math.log(4)]);
  assert.equal(fromLogProbs.mean, Math.log(4));
  assert.throws(() => surprisal(Int32Array.from([3]), logProbs.subarray(0, 3), 3), InvalidArgumentError);
});

test('CALM threshold λ_{ℓ,t} = 0.9λ + 0.1·exp(−τt/N); layer 0 never exits', () => {
  assert.equal(calmThreshold(0.5, 0, 3, 10), 2);
  assert.equal(calmThreshold(0.5, 1, 0, 10), 0.9 * 0.5 + 0.1);
  assert.ok(Math.abs(calmThreshold(0.5, 4, 5, 10) - (0.45 + 0.1 * Math.exp(-2))) < 1e-15);
  assert.ok(Math.abs(calmThreshold(-1.112, 1, 2, 8, { tau: 2 }) - (0.9 * -1.112 + 0.1 * Math.exp(-0.5))) < 1e-15);
  assert.equal(calmThreshold(0.3, 1, 0, 5, { minimalLayer: 2 }), 2);
  // λ = 1.112 never exits (threshold > 1 ≥ p1 − p2); λ = −1.112 always exits at layer 1 (threshold < 0)
  assert.ok(calmThreshold(1.112, 1, 0, 5) > 1);
  assert.ok(calmThreshold(-1.112, 1, 0, 5) < 0);
  assert.equal(meanPrefixLength([0, 1, 2, 5]), 3); // mean of t + 1 = (1 + 2 + 3 + 6)/4
  assert.throws(() => calmThreshold(0.5, 1, 0, 0), InvalidArgumentError);
});

test('λ grids of §9', () => {
  assert.deepEqual(LAMBDA_GRID_MAT, [-1.112, 0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.112]);
  assert.equal(LAMBDA_GRID_ID.length, 22);
  assert.deepEqual(LAMBDA_GRID_ID.slice(11), [1, 1.0112, 1.0224, 1.0336, 1.0448, 1.056, 1.0672, 1.0784, 1.0896, 1.1008, 1.112]);
});
