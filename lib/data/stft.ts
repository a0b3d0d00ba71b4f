/**
 * Power spectrogram `|STFT|²` of a real signal with a periodic Hann window and `center=True` reflect
 * padding, as `torch.stft(…, window=hann_window(nFft), center=True, pad_mode='reflect')` and
 * `transformers.audio_utils.spectrogram` compute it for Whisper (`nFft` 400, hop 160).
 *
 * The transform is a direct real DFT in float64 against a precomputed cos/sin basis (`nFft` → `nFft/2+1`
 * bins), folded with the symmetry of real input so each bin costs `nFft/2` multiply-adds per table.
 * Why no FFT package: the well-kept ones (e.g. fft.js) handle power-of-two sizes only and Whisper's 400 is
 * not one; zero-padding to 512 would change the bins. A float64 loop is also backend-independent and more
 * accurate than the float32 reference. All-zero frames (the 30 s padding) are skipped: their power is 0.
 */
import { InvalidArgumentError } from '../errors.js';

/** Options of `powerSpectrogram`. */
export interface StftOptions {
  /** FFT size = window length (400 for Whisper); even. */
  nFft: number;
  /** Hop between frames (160 for Whisper). */
  hopLength: number;
}

/** A power spectrogram, frame-major. */
export interface PowerSpectrogram {
  /** float64 `[nFrames, nBins]` row-major. */
  power: Float64Array;
  nFrames: number;
  /** `nFft / 2 + 1`. */
  nBins: number;
}

/** Periodic Hann window of length `n`: `0.5 − 0.5·cos(2πi/n)` (`torch.hann_window(n)`, `np.hanning(n+1)[:-1]`). */
export function hannWindow(n: number): Float64Array {
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) w[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / n);
  return w;
}

interface DftBasis {
  /** `[nBins, half − 1]`: cos(2πkn/N) for n = 1 … half−1. */
  cos: Float64Array;
  /** `[nBins, half − 1]`: sin(2πkn/N) for n = 1 … half−1. */
  sin: Float64Array;
}

const basisCache = new Map<number, DftBasis>();

function dftBasis(nFft: number): DftBasis {
  const cached = basisCache.get(nFft);
  if (cached) return cached;
  const half = nFft / 2;
  const nBins = half + 1;
  const cos = new Float64Array(nBins * (half - 1));
  const sin = new Float64Array(nBins * (half - 1));
  for (let k = 0; k < nBins; k++) {
    for (let n = 1; n < half; n++) {
      // Reduce k·n mod N first so the angle is exact.
      const angle = (2 * Math.PI * ((k * n) % nFft)) / nFft;
      cos[k * (half - 1) + n - 1] = Math.cos(angle);
      sin[k * (half - 1) + n - 1] = Math.sin(angle);
    }
  }
  const basis = { cos, sin };
  basisCache.set(nFft, basis);
  return basis;
}

/**
 * `|X[t, k]|²` for frames `t = 0 … ⌊len/hop⌋` (all of them, like `torch.stft`; Whisper then drops the last).
 * Frame `t` covers samples `t·hop − nFft/2 … t·hop + nFft/2 − 1` of the signal, reflected at both ends
 * (`x[−i] = x[i]`, `x[len−1+i] = x[len−1−i]`).
 * @param signal the samples (any length > nFft/2).
 * @throws InvalidArgumentError for an odd `nFft`, a bad hop, or a signal too short to reflect.
 */
export function powerSpectrogram(signal: Float32Array | Float64Array, opts: StftOptions): PowerSpectrogram {
  const { nFft, hopLength } = opts;
  if (!Number.isInteger(nFft) || nFft < 4 || nFft % 2 !== 0) throw new InvalidArgumentError(`powerSpectrogram: nFft must be an even integer ≥ 4, got ${nFft}`);
  if (!Number.isInteger(hopLength) || hopLength < 1) throw new InvalidArgumentError(`powerSpectrogram: hopLength must be a positive integer, got ${hopLength}`);
  const len = signal.length;
  const half = nFft / 2;
  if (len <= half) throw new InvalidArgumentError(`powerSpectrogram: reflect padding needs more than ${half} samples, got ${len}`);
  const nBins = half + 1;
  const nFrames = 1 + Math.floor(len / hopLength);
  const window = hannWindow(nFft);
  const { cos, sin } = dftBasis(nFft);
  const power = new Float64Array(nFrames * nBins);
  const frame = new Float64Array(nFft);
  const even = new Float64Array(half - 1);
  const odd = new Float64Array(half - 1);
  for (let t = 0; t < nFrames; t++) {
    const start = t * hopLength - half;
    let nonZero = false;
    for (let n = 0; n < nFft; n++) {
      let i = start + n;
      if (i < 0) i = -i;
      else if (i >= len) i = 2 * (len - 1) - i;
      const v = signal[i] * window[n];
      frame[n] = v;
      if (v !== 0) nonZero = true;
    }
    if (!nonZero) continue;
    // Real input: X[k] = x0 + (−1)^k x_half + Σ_{n<half} (x_n + x_{N−n}) cos(2πkn/N) − i Σ (x_n − x_{N−n}) sin(2πkn/N).
    for (let n = 1; n < half; n++) {
      even[n - 1] = frame[n] + frame[nFft - n];
      odd[n - 1] = frame[n] - frame[nFft - n];
    }
    const x0 = frame[0];
    const xHalf = frame[half];
    const row = t * nBins;
    for (let k = 0; k < nBins; k++) {
      const base = k * (half - 1);
      let re = x0 + (k % 2 === 0 ? xHalf : -xHalf);
      let im = 0;
      for (let n = 0; n < half - 1; n++) {
        re += even[n] * cos[base + n];
        im += odd[n] * sin[base + n];
      }
      power[row + k] = re * re + im * im;
    }
  }
  return { power, nFrames, nBins };
}
