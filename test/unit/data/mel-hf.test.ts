/**
 * Mel scales and filter banks against transformers 5.18's `audio_utils` numbers (test/fixtures/mel/, written by
 * scripts/fixtures/make_mel_refs.py): the Kaldi scale (SeamlessM4T's bank, triangles in mel space), HTK and
 * Slaney, with and without area normalisation. An unknown scale is a typed error, never a silent fallback.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { melFilterBank, hertzToMel, melToHertz, type MelScale } from '../../../lib/data/mel.js';
import { InvalidArgumentError } from '../../../lib/errors.js';
import { ROOT } from '../../helpers/fixtures.js';

interface BankCase {
  name: string;
  num_frequency_bins: number;
  num_mel_filters: number;
  min_frequency: number;
  max_frequency: number;
  sampling_rate: number;
  norm: 'slaney' | null;
  mel_scale: MelScale;
  triangularize_in_mel_space: boolean;
  nonzero: [number, number, number][];
}
const ref = JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'mel', 'hf-mel-banks.json'), 'utf8')) as {
  scales: Record<MelScale, { hertz: number[]; mel: number[]; mel_to_hertz: number[] }>;
  banks: BankCase[];
};

/** max |a − b| / max(1, |b|). */
function relDiff(a: number, b: number): number {
  return Math.abs(a - b) / Math.max(1, Math.abs(b));
}

test('hertzToMel / melToHertz: kaldi, htk and slaney match transformers within 1e-13', () => {
  for (const scale of ['kaldi', 'htk', 'slaney'] as const) {
    const { hertz, mel, mel_to_hertz: back } = ref.scales[scale];
    let worst = 0;
    hertz.forEach((f, i) => {
      worst = Math.max(worst, relDiff(hertzToMel(f, scale), mel[i]!), relDiff(melToHertz(mel[i]!, scale), back[i]!));
    });
    assert.ok(worst <= 1e-13, `${scale}: ${worst}`);
  }
  assert.ok(Math.abs(hertzToMel(700, 'kaldi') - 1127 * Math.log(2)) < 1e-12);
  assert.notEqual(hertzToMel(4000, 'kaldi'), hertzToMel(4000, 'slaney'));
});

for (const c of ref.banks) {
  test(`melFilterBank: ${c.name} (${c.mel_scale}, norm ${c.norm}, mel space ${c.triangularize_in_mel_space}) matches transformers`, () => {
    const bank = melFilterBank({
      numFrequencyBins: c.num_frequency_bins,
      numMelFilters: c.num_mel_filters,
      minFrequency: c.min_frequency,
      maxFrequency: c.max_frequency,
      samplingRate: c.sampling_rate,
      norm: c.norm,
      melScale: c.mel_scale,
      triangularizeInMelSpace: c.triangularize_in_mel_space,
    });
    const want = new Float64Array(c.num_mel_filters * c.num_frequency_bins);
    for (const [m, k, v] of c.nonzero) want[m * c.num_frequency_bins + k] = v;
    let worst = 0;
    let zerosMissed = 0;
    for (let i = 0; i < want.length; i++) {
      worst = Math.max(worst, Math.abs(bank[i]! - want[i]!));
      if ((want[i] === 0) !== (bank[i] === 0)) zerosMissed++;
    }
    console.log(`${c.name}: max |diff| ${worst.toExponential(2)}, ${c.nonzero.length} non-zero weights`);
    assert.ok(worst <= 1e-12, `${c.name}: max |diff| ${worst}`);
    assert.equal(zerosMissed, 0, 'the same weights are zero');
  });
}

test('melFilterBank / hertzToMel: an unknown melScale or norm is an InvalidArgumentError, not slaney', () => {
  const base = { numFrequencyBins: 201, numMelFilters: 8, minFrequency: 0, maxFrequency: 8000, samplingRate: 16000 };
  for (const melScale of ['Kaldi', 'mel', '', 3]) {
    assert.throws(() => melFilterBank({ ...base, melScale: melScale as unknown as MelScale }), (err: unknown) => err instanceof InvalidArgumentError && /melScale must be 'slaney', 'htk' or 'kaldi'/.test(err.message));
  }
  assert.throws(() => hertzToMel(100, 'bark' as MelScale), InvalidArgumentError);
  assert.throws(() => melToHertz(100, 'bark' as MelScale), InvalidArgumentError);
  assert.throws(() => melFilterBank({ ...base, norm: 'area' as 'slaney' }), /norm must be 'slaney' or null/);
  assert.throws(() => melFilterBank({ ...base, triangularizeInMelSpace: 1 as unknown as boolean }), /triangularizeInMelSpace must be a boolean/);
});
