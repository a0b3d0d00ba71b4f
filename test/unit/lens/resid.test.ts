import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { setBackend } from '../../../lib/backend/index.js';
import { loadModel } from '../../../lib/nn/load.js';
import type { HookedGPT2 } from '../../../lib/nn/gpt2.js';
import { accumulatedResid, applyLnToStack, decomposeResid, logitAttrs, stackHeadResults } from '../../../lib/lens/resid.js';
import { processWeights } from '../../../lib/lens/process-weights.js';
import { fixtureDir, readFixture, relError } from '../../helpers/fixtures.js';
import { testBackend } from '../../helpers/backend.js';

async function setup() {
  await setBackend(testBackend('cpu'));
  const { inputs, expected } = await readFixture('gpt2-tiny');
  const model = (await loadModel(fixtureDir('gpt2-tiny'))) as HookedGPT2;
  const ids = inputs.get('input_ids')!;
  const input = tf.tensor(ids.data, ids.shape, 'int32');
  return { model, input, expected, ids: Array.from(ids.data as Int32Array) };
}

/** Max |a − b| / max |b|. */
async function maxRel(a: tf.Tensor, b: tf.Tensor): Promise<number> {
  const [x, y] = [await a.data(), await b.data()];
  assert.equal(x.length, y.length);
  let num = 0;
  let den = 0;
  for (let i = 0; i < x.length; i++) {
    num = Math.max(num, Math.abs(x[i]! - y[i]!));
    den = Math.max(den, Math.abs(y[i]!));
  }
  return num / den;
}

test('accumulatedResid: TL labels and states; applyLn at L then W_U is the fixture logit lens', async () => {
  const { model, input, expected } = await setup();
  void model.W_U; // built lazily and owned by the model: build it before a tf.tidy reads it
  const before = tf.memory().numTensors;
  const { output, cache } = await model.runWithCache(input);
  const acc = accumulatedResid(cache, model);
  assert.deepEqual(acc.labels, ['0_pre', '1_pre', '2_pre', 'final_post']);
  assert.deepEqual(acc.stack.shape, [4, 2, 9, 64]);
  const parts = tf.unstack(acc.stack);
  for (const [i, name] of ['blocks.0.hook_resid_pre', 'blocks.1.hook_resid_pre', 'blocks.2.hook_resid_pre', 'blocks.2.hook_resid_post'].entries()) {
    assert.equal(await maxRel(parts[i]!, cache.get(name)), 0);
  }
  tf.dispose(parts);
  const withMid = accumulatedResid(cache, model, { layer: 1, inclMid: true });
  assert.deepEqual(withMid.labels, ['0_pre', '0_mid', '1_pre']);
  const mlpIn = accumulatedResid(cache, model, { layer: 1, mlpInput: true });
  assert.deepEqual(mlpIn.labels, ['0_pre', '1_pre', '1_mid']);
  const allMid = accumulatedResid(cache, model, { inclMid: true });
  assert.deepEqual(allMid.labels, ['0_pre', '0_mid', '1_pre', '1_mid', '2_pre', '2_mid', 'final_post']);
  // The true logit lens: ln_final with each component's own statistics, then W_U.
  const lensed = accumulatedResid(cache, model, { applyLn: true });
  const logits = tf.tidy(() => tf.reshape(tf.matMul(tf.reshape(lensed.stack, [-1, 64]), model.W_U), [4, 2, 9, 1000]));
  const err = relError(await logits.data(), expected.get('lens.logits')!.data);
  assert.ok(err <= 1e-4, `logit lens via accumulatedResid: rel err ${err}`);
  // posSlice keeps the axis.
  const sliced = accumulatedResid(cache, model, { posSlice: [4, 1] });
  assert.deepEqual(sliced.stack.shape, [4, 2, 2, 64]);
  tf.dispose([withMid.stack, allMid.stack, acc.stack, mlpIn.stack, lensed.stack, logits, sliced.stack, output]);
  cache.dispose();
  assert.equal(tf.memory().numTensors, before);
  input.dispose();
  model.dispose();
});

test('decomposeResid components sum exactly to resid_pre / resid_mid / resid_post', async () => {
  const { model, input } = await setup();
  const before = tf.memory().numTensors;
  const { output, cache } = await model.runWithCache(input);
  for (let layer = 0; layer <= 3; layer++) {
    const dec = decomposeResid(cache, model, { layer });
    assert.equal(dec.labels.length, 2 + 2 * layer);
    const sum = tf.sum(dec.stack, 0);
    const target = layer === 3 ? cache.get('blocks.2.hook_resid_post') : cache.get(`blocks.${layer}.hook_resid_pre`);
    const err = await maxRel(sum, target);
    assert.ok(err <= 1e-5, `layer ${layer}: ${err}`);
    tf.dispose([dec.stack, sum]);
  }
  const full = decomposeResid(cache, model);
  assert.deepEqual(full.labels, ['embed', 'pos_embed', '0_attn_out', '0_mlp_out', '1_attn_out', '1_mlp_out', '2_attn_out', '2_mlp_out']);
  const mid = decomposeResid(cache, model, { layer: 1, mlpInput: true });
  assert.deepEqual(mid.labels, ['embed', 'pos_embed', '0_attn_out', '0_mlp_out', '1_attn_out']);
  const midSum = tf.sum(mid.stack, 0);
  assert.ok((await maxRel(midSum, cache.get('blocks.1.hook_resid_mid'))) <= 1e-5);
  const attn = decomposeResid(cache, model, { mode: 'attn', inclEmbeds: false });
  const mlp = decomposeResid(cache, model, { mode: 'mlp', inclEmbeds: false });
  assert.deepEqual(attn.labels, ['0_attn_out', '1_attn_out', '2_attn_out']);
  assert.deepEqual(mlp.labels, ['0_mlp_out', '1_mlp_out', '2_mlp_out']);
  tf.dispose([full.stack, mid.stack, midSum, attn.stack, mlp.stack, output]);
  cache.dispose();
  assert.equal(tf.memory().numTensors, before);
  input.dispose();
  model.dispose();
});

