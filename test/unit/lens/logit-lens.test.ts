import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { setBackend } from '../../../lib/backend/index.js';
import { loadModel } from '../../../lib/nn/load.js';
import type { HookedGPT2 } from '../../../lib/nn/gpt2.js';
import { ActivationCache } from '../../../lib/nn/activation-cache.js';
import type { LensModel } from '../../../lib/nn/lens-model.js';
import { logitLens, residNamesFilter } from '../../../lib/lens/logit-lens.js';
import { lensTopK, topKPerLayer, topKTieSafe } from '../../../lib/lens/topk.js';
import { fixtureDir, readFixture, relError } from '../../helpers/fixtures.js';
import { testBackend, testBackends } from '../../helpers/backend.js';

const TOL = 1e-4;

/** Reference top-k of one row: full sort by (value desc, id asc). */
function refTopK(row: ArrayLike<number>, k: number): number[] {
  const idx = Array.from({ length: row.length }, (_, i) => i);
  idx.sort((a, b) => row[b]! - row[a]! || a - b);
  return idx.slice(0, k);
}

for (const backend of testBackends(['cpu', 'wasm'] as const)) {
  test(`logitLens reproduces the fixture lens.logits of gpt2-tiny (${backend})`, async () => {
    await setBackend(backend);
    const { inputs, expected } = await readFixture('gpt2-tiny');
    const model = (await loadModel(fixtureDir('gpt2-tiny'))) as HookedGPT2;
    const ids = inputs.get('input_ids')!;
    const input = tf.tensor(ids.data, ids.shape, 'int32');
    const before = tf.memory().numTensors;
    const { output, cache } = await model.runWithCache(input, { namesFilter: residNamesFilter(model) });
    assert.deepEqual(cache.keys(), ['blocks.0.hook_resid_pre', 'blocks.0.hook_resid_post', 'blocks.1.hook_resid_post', 'blocks.2.hook_resid_post']);
    const lens = logitLens(model, cache);
    const want = expected.get('lens.logits')!;
    assert.deepEqual(lens.shape, want.shape);
    const err = relError(await lens.data(), want.data);
    console.log(`  logit lens vs fixture lens.logits (${backend}): rel err ${err.toExponential(2)}`);
    assert.ok(err <= TOL, `rel err ${err}`);
    // The last lens layer is the model's own output.
    const last = tf.slice(lens, [3], [1]);
    assert.ok(relError(await last.data(), await output.data()) <= 1e-6);
    last.dispose();
    tf.dispose(lens);
    // Layer and position selection are slices of the full lens.
    const some = logitLens(model, cache, { layers: [2, 0], positions: [8, 3] });
    assert.deepEqual(some.shape, [2, 2, 2, 1000]);
    const [V, T] = [1000, 9];
    const full = want.data as Float32Array;
    const got = (await some.data()) as Float32Array;
    for (const [li, l] of [2, 0].entries()) {
      for (let b = 0; b < 2; b++) {
        for (const [pi, p] of [8, 3].entries()) {
          const src = full.subarray(((l * 2 + b) * T + p) * V, ((l * 2 + b) * T + p + 1) * V);
          const dst = got.subarray(((li * 2 + b) * 2 + pi) * V, ((li * 2 + b) * 2 + pi + 1) * V);
          assert.ok(relError(dst, src) <= TOL);
        }
      }
    }
    some.dispose();
    output.dispose();
    cache.dispose();
    assert.equal(tf.memory().numTensors, before, 'logitLens leaked tensors');
    input.dispose();
    model.dispose();
  });
}

