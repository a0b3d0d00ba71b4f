/**
 * Mel scales and triangular mel filter banks, as `transformers.audio_utils.mel_filter_bank` computes them
 * (float64), e.g. Whisper's `mel_filter_bank(201, 80, 0, 8000, 16000, norm='slaney', mel_scale='slaney')`.
 */
import { InvalidArgumentError } from '../errors.js';

/**
 * Mel scale variants: Slaney's (Auditory Toolbox, librosa's default), HTK's, or Kaldi's (HTK's formula with the
 * natural logarithm, `1127 · ln(1 + f/700)`, as in Kaldi and torchaudio's `compliance.kaldi.fbank`).
 */
export type MelScale = 'slaney' | 'htk' | 'kaldi';

const MEL_SCALES: readonly string[] = ['slaney', 'htk', 'kaldi'];

function checkScale(scale: unknown, where: string): asserts scale is MelScale {
  if (typeof scale !== 'string' || !MEL_SCALES.includes(scale)) {
    throw new InvalidArgumentError(`${where}: melScale must be 'slaney', 'htk' or 'kaldi', got ${JSON.stringify(scale) ?? String(scale)}`);
  }
}

const SLANEY_MIN_LOG_HERTZ = 1000;
const SLANEY_MIN_LOG_MEL = 15;
const SLANEY_LOGSTEP = 27 / Math.log(6.4);

/**
 * Hertz to mels. Slaney: linear `3f/200` below 1 kHz, logarithmic above (`15 + ln(f/1000) · 27/ln 6.4`);
 * HTK: `2595 · log10(1 + f/700)`; Kaldi: `1127 · ln(1 + f/700)`.
 * @throws InvalidArgumentError for an unknown scale.
 */
export function hertzToMel(hertz: number, scale: MelScale = 'slaney'): number {
  checkScale(scale, 'hertzToMel');
  if (scale === 'htk') return 2595 * Math.log10(1 + hertz / 700);
  if (scale === 'kaldi') return 1127 * Math.log(1 + hertz / 700);
  if (hertz >= SLANEY_MIN_LOG_HERTZ) return SLANEY_MIN_LOG_MEL + Math.log(hertz / SLANEY_MIN_LOG_HERTZ) * SLANEY_LOGSTEP;
  return (3 * hertz) / 200;
}

/** Mels to hertz, the inverse of `hertzToMel`. @throws InvalidArgumentError for an unknown scale. */
export function melToHertz(mel: number, scale: MelScale = 'slaney'): number {
  checkScale(scale, 'melToHertz');
  if (scale === 'htk') return 700 * (10 ** (mel / 2595) - 1);
  if (scale === 'kaldi') return 700 * (Math.exp(mel / 1127) - 1);
  if (mel >= SLANEY_MIN_LOG_MEL) return SLANEY_MIN_LOG_HERTZ * Math.exp((mel - SLANEY_MIN_LOG_MEL) / SLANEY_LOGSTEP);
  return (200 * mel) / 3;
}

/** Options of `melFilterBank` (the arguments of HF's `mel_filter_bank`). */
export interface MelFilterBankOptions {
  /** Frequency bins of the spectrogram, `nFft / 2 + 1` (201 for Whisper). */
  numFrequencyBins: number;
  /** Mel filters (80 or 128 for Whisper). */
  numMelFilters: number;
  /** Lowest frequency in Hz (0 for Whisper). */
  minFrequency: number;
  /** Highest frequency in Hz (8000 for Whisper). */
  maxFrequency: number;
  /** Sampling rate in Hz (16000 for Whisper). */
  samplingRate: number;
  /** `'slaney'` divides each filter by its width in Hz / 2 (constant area); default none. */
  norm?: 'slaney' | null;
  /** Default `'htk'`, as in HF; Whisper uses `'slaney'`, SeamlessM4T `'kaldi'`. */
  melScale?: MelScale;
  /**
   * Draw the triangles in mel space rather than in hertz (HF's `triangularize_in_mel_space`, what torchaudio's
   * Kaldi-compatible fbank does): bin `k` sits at `hertzToMel(k · samplingRate / (2 · (numFrequencyBins − 1)))`
   * and the corners are the evenly spaced mels themselves. Default false.
   */
  triangularizeInMelSpace?: boolean;
}

