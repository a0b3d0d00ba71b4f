import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { setBackend } from '../../../lib/backend/index.js';
import { loadModel } from '../../../lib/nn/load.js';
import type { HookedGPT2 } from '../../../lib/nn/gpt2.js';
import { normalizedMetric, patchHeadPattern, patchHeadZ, patchHook, patchResidPre, patchScan, patchMlpOut } from '../../../lib/lens/patching.js';
import { logitDiffMetric } from '../../../lib/lens/metrics.js';
import { fixtureDir, readFixture } from '../../helpers/fixtures.js';
import { testBackend } from '../../helpers/backend.js';

const SWAP_POS = 3;

async function setup() {
  await setBackend(testBackend('cpu'));
  const { inputs } = await readFixture('gpt2-tiny');
  const model = (await loadModel(fixtureDir('gpt2-tiny'))) as HookedGPT2;
  const ids = Array.from(inputs.get('input_ids')!.data as Int32Array);
  const clean = [ids.slice(0, 9), ids.slice(9, 18)];
  const corrupted = clean.map((row) => row.map((t, p) => (p === SWAP_POS ? (t + 500) % 1000 : t)));
  // Stacked weights are built lazily and owned by the model: build them before anything counts tensors.
  for (const w of [model.W_O, model.W_in, model.W_out, model.b_in, model.b_out, model.b_O, model.W_U]) void w;
  return { model, clean, corrupted };
}

/** GELU (tanh approximation), written out. */
function gelu(x: tf.Tensor): tf.Tensor {
  return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.tanh(tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3)))))));
}

function layerNorm(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const centred = tf.sub(x, tf.mean(x, -1, true));
  return tf.add(tf.mul(tf.div(centred, tf.sqrt(tf.add(tf.mean(tf.square(centred), -1, true), 1e-5))), w), b);
}

/**
 * The last block and the readout from first principles: given resid_pre of block L−1 and its z
 * `[batch, pos, H, dh]`, returns the logits.
 */
function lastBlockLogits(model: HookedGPT2, residPre: tf.Tensor, z: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const l = model.nLayers - 1;
    const [batch, pos, H, dh] = z.shape as [number, number, number, number];
    const W_O = tf.reshape(tf.slice(model.W_O, [l], [1]), [H * dh, -1]);
    const b_O = tf.reshape(tf.slice(model.b_O, [l], [1]), [-1]);
    const attnOut = tf.add(tf.reshape(tf.matMul(tf.reshape(z, [batch * pos, H * dh]), W_O), [batch, pos, -1]), b_O);
    const residMid = tf.add(residPre, attnOut);
    const block = model.blocks[l]!;
    const mlpIn = layerNorm(residMid, block.ln2.w, block.ln2.b);
    const pre = tf.add(tf.matMul(tf.reshape(mlpIn, [batch * pos, -1]), tf.reshape(tf.slice(model.W_in, [l], [1]), [mlpIn.shape[2]!, -1])), tf.reshape(tf.slice(model.b_in, [l], [1]), [-1]));
    const mlpOut = tf.add(tf.matMul(gelu(pre), tf.reshape(tf.slice(model.W_out, [l], [1]), [pre.shape[1]!, -1])), tf.reshape(tf.slice(model.b_out, [l], [1]), [-1]));
    const residPost = tf.add(residMid, tf.reshape(mlpOut, [batch, pos, -1]));
    const final = layerNorm(residPost, model.lnFinal.w, model.lnFinal.b);
    return tf.reshape(tf.matMul(tf.reshape(final, [batch * pos, -1]), model.W_U), [batch, pos, -1]);
  });
}

test('patchScan on resid_pre: patching the changed position restores the clean metric exactly; other positions change nothing', async () => {
  const { model, clean, corrupted } = await setup();
  const before = tf.memory().numTensors;
  const metric = logitDiffMetric([5, 6], [7, 8]);
  const res = await patchResidPre(model, clean, corrupted, metric);
  assert.deepEqual(res.shape, [3, 9]);
  assert.ok(res.cleanMetric !== res.baselineMetric);
  // Layer 0: only position SWAP_POS differs between the runs; patching it gives the clean run bit for bit.
  for (let p = 0; p < 9; p++) assert.equal(res.values[p], p === SWAP_POS ? res.cleanMetric : res.baselineMetric, `layer 0 pos ${p}`);
  // Every layer: positions before the change are identical in both runs (causal attention).
  for (let l = 0; l < 3; l++) for (let p = 0; p < SWAP_POS; p++) assert.equal(res.values[l * 9 + p], res.baselineMetric);
  const norm = normalizedMetric(res.values, res.cleanMetric!, res.baselineMetric);
  assert.equal(norm[SWAP_POS], 1);
  assert.equal(norm[0], 0);
  assert.equal(normalizedMetric(res.cleanMetric!, res.cleanMetric!, res.baselineMetric), 1);
  // MLP out of the last layer only matters at the last position for a last-position metric.
  const mlp = await patchMlpOut(model, clean, corrupted, metric, { layers: [2] });
  assert.deepEqual(mlp.shape, [1, 9]);
  for (let p = 0; p < 8; p++) assert.equal(mlp.values[p], mlp.baselineMetric);
  assert.equal(tf.memory().numTensors, before);
  model.dispose();
});

