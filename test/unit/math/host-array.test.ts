import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { setBackend } from '../../../lib/backend/index.js';
import { hostArray, isHostArray, toHostArray } from '../../../lib/math/host-array.js';
import { r2Score } from '../../../lib/linreg/r2.js';
import { saturationLayers, saturationLayersBatch } from '../../../lib/lens/saturation.js';
import { InvalidArgumentError, ShapeMismatchError } from '../../../lib/errors.js';
import { fitLinearMap } from '../../../lib/linreg/fit.js';
import { fitStandardScaler } from '../../../lib/probes/scaler.js';
import { kMeans } from '../../../lib/probes/kmeans.js';
import { testBackend } from '../../helpers/backend.js';

test('HostArray: one { data, shape } type; tensors, nested arrays and contiguous ndarray-like views convert to it', async () => {
  await setBackend(testBackend('cpu'));
  const h = hostArray(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3] as const);
  assert.ok(isHostArray(h));
  assert.throws(() => hostArray(new Float32Array(5), [2, 3]), ShapeMismatchError);
  assert.equal(toHostArray(h), h);
  const t = tf.tensor2d([[1, 2, 3], [4, 5, 6]]);
  assert.deepEqual(Array.from(toHostArray(t).data), [1, 2, 3, 4, 5, 6]);
  t.dispose();
  assert.deepEqual(toHostArray([[1, 2], [3, 4], [5, 6]]).shape, [3, 2]);
  assert.throws(() => toHostArray([[1, 2], [3]]), ShapeMismatchError);
  assert.throws(() => toHostArray(h, { rank: 3 }), ShapeMismatchError);
  // An ndarray-like object: contiguous is read as is, a transposed view is refused.
  const nd = { data: new Float64Array([1, 2, 3, 4]), shape: [2, 2], stride: [2, 1], offset: 0 };
  assert.equal(toHostArray(nd), nd);
  const transposed = { ...nd, stride: [1, 2] };
  assert.throws(() => toHostArray(transposed), InvalidArgumentError);
});

test('functions taking matrices accept host arrays, tensors and nested arrays alike (r2Score, saturation)', async () => {
  await setBackend(testBackend('cpu'));
  const yTrue = [[1, 2], [2, 1], [3, 5]];
  const yPred = [[1.1, 2], [2, 1.2], [2.9, 4.5]];
  const flat = r2Score(yTrue.flat(), yPred.flat(), [3, 2]);
  const nested = r2Score(yTrue, yPred);
  const t = tf.tensor2d(yTrue);
  const fromTensor = r2Score(t, hostArray(Float64Array.from(yPred.flat()), [3, 2]));
  assert.equal(nested, flat);
  assert.equal(fromTensor, flat);
  assert.deepEqual(Array.from(r2Score(yTrue, yPred, { multioutput: 'raw_values' })), Array.from(r2Score(yTrue.flat(), yPred.flat(), [3, 2], { multioutput: 'raw_values' })));
  assert.throws(() => r2Score(yTrue, [[1, 2]]), ShapeMismatchError);
  t.dispose();
  const ranks = [[5, 6], [7, 6], [7, 8]]; // [L = 3, k = 2]
  const batch = Int32Array.from([...ranks.flat(), ...ranks.flat()]);
  const old = saturationLayersBatch(batch, [2, 3, 2]).data;
  assert.deepEqual(Array.from(saturationLayersBatch(hostArray(batch, [2, 3, 2])).data), Array.from(old));
  const rt = tf.tensor3d(batch, [2, 3, 2], 'int32');
  assert.deepEqual(Array.from(saturationLayersBatch(rt).data), Array.from(old));
  rt.dispose();
  assert.deepEqual(saturationLayers(hostArray(Int32Array.from(ranks.flat()), [3, 2])), saturationLayers(ranks));
});

test('matrix functions (fitLinearMap, probes) take host matrices, float32 tensors and nested rows alike', async () => {
  await setBackend(testBackend('cpu'));
  const rows = [[1, 0], [0, 1], [1, 1], [2, 1]];
  const targets = rows.map(([a, b]) => [2 * a! - b!]);
  const host = { data: Float64Array.from(rows.flat()), shape: [4, 2] as const };
  const fromHost = await fitLinearMap(host, { data: Float64Array.from(targets.flat()), shape: [4, 1] as const });
  const fromNested = await fitLinearMap(rows, targets);
  assert.deepEqual(Array.from(fromNested.weight), Array.from(fromHost.weight));
  const t = tf.tensor2d(rows);
  const a = fitStandardScaler(t);
  const b = fitStandardScaler(rows);
  assert.deepEqual([Array.from(a.mean), Array.from(a.scale)], [Array.from(b.mean), Array.from(b.scale)]);
  assert.deepEqual(kMeans(t, 2, { seed: 1 }).labels, kMeans(host, 2, { seed: 1 }).labels);
  t.dispose();
});
