import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  filterBySaturation, saturationFilterMax, saturationKeepMask, saturationLayers, saturationLayersBatch, top1SaturationLayer,
} from '../../../lib/lens/saturation.js';
import { ShapeMismatchError } from '../../../lib/errors.js';
import { hostArray } from '../../../lib/math/host-array.js';

// L = 4 layers (j = 0..3 meaning h_1..h_4), k = 3 ranks.
const table = [
  [5, 7, 9],
  [5, 8, 9],
  [6, 7, 9],
  [5, 7, 9],
];

test('saturation layers of a hand-made rank table', () => {
  // rank 0: final 5, last differing layer j = 2 → s_0 = 3 = L−1 (decided at the last layer)
  // rank 1: final 7, last differing layer j = 1 → s_1 = 2
  // rank 2: 9 at every layer → 0 by default
  assert.deepEqual(saturationLayers(table), [3, 2, 0]);
});

test('all-agree quirk returns L for constant ranks (top-k routine of the original)', () => {
  assert.deepEqual(saturationLayers(table, { quirkAllAgreeIsL: true }), [3, 2, 4]);
  const constant = [[1, 2], [1, 2], [1, 2]];
  assert.deepEqual(saturationLayers(constant), [0, 0]);
  assert.deepEqual(saturationLayers(constant, { quirkAllAgreeIsL: true }), [3, 3]);
});

test('a token that appears, leaves and returns saturates after its last departure', () => {
  const ranks = [[1], [2], [1], [2], [1], [1]];
  assert.deepEqual(saturationLayers(ranks), [4]);
  assert.equal(top1SaturationLayer(ranks), 4);
});

test('top-1 routine: all-agree → 0, accepts [L] or [L][k]', () => {
  assert.equal(top1SaturationLayer([[3, 1], [3, 2], [3, 0]]), 0);
  assert.equal(top1SaturationLayer([4, 3, 3]), 1);
  assert.equal(top1SaturationLayer(table), 3);
});

test('batch form equals the per-example routine', () => {
  const second = [
    [1, 2, 3],
    [1, 2, 4],
    [1, 3, 4],
    [1, 3, 4],
  ];
  const flat = Int32Array.from([...table.flat(), ...second.flat()]);
  const out = saturationLayersBatch(flat, [2, 4, 3]);
  assert.deepEqual(out.shape, [2, 3]);
  assert.deepEqual([...out.data], [...saturationLayers(table), ...saturationLayers(second)]);
  const quirk = saturationLayersBatch(flat, [2, 4, 3], { quirkAllAgreeIsL: true });
  assert.deepEqual([...quirk.data], [...saturationLayers(table, { quirkAllAgreeIsL: true }), ...saturationLayers(second, { quirkAllAgreeIsL: true })]);
  assert.deepEqual(saturationLayers(second, { quirkAllAgreeIsL: true }), [4, 2, 1]);
  assert.throws(() => saturationLayersBatch(flat, [3, 4, 3]), ShapeMismatchError);
});

test('0.85 filter: thresholds of the paper models and the keep rule', () => {
  assert.equal(saturationFilterMax(48), 40); // GPT2-XL
  assert.equal(saturationFilterMax(24), 20); // ViT-L/16
  assert.equal(saturationFilterMax(32), 27); // Whisper-large decoder
  assert.equal(saturationFilterMax(20), 17); // 0.85·20 = 16.999… in floating point
  const S = [[40, 1], [41, 0], [0, 47], [47, 2]];
  const res = filterBySaturation(S, 48);
  assert.deepEqual(res.indices, [0, 2]);
  assert.deepEqual(res.kept, [[40, 1], [0, 47]]);
  assert.equal(res.maxS0, 40);
  assert.deepEqual([...saturationKeepMask(hostArray(Int32Array.from(S.flat()), [4, 2]), 48)], [1, 0, 1, 0]);
  assert.throws(() => saturationKeepMask(Int32Array.from(S.flat()) as never, 48), ShapeMismatchError);
  assert.deepEqual(filterBySaturation(S, 48, { fraction: 1 }).indices, [0, 1, 2, 3]);
});
