import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { setBackend } from '../../../lib/backend/index.js';
import { loadModel } from '../../../lib/nn/load.js';
import type { HookedGPT2 } from '../../../lib/nn/gpt2.js';
import { ablateScan, ablationHook } from '../../../lib/lens/ablation.js';
import { createRng } from '../../../lib/math/rng.js';
import { logitDiffMetric, meanLogProbMetric } from '../../../lib/lens/metrics.js';
import { fixtureDir, readFixture, relError } from '../../helpers/fixtures.js';
import { testBackend } from '../../helpers/backend.js';

async function setup() {
  await setBackend(testBackend('cpu'));
  const { inputs } = await readFixture('gpt2-tiny');
  const model = (await loadModel(fixtureDir('gpt2-tiny'))) as HookedGPT2;
  const ids = Array.from(inputs.get('input_ids')!.data as Int32Array);
  return { model, tokens: [ids.slice(0, 9), ids.slice(9, 18)] };
}

test('zero-ablating a head equals subtracting its cached per-head result from attn_out, at every layer', async () => {
  const { model, tokens } = await setup();
  const before = tf.memory().numTensors;
  const { output, cache } = await model.runWithCache(tokens, { namesFilter: (n) => n.endsWith('attn.hook_result') || n.endsWith('hook_attn_out') });
  for (let layer = 0; layer < 3; layer++) {
    for (const head of [0, 3]) {
      const ablated = await model.runWithHooks(tokens, { fwdHooks: [[`blocks.${layer}.attn.hook_z`, ablationHook('zero', { head })]] });
      const manualAttnOut = tf.tidy(() => {
        const result = cache.get(`blocks.${layer}.attn.hook_result`); // [b, pos, H, d]
        const headResult = tf.squeeze(tf.slice(result, [0, 0, head, 0], [-1, -1, 1, -1]), [2]);
        return tf.sub(cache.get(`blocks.${layer}.hook_attn_out`), headResult);
      });
      const manual = await model.runWithHooks(tokens, { fwdHooks: [[`blocks.${layer}.hook_attn_out`, () => manualAttnOut]] });
      const err = relError(await ablated.data(), await manual.data());
      assert.ok(err < 1e-5, `L${layer}H${head}: rel err ${err}`);
      assert.ok(relError(await ablated.data(), await output.data()) > 1e-4, 'the ablation should change the logits');
      tf.dispose([ablated, manualAttnOut, manual]);
    }
  }
  output.dispose();
  cache.dispose();
  assert.equal(tf.memory().numTensors, before);
  model.dispose();
});

test('mean and resample ablation replace the slice by the batch mean / the other items, positions are respected', async () => {
  const { model, tokens } = await setup();
  const before = tf.memory().numTensors;
  const name = 'blocks.1.hook_mlp_out';
  const run = await model.runWithCache(tokens, { namesFilter: name });
  const act = run.cache.get(name); // [2, 9, 64]
  const check = async (hookFn: ReturnType<typeof ablationHook>, replacement: tf.Tensor) => {
    const got = await model.runWithHooks(tokens, { fwdHooks: [[name, hookFn]] });
    const want = await model.runWithHooks(tokens, { fwdHooks: [[name, () => replacement]] });
    assert.deepEqual(await got.data(), await want.data());
    tf.dispose([got, want, replacement]);
  };
  // Mean over the batch, positions 2 and 5 only.
  await check(ablationHook('mean', { positions: [2, 5] }), tf.tidy(() => {
    const mean = tf.broadcastTo(tf.mean(act, 0, true), act.shape);
    const mask = tf.broadcastTo(tf.reshape(tf.tensor1d([0, 0, 1, 0, 0, 1, 0, 0, 0].map(Boolean), 'bool'), [1, 9, 1]), act.shape);
    return tf.where(mask, mean, act);
  }));
  // Mean over positions and batch together.
  await check(ablationHook('mean', { meanOver: 'both' }), tf.tidy(() => tf.broadcastTo(tf.mean(act, [0, 1], true), act.shape)));
  // Resample without a source: item b gets item (b + 1) mod batch.
  await check(ablationHook('resample'), tf.tidy(() => tf.reverse(act, 0)));
  // Resample with a seed: the rng's permutation.
  const perm = [...createRng(9).permutation(2)];
  await check(ablationHook('resample', { seed: 9 }), tf.tidy(() => tf.gather(act, perm, 0)));
  // Zero-ablating positions ≥ 4 leaves the logits at positions < 4 untouched (causal).
  const later = await model.runWithHooks(tokens, { fwdHooks: [[name, ablationHook('zero', { positions: [4, 5, 6, 7, 8] })]] });
  const early = tf.slice(later, [0, 0, 0], [-1, 4, -1]);
  const earlyRef = tf.slice(run.output, [0, 0, 0], [-1, 4, -1]);
  assert.deepEqual(await early.data(), await earlyRef.data());
  assert.throws(() => ablationHook('zero', { head: 1, heads: [2] }), /head or heads/);
  tf.dispose([later, early, earlyRef, run.output]);
  run.cache.dispose();
  assert.equal(tf.memory().numTensors, before);
  model.dispose();
});

test('ablateScan: per-head values equal single ablation runs; zeroing a head\'s pattern equals zeroing its z', async () => {
  const { model, tokens } = await setup();
  const before = tf.memory().numTensors;
  const metric = meanLogProbMetric(tokens);
  const byZ = await ablateScan(model, tokens, { hook: 'z', metric });
  assert.deepEqual(byZ.shape, [3, 4]);
  const plain = await model.forward(tokens);
  assert.equal(byZ.baselineMetric, await metric(plain));
  plain.dispose();
  for (const [l, h] of [[0, 2], [2, 1]] as const) {
    const out = await model.runWithHooks(tokens, { fwdHooks: [[`blocks.${l}.attn.hook_z`, ablationHook('zero', { head: h })]] });
    assert.equal(byZ.values[l * 4 + h], await metric(out));
    out.dispose();
  }
  const byPattern = await ablateScan(model, tokens, { hook: 'pattern', metric });
  for (let i = 0; i < 12; i++) assert.ok(Math.abs(byPattern.values[i]! - byZ.values[i]!) < 1e-5, `head ${i}`);
  // Per position on the residual stream, mean ablation over positions.
  const byPos = await ablateScan(model, tokens, { hook: 'resid_post', kind: 'mean', meanOver: 'pos', metric: logitDiffMetric(1, 2), layers: [1] });
  assert.deepEqual(byPos.shape, [1, 9]);
  assert.deepEqual(byPos.layers, [1]);
  const byHeadPos = await ablateScan(model, tokens, { hook: 'v', by: 'head_pos', metric, layers: [0], positions: [0, 8], heads: [1] });
  assert.deepEqual(byHeadPos.shape, [1, 2, 1]);
  assert.equal(tf.memory().numTensors, before);
  model.dispose();
});
