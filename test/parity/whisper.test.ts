import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { setBackend } from '../../lib/backend/index.js';
import { loadModel } from '../../lib/nn/load.js';
import { HookedWhisper } from '../../lib/nn/whisper.js';
import { fixtureDir, readFixture, relError } from '../helpers/fixtures.js';
import { PARITY_TOL } from '../helpers/parity.js';
import { mkdtemp, writeFile, rm, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readAllSafetensors } from '../../lib/io/safetensors.js';
import { saveSafetensors, type HostValues } from '../../lib/io/safetensors-writer.js';
import { whisperSinusoids } from '../../lib/io/convert/whisper.js';
import { testBackend } from '../helpers/backend.js';

const TOL = PARITY_TOL;

async function load(dir = fixtureDir('whisper-tiny')): Promise<HookedWhisper> {
  const model = await loadModel(dir);
  assert.ok(model instanceof HookedWhisper);
  return model;
}

test('whisper-tiny: a reused encoder output gives the same logits, and the encoder hooks do not fire', async () => {
  await setBackend(testBackend('wasm'));
  const { inputs, expected } = await readFixture('whisper-tiny');
  const model = await load();
  const feats = inputs.get('input_features')!;
  const inputFeatures = tf.tensor(feats.data, feats.shape, 'float32');
  const ids = inputs.get('decoder_input_ids')!;
  const rows = [Array.from(ids.data as Int32Array).slice(0, 6), Array.from(ids.data as Int32Array).slice(6, 12)];
  const encoderOutput = model.encode(inputFeatures);
  assert.deepEqual(encoderOutput.shape, [2, model.cfg.maxSourcePositions, model.cfg.dModel]);
  const { output, cache } = await model.runWithCache({ encoderOutput, decoderInputIds: rows });
  assert.ok(cache.keys().every((k) => k.startsWith('decoder.')), 'encoder hooks fired in a reused-encoder run');
  assert.ok(relError(await output.data(), expected.get('logits')!.data) <= TOL);
  // Bit-identical to the one-pass forward (runWithCache above sums hook_result per head, so compare two forwards).
  const full = await model.forward({ inputFeatures, decoderInputIds: rows });
  const reused = await model.forward({ encoderOutput, decoderInputIds: rows });
  assert.deepEqual(Array.from(await reused.data()), Array.from(await full.data()));
  for (const x of [output, full, reused, encoderOutput, inputFeatures]) x.dispose();
  cache.dispose();
  model.dispose();
});

test('whisper-tiny: greedy generate picks the argmax of the HF logits after every prefix', async () => {
  await setBackend(testBackend('wasm'));
  const { inputs, expected } = await readFixture('whisper-tiny');
  const model = await load();
  const feats = inputs.get('input_features')!;
  const [batch, mels, frames] = feats.shape as [number, number, number];
  const ids = inputs.get('decoder_input_ids')!;
  const decPos = ids.shape[1]!;
  const logits = expected.get('logits')!.data as Float32Array;
  const vocab = model.cfg.dVocab;
  const before = tf.memory().numTensors;
  for (let b = 0; b < batch; b++) {
    const one = { data: (feats.data as Float32Array).slice(b * mels * frames, (b + 1) * mels * frames), shape: [1, mels, frames] as [number, number, number] };
    const row = Array.from(ids.data as Int32Array).slice(b * decPos, (b + 1) * decPos);
    for (const k of [1, 3, decPos]) {
      const offset = (b * decPos + k - 1) * vocab;
      let best = 0;
      for (let v = 1; v < vocab; v++) if (logits[offset + v]! > logits[offset + best]!) best = v;
      const [out] = await model.generate(one, { forcedPrefix: row.slice(0, k), maxNewTokens: 1, suppressTokens: [], beginSuppressTokens: [] });
      assert.deepEqual(out!.slice(0, k), row.slice(0, k));
      assert.equal(out![k], best, `row ${b}, prefix ${k}`);
    }
  }
  // Several steps, stopping at EOS at the latest after maxNewTokens.
  const [seq] = await model.generate({ data: (feats.data as Float32Array).slice(0, mels * frames), shape: [1, mels, frames] }, { maxNewTokens: 4 });
  assert.equal(seq![0], model.cfg.decoderStartTokenId);
  assert.ok(seq!.length >= 2 && seq!.length <= 5);
  assert.ok(seq!.slice(1, -1).every((id) => id !== model.cfg.eosTokenId));
  assert.equal(tf.memory().numTensors, before, 'generate leaked tensors');
  model.dispose();
});

