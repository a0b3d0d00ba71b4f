import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { setBackend } from '../../../lib/backend/index.js';
import { loadModel } from '../../../lib/nn/load.js';
import { HookedGPT2 } from '../../../lib/nn/gpt2.js';
import { HookedBert } from '../../../lib/nn/bert.js';
import { HookedWhisper } from '../../../lib/nn/whisper.js';
import { InvalidArgumentError, ShapeMismatchError } from '../../../lib/errors.js';
import { NO_HOOKS } from '../../../lib/nn/hook-point.js';
import { leftPad, padSequences } from '../../../lib/nn/token-input.js';
import { fixtureDir, readFixture, relError } from '../../helpers/fixtures.js';
import { testBackend } from '../../helpers/backend.js';

let gpt2: HookedGPT2;
// Two rows of different length: left padding with a mask, so the mask of the prepared input matters.
const TEXTLESS = { inputIds: [[0, 0, 5, 17, 300], [1, 2, 3, 4, 5]], attentionMask: [[0, 0, 1, 1, 1], [1, 1, 1, 1, 1]] };

before(async () => {
  await setBackend(testBackend('wasm'));
  const m = await loadModel(fixtureDir('gpt2-tiny'));
  assert.ok(m instanceof HookedGPT2);
  gpt2 = m;
});

test('embed + runBlocks in pieces reproduce the forward pass (GPT-2, padded batch)', async () => {
  const L = gpt2.nLayers;
  const before = tf.memory().numTensors;
  const hL = await gpt2.forward(TEXTLESS, { stopAtLayer: L - 1 });
  const e = await gpt2.embed(TEXTLESS);
  const h1 = gpt2.runBlocks(e.resid, { from: 0, to: 1, inputs: e.inputs });
  const hMid = gpt2.runBlocks(h1, { from: 1, to: L - 1, inputs: e.inputs });
  assert.deepEqual(Array.from(await hMid.data()), Array.from(await hL.data()));
  const same = gpt2.runBlocks(hMid, { from: 2, to: 2 });
  assert.notEqual(same, hMid);
  tf.dispose([hL, h1, hMid, same]);
  e.dispose();
  assert.equal(tf.memory().numTensors, before);
  assert.throws(() => gpt2.runBlocks(tf.zeros([1, 2, gpt2.cfg.dModel]), { from: 2, to: 1 }), InvalidArgumentError);
});

test('an MLP override replaces the sub-module: zero MLP = hook_mlp_out set to zero, and its hooks do not fire', async () => {
  const zeroHook = await gpt2.runWithHooks(TEXTLESS, { fwdHooks: [['blocks.1.hook_mlp_out', (x) => tf.zerosLike(x)]] });
  const fired: string[] = [];
  const { output, cache } = await gpt2.runWithCache(TEXTLESS, {
    namesFilter: ['blocks.1.mlp.hook_pre', 'blocks.0.mlp.hook_pre'],
    fwdHooks: [[(n) => n.includes('.mlp.'), (_x, h) => void fired.push(h.name)]],
    overrides: [['blocks.1.mlp', (x) => tf.zerosLike(x)]],
  });
  // Caching blocks.0's hook_pre keeps that MLP off the fused linear+GELU kernel (tensorflow backend): equal up to
  // float rounding there, bit for bit elsewhere.
  const err = relError(await output.data(), await zeroHook.data());
  assert.ok(err < 1e-6, `override vs zeroing hook: rel err ${err}`);
  if (tf.getBackend() !== 'tensorflow') assert.deepEqual(Array.from(await output.data()), Array.from(await zeroHook.data()));
  assert.deepEqual(cache.keys(), ['blocks.0.mlp.hook_pre']);
  assert.ok(!fired.some((n) => n.startsWith('blocks.1.')), fired.join(','));
  tf.dispose([zeroHook, output]);
  cache.dispose();
});

test('overriding a whole block with the identity skips it (forward and runBlocks agree)', async () => {
  const e = await gpt2.embed(TEXTLESS);
  const skipped = gpt2.runBlocks(e.resid, { inputs: e.inputs, overrides: [['blocks.1', (x) => x]] });
  const byHand = tf.tidy(() => {
    const h1 = gpt2.runBlocks(e.resid, { to: 1, inputs: e.inputs });
    return gpt2.runBlocks(h1, { from: 2, inputs: e.inputs });
  });
  assert.deepEqual(Array.from(await skipped.data()), Array.from(await byHand.data()));
  const viaForward = await gpt2.forward(TEXTLESS, { stopAtLayer: gpt2.nLayers - 1, overrides: [['blocks.1', (x) => x]] });
  const partial = gpt2.runBlocks(e.resid, { to: gpt2.nLayers - 1, inputs: e.inputs, overrides: [['blocks.1', (x) => x]] });
  assert.deepEqual(Array.from(await viaForward.data()), Array.from(await partial.data()));
  tf.dispose([skipped, byHand, viaForward, partial]);
  e.dispose();
});

