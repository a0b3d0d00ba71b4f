import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import wavefile from 'wavefile';
import { setBackend } from '../../../lib/backend/index.js';
import { whisperFeatures, whisperLogMel } from '../../../lib/data/audio.js';
import { InvalidArgumentError, InvalidInputError } from '../../../lib/errors.js';
import { testBackend } from '../../helpers/backend.js';

before(async () => {
  await setBackend(testBackend('cpu'));
});

function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num += (a[i]! - b[i]!) ** 2;
    den += b[i]! ** 2;
  }
  return Math.sqrt(num / den);
}

test('whisperLogMel: silence is log10(1e-10) everywhere → (−10 + 4) / 4 = −1.5', () => {
  const { data, nMels, nFrames } = whisperLogMel(new Float32Array(16000));
  assert.equal(nMels, 80);
  assert.equal(nFrames, 3000);
  assert.ok(data.every((v) => v === -1.5));
});

test('whisperLogMel: a cosine on an FFT bin gives the closed-form mel energies in interior frames', () => {
  // cos(2π·k0·n/400) under a periodic Hann window has |X|² = 100² on bin k0 and 50² on k0 ± 1, 0 elsewhere.
  // Slaney filters are triangles of height 2/(hi − lo) between mel-spaced corners (computed here from scratch).
  const k0 = 25; // 1000 Hz
  const x = Float32Array.from({ length: 16000 }, (_, n) => Math.cos((2 * Math.PI * k0 * n) / 400));
  const { data, nFrames } = whisperLogMel(x);
  const mel = (f: number) => (f < 1000 ? (3 * f) / 200 : 15 + (Math.log(f / 1000) * 27) / Math.log(6.4));
  const hz = (m: number) => (m < 15 ? (200 * m) / 3 : 1000 * Math.exp(((m - 15) * Math.log(6.4)) / 27));
  const corners = Array.from({ length: 82 }, (_, i) => hz((mel(8000) * i) / 81));
  const weight = (m: number, f: number) => {
    const [lo, mid, hi] = [corners[m]!, corners[m + 1]!, corners[m + 2]!];
    const tri = f <= lo || f >= hi ? 0 : f <= mid ? (f - lo) / (mid - lo) : (hi - f) / (hi - mid);
    return (tri * 2) / (hi - lo);
  };
  const energies = Array.from({ length: 80 }, (_, m) => weight(m, (k0 - 1) * 40) * 2500 + weight(m, k0 * 40) * 10000 + weight(m, (k0 + 1) * 40) * 2500);
  const logs = energies.map((e) => Math.log10(Math.max(e, 1e-10)));
  const top = Math.max(...logs); // the padded silence never exceeds it
  const want = logs.map((l) => (Math.max(l, top - 8) + 4) / 4);
  const frame = 50; // fully inside the 1 s tone
  const got = Array.from({ length: 80 }, (_, m) => data[m * nFrames + frame]!);
  assert.ok(relErr(got, want) < 1e-6, `rel err ${relErr(got, want)}`);
  // Past the tone (1 s = frame 100) only the floor max(log10(1e-10), top − 8) remains.
  const floorValue = (Math.max(-10, top - 8) + 4) / 4;
  for (const m of [0, 40, 79]) assert.ok(Math.abs(data[m * nFrames + 2000]! - floorValue) < 1e-6);
});

test('whisperLogMel: input longer than nSamples is truncated; nMels 128 and a shorter nSamples', () => {
  let seed = 11;
  const rand = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
  const long = Float32Array.from({ length: 500000 }, rand);
  const a = whisperLogMel(long);
  const b = whisperLogMel(long.subarray(0, 480000));
  assert.deepEqual(a.data, b.data);
  const small = whisperLogMel(long.subarray(0, 8000), { nMels: 128, nSamples: 16000 });
  assert.equal(small.nMels, 128);
  assert.equal(small.nFrames, 100);
  assert.equal(small.data.length, 128 * 100);
  assert.throws(() => whisperLogMel(long, { nMels: 0 }), InvalidArgumentError);
  assert.throws(() => whisperLogMel(long, { nSamples: 100 }), InvalidArgumentError);
});

test('whisperFeatures: [1, nMels, 3000] tensor; no tensor leaks across calls', async () => {
  const x = Float32Array.from({ length: 8000 }, (_, n) => 0.5 * Math.sin((2 * Math.PI * 440 * n) / 16000));
  const before = tf.memory().numTensors;
  for (let i = 0; i < 2; i++) {
    const t = whisperFeatures(x);
    assert.deepEqual(t.shape, [1, 80, 3000]);
    assert.deepEqual(await t.data(), whisperLogMel(x).data);
    t.dispose();
  }
  assert.equal(tf.memory().numTensors, before);
  assert.throws(() => whisperFeatures([1, 2, 3] as unknown as Float32Array), InvalidArgumentError);
  assert.throws(() => whisperFeatures('/nonexistent/a.wav'), InvalidInputError);
  assert.equal(tf.memory().numTensors, before);
});

test('whisperFeatures: 44.1 kHz stereo WAV and 8 kHz arrays are resampled to 16 kHz first', async () => {
  const tone = (rate: number, seconds: number) => Array.from({ length: rate * seconds }, (_, n) => 0.3 * Math.sin((2 * Math.PI * 523.25 * n) / rate));
  const reference = whisperLogMel(Float32Array.from(tone(16000, 2))).data;
  const dir = mkdtempSync(join(tmpdir(), 'tfjs-lens-audio-'));
  const path = join(dir, 'tone44k.wav');
  const wav = new wavefile.WaveFile();
  const at44k = tone(44100, 2);
  wav.fromScratch(2, 44100, '32f', [at44k, at44k]);
  writeFileSync(path, wav.toBuffer());
  const fromWav = whisperFeatures(path);
  const errWav = relErr(await fromWav.data(), reference);
  fromWav.dispose();
  const from8k = whisperFeatures(Float32Array.from(tone(8000, 2)), { samplingRate: 8000 });
  const err8k = relErr(await from8k.data(), reference);
  from8k.dispose();
  console.log(`resampled tone vs native 16 kHz tone, log-mel rel err: 44.1 kHz WAV ${errWav.toExponential(2)}, 8 kHz array ${err8k.toExponential(2)}`);
  assert.ok(errWav < 1e-2, `44.1 kHz WAV rel err ${errWav}`);
  assert.ok(err8k < 1e-2, `8 kHz rel err ${err8k}`);
});
