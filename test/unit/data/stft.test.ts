import { test } from 'node:test';
import assert from 'node:assert/strict';
import { powerSpectrogram, hannWindow } from '../../../lib/data/stft.js';
import { InvalidArgumentError } from '../../../lib/errors.js';

/** Naive reference: explicit reflect-padded array, periodic Hann, complex DFT of every frame. */
function naivePower(x: number[], nFft: number, hop: number): number[][] {
  const pad = nFft / 2;
  const padded = [...x.slice(1, pad + 1).reverse(), ...x, ...x.slice(x.length - pad - 1, x.length - 1).reverse()];
  const frames = 1 + Math.floor(x.length / hop);
  const out: number[][] = [];
  for (let t = 0; t < frames; t++) {
    const row: number[] = [];
    for (let k = 0; k <= nFft / 2; k++) {
      let re = 0;
      let im = 0;
      for (let n = 0; n < nFft; n++) {
        const v = padded[t * hop + n]! * (0.5 - 0.5 * Math.cos((2 * Math.PI * n) / nFft));
        re += v * Math.cos((2 * Math.PI * k * n) / nFft);
        im -= v * Math.sin((2 * Math.PI * k * n) / nFft);
      }
      row.push(re * re + im * im);
    }
    out.push(row);
  }
  return out;
}

test('hannWindow: periodic (0 at 0, 1 at N/2, symmetric about N/2)', () => {
  const w = hannWindow(400);
  assert.equal(w[0], 0);
  assert.ok(Math.abs(w[200]! - 1) < 1e-15);
  for (let i = 1; i < 200; i++) assert.ok(Math.abs(w[i]! - w[400 - i]!) < 1e-15);
});

test('powerSpectrogram: matches a naive complex DFT with explicit reflect padding (all frames, edges included)', () => {
  let seed = 7;
  const rand = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
  const x = Array.from({ length: 1000 }, rand);
  const { power, nFrames, nBins } = powerSpectrogram(Float64Array.from(x), { nFft: 400, hopLength: 160 });
  const ref = naivePower(x, 400, 160);
  assert.equal(nFrames, ref.length);
  assert.equal(nFrames, 7);
  assert.equal(nBins, 201);
  let num = 0;
  let den = 0;
  for (let t = 0; t < nFrames; t++) {
    for (let k = 0; k < nBins; k++) {
      num += (power[t * nBins + k]! - ref[t]![k]!) ** 2;
      den += ref[t]![k]! ** 2;
    }
  }
  assert.ok(Math.sqrt(num / den) < 1e-12, `rel err ${Math.sqrt(num / den)}`);
});

test('powerSpectrogram: a unit cosine on bin 10 gives (N/4)² there and (N/8)² on its neighbours', () => {
  const x = Float32Array.from({ length: 4000 }, (_, n) => Math.cos((2 * Math.PI * 10 * n) / 400 + 0.3));
  const { power, nBins } = powerSpectrogram(x, { nFft: 400, hopLength: 160 });
  const t = 10; // an interior frame
  const row = power.subarray(t * nBins, (t + 1) * nBins);
  assert.ok(Math.abs(row[10]! - 100 ** 2) < 1e-2);
  assert.ok(Math.abs(row[9]! - 50 ** 2) < 1e-2);
  assert.ok(Math.abs(row[11]! - 50 ** 2) < 1e-2);
  for (let k = 0; k < nBins; k++) if (k < 9 || k > 11) assert.ok(row[k]! < 1e-4, `bin ${k}: ${row[k]}`);
});

test('powerSpectrogram: bad arguments throw InvalidArgumentError', () => {
  assert.throws(() => powerSpectrogram(new Float32Array(1000), { nFft: 401, hopLength: 160 }), InvalidArgumentError);
  assert.throws(() => powerSpectrogram(new Float32Array(1000), { nFft: 400, hopLength: 0 }), InvalidArgumentError);
  assert.throws(() => powerSpectrogram(new Float32Array(200), { nFft: 400, hopLength: 160 }), /reflect padding needs more than 200 samples/);
});
