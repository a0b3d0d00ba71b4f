import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { setBackend } from '../../../lib/backend/index.js';
import { loadModel } from '../../../lib/nn/load.js';
import { HookedViT } from '../../../lib/nn/vit.js';
import { InputChunks, rankTable, topKPerLayer } from '../../../lib/lens/topk.js';
import { InvalidArgumentError } from '../../../lib/errors.js';
import { createRng } from '../../../lib/math/rng.js';
import { fixtureDir } from '../../helpers/fixtures.js';
import { testBackend } from '../../helpers/backend.js';

let vit: HookedViT;

before(async () => {
  await setBackend(testBackend('cpu'));
  const m = await loadModel(fixtureDir('vit-tiny'));
  assert.ok(m instanceof HookedViT);
  vit = m;
});

after(() => vit.dispose());

test('topKPerLayer over InputChunks (made on demand, owned tensors freed) equals one pass over the whole batch', async () => {
  const rng = createRng(9);
  const values = Float32Array.from({ length: 5 * 3 * 32 * 32 }, () => rng.uniform() * 2 - 1);
  const pixels = tf.tensor4d(values, [5, 3, 32, 32]);
  const before = tf.memory().numTensors;
  const whole = await topKPerLayer(vit, pixels, { k: 4 });
  const made: number[] = [];
  const bounds = [[0, 2], [2, 4], [4, 5]] as const;
  const chunks = new InputChunks<tf.Tensor>(bounds.length, (i) => {
    made.push(i);
    const [from, to] = bounds[i]!;
    const t = tf.slice(pixels, [from], [to - from]);
    return { chunk: t, owned: t };
  });
  const chunked = await topKPerLayer(vit, chunks, { k: 4 });
  assert.deepEqual(made, [0, 1, 2]);
  assert.deepEqual(chunked.shape, whole.shape);
  assert.deepEqual(chunked.ids, whole.ids);
  for (let b = 0; b < 5; b++) assert.deepEqual(rankTable(chunked, b, 0), rankTable(whole, b, 0));
  assert.equal(tf.memory().numTensors, before, 'chunks were not freed');
  await assert.rejects(topKPerLayer(vit, chunks, { k: 4, batchSize: 2 }), InvalidArgumentError);
  assert.throws(() => rankTable(whole, 5, 0), /\(row 5, position 0\) is outside the result's \[5, 1\]/);
  assert.throws(() => new InputChunks(-1, () => ({ chunk: pixels })), /count must be an integer ≥ 0/);
  pixels.dispose();
});
