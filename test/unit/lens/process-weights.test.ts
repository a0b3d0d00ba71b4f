import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { setBackend } from '../../../lib/backend/index.js';
import { loadModel } from '../../../lib/nn/load.js';
import type { HookedGPT2 } from '../../../lib/nn/gpt2.js';
import { processWeights } from '../../../lib/lens/process-weights.js';
import { fixtureDir, readFixture, relError } from '../../helpers/fixtures.js';
import { testBackend } from '../../helpers/backend.js';

/** Max |mean over the last axis| relative to the RMS of the tensor. */
function relMeanOverLast(t: tf.Tensor): number {
  return tf.tidy(() => {
    const maxMean = tf.max(tf.abs(tf.mean(t, -1))).dataSync()[0]!;
    const rms = Math.sqrt(tf.mean(tf.square(t)).dataSync()[0]!);
    return rms === 0 ? maxMean : maxMean / rms;
  });
}

test('processWeights keeps log-probs, q/k/scores/pattern/mlp/scales; centres every residual writer and the residual stream', async () => {
  await setBackend(testBackend('cpu'));
  const { inputs } = await readFixture('gpt2-tiny');
  const model = (await loadModel(fixtureDir('gpt2-tiny'))) as HookedGPT2;
  const ids = inputs.get('input_ids')!;
  const input = tf.tensor(ids.data, ids.shape, 'int32');
  void model.W_U; // built lazily and owned by the model; processWeights reads it
  void model.b_U;
  const before = tf.memory().numTensors;
  const processed = processWeights(model);
  const orig = await model.runWithCache(input);
  const proc = await processed.runWithCache(input);

  // Log-probs unchanged; logits move by one constant per position.
  const [lpO, lpP, spread] = tf.tidy(() => {
    const diff = tf.sub(proc.output, orig.output);
    const centred = tf.sub(diff, tf.mean(diff, -1, true));
    return [tf.logSoftmax(orig.output), tf.logSoftmax(proc.output), tf.max(tf.abs(centred))];
  });
  const lpErr = relError(await lpP!.data(), await lpO!.data());
  assert.ok(lpErr < 1e-5, `log-prob rel err ${lpErr}`);
  assert.ok(spread!.dataSync()[0]! < 1e-3, `logit shift is not constant per position: spread ${spread!.dataSync()[0]}`);
  tf.dispose([lpO!, lpP!, spread!]);

  // Hooks that TransformerLens leaves unchanged.
  const unchanged = orig.cache.keys().filter((n) => /attn\.hook_(q|k|attn_scores|pattern)$|mlp\.hook_(pre|post)$|hook_scale$/.test(n));
  assert.equal(unchanged.length, 3 * 8 + 1);
  for (const name of unchanged) {
    const err = relError(await proc.cache.get(name).data(), await orig.cache.get(name).data());
    assert.ok(err < 1e-5, `${name} changed: rel err ${err}`);
  }
  // The layer-norm outputs before gain/bias are unchanged too (the scale and the centring are).
  assert.ok(relError(await proc.cache.get('blocks.1.ln2.hook_normalized').data(), await orig.cache.get('blocks.1.ln2.hook_normalized').data()) < 1e-5);
  // The value bias moved: hook_v differs, hook_attn_out differs only by its mean over d.
  assert.ok(relError(await proc.cache.get('blocks.0.attn.hook_v').data(), await orig.cache.get('blocks.0.attn.hook_v').data()) > 1e-3);
  const attnOutCentred = tf.tidy(() => tf.sub(orig.cache.get('blocks.2.hook_attn_out'), tf.mean(orig.cache.get('blocks.2.hook_attn_out'), -1, true)));
  assert.ok(relError(await proc.cache.get('blocks.2.hook_attn_out').data(), await attnOutCentred.data()) < 1e-5);
  attnOutCentred.dispose();

  // Residual-stream hooks have zero mean over dModel.
  for (const name of proc.cache.keys().filter((n) => /hook_(embed|pos_embed|resid_pre|resid_mid|resid_post|attn_out|mlp_out)$/.test(n))) {
    const m = relMeanOverLast(proc.cache.get(name));
    assert.ok(m < 1e-5, `${name} has mean ${m} over d`);
  }
  // Writing weights are centred over dModel; W_U over the vocabulary; b_V is folded away.
  for (const [name, w] of [['W_E', processed.W_E], ['W_pos', processed.W_pos], ['W_O', processed.W_O], ['b_O', processed.b_O], ['W_out', processed.W_out], ['b_out', processed.b_out]] as const) {
    const m = relMeanOverLast(w);
    assert.ok(m < 1e-6, `${name} mean over d ${m}`);
  }
  assert.ok(relMeanOverLast(processed.W_U) < 1e-6);
  assert.equal(tf.tidy(() => tf.max(tf.abs(processed.b_V)).dataSync()[0]!), 0);
  assert.ok(Math.abs(tf.tidy(() => tf.mean(processed.b_U).dataSync()[0]!)) < 1e-6);
  // ln_final is parameter-free after folding.
  assert.deepEqual([...processed.lnFinal.w.dataSync()].every((v) => v === 1), true);

  orig.output.dispose();
  orig.cache.dispose();
  proc.output.dispose();
  proc.cache.dispose();
  processed.dispose();
  assert.equal(tf.memory().numTensors, before, 'processWeights leaked tensors');
  input.dispose();
  model.dispose();
});

test('processWeights with every step off reproduces the original logits; single steps keep log-probs', async () => {
  await setBackend(testBackend('cpu'));
  const { inputs } = await readFixture('gpt2-tiny');
  const model = (await loadModel(fixtureDir('gpt2-tiny'))) as HookedGPT2;
  const ids = inputs.get('input_ids')!;
  const input = tf.tensor(ids.data, ids.shape, 'int32');
  void model.W_U;
  void model.b_U;
  const before = tf.memory().numTensors;
  const logits = await model.forward(input);
  const none = processWeights(model, { foldLn: false, centerWritingWeights: false, centerUnembed: false, foldValueBiases: false });
  const same = await none.forward(input);
  assert.ok(relError(await same.data(), await logits.data()) < 1e-6);
  none.dispose();
  same.dispose();
  const lpRef = tf.logSoftmax(logits);
  for (const step of ['foldLn', 'centerWritingWeights', 'centerUnembed', 'foldValueBiases'] as const) {
    const only = processWeights(model, { foldLn: false, centerWritingWeights: false, centerUnembed: false, foldValueBiases: false, [step]: true });
    const out = await only.forward(input);
    const lp = tf.logSoftmax(out);
    const err = relError(await lp.data(), await lpRef.data());
    assert.ok(err < 1e-5, `${step}: log-prob rel err ${err}`);
    tf.dispose([out, lp]);
    only.dispose();
  }
  tf.dispose([logits, lpRef]);
  assert.equal(tf.memory().numTensors, before);
  input.dispose();
  model.dispose();
});
