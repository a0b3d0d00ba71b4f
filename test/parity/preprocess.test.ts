import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { setBackend } from '../../lib/backend/index.js';
import { readAllSafetensors } from '../../lib/io/safetensors.js';
import { vitPixelValues, vitPixelValuesBatch } from '../../lib/data/image.js';
import { whisperFeatures } from '../../lib/data/audio.js';
import { readWav } from '../../lib/data/wav.js';
import { fixtureDir, relError } from '../helpers/fixtures.js';
import { PARITY_TOL } from '../helpers/parity.js';
import { testBackends } from '../helpers/backend.js';

// The models' parity bar holds for preprocessing too (measured: 0–2e-7; the fixture README once allowed 1e-3).
const TOL = PARITY_TOL;

for (const backend of testBackends(['cpu', 'wasm'] as const)) {
  test(`vit-preprocess: pixel_values match HF ViTImageProcessor within ${TOL} (${backend})`, async () => {
    await setBackend(backend);
    const dir = fixtureDir('vit-preprocess');
    const expected = (await readAllSafetensors(join(dir, 'expected.safetensors'))).get('pixel_values')!;
    const imagePath = join(dir, 'image.png');
    const before = tf.memory().numTensors;
    const single = vitPixelValues(imagePath, { size: 32 });
    assert.deepEqual(single.shape, expected.shape);
    const err = relError(await single.data(), expected.data);
    single.dispose();
    const batch = vitPixelValuesBatch([imagePath, readFileSync(imagePath)], { size: 32, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], rescale: 1 / 255 });
    assert.deepEqual(batch.shape, [2, 3, 32, 32]);
    const both = await batch.data();
    const errBatch = Math.max(relError(both.subarray(0, 3072), expected.data), relError(both.subarray(3072), expected.data));
    batch.dispose();
    const pillow = vitPixelValues(imagePath, { size: 32, resize: 'pillow' });
    const pillowData = await pillow.data();
    const errPillow = relError(pillowData, expected.data);
    let maxLevels = 0;
    for (let i = 0; i < pillowData.length; i++) maxLevels = Math.max(maxLevels, (Math.abs(pillowData[i]! - (expected.data[i] as number)) * 255) / 2);
    pillow.dispose();
    assert.equal(tf.memory().numTensors, before, 'vitPixelValues leaked tensors');
    console.log(`vit-preprocess (${backend}): rel err ${err.toExponential(2)} (batch ${errBatch.toExponential(2)}); with Pillow's 22-bit weights ${errPillow.toExponential(2)}, max ${maxLevels.toFixed(2)} uint8 level`);
    assert.ok(err <= TOL, `rel err ${err}`);
    assert.ok(errBatch <= TOL, `batch rel err ${errBatch}`);
    assert.ok(maxLevels <= 1.0001, 'Pillow arithmetic is within one level of torchvision');
  });

  test(`whisper-features-80: input_features match HF WhisperFeatureExtractor within ${TOL} (${backend})`, async () => {
    await setBackend(backend);
    const dir = fixtureDir('whisper-features-80');
    const inputs = await readAllSafetensors(join(dir, 'inputs.safetensors'));
    const expected = await readAllSafetensors(join(dir, 'expected.safetensors'));
    const waveform = inputs.get('waveform')!.data as Float32Array;
    const wavPath = join(dir, 'audio.wav');
    const before = tf.memory().numTensors;
    const fromArray = whisperFeatures(waveform, { nMels: 80 });
    assert.deepEqual(fromArray.shape, expected.get('input_features')!.shape);
    const errArray = relError(await fromArray.data(), expected.get('input_features')!.data);
    fromArray.dispose();
    const fromWav = whisperFeatures(wavPath);
    assert.deepEqual(fromWav.shape, [1, 80, 3000]);
    const errWav = relError(await fromWav.data(), expected.get('input_features_from_wav')!.data);
    fromWav.dispose();
    assert.equal(tf.memory().numTensors, before, 'whisperFeatures leaked tensors');
    // The WAV holds the waveform quantised to 16-bit PCM (written as trunc(x · 32767)); decoded as int16 / 32768
    // it is within two quantisation steps of the float waveform.
    const { samples, sampleRate } = readWav(wavPath);
    assert.equal(sampleRate, 16000);
    assert.equal(samples.length, waveform.length);
    let maxDiff = 0;
    for (let i = 0; i < samples.length; i++) maxDiff = Math.max(maxDiff, Math.abs(samples[i]! - waveform[i]!));
    assert.ok(maxDiff <= 2 / 32768, `WAV vs waveform max diff ${maxDiff}`);
    console.log(`whisper-features-80 (${backend}): rel err input_features ${errArray.toExponential(2)}, input_features_from_wav ${errWav.toExponential(2)}`);
    assert.ok(errArray <= TOL, `input_features rel err ${errArray}`);
    assert.ok(errWav <= TOL, `input_features_from_wav rel err ${errWav}`);
  });
}