test('overrides: unknown modules, wrong shapes and double overrides are refused', async () => {
  assert.ok(gpt2.moduleNames().includes('blocks.0.ln1'));
  assert.ok(gpt2.moduleNames().includes('blocks.2'));
  assert.ok(!gpt2.moduleNames().includes('ln_final'));
  await assert.rejects(gpt2.forward(TEXTLESS, { overrides: [['blocks.1.mpl', (x) => x]] }), (err: unknown) => err instanceof InvalidArgumentError && /blocks\.1\.mlp/.test(err.hint));
  await assert.rejects(gpt2.forward(TEXTLESS, { overrides: [['blocks.1.mlp', (x) => tf.sum(x, -1)]] }), ShapeMismatchError);
  await assert.rejects(gpt2.forward(TEXTLESS, { overrides: [[['blocks.1.mlp', 'blocks.1.mlp'], (x) => x]] }), InvalidArgumentError);
  await assert.rejects(gpt2.forward(TEXTLESS, { stopAtLayer: 1.5 }), InvalidArgumentError);
});

test('BERT: embed carries the key-padding mask; runBlocks reproduces the hidden states', async () => {
  const bert = await loadModel(fixtureDir('bert-tiny'));
  assert.ok(bert instanceof HookedBert);
  const input = { inputIds: [[101, 203, 303, 102, 0]], attentionMask: [[1, 1, 1, 1, 0]] };
  const { output, cache } = await bert.runWithCache(input, { namesFilter: [`blocks.${bert.nLayers - 1}.hook_resid_post`] });
  const e = await bert.embed(input);
  assert.ok(e.inputs.mask);
  const hL = bert.runBlocks(e.resid, { inputs: e.inputs });
  assert.ok(relError(await hL.data(), await cache.get(`blocks.${bert.nLayers - 1}.hook_resid_post`).data()) === 0);
  tf.dispose([output, hL]);
  cache.dispose();
  e.dispose();
  bert.dispose();
});

test('Whisper: embed runs the encoder once; decoder blocks need its output', async () => {
  const whisper = await loadModel(fixtureDir('whisper-tiny'));
  assert.ok(whisper instanceof HookedWhisper);
  const { inputs } = await readFixture('whisper-tiny');
  const feats = inputs.get('input_features')!;
  const inputFeatures = tf.tensor(feats.data, feats.shape, 'float32');
  const ids = Array.from(inputs.get('decoder_input_ids')!.data as Int32Array);
  const input = { inputFeatures, decoderInputIds: [ids.slice(0, 4), ids.slice(6, 10)] };
  const e = await whisper.embed(input);
  assert.ok(e.inputs.encoderOut);
  const got = whisper.runBlocks(e.resid, { inputs: e.inputs });
  const logits = await whisper.forward(input);
  assert.equal(logits.shape[1], 4);
  const full = await whisper.forward(input, { stopAtLayer: whisper.nLayers - 1 });
  const last = whisper.runBlocks(full, { from: whisper.nLayers - 1, inputs: e.inputs });
  assert.deepEqual(Array.from(await last.data()), Array.from(await got.data()));
  assert.throws(() => whisper.runBlocks(e.resid, { inputs: { mask: e.inputs.mask } }), InvalidArgumentError);
  assert.ok(whisper.moduleNames().includes('decoder.blocks.0.cross_attn'));
  assert.ok(whisper.moduleNames().includes('encoder.blocks.0.mlp'));
  tf.dispose([got, logits, full, last, inputFeatures]);
  e.dispose();
  whisper.dispose();
});

test('lensNorm: the layer norm reading each residual state (final norm at L, ln1/ln2 below; none for BERT)', async () => {
  const L = gpt2.nLayers;
  const x = tf.randomNormal([2, 3, gpt2.cfg.dModel], 0, 1, 'float32', 7);
  const pairs: [tf.Tensor, tf.Tensor][] = [
    [gpt2.lensNorm(L)!(x), gpt2.lnFinal.forward(x, NO_HOOKS)],
    [gpt2.lensNorm(1)!(x), gpt2.blocks[1]!.ln1.forward(x, NO_HOOKS)],
    [gpt2.lensNorm(1, { mlpInput: true })!(x), gpt2.blocks[1]!.ln2.forward(x, NO_HOOKS)],
  ];
  for (const [a, b] of pairs) assert.deepEqual(Array.from(await a.data()), Array.from(await b.data()));
  tf.dispose([x, ...pairs.flat()]);
  assert.throws(() => gpt2.lensNorm(L + 1), InvalidArgumentError);
  const bert = await loadModel(fixtureDir('bert-tiny'));
  assert.ok(bert instanceof HookedBert);
  assert.equal(bert.lensNorm(bert.nLayers), undefined);
  assert.equal(bert.lensNorm(0), undefined);
  bert.dispose();
});

test('padSequences: one padding helper for left (GPT-2) and right (BERT, mat pipeline) padding', () => {
  assert.deepEqual(padSequences([[1, 2], [3]], { padId: 9 }), { ids: [[1, 2], [9, 3]], mask: [[1, 1], [0, 1]] });
  assert.deepEqual(padSequences([[1, 2], [3]], { side: 'right' }), { ids: [[1, 2], [3, 0]], mask: [[1, 1], [1, 0]] });
  assert.deepEqual(padSequences([[1], [3]]), { ids: [[1], [3]] });
  assert.deepEqual(padSequences([[1], [3]], { alwaysMask: true }), { ids: [[1], [3]], mask: [[1], [1]] });
  assert.deepEqual(leftPad([[1, 2], [3]]), padSequences([[1, 2], [3]]));
});
