/**
 * The main paths never leave the tier's backend: a forward with every hook cached, the logit lens, a patching
 * run and a training step (gradients of the LM loss for every weight) call no CPU-bridged kernel
 * (kernel-patches/cpu-bridge.ts) on wasm (default tier) or tensorflow (tensorflow tier).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs'; // registers the gradients (as weights/train/train.ts does)
import { setBackend } from '../../lib/backend/index.js';
import { cpuBridgeCalls } from '../../lib/backend/kernel-patches/cpu-bridge.js';
import { HookedGPT2 } from '../../lib/nn/gpt2.js';
import { randomGpt2Weights } from '../../lib/io/convert/random.js';
import type { GPT2Weights } from '../../lib/io/convert/gpt2.js';
import type { GPT2Config } from '../../lib/io/config/gpt2.js';
import { logitLens } from '../../lib/lens/logit-lens.js';
import { testBackend } from '../helpers/backend.js';

const CFG: GPT2Config = {
  modelType: 'gpt2', nLayers: 2, dModel: 32, nHeads: 4, dHead: 8, dMlp: 128, nCtx: 16, dVocab: 50,
  eps: 1e-5, act: 'gelu_new', scaleAttnWeights: true, scaleAttnByInverseLayerIdx: false, tieWordEmbeddings: true,
  bosTokenId: 0, eosTokenId: 0,
};

/** Every tensor of a weight tree replaced by a trainable variable (the tensors are disposed). */
function asVariables<T>(tree: T): T {
  if (tree instanceof tf.Tensor) {
    const v = tf.variable(tree, true);
    tree.dispose();
    return v as unknown as T;
  }
  if (Array.isArray(tree)) return tree.map((x) => asVariables(x)) as unknown as T;
  if (tree && typeof tree === 'object') return Object.fromEntries(Object.entries(tree).map(([k, v]) => [k, asVariables(v)])) as T;
  return tree;
}

test('forward + full cache, logit lens, patching and a training step call no CPU-bridged kernel', async (t) => {
  const backend = testBackend('wasm');
  await setBackend(backend);
  const weights = asVariables(randomGpt2Weights(CFG, 7) as GPT2Weights);
  const model = new HookedGPT2(CFG, weights);
  const ids = [[1, 5, 9, 2, 7, 3, 8, 4], [2, 6, 1, 9, 4, 4, 3, 1]];
  cpuBridgeCalls(true);
  const { output, cache } = await model.runWithCache(ids);
  const lens = logitLens(model, cache);
  const patched = await model.runWithHooks(ids, { fwdHooks: [['blocks.1.hook_mlp_out', (act: tf.Tensor) => tf.zerosLike(act)]] });
  const { value, grads } = tf.variableGrads(() => tf.tidy(() => {
    const logits = tf.reshape(model.forwardIds(tf.tensor2d(ids, undefined, 'int32')), [-1, CFG.dVocab]);
    const targets = tf.oneHot(tf.tensor1d(ids.flat().map((x) => (x + 1) % CFG.dVocab), 'int32'), CFG.dVocab);
    return tf.neg(tf.mean(tf.sum(tf.mul(tf.logSoftmax(logits), targets), 1))) as tf.Scalar;
  }));
  const calls = cpuBridgeCalls(true);
  t.diagnostic(`${backend}: ${Object.keys(grads).length} gradients, loss ${(await value.data())[0]!.toFixed(3)}, bridge calls ${JSON.stringify(calls)}`);
  assert.ok(Object.keys(grads).length >= 20, 'a gradient for every weight');
  assert.deepEqual(calls, {}, 'no kernel ran through the CPU bridge');
  tf.dispose([output, lens, patched, value, ...Object.values(grads)]);
  cache.dispose();
  model.dispose();
});
