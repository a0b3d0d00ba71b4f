import { test } from 'node:test';
import assert from 'node:assert/strict';
import { melFilterBank, hertzToMel, melToHertz } from '../../../lib/data/mel.js';
import { InvalidArgumentError } from '../../../lib/errors.js';

/**
 * Independent reference: Slaney's mel scale written from its definition (linear 200/3 Hz per mel up to
 * 1 kHz = 15 mel, then a constant ratio of 6.4^(1/27) per mel), and each triangle from its three corner
 * frequencies with an explicit piecewise formula and area normalisation 2 / (upper − lower).
 */
function slaneyMel(f: number): number {
  return f < 1000 ? f / (200 / 3) : 15 + Math.log(f / 1000) / Math.log(6.4 ** (1 / 27));
}
function slaneyHz(m: number): number {
  return m < 15 ? m * (200 / 3) : 1000 * 6.4 ** ((m - 15) / 27);
}
function referenceBank(nMels: number, nBins: number, fMax: number, sr: number): number[][] {
  const mMax = slaneyMel(fMax);
  const corners = Array.from({ length: nMels + 2 }, (_, i) => slaneyHz((mMax * i) / (nMels + 1)));
  const bank: number[][] = [];
  for (let m = 0; m < nMels; m++) {
    const [lo, mid, hi] = [corners[m]!, corners[m + 1]!, corners[m + 2]!];
    const row: number[] = [];
    for (let k = 0; k < nBins; k++) {
      const f = (k * (sr / 2)) / (nBins - 1);
      let tri = 0;
      if (f > lo && f <= mid) tri = (f - lo) / (mid - lo);
      else if (f > mid && f < hi) tri = (hi - f) / (hi - mid);
      row.push((tri * 2) / (hi - lo));
    }
    bank.push(row);
  }
  return bank;
}

test('hertzToMel / melToHertz: Slaney anchor points, HTK closed form, round trips', () => {
  assert.equal(hertzToMel(0), 0);
  assert.ok(Math.abs(hertzToMel(1000) - 15) < 1e-12);
  assert.ok(Math.abs(hertzToMel(6400) - 42) < 1e-12, '6.4 kHz is 27 mels above 1 kHz');
  assert.ok(Math.abs(hertzToMel(500) - 7.5) < 1e-12);
  assert.ok(Math.abs(hertzToMel(700, 'htk') - 2595 * Math.log10(2)) < 1e-9);
  for (const f of [0, 13, 440, 999.9, 1000, 4321, 8000, 22050]) {
    assert.ok(Math.abs(melToHertz(hertzToMel(f)) - f) < 1e-9 * Math.max(1, f), `slaney ${f}`);
    assert.ok(Math.abs(melToHertz(hertzToMel(f, 'htk'), 'htk') - f) < 1e-9 * Math.max(1, f), `htk ${f}`);
  }
});

for (const nMels of [80, 128]) {
  test(`melFilterBank: Whisper's ${nMels}-filter Slaney bank matches a first-principles float64 formula`, () => {
    const nBins = 201;
    const bank = melFilterBank({ numFrequencyBins: nBins, numMelFilters: nMels, minFrequency: 0, maxFrequency: 8000, samplingRate: 16000, norm: 'slaney', melScale: 'slaney' });
    assert.equal(bank.length, nMels * nBins);
    const ref = referenceBank(nMels, nBins, 8000, 16000);
    let maxErr = 0;
    let maxVal = 0;
    for (let m = 0; m < nMels; m++) {
      for (let k = 0; k < nBins; k++) {
        maxErr = Math.max(maxErr, Math.abs(bank[m * nBins + k]! - ref[m]![k]!));
        maxVal = Math.max(maxVal, ref[m]![k]!);
      }
    }
    assert.ok(maxErr <= 1e-12 * maxVal, `max abs error ${maxErr} (max weight ${maxVal})`);
    // Slaney normalisation gives every triangle unit area in Hz; wide (high) filters sample it well at 40 Hz.
    for (const m of [nMels - 1, nMels - 5]) {
      let area = 0;
      for (let k = 0; k < nBins; k++) area += bank[m * nBins + k]! * 40;
      assert.ok(Math.abs(area - 1) < 0.02, `filter ${m} area ${area}`);
    }
  });
}

test('melFilterBank: without norm the peaks are ≤ 1 and non-negative; bad arguments throw', () => {
  const bank = melFilterBank({ numFrequencyBins: 257, numMelFilters: 40, minFrequency: 20, maxFrequency: 7600, samplingRate: 16000 });
  assert.ok(bank.every((v) => v >= 0 && v <= 1));
  assert.throws(() => melFilterBank({ numFrequencyBins: 1, numMelFilters: 40, minFrequency: 0, maxFrequency: 8000, samplingRate: 16000 }), InvalidArgumentError);
  assert.throws(() => melFilterBank({ numFrequencyBins: 201, numMelFilters: 0, minFrequency: 0, maxFrequency: 8000, samplingRate: 16000 }), InvalidArgumentError);
  assert.throws(() => melFilterBank({ numFrequencyBins: 201, numMelFilters: 80, minFrequency: 8000, maxFrequency: 8000, samplingRate: 16000 }), InvalidArgumentError);
});
