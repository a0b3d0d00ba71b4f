import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { setBackend } from '../../../lib/backend/index.js';
import { loadModel } from '../../../lib/nn/load.js';
import { residNamesFilter } from '../../../lib/lens/logit-lens.js';
import { join } from 'node:path';
import { fixtureDir, ROOT } from '../../helpers/fixtures.js';
import { testBackend } from '../../helpers/backend.js';

/** Peak backend bytes of `fn` above what was allocated before it (tfjs's own accounting, every backend). */
async function peakOf(fn: () => Promise<tf.Tensor | tf.Tensor[]>): Promise<number> {
  const info = await tf.profile(async () => {
    const out = await fn();
    tf.dispose(out);
    return [] as tf.Tensor[];
  });
  return info.peakBytes;
}

test('without hooks each block runs in its own tidy: the peak holds one block\'s intermediates, the results are the same', async () => {
  await setBackend(testBackend('wasm'));
  for (const [fixture, input] of [
    ['gpt2-tiny', [Array.from({ length: 64 }, (_, i) => (i * 37) % 1000)]],
    ['whisper-tiny', undefined],
  ] as const) {
    const model = await loadModel(fixtureDir(fixture));
    const whisper = fixture === 'whisper-tiny';
    const cfg = (model as unknown as { cfg: { nMels: number; maxSourcePositions: number } }).cfg;
    const feats = whisper ? tf.randomNormal([1, cfg.nMels, 2 * cfg.maxSourcePositions], 0, 1, 'float32', 3) : undefined;
    const run = (whisper ? { inputFeatures: feats!, decoderInputIds: [[1, 2, 3, 4, 5, 6]] } : input) as never;
    // A no-op hook keeps the whole pass in one tidy (hooks may hold tensors for later blocks).
    const noop = [[(name: string) => name.endsWith('hook_resid_pre'), () => undefined]] as never;
    const lm = model as unknown as { forward(i: never, o?: object): Promise<tf.Tensor>; runWithCache(i: never, o?: object): Promise<{ output: tf.Tensor; cache: { dispose(): void; get(n: string): tf.Tensor } }>; runWithHooks(i: never, o: object): Promise<tf.Tensor> };
    (await lm.forward(run)).dispose(); // builds what the model makes once (e.g. the tied unembedding)
    const before = tf.memory().numTensors;
    const blockwisePeak = await peakOf(() => lm.forward(run));
    const wholePeak = await peakOf(() => lm.runWithHooks(run, { fwdHooks: noop }));
    assert.ok(blockwisePeak < 0.75 * wholePeak, `${fixture}: blockwise peak ${blockwisePeak} B vs one-tidy peak ${wholePeak} B`);
    // Same numbers both ways, and the cache survives the per-block scopes.
    const a = await lm.forward(run);
    const b = await lm.runWithHooks(run, { fwdHooks: noop });
    assert.equal(tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]), 0);
    const names = residNamesFilter(model as never);
    const { output, cache } = await lm.runWithCache(run, { namesFilter: names });
    const prefix = whisper ? 'decoder.' : '';
    assert.ok(!cache.get(`${prefix}blocks.0.hook_resid_post`).isDisposed);
    await cache.get(`${prefix}blocks.1.hook_resid_post`).data();
    tf.dispose([a, b, output]);
    cache.dispose();
    assert.equal(tf.memory().numTensors, before, `${fixture}: tensors left behind`);
    feats?.dispose();
    model.dispose();
  }
});

test('without hooks a block\'s output is freed once the next block has read it, and a sub-module\'s intermediates when it returns', async () => {
  await setBackend(testBackend('wasm'));
  const model = await loadModel(join(ROOT, 'weights', 'tiny-gpt2-deep')); // 16 blocks
  const ids = [Array.from({ length: 64 }, (_, i) => (i * 37) % 1000)];
  const lm = model as unknown as { forward(i: number[][], o?: object): Promise<tf.Tensor>; runWithCache(i: number[][], o?: object): Promise<{ output: tf.Tensor; cache: { dispose(): void; get(n: string): tf.Tensor } }> };
  (await lm.forward(ids)).dispose();
  const before = tf.memory().numTensors;
  const residBytes = 64 * 128 * 4;
  // The peak does not grow with depth: 15 blocks hold what 2 blocks hold (without the release, 13 more outputs).
  const peak2 = await peakOf(() => lm.forward(ids, { stopAtLayer: 2 }));
  const peak15 = await peakOf(() => lm.forward(ids, { stopAtLayer: 15 }));
  assert.ok(peak15 - peak2 < 2 * residBytes, `peak at 15 blocks ${peak15} B vs 2 blocks ${peak2} B`);
  // Cached outputs are not freed: every hook_resid_post is readable after the run.
  const { output, cache } = await lm.runWithCache(ids, { namesFilter: (n: string) => n.endsWith('hook_resid_post') || n.endsWith('hook_resid_pre') });
  for (let b = 0; b < 16; b++) {
    assert.equal(cache.get(`blocks.${b}.hook_resid_post`).shape[2], 128);
    await cache.get(`blocks.${b}.hook_resid_pre`).data();
  }
  tf.dispose(output);
  cache.dispose();
  // Inside a block: when the MLP starts, attention's scores, pattern and projections are gone.
  const info = await tf.profile(async () => {
    (await lm.forward(ids, { stopAtLayer: 1 })).dispose();
  });
  const softmax = info.kernels.findIndex((k) => k.name === 'Softmax');
  const mlpFirst = info.kernels.findIndex((k, i) => i > softmax && k.outputShapes[0]?.at(-1) === 512); // [tokens, dMlp]
  assert.ok(softmax >= 0 && mlpFirst > softmax, 'softmax and the MLP ran');
  const atSoftmax = info.kernels[softmax]!.totalBytesSnapshot;
  const atMlp = info.kernels[mlpFirst]!.totalBytesSnapshot;
  assert.ok(atMlp < atSoftmax, `bytes live at the MLP's first kernel ${atMlp} vs after the softmax ${atSoftmax}`);
  assert.equal(tf.memory().numTensors, before, 'tensors left behind');
  model.dispose();
});