/**
 * A triangular mel filter bank. Filter `m` rises linearly from 0 at `f[m]` to 1 at `f[m+1]` and falls to
 * 0 at `f[m+2]`, where `f` are `numMelFilters + 2` points evenly spaced in mels between `minFrequency` and
 * `maxFrequency`; the frequency bins are `linspace(0, floor(samplingRate / 2), numFrequencyBins)` (with
 * `triangularizeInMelSpace`, both are taken in mels instead).
 * @returns float64 `[numMelFilters, numFrequencyBins]` row-major (HF returns the transpose).
 * @throws InvalidArgumentError for non-positive counts, an empty frequency range, an unknown `melScale` or `norm`.
 */
export function melFilterBank(opts: MelFilterBankOptions): Float64Array {
  const { numFrequencyBins: nBins, numMelFilters: nMels, minFrequency, maxFrequency, samplingRate } = opts;
  const scale = opts.melScale ?? 'htk';
  checkScale(scale, 'melFilterBank');
  if (opts.norm != null && opts.norm !== 'slaney') throw new InvalidArgumentError(`melFilterBank: norm must be 'slaney' or null, got ${JSON.stringify(opts.norm)}`);
  const inMelSpace = opts.triangularizeInMelSpace ?? false;
  if (typeof inMelSpace !== 'boolean') throw new InvalidArgumentError(`melFilterBank: triangularizeInMelSpace must be a boolean, got ${String(inMelSpace)}`);
  if (!Number.isInteger(nBins) || nBins < 2) throw new InvalidArgumentError(`melFilterBank: numFrequencyBins must be an integer ≥ 2, got ${nBins}`);
  if (!Number.isInteger(nMels) || nMels < 1) throw new InvalidArgumentError(`melFilterBank: numMelFilters must be a positive integer, got ${nMels}`);
  if (!(maxFrequency > minFrequency) || minFrequency < 0) {
    throw new InvalidArgumentError(`melFilterBank: need 0 ≤ minFrequency < maxFrequency, got ${minFrequency} and ${maxFrequency}`);
  }
  const melMin = hertzToMel(minFrequency, scale);
  const melMax = hertzToMel(maxFrequency, scale);
  // numpy.linspace: start + i·step, with the last point exactly `stop`.
  const points = nMels + 2;
  const filterFreqs = new Float64Array(points);
  const melStep = (melMax - melMin) / (points - 1);
  for (let i = 0; i < points; i++) {
    const mel = i === points - 1 ? melMax : melMin + i * melStep;
    filterFreqs[i] = inMelSpace ? mel : melToHertz(mel, scale);
  }
  // Bin frequencies: linspace(0, floor(sr / 2), nBins) in hertz, or k · sr / (2 (nBins − 1)) taken to mels.
  const nyquist = Math.floor(samplingRate / 2);
  const binStep = nyquist / (nBins - 1);
  const melBinWidth = samplingRate / ((nBins - 1) * 2);
  const binFreqs = new Float64Array(nBins);
  for (let k = 0; k < nBins; k++) {
    binFreqs[k] = inMelSpace ? hertzToMel(melBinWidth * k, scale) : k === nBins - 1 ? nyquist : k * binStep;
  }
  const out = new Float64Array(nMels * nBins);
  for (let m = 0; m < nMels; m++) {
    const lower = filterFreqs[m];
    const center = filterFreqs[m + 1];
    const upper = filterFreqs[m + 2];
    const areaNorm = opts.norm === 'slaney' ? 2 / (upper - lower) : 1;
    for (let k = 0; k < nBins; k++) {
      const f = binFreqs[k];
      const down = -(lower - f) / (center - lower);
      const up = (upper - f) / (upper - center);
      out[m * nBins + k] = Math.max(0, Math.min(down, up)) * areaNorm;
    }
  }
  return out;
}