test('patchHook: all positions restore the clean logits exactly; nothing selected gives the corrupted logits exactly', async () => {
  const { model, clean, corrupted } = await setup();
  const before = tf.memory().numTensors;
  const cleanRun = await model.runWithCache(clean, { namesFilter: (n) => n.endsWith('hook_resid_pre') });
  const corruptLogits = await model.forward(corrupted);
  for (const layer of [0, 1, 2]) {
    const restored = await model.runWithHooks(corrupted, { fwdHooks: [[`blocks.${layer}.hook_resid_pre`, patchHook(cleanRun.cache)]] });
    assert.deepEqual(await restored.data(), await cleanRun.output.data());
    restored.dispose();
  }
  const none = await model.runWithHooks(corrupted, { fwdHooks: [['blocks.1.hook_resid_pre', patchHook(cleanRun.cache, { positions: [] })]] });
  assert.deepEqual(await none.data(), await corruptLogits.data());
  none.dispose();
  // Clean = corrupted: every patch is a no-op.
  const same = await patchScan(model, corrupted, corrupted, { hook: 'attn_out', metric: logitDiffMetric(1, 2) });
  assert.ok(same.values.every((v) => v === same.baselineMetric));
  cleanRun.output.dispose();
  cleanRun.cache.dispose();
  corruptLogits.dispose();
  assert.equal(tf.memory().numTensors, before);
  model.dispose();
});

test('patchHeadZ and patchHeadPattern at the last layer equal a first-principles recomputation', async () => {
  const { model, clean, corrupted } = await setup();
  const before = tf.memory().numTensors;
  const metricFn = logitDiffMetric([5, 6], [7, 8]);
  const z = await patchHeadZ(model, clean, corrupted, metricFn, { layers: [2] });
  assert.deepEqual(z.shape, [1, 4]);
  const pattern = await patchHeadPattern(model, clean, corrupted, metricFn, { layers: [2] });
  const names = ['blocks.2.hook_resid_pre', 'blocks.2.attn.hook_z', 'blocks.2.attn.hook_pattern', 'blocks.2.attn.hook_v'];
  const c = await model.runWithCache(clean, { namesFilter: names });
  const k = await model.runWithCache(corrupted, { namesFilter: names });
  for (let h = 0; h < 4; h++) {
    const headMask = tf.tensor4d([0, 1, 2, 3].map((x) => (x === h ? 1 : 0)), [1, 1, 4, 1]);
    // z of head h from the clean run, everything else corrupted.
    const zMix = tf.tidy(() => tf.add(tf.mul(c.cache.get(names[1]!), headMask), tf.mul(k.cache.get(names[1]!), tf.sub(1, headMask))));
    const logitsZ = lastBlockLogits(model, k.cache.get(names[0]!), zMix);
    const mZ = await metricFn(logitsZ);
    assert.ok(Math.abs(mZ - z.values[h]!) < 1e-4, `z head ${h}: ${mZ} vs ${z.values[h]}`);
    // Pattern of head h from the clean run: z_h = pattern_clean_h · v_corrupt_h.
    const zPat = tf.tidy(() => {
      const v = tf.transpose(k.cache.get(names[3]!), [0, 2, 1, 3]); // [b, H, pos, dh]
      const pat = tf.add(tf.mul(c.cache.get(names[2]!), tf.reshape(headMask, [1, 4, 1, 1])), tf.mul(k.cache.get(names[2]!), tf.sub(1, tf.reshape(headMask, [1, 4, 1, 1]))));
      return tf.transpose(tf.matMul(pat, v), [0, 2, 1, 3]);
    });
    const logitsP = lastBlockLogits(model, k.cache.get(names[0]!), zPat);
    assert.ok(Math.abs((await metricFn(logitsP)) - pattern.values[h]!) < 1e-4, `pattern head ${h}`);
    tf.dispose([headMask, zMix, logitsZ, zPat, logitsP]);
  }
  // head_pos: [L, T, H]; position SWAP_POS−1 of every head at layer 0 is unaffected (causal).
  const byPos = await patchScan(model, clean, corrupted, { hook: 'z', by: 'head_pos', metric: metricFn, layers: [0, 1] });
  assert.deepEqual(byPos.shape, [2, 9, 4]);
  for (let h = 0; h < 4; h++) assert.equal(byPos.values[(SWAP_POS - 1) * 4 + h], byPos.baselineMetric);
  tf.dispose([c.output, k.output]);
  c.cache.dispose();
  k.cache.dispose();
  assert.equal(tf.memory().numTensors, before);
  model.dispose();
});

test('patchScan reuses a given clean cache and rejects one without the hook', async () => {
  const { model, clean, corrupted } = await setup();
  const before = tf.memory().numTensors;
  const run = await model.runWithCache(clean, { namesFilter: (n) => n.endsWith('hook_mlp_out') });
  const metric = logitDiffMetric(3, 4);
  const withCache = await patchMlpOut(model, clean, corrupted, metric, { cleanCache: run.cache });
  const without = await patchMlpOut(model, clean, corrupted, metric);
  assert.deepEqual(withCache.values, without.values);
  await assert.rejects(patchResidPre(model, clean, corrupted, metric, { cleanCache: run.cache }), /cleanCache has no 'blocks.0.hook_resid_pre'/);
  await assert.rejects(patchScan(model, clean, corrupted, { hook: 'mlp_out', by: 'head', metric }), /no head axis/);
  run.output.dispose();
  run.cache.dispose();
  assert.equal(tf.memory().numTensors, before);
  model.dispose();
});
