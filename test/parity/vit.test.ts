import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { setBackend } from '../../lib/backend/index.js';
import { loadModel } from '../../lib/nn/load.js';
import { HookedViT } from '../../lib/nn/vit.js';
import { fixtureDir, readFixture, relError } from '../helpers/fixtures.js';
import { PARITY_TOL } from '../helpers/parity.js';
import { mkdtemp, copyFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readAllSafetensors } from '../../lib/io/safetensors.js';
import { saveSafetensors, type HostValues } from '../../lib/io/safetensors-writer.js';
import { testBackend } from '../helpers/backend.js';

const TOL = PARITY_TOL;

test('vit-tiny: the typed-array input form gives the HF logits; id2label comes from the config', async () => {
  await setBackend(testBackend('cpu'));
  const { inputs, expected } = await readFixture('vit-tiny');
  const model = await loadModel(fixtureDir('vit-tiny'));
  assert.ok(model instanceof HookedViT);
  assert.deepEqual(model.id2label.slice(0, 2), ['LABEL_0', 'LABEL_1']);
  const px = inputs.get('pixel_values')!;
  const fromArray = await model.forward({ data: px.data as Float32Array, shape: px.shape as [number, number, number, number] });
  assert.ok(relError(await fromArray.data(), expected.get('logits')!.data) <= TOL);
  fromArray.dispose();
  model.dispose();
});

test('vit-tiny: forward, runWithCache, runWithHooks and lensLogits leak no tensors; bad shapes are rejected', async () => {
  await setBackend(testBackend('wasm'));
  const { inputs } = await readFixture('vit-tiny');
  const model = (await loadModel(fixtureDir('vit-tiny'))) as HookedViT;
  const px = inputs.get('pixel_values')!;
  const input = tf.tensor(px.data, px.shape, 'float32');
  const before = tf.memory().numTensors;
  for (let rep = 0; rep < 3; rep++) {
    (await model.forward(input)).dispose();
    const { output, cache } = await model.runWithCache(input, { namesFilter: (n) => n.includes('hook_resid') || n.endsWith('hook_pattern') });
    output.dispose();
    cache.dispose();
    const patched = await model.runWithHooks(input, { fwdHooks: [['blocks.0.hook_attn_out', (a) => tf.mul(a, 0.5)], ['hook_patch_embed', (a) => tf.zerosLike(a)]] });
    patched.dispose();
    (await model.forward(input, { stopAtLayer: 1 })).dispose();
    const state = tf.zeros([2, model.cfg.dModel]);
    model.lensLogits(state).dispose();
    state.dispose();
  }
  assert.equal(tf.memory().numTensors, before);
  const wrong = tf.zeros([1, 3, 16, 16]);
  await assert.rejects(model.forward(wrong), /E_SHAPE_MISMATCH|expected shape/);
  wrong.dispose();
  assert.equal(tf.memory().numTensors, before);
  input.dispose();
  model.dispose();
});

test('vit-tiny: the alternative key layout (vit.layers.N.attention.q_proj, mlp.fc1, …) loads the same model', async () => {
  await setBackend(testBackend('wasm'));
  const dir = await mkdtemp(join(tmpdir(), 'tfjs-lens-vit-'));
  try {
    const weights = await readAllSafetensors(join(fixtureDir('vit-tiny'), 'model.safetensors'));
    const renamed = new Map<string, HostValues>();
    const rules: [RegExp, string][] = [
      [/^vit\.encoder\.layer\.(\d+)\./, 'vit.layers.$1.'],
      [/attention\.attention\.query/, 'attention.q_proj'],
      [/attention\.attention\.key/, 'attention.k_proj'],
      [/attention\.attention\.value/, 'attention.v_proj'],
      [/attention\.output\.dense/, 'attention.o_proj'],
      [/intermediate\.dense/, 'mlp.fc1'],
      [/\.output\.dense/, '.mlp.fc2'],
    ];
    for (const [name, t] of weights) {
      let key = name;
      for (const [re, to] of rules) key = key.replace(re, to);
      renamed.set(key, { shape: t.shape, data: t.data as Float32Array });
    }
    assert.ok(renamed.has('vit.layers.1.mlp.fc2.weight') && renamed.has('vit.layers.0.attention.q_proj.bias'));
    await saveSafetensors(join(dir, 'model.safetensors'), renamed);
    await copyFile(join(fixtureDir('vit-tiny'), 'config.json'), join(dir, 'config.json'));
    const { inputs, expected } = await readFixture('vit-tiny');
    const model = await loadModel(dir);
    assert.ok(model instanceof HookedViT);
    const px = inputs.get('pixel_values')!;
    const logits = await model.forward({ data: px.data as Float32Array, shape: px.shape as [number, number, number, number] });
    assert.ok(relError(await logits.data(), expected.get('logits')!.data) <= TOL);
    logits.dispose();
    model.dispose();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
