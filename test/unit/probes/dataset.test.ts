import { test } from 'node:test';
import assert from 'node:assert/strict';
import { balanceProbeItems, constructProbeDataset, taskRanges } from '../../../lib/probes/dataset.js';
import { InvalidArgumentError } from '../../../lib/errors.js';

test('task ranges of §3 by hand (L = 8, J0 = 2, K = 3; j is 0-based, meaning h_{j+1})', () => {
  const opts = { K: 3, J0: 2 };
  // t0: [J0, s0] = [2, 4]; t1: [max(2, 4+1), 6] = [5, 6]; t2: [7, min(7, 7)] = [7, 7].
  assert.deepEqual(taskRanges([4, 6, 7, 0, 0], 8, opts), [
    { task: 0, from: 2, to: 4 },
    { task: 1, from: 5, to: 6 },
    { task: 2, from: 7, to: 7 },
  ]);
  // s0 = 1 ≤ J0: task 0 skipped, task 1 still counts from max(J0, s0+1) = 2; task 2 out of order → empty.
  assert.deepEqual(taskRanges([1, 5, 3], 8, opts), [{ task: 1, from: 2, to: 5 }]);
  // Task 1 skipped (s1 = 2 ≤ J0) but a_2 still uses s_1: [max(2, 2+1), min(8, 7)] = [3, 7] (quirk value L clipped).
  assert.deepEqual(taskRanges([3, 2, 8], 8, opts), [
    { task: 0, from: 2, to: 3 },
    { task: 2, from: 3, to: 7 },
  ]);
  // J0 = 0: s_t must be > 0.
  assert.deepEqual(taskRanges([0, 2], 3, { K: 2, J0: 0 }), [{ task: 1, from: 1, to: 2 }]);
  assert.throws(() => taskRanges([1], 8, opts), InvalidArgumentError);
  assert.throws(() => taskRanges([9, 9, 9], 8, { K: 3, J0: 8 }), InvalidArgumentError);
});

test('bucket balancing: first m_j items per bucket, layers with m_j < minPerLayer dropped, pooled by layer', () => {
  // L = 4, J0 = 1, K = 2, minPerLayer = 2.
  const S = [
    [2, 3], // e0: t0 [1,2], t1 [3,3]
    [3, 3], // e1: t0 [1,3], t1 empty
    [1, 3], // e2: t0 skipped, t1 [2,3]
    [2, 3], // e3: like e0
    [0, 2], // e4: t1 [1,2]
  ];
  const opts = { K: 2, J0: 1, minPerLayer: 2 };
  const { items, perLayer } = balanceProbeItems(S, 4, opts);
  assert.deepEqual(perLayer, [
    { layer: 1, counts: [3, 1], m: 1, kept: false },
    { layer: 2, counts: [3, 2], m: 2, kept: true },
    { layer: 3, counts: [1, 3], m: 1, kept: false },
  ]);
  assert.deepEqual(items, [
    { example: 0, layer: 2, task: 0 },
    { example: 1, layer: 2, task: 0 },
    { example: 2, layer: 2, task: 1 },
    { example: 4, layer: 2, task: 1 },
  ]);
  const calls: string[] = [];
  const ds = constructProbeDataset(S, 4, (e, j) => {
    calls.push(`${e}@${j}`);
    return [10 * e + j, -j, 0.5];
  }, opts);
  assert.deepEqual(calls, ['0@2', '1@2', '2@2', '4@2']); // only kept items are read
  assert.deepEqual(ds.X.shape, [4, 3]);
  assert.deepEqual(Array.from(ds.X.data), [2, -2, 0.5, 12, -2, 0.5, 22, -2, 0.5, 42, -2, 0.5]);
  assert.deepEqual(Array.from(ds.y), [0, 0, 1, 1]);
  assert.deepEqual(Array.from(ds.layers), [2, 2, 2, 2]);
  assert.deepEqual(Array.from(ds.examples), [0, 1, 2, 4]);
  assert.equal(ds.nClasses, 2);
  assert.equal(ds.J0, 1);
});

test('default minPerLayer = 5: a layer with 5 items per task is kept, with 4 it is dropped', () => {
  const make = (nTask1: number): number[][] => [...Array.from({ length: 6 }, () => [2, 3]), ...Array.from({ length: nTask1 }, () => [1, 3])];
  // Layer 2: task 0 from [2,3] (6 items), task 1 from [1,3] (nTask1 items).
  const kept = balanceProbeItems(make(5), 4, { K: 2, J0: 1 });
  assert.deepEqual(kept.perLayer.find((p) => p.layer === 2), { layer: 2, counts: [6, 5], m: 5, kept: true });
  assert.equal(kept.items.length, 10);
  assert.deepEqual(kept.items.filter((i) => i.task === 0).map((i) => i.example), [0, 1, 2, 3, 4]); // the first 5
  const dropped = balanceProbeItems(make(4), 4, { K: 2, J0: 1 });
  assert.equal(dropped.items.length, 0);
  const empty = constructProbeDataset(make(4), 4, () => [1], { K: 2, J0: 1 });
  assert.deepEqual(empty.X.shape, [0, 0]);
});

test('constructProbeDataset rejects features of inconsistent length', () => {
  const S = Array.from({ length: 5 }, () => [2, 3]).concat(Array.from({ length: 5 }, () => [1, 3]));
  assert.throws(() => constructProbeDataset(S, 4, (e) => new Float32Array(e === 7 ? 2 : 3), { K: 2, J0: 1 }), InvalidArgumentError);
});
