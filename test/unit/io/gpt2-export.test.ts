/**
 * `gpt2StateDict` and `saveGpt2Checkpoint` against the Hugging Face checkpoint they must reproduce: the gpt2-tiny
 * fixture's weights, converted and exported again, give back every HF tensor bit for bit (published key layout,
 * Conv1D [in, out], fused c_attn), and the saved folder loads into a model whose every hook matches the HF
 * reference activations within the parity bar.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { setBackend } from '../../../lib/backend/index.js';
import { openCheckpoint, readConfigJson } from '../../../lib/io/checkpoint.js';
import { parseGpt2Config } from '../../../lib/io/config/gpt2.js';
import { convertGpt2 } from '../../../lib/io/convert/gpt2.js';
import { gpt2StateDict, saveGpt2Checkpoint } from '../../../lib/io/export/gpt2.js';
import { readAllSafetensors } from '../../../lib/io/safetensors.js';
import { fixtureDir } from '../../helpers/fixtures.js';
import { PARITY_TOL, fixtureErrors } from '../../helpers/parity.js';
import { testBackend } from '../../helpers/backend.js';

async function fixtureWeights() {
  const dir = fixtureDir('gpt2-tiny');
  const cfg = parseGpt2Config(await readConfigJson(dir));
  const ckpt = await openCheckpoint(dir);
  try {
    return { cfg, weights: await convertGpt2(ckpt, cfg) };
  } finally {
    await ckpt.close();
  }
}

function disposeWeights(w: Awaited<ReturnType<typeof fixtureWeights>>['weights']): void {
  const all: tf.Tensor[] = [w.W_E, w.W_pos, w.lnFinal.w, w.lnFinal.b];
  for (const b of w.blocks) all.push(...Object.values(b.attn).filter((x): x is tf.Tensor => x instanceof tf.Tensor), ...Object.values(b.mlp), b.ln1.w, b.ln1.b, b.ln2.w, b.ln2.b);
  if (w.unembed) all.push(w.unembed);
  tf.dispose(all);
}

test('gpt2StateDict of the converted fixture weights gives back every HF tensor exactly, under the published names', async () => {
  await setBackend(testBackend('cpu'));
  const { weights } = await fixtureWeights();
  const before = tf.memory().numTensors;
  const state = gpt2StateDict(weights);
  const hf = await readAllSafetensors(join(fixtureDir('gpt2-tiny'), 'model.safetensors'));
  // The fixture is save_pretrained output: `transformer.` prefix, a tied lm_head that may be stored, no buffers.
  const hfKeys = [...hf.keys()].filter((k) => k !== 'lm_head.weight' && !/\.attn\.(masked_)?bias$/.test(k)).map((k) => k.replace(/^transformer\./, ''));
  assert.deepEqual([...state.keys()].sort(), hfKeys.sort());
  for (const [k, t] of state) {
    const ref = hf.get(`transformer.${k}`) ?? hf.get(k)!;
    assert.deepEqual(t.shape, ref.shape, k);
    assert.deepEqual(await t.data(), ref.data, `${k} differs from the HF tensor`);
  }
  for (const t of state.values()) t.dispose();
  assert.equal(tf.memory().numTensors, before, 'gpt2StateDict leaked tensors');
  // Bias-free attention exports zero biases of the right length.
  const b0 = weights.blocks[0]!.attn;
  const noBias = { ...weights, blocks: [{ ...weights.blocks[0]!, attn: { W_Q: b0.W_Q, W_K: b0.W_K, W_V: b0.W_V, W_O: b0.W_O } }] };
  const s2 = gpt2StateDict(noBias as typeof weights);
  const bias = s2.get('h.0.attn.c_attn.bias')!;
  assert.deepEqual(bias.shape, [3 * 64]);
  assert.ok((await bias.data()).every((v) => v === 0));
  assert.ok((await s2.get('h.0.attn.c_proj.bias')!.data()).every((v) => v === 0));
  for (const t of s2.values()) t.dispose();
  disposeWeights(weights);
});

test('saveGpt2Checkpoint writes a folder that loads into a model matching every HF reference activation', async (t) => {
  await setBackend(testBackend('cpu'));
  const { cfg, weights } = await fixtureWeights();
  const dir = await mkdtemp(join(tmpdir(), 'tfjs-lens-export-'));
  try {
    await saveGpt2Checkpoint(dir, cfg, weights, { note: 'round trip' });
    const json = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    const orig = JSON.parse(await readFile(join(fixtureDir('gpt2-tiny'), 'config.json'), 'utf8')) as Record<string, unknown>;
    for (const k of ['n_layer', 'n_embd', 'n_head', 'n_positions', 'vocab_size', 'layer_norm_epsilon', 'activation_function', 'tie_word_embeddings']) assert.deepEqual(json[k], orig[k], k);
    assert.equal(json.model_type, 'gpt2');
    const saved = await readAllSafetensors(join(dir, 'model.safetensors'));
    assert.ok(saved.has('h.0.attn.c_attn.weight') && !saved.has('transformer.h.0.attn.c_attn.weight'), 'published (unprefixed) layout');
    const errors = await fixtureErrors('gpt2-tiny', dir);
    const worst = [...errors.entries()].sort((a, b) => b[1] - a[1])[0]!;
    t.diagnostic(`re-exported gpt2-tiny: worst rel err ${worst[1].toExponential(2)} at ${worst[0]} over ${errors.size} HF tensors`);
    assert.ok(worst[1] <= PARITY_TOL, `worst ${worst[0]} ${worst[1]}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
    disposeWeights(weights);
  }
});
