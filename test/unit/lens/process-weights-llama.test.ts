/**
 * processLlamaWeights: folding the RMS gains, centring the unembedding and folding the value biases (Qwen2) leave
 * the log-probabilities and the hooks TransformerLens leaves unchanged (q/k, rotated q/k, scores, pattern, MLP
 * hooks, norm scales) within 1e-5; the norms' gains become 1 and W_U's rows have mean 0; what is not exact
 * for RMS norms is refused.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { setBackend } from '../../../lib/backend/index.js';
import { loadModel } from '../../../lib/nn/load.js';
import { HookedLlama } from '../../../lib/nn/llama.js';
import { processLlamaWeights } from '../../../lib/lens/process-weights-llama.js';
import { InvalidArgumentError } from '../../../lib/errors.js';
import { fixtureDir, relError } from '../../helpers/fixtures.js';
import { testBackend } from '../../helpers/backend.js';

const IDS = [[5, 17, 100, 2, 9, 41, 200], [1, 2, 3, 4, 5, 6, 7]];
const UNCHANGED = /attn\.hook_(q|k|rot_q|rot_k|attn_scores|pattern)$|mlp\.hook_(pre|pre_linear|post)$|hook_scale$|hook_normalized$/;

before(async () => {
  await setBackend(testBackend('wasm'));
});

for (const name of ['llama-tiny', 'qwen2-tiny']) {
  test(`${name}: processed weights keep log-probs and the unchanged hooks; gains are 1, W_U is centred`, async () => {
    const model = await loadModel(fixtureDir(name));
    assert.ok(model instanceof HookedLlama);
    void [model.W_U, model.b_U]; // built lazily and owned by the model (freed with it)
    const before = tf.memory().numTensors;
    const processed = processLlamaWeights(model);
    const a = await model.runWithCache(IDS, { namesFilter: (n) => UNCHANGED.test(n) });
    const b = await processed.runWithCache(IDS, { namesFilter: (n) => UNCHANGED.test(n) });
    const [la, lb] = tf.tidy(() => [tf.logSoftmax(a.output), tf.logSoftmax(b.output)]);
    assert.ok(relError(await lb!.data(), await la!.data()) < 1e-5);
    // The logits themselves moved (centred unembedding): the comparison above is not vacuous.
    assert.ok(relError(await b.output.data(), await a.output.data()) > 1e-4);
    const keys = a.cache.keys();
    assert.ok(keys.length >= 13 * model.nLayers);
    for (const key of keys) {
      const err = relError(await b.cache.get(key).data(), await a.cache.get(key).data());
      assert.ok(err < 1e-5, `${key} ${err}`);
    }
    const rowMean = tf.tidy(() => tf.max(tf.abs(tf.mean(processed.W_U, 1))).dataSync()[0]!);
    assert.ok(rowMean < 1e-6, `W_U row mean ${rowMean}`);
    assert.deepEqual(Array.from(await processed.blocks[0]!.ln2.w.data()).every((v) => v === 1), true);
    if (name === 'qwen2-tiny') assert.equal(processed.blocks[0]!.attn.b_V, undefined);
    tf.dispose([a.output, b.output, la!, lb!]);
    a.cache.dispose();
    b.cache.dispose();
    processed.dispose();
    assert.equal(tf.memory().numTensors, before, 'processing leaked tensors');
    assert.throws(() => processLlamaWeights(model, { centerWritingWeights: true as unknown as false }), InvalidArgumentError);
    model.dispose();
  });
}