test('topKPerLayer and lensTopK equal a full sort of the fixture lens logits (ties → lower id)', async () => {
  await setBackend(testBackend('cpu'));
  const { inputs, expected } = await readFixture('gpt2-tiny');
  const model = (await loadModel(fixtureDir('gpt2-tiny'))) as HookedGPT2;
  const ids = inputs.get('input_ids')!;
  const input = tf.tensor(ids.data, ids.shape, 'int32');
  const before = tf.memory().numTensors;
  const k = 5;
  const lens = expected.get('lens.logits')!.data as Float32Array; // [4, 2, 9, 1000]
  const [V, T, B, L] = [1000, 9, 2, 3];
  const res = await topKPerLayer(model, input, { k });
  assert.deepEqual(res.shape, [L, B, T, k]);
  assert.deepEqual(res.layers, [1, 2, 3]);
  for (let j = 0; j < L; j++) {
    for (let b = 0; b < B; b++) {
      for (let p = 0; p < T; p++) {
        const row = lens.subarray((((j + 1) * B + b) * T + p) * V, (((j + 1) * B + b) * T + p + 1) * V);
        const want = refTopK(row, k);
        const off = ((j * B + b) * T + p) * k;
        assert.deepEqual([...res.ids.subarray(off, off + k)], want, `layer ${j} b ${b} p ${p}`);
        let max = -Infinity;
        for (const v of row) max = Math.max(max, v);
        let sum = 0;
        for (const v of row) sum += Math.exp(v - max);
        for (let r = 0; r < k; r++) {
          const prob = Math.exp(row[want[r]!]! - max) / sum;
          assert.ok(Math.abs(res.probs[off + r]! - prob) <= 1e-5 * Math.max(1, prob), `prob ${res.probs[off + r]} vs ${prob}`);
        }
      }
    }
  }
  // Embedding row, positions, and batch chunking.
  const withEmb = await topKPerLayer(model, input, { k, includeEmbedding: true, positions: [0, 7], batchSize: 1 });
  assert.deepEqual(withEmb.shape, [L + 1, B, 2, k]);
  for (let l = 0; l <= L; l++) {
    for (let b = 0; b < B; b++) {
      for (const [pi, p] of [0, 7].entries()) {
        const row = lens.subarray(((l * B + b) * T + p) * V, ((l * B + b) * T + p + 1) * V);
        const off = ((l * B + b) * 2 + pi) * k;
        assert.deepEqual([...withEmb.ids.subarray(off, off + k)], refTopK(row, k));
      }
    }
  }
  // From a cache: identical numbers.
  const { output, cache } = await model.runWithCache(input, { namesFilter: residNamesFilter(model) });
  const fromCache = await lensTopK(model, cache, { k });
  assert.deepEqual(fromCache.ids, res.ids);
  assert.deepEqual(fromCache.probs, res.probs);
  output.dispose();
  cache.dispose();
  assert.equal(tf.memory().numTensors, before, 'top-k leaked tensors');
  input.dispose();
  model.dispose();
});

test('topKTieSafe breaks exact ties by the lower id, across the k boundary', async () => {
  await setBackend(testBackend('cpu'));
  const before = tf.memory().numTensors;
  const logits = tf.tensor2d([
    [1, 2, 2, 0, 2, 2, 2, -1],
    [0, 0, 0, 0, 0, 0, 0, 0],
    [5, 1, 1, 4, 1, 1, 3, 1],
  ]);
  const { ids, probs } = await topKTieSafe(logits, 3);
  assert.deepEqual([...ids], [1, 2, 4, 0, 1, 2, 0, 3, 6]);
  for (let i = 3; i < 6; i++) assert.ok(Math.abs(probs[i]! - 1 / 8) < 1e-7);
  logits.dispose();
  assert.equal(tf.memory().numTensors, before);
});

test('lensTopK on a CLS model reads position 0 only, and rejects positions', async () => {
  await setBackend(testBackend('cpu'));
  const before = tf.memory().numTensors;
  // A fake 1-block CLS model whose readout is the identity on 4 "classes".
  const model: LensModel = { nLayers: 1, residPrefix: '', lensPositions: 'cls', lensLogits: (r) => tf.clone(r) };
  const h0 = tf.tensor3d([[[0, 3, 3, 1], [9, 9, 9, 9]]]);
  const h1 = tf.tensor3d([[[2, 2, 2, 2], [0, 0, 0, 9]]]);
  const cache = new ActivationCache(new Map([['blocks.0.hook_resid_pre', h0], ['blocks.0.hook_resid_post', h1]]));
  const res = await lensTopK(model, cache, { k: 2, includeEmbedding: true });
  assert.deepEqual(res.shape, [2, 1, 1, 2]);
  assert.deepEqual([...res.ids], [1, 2, 0, 1]);
  const lens = logitLens(model, cache);
  assert.deepEqual(lens.shape, [2, 1, 4]);
  lens.dispose();
  assert.throws(() => logitLens(model, cache, { positions: [1] }), /CLS/);
  cache.dispose();
  assert.equal(tf.memory().numTensors, before);
});
