/**
 * The rotary decoders outside a plain forward: TransformerLens weight views with grouped-query expansion (Gemma 3's
 * single key/value head serves every query head), `embed` + `runBlocks` on a left-padded batch carrying the position
 * ids (the same residual as the forward pass), and `lensNorm` as the norms each state is read by.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { setBackend } from '../../../lib/backend/index.js';
import { loadModel } from '../../../lib/nn/load.js';
import { HookedGemma } from '../../../lib/nn/gemma.js';
import { HookedGPTNeoX } from '../../../lib/nn/gpt-neox.js';
import { fixtureDir, relError } from '../../helpers/fixtures.js';
import { testBackend } from '../../helpers/backend.js';

before(async () => {
  await setBackend(testBackend('cpu'));
});

test('gemma3-tiny: W_K / W_V repeat the one key/value head for all 4 query heads; W_Q, W_O, W_gate have TL shapes', async () => {
  const model = await loadModel(fixtureDir('gemma3-tiny'));
  assert.ok(model instanceof HookedGemma);
  const before = tf.memory().numTensors;
  assert.deepEqual(model.W_Q.shape, [3, 4, 32, 24]);
  assert.deepEqual(model.W_K.shape, [3, 4, 32, 24]);
  assert.deepEqual(model.W_O.shape, [3, 4, 24, 32]);
  assert.deepEqual(model.W_gate.shape, [3, 32, 64]);
  const heads = tf.unstack(model.W_V, 1);
  const stored = tf.reshape(model.blocks[0]!.attn.W_V, [1, 32, 24]);
  for (const h of heads) assert.equal(relError(await tf.slice(h, [0, 0, 0], [1, -1, -1]).data(), await stored.data()), 0);
  tf.dispose([...heads, stored]);
  // The views are owned by the model (built once): reading them again allocates nothing.
  const built = tf.memory().numTensors;
  void [model.W_K, model.W_V, model.W_Q];
  assert.equal(tf.memory().numTensors, built);
  assert.ok(built > before);
  model.dispose();
});

test('embed + runBlocks on a left-padded batch pass the position ids on: the residual equals the forward pass at every position', async () => {
  for (const name of ['gemma2-tiny', 'pythia-tiny']) {
    const model = await loadModel(fixtureDir(name));
    assert.ok(model instanceof HookedGemma || model instanceof HookedGPTNeoX);
    const input = { inputIds: [[0, 0, 7, 8, 9, 10], [3, 4, 5, 6, 7, 8]], attentionMask: [[0, 0, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1]] };
    const before = tf.memory().numTensors;
    const L = model.nLayers;
    const { cache, output } = await model.runWithCache(input, { namesFilter: [`blocks.${L - 1}.hook_resid_post`] });
    const embedded = await model.embed(input);
    assert.ok(embedded.inputs.positions, 'embed returns the position ids');
    assert.deepEqual(await embedded.inputs.positions!.array(), [[0, 0, 0, 1, 2, 3], [0, 1, 2, 3, 4, 5]]);
    const resid = model.runBlocks(embedded.resid, { inputs: embedded.inputs });
    const err = relError(await resid.data(), await cache.get(`blocks.${L - 1}.hook_resid_post`).data());
    assert.ok(err < 1e-6, `${name}: runBlocks vs forward rel err ${err}`);
    tf.dispose([resid, output]);
    embedded.dispose();
    cache.dispose();
    assert.equal(tf.memory().numTensors, before, `${name}: leaked tensors`);
    model.dispose();
  }
});

test('lensNorm: block ln1 / ln2 (RMS with 1 + w; parallel NeoX blocks both read resid_pre) and the final norm', async () => {
  const model = await loadModel(fixtureDir('gemma2-tiny'));
  assert.ok(model instanceof HookedGemma);
  const { cache, output } = await model.runWithCache([[5, 6, 7, 8]], { namesFilter: ['blocks.1.hook_resid_pre', 'blocks.1.ln1.hook_normalized', 'blocks.1.hook_resid_mid', 'blocks.1.ln2.hook_normalized'] });
  for (const [state, normalized, mlpInput] of [['blocks.1.hook_resid_pre', 'blocks.1.ln1.hook_normalized', false], ['blocks.1.hook_resid_mid', 'blocks.1.ln2.hook_normalized', true]] as const) {
    const norm = model.lensNorm(1, { mlpInput })!;
    const block = model.blocks[1]!;
    const gain = (mlpInput ? block.ln2 : block.ln1).w;
    const ours = norm(cache.get(state));
    const expected = tf.tidy(() => tf.mul(cache.get(normalized), tf.add(gain, 1)));
    assert.ok(relError(await ours.data(), await expected.data()) < 1e-6, state);
    tf.dispose([ours, expected]);
  }
  assert.ok(model.lensNorm(model.nLayers));
  tf.dispose(output);
  cache.dispose();
  model.dispose();
});
