import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { join } from 'node:path';
import { setBackend } from '../../../lib/backend/index.js';
import { loadModel } from '../../../lib/nn/load.js';
import { HookedWhisper } from '../../../lib/nn/whisper.js';
import { ShapeMismatchError } from '../../../lib/errors.js';
import { fixtureDir, relError } from '../../helpers/fixtures.js';
import { rm } from 'node:fs/promises';
import { readAllSafetensors } from '../../../lib/io/safetensors.js';
import { fullLengthWhisperDir } from '../../helpers/whisper.js';
import { testBackend } from '../../helpers/backend.js';

test('Whisper takes a WAV path as input; features of the wrong length are refused by name, without leaks', async () => {
  await setBackend(testBackend('cpu'));
  const model = await loadModel(fixtureDir('whisper-tiny'));
  assert.ok(model instanceof HookedWhisper);
  const before = tf.memory().numTensors;
  // whisper-tiny (fixture) has 30 source positions = 60 frames; real checkpoints take the 3000 frames of 30 s audio.
  await assert.rejects(
    model.forward({ audio: join(fixtureDir('whisper-features-80'), 'audio.wav'), decoderInputIds: [[1, 2]] }),
    (err: unknown) => err instanceof ShapeMismatchError && /3000/.test((err as Error).message),
  );
  assert.equal(tf.memory().numTensors, before);
  model.dispose();
});

test('Whisper on a WAV path and on a waveform equals Whisper on the HF WhisperFeatureExtractor features of that audio', async () => {
  await setBackend(testBackend('cpu'));
  // whisper-tiny with 1500 source positions (3000 frames = 30 s of audio, as real checkpoints): the encoder's
  // sinusoidal positions are recomputed for that length when the stored table is left out.
  const dir = await fullLengthWhisperDir();
  try {
    const model = await loadModel(dir);
    assert.ok(model instanceof HookedWhisper);
    const feDir = fixtureDir('whisper-features-80');
    const expected = await readAllSafetensors(join(feDir, 'expected.safetensors'));
    const waveform = (await readAllSafetensors(join(feDir, 'inputs.safetensors'))).get('waveform')!.data as Float32Array;
    const decoderInputIds = [[1, 7, 42, 3]];
    const before = tf.memory().numTensors;
    const viaHf = async (key: string) => {
      const f = expected.get(key)!;
      return model.forward({ inputFeatures: { data: f.data as Float32Array, shape: f.shape as [number, number, number] }, decoderInputIds });
    };
    const fromWav = await model.forward({ audio: join(feDir, 'audio.wav'), decoderInputIds });
    const refWav = await viaHf('input_features_from_wav');
    const fromWave = await model.forward({ audio: waveform, decoderInputIds });
    const refWave = await viaHf('input_features');
    assert.deepEqual(fromWav.shape, [1, 4, model.cfg.dVocab]);
    const errWav = relError(await fromWav.data(), await refWav.data());
    const errWave = relError(await fromWave.data(), await refWave.data());
    assert.ok(errWav < 1e-5, `WAV path: logits rel err ${errWav} against the HF features of the 16-bit samples`);
    assert.ok(errWave < 1e-5, `waveform: logits rel err ${errWave}`);
    // The WAV (16-bit) and float inputs differ by quantisation only, but they do differ: the WAV really was read.
    assert.ok(relError(await fromWav.data(), await fromWave.data()) > 0);
    tf.dispose([fromWav, refWav, fromWave, refWave]);
    assert.equal(tf.memory().numTensors, before);
    model.dispose();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
