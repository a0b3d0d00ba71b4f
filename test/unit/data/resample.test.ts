import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resampleSinc } from '../../../lib/data/resample.js';
import { InvalidArgumentError } from '../../../lib/errors.js';

function tone(freq: number, rate: number, length: number): Float32Array {
  return Float32Array.from({ length }, (_, n) => Math.sin((2 * Math.PI * freq * n) / rate));
}

/**
 * Independent reference: torchaudio's polyphase formulation written out literally — zero-pad the signal by
 * `width` left and `width + orig` right, build one kernel row per output phase j over
 * `idx = −width … width + orig − 1`, and take stride-`orig` dot products (conv1d), then keep
 * `ceil(new · len / orig)` outputs.
 */
function torchaudioStyle(x: Float32Array, fromRate: number, toRate: number): number[] {
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  const g = gcd(fromRate, toRate);
  const orig = fromRate / g;
  const nw = toRate / g;
  const lpw = 6;
  const base = Math.min(orig, nw) * 0.99;
  const width = Math.ceil((lpw * orig) / base);
  const kernel: number[][] = [];
  for (let j = 0; j < nw; j++) {
    const row: number[] = [];
    for (let idx = -width; idx < width + orig; idx++) {
      let t = (-j / nw + idx / orig) * base;
      t = Math.max(-lpw, Math.min(lpw, t));
      const window = Math.cos((t * Math.PI) / lpw / 2) ** 2;
      const pt = t * Math.PI;
      row.push((pt === 0 ? 1 : Math.sin(pt) / pt) * window * (base / orig));
    }
    kernel.push(row);
  }
  const padded = [...new Array(width).fill(0), ...x, ...new Array(width + orig).fill(0)];
  const out: number[] = [];
  for (let i = 0; i * orig + kernel[0]!.length <= padded.length; i++) {
    for (let j = 0; j < nw; j++) {
      let acc = 0;
      for (let m = 0; m < kernel[j]!.length; m++) acc += padded[i * orig + m]! * kernel[j]![m]!;
      out.push(acc);
    }
  }
  return out.slice(0, Math.ceil((nw * x.length) / orig));
}

for (const [from, to] of [[44100, 16000], [8000, 16000], [48000, 16000], [22050, 16000]] as const) {
  test(`resampleSinc ${from} → ${to}: equals torchaudio's polyphase formulation`, () => {
    let seed = 3;
    const rand = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
    const x = Float32Array.from({ length: 2000 }, rand);
    const got = resampleSinc(x, from, to);
    const ref = torchaudioStyle(x, from, to);
    assert.equal(got.length, ref.length);
    assert.equal(got.length, Math.ceil((2000 * to) / from));
    let num = 0;
    let den = 0;
    for (let i = 0; i < ref.length; i++) {
      num += (got[i]! - ref[i]!) ** 2;
      den += ref[i]! ** 2;
    }
    assert.ok(Math.sqrt(num / den) < 1e-6, `rel err ${Math.sqrt(num / den)}`);
  });
}

test('resampleSinc: a 440 Hz tone at 44.1 kHz becomes the same tone at 16 kHz (interior within 1e-3)', () => {
  const x = tone(440, 44100, 44100);
  const y = resampleSinc(x, 44100, 16000);
  assert.equal(y.length, 16000);
  const want = tone(440, 16000, 16000);
  let maxErr = 0;
  for (let i = 100; i < 15900; i++) maxErr = Math.max(maxErr, Math.abs(y[i]! - want[i]!));
  assert.ok(maxErr < 1e-3, `max error ${maxErr}`);
});

test('resampleSinc: a 12 kHz tone above the new Nyquist frequency is filtered out (antialiasing)', () => {
  const y = resampleSinc(tone(12000, 32000, 32000), 32000, 16000);
  let energy = 0;
  for (let i = 200; i < 15800; i++) energy += y[i]! ** 2;
  const rms = Math.sqrt(energy / 15600);
  // A 6-zero-crossing Hann-windowed sinc stops about −55 dB here (rms ≈ 1.3e-3 of 0.707 in).
  assert.ok(rms < 3e-3, `rms ${rms} (input rms 0.707)`);
});

test('resampleSinc: equal rates copy; bad rates throw InvalidArgumentError', () => {
  const x = Float32Array.from([1, 2, 3]);
  const y = resampleSinc(x, 16000, 16000);
  assert.deepEqual([...y], [1, 2, 3]);
  assert.notEqual(y, x);
  assert.throws(() => resampleSinc(x, 0, 16000), InvalidArgumentError);
  assert.throws(() => resampleSinc(x, 44100.5, 16000), InvalidArgumentError);
  assert.throws(() => resampleSinc(x, 44100, 16000, { rolloff: 0 }), InvalidArgumentError);
});