test('applyLnToStack with the cached scale reproduces each layer norm\'s hook_normalized; recomputeLn is the full final LN', async () => {
  const { model, input } = await setup();
  const before = tf.memory().numTensors;
  const { output, cache } = await model.runWithCache(input);
  const check = async (residName: string, opts: { layer: number; mlpInput?: boolean }, normalizedName: string) => {
    const stack = tf.expandDims(cache.get(residName), 0);
    const got = applyLnToStack(stack, cache, model, opts);
    const want = tf.expandDims(cache.get(normalizedName), 0);
    const err = await maxRel(got, want);
    assert.ok(err <= 1e-5, `${normalizedName}: ${err}`);
    tf.dispose([stack, got, want]);
  };
  await check('blocks.1.hook_resid_pre', { layer: 1 }, 'blocks.1.ln1.hook_normalized');
  await check('blocks.2.hook_resid_mid', { layer: 2, mlpInput: true }, 'blocks.2.ln2.hook_normalized');
  await check('blocks.2.hook_resid_post', { layer: 3 }, 'ln_final.hook_normalized');
  // posSlice slices the cached scale the same way.
  const one = tf.tidy(() => tf.expandDims(tf.gather(cache.get('blocks.0.hook_resid_pre'), [5], 1), 0));
  const got = applyLnToStack(one, cache, model, { layer: 0, posSlice: [5] });
  const want = tf.tidy(() => tf.expandDims(tf.gather(cache.get('blocks.0.ln1.hook_normalized'), [5], 1), 0));
  assert.ok((await maxRel(got, want)) <= 1e-5);
  // recomputeLn at L: (x − mean)/√(var + ε)·w + b per component, written out here from the weights.
  const resid = cache.get('blocks.1.hook_resid_post');
  const residStack = tf.expandDims(resid, 0);
  const rec = applyLnToStack(residStack, cache, model, { recomputeLn: true });
  const manual = tf.tidy(() => {
    const centred = tf.sub(resid, tf.mean(resid, -1, true));
    const scale = tf.sqrt(tf.add(tf.mean(tf.square(centred), -1, true), 1e-5));
    return tf.expandDims(tf.add(tf.mul(tf.div(centred, scale), model.lnFinal.w), model.lnFinal.b), 0);
  });
  assert.ok((await maxRel(rec, manual)) <= 1e-5);
  tf.dispose([one, got, want, residStack, rec, manual, output]);
  cache.dispose();
  assert.equal(tf.memory().numTensors, before);
  input.dispose();
  model.dispose();
});

test('logitAttrs of the decomposed residual sum to the logit (minus b_U) on a processed model; stackHeadResults sums to attn_out', async () => {
  const { model, input, ids } = await setup();
  const processed = processWeights(model);
  // Stacked weights are built lazily and owned by the model: build them before any tf.tidy reads them.
  void processed.W_U;
  void processed.W_O;
  void processed.b_O;
  const before = tf.memory().numTensors;
  const { output, cache } = await processed.runWithCache(input);
  const dec = decomposeResid(cache, processed);
  const tokens = [[...ids.slice(1, 9), 0], [...ids.slice(10, 18), 0]]; // next tokens per position
  const wrong = [7, 8];
  const attrs = logitAttrs(dec.stack, cache, processed, tokens, wrong);
  assert.deepEqual(attrs.shape, [8, 2, 9]);
  const totalT = tf.sum(attrs, 0);
  const total = (await totalT.array()) as number[][];
  totalT.dispose();
  const logits = (await output.array()) as number[][][];
  const bU = processed.b_U.dataSync();
  for (let b = 0; b < 2; b++) {
    for (let p = 0; p < 9; p++) {
      const t = tokens[b]![p]!;
      const w = wrong[b]!;
      const want = logits[b]![p]![t]! - bU[t]! - (logits[b]![p]![w]! - bU[w]!);
      assert.ok(Math.abs(total[b]![p]! - want) <= 1e-4 * Math.max(1, Math.abs(want)), `b ${b} p ${p}: ${total[b]![p]} vs ${want}`);
    }
  }
  // stackHeadResults: per-head results of layer l sum (with b_O) to hook_attn_out.
  const heads = stackHeadResults(cache, processed);
  assert.equal(heads.labels.length, 12);
  assert.equal(heads.labels[5], 'L1H1');
  for (let l = 0; l < 3; l++) {
    const sum = tf.tidy(() => tf.add(tf.sum(tf.slice(heads.stack, [l * 4], [4]), 0), tf.squeeze(tf.slice(processed.b_O, [l], [1]), [0])));
    assert.ok((await maxRel(sum, cache.get(`blocks.${l}.hook_attn_out`))) <= 1e-5);
    sum.dispose();
  }
  // From hook_z when hook_result is not cached: the same stack.
  const zOnly = await processed.runWithCache(input, { namesFilter: (n) => n.endsWith('attn.hook_z') });
  const fromZ = stackHeadResults(zOnly.cache, processed, { layer: 2 });
  const fromResult = stackHeadResults(cache, processed, { layer: 2 });
  assert.ok((await maxRel(fromZ.stack, fromResult.stack)) <= 1e-5);
  tf.dispose([dec.stack, attrs, heads.stack, fromZ.stack, fromResult.stack, zOnly.output, output]);
  zOnly.cache.dispose();
  cache.dispose();
  assert.equal(tf.memory().numTensors, before);
  processed.dispose();
  input.dispose();
  model.dispose();
});