test('whisper-tiny: forward, runWithCache, runWithHooks, encode and lensLogits leak no tensors; bad inputs are rejected', async () => {
  await setBackend(testBackend('wasm'));
  const { inputs } = await readFixture('whisper-tiny');
  const model = await load();
  const feats = inputs.get('input_features')!;
  const inputFeatures = tf.tensor(feats.data, feats.shape, 'float32');
  const decoderInputIds = [[1, 5, 7], [1, 9, 2]];
  const before = tf.memory().numTensors;
  for (let rep = 0; rep < 3; rep++) {
    (await model.forward({ inputFeatures, decoderInputIds })).dispose();
    const { output, cache } = await model.runWithCache({ inputFeatures, decoderInputIds }, { namesFilter: (n) => n.includes('conv') || n.endsWith('hook_pattern') });
    output.dispose();
    cache.dispose();
    (await model.runWithHooks({ inputFeatures, decoderInputIds }, { fwdHooks: [['encoder.hook_conv2', (a) => tf.mul(a, 0.5)], [(n) => n.endsWith('cross_attn.hook_pattern'), (a) => tf.onesLike(a)]] })).dispose();
    (await model.forward({ inputFeatures, decoderInputIds }, { stopAtLayer: 1 })).dispose();
    const enc = model.encode(inputFeatures);
    (await model.forward({ encoderOutput: enc, decoderInputIds })).dispose();
    enc.dispose();
    const state = tf.zeros([2, 3, model.cfg.dModel]);
    model.lensLogits(state).dispose();
    state.dispose();
  }
  assert.equal(tf.memory().numTensors, before);
  const short = tf.zeros([2, model.cfg.nMels, 40]);
  await assert.rejects(model.forward({ inputFeatures: short, decoderInputIds }), /input features/);
  await assert.rejects(model.forward({ inputFeatures, decoderInputIds: [[1, 2]] }), /decoderInputIds/);
  await assert.rejects(model.forward({ inputFeatures, decoderInputIds: [[1, 2000], [1, 2]] }), /outside the vocabulary/);
  short.dispose();
  assert.equal(tf.memory().numTensors, before);
  inputFeatures.dispose();
  model.dispose();
});

/** Direct PyTorch Conv1d (zero padding 1, kernel 3): x [B, cIn, F], w [cOut, cIn, 3] → [B, cOut, Fout]. */
function referenceConv1d(x: Float32Array, [B, cIn, F]: number[], w: Float32Array, bias: Float32Array, cOut: number, stride: number): Float32Array {
  const fOut = Math.floor((F + 2 - 3) / stride) + 1;
  const out = new Float32Array(B * cOut * fOut);
  for (let b = 0; b < B; b++) {
    for (let o = 0; o < cOut; o++) {
      for (let t = 0; t < fOut; t++) {
        let acc = bias[o]!;
        for (let c = 0; c < cIn; c++) {
          for (let j = 0; j < 3; j++) {
            const src = t * stride + j - 1;
            if (src >= 0 && src < F) acc += w[(o * cIn + c) * 3 + j]! * x[(b * cIn + c) * F + src]!;
          }
        }
        out[(b * cOut + o) * fOut + t] = acc;
      }
    }
  }
  return out;
}

test('whisper: 128 mel bins from the config; the conv stem matches a direct Conv1d; missing encoder positions are recomputed', async () => {
  await setBackend(testBackend('wasm'));
  const dir = await mkdtemp(join(tmpdir(), 'tfjs-lens-whisper-'));
  try {
    const nMels = 128;
    const weights = await readAllSafetensors(join(fixtureDir('whisper-tiny'), 'model.safetensors'));
    const tensors = new Map<string, HostValues>();
    for (const [name, t] of weights) tensors.set(name, { shape: t.shape, data: t.data as Float32Array });
    let seed = 1;
    const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 2 - 1;
    const conv1 = Float32Array.from({ length: 64 * nMels * 3 }, () => 0.1 * rand());
    tensors.set('model.encoder.conv1.weight', { shape: [64, nMels, 3], data: conv1 });
    tensors.delete('model.encoder.embed_positions.weight'); // recomputed (sinusoids) when absent
    await saveSafetensors(join(dir, 'model.safetensors'), tensors);
    const config = JSON.parse(await readFile(join(fixtureDir('whisper-tiny'), 'config.json'), 'utf8')) as Record<string, unknown>;
    await writeFile(join(dir, 'config.json'), JSON.stringify({ ...config, num_mel_bins: nMels }));
    const model = await load(dir);
    assert.equal(model.cfg.nMels, nMels);
    const shape = [2, nMels, 60];
    const features = Float32Array.from({ length: 2 * nMels * 60 }, () => rand());
    const { output, cache } = await model.runWithCache({ inputFeatures: { data: features, shape: shape as [number, number, number] }, decoderInputIds: [[1, 4], [1, 5]] }, { namesFilter: ['encoder.hook_conv1', 'encoder.hook_conv2'] });
    assert.deepEqual(output.shape, [2, 2, model.cfg.dVocab]);
    const conv1Bias = weights.get('model.encoder.conv1.bias')!.data as Float32Array;
    const want1 = referenceConv1d(features, shape, conv1, conv1Bias, 64, 1);
    assert.ok(relError(await cache.get('encoder.hook_conv1').data(), want1) < 1e-5);
    // conv2 (stride 2) on GELU(conv1), both from the cache.
    const gelu = tf.tidy(() => { const x = cache.get('encoder.hook_conv1'); return tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1)); });
    const want2 = referenceConv1d((await gelu.data()) as Float32Array, [2, 64, 60], weights.get('model.encoder.conv2.weight')!.data as Float32Array, weights.get('model.encoder.conv2.bias')!.data as Float32Array, 64, 2);
    assert.deepEqual(cache.get('encoder.hook_conv2').shape, [2, 64, 30]);
    assert.ok(relError(await cache.get('encoder.hook_conv2').data(), want2) < 1e-5);
    gelu.dispose();
    output.dispose();
    cache.dispose();
    model.dispose();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('whisper: the recomputed sinusoidal encoder positions equal the stored HF ones', async () => {
  await setBackend(testBackend('cpu'));
  const weights = await readAllSafetensors(join(fixtureDir('whisper-tiny'), 'model.safetensors'));
  const stored = weights.get('model.encoder.embed_positions.weight')!;
  const table = whisperSinusoids(stored.shape[0]!, stored.shape[1]!);
  assert.ok(relError(await table.data(), stored.data) < 1e-6);
  table.dispose();
});
