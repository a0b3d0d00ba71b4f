/**
 * Band-limited resampling with the algorithm of `torchaudio.functional.resample` (defaults
 * `lowpass_filter_width=6`, `rolloff=0.99`, `resampling_method='sinc_interp_hann'`), which is what the
 * Hugging Face speech-recognition pipeline applies when it gets audio at a rate other than the feature
 * extractor's 16 kHz. Computed in float64.
 *
 * Output sample `o` is the input evaluated at `p = o · from / to` (in input samples) through a
 * Hann-windowed sinc low-pass at `cutoff = rolloff · min(from, to) / 2`:
 *   `y[o] = Σ_n x[n] · s · sinc(π t) · cos²(π t / (2w))`, `t = (n − p) · s`, `|t| ≤ w`,
 * with `s = rolloff · min(from, to) / from` and `w` the filter width in zero crossings; samples outside the
 * signal are zeros. The output has `ceil(len · to / from)` samples.
 *
 * Why hand-written: wavefile's resampler (the WAV package we use) filters with an IIR Butterworth and
 * quantises back to the file's bit depth; matching the reference pipeline matters more here.
 */
import { InvalidArgumentError } from '../errors.js';

/** Options of `resampleSinc`. */
export interface ResampleOptions {
  /** Zero crossings of the sinc on each side (torchaudio `lowpass_filter_width`); default 6. */
  lowpassFilterWidth?: number;
  /** Cutoff as a fraction of the lower Nyquist frequency; default 0.99. */
  rolloff?: number;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/**
 * Resamples `samples` from `fromRate` to `toRate` Hz (integers).
 * @returns `ceil(samples.length · toRate / fromRate)` samples (a copy when the rates are equal).
 * @throws InvalidArgumentError for non-positive or non-integer rates or bad options.
 */
export function resampleSinc(samples: Float32Array, fromRate: number, toRate: number, opts: ResampleOptions = {}): Float32Array {
  for (const [name, v] of [['fromRate', fromRate], ['toRate', toRate]] as const) {
    if (!Number.isInteger(v) || v <= 0) throw new InvalidArgumentError(`resampleSinc: ${name} must be a positive integer (Hz), got ${v}`);
  }
  const width = opts.lowpassFilterWidth ?? 6;
  const rolloff = opts.rolloff ?? 0.99;
  if (!(width > 0)) throw new InvalidArgumentError(`resampleSinc: lowpassFilterWidth must be positive, got ${width}`);
  if (!(rolloff > 0 && rolloff <= 1)) throw new InvalidArgumentError(`resampleSinc: rolloff must be in (0, 1], got ${rolloff}`);
  if (fromRate === toRate) return samples.slice();
  const g = gcd(fromRate, toRate);
  const from = fromRate / g;
  const to = toRate / g;
  const baseFreq = Math.min(from, to) * rolloff;
  const s = baseFreq / from;
  /** Half-length of the kernel in input samples: |n − p| ≤ reach. */
  const reach = width / s;
  const len = samples.length;
  const outLen = Math.ceil((to * len) / from);
  const out = new Float32Array(outLen);
  // Output o = i·to + j sits at p = i·from + j·from/to: every phase j has one fixed set of taps.
  const maxTaps = Math.floor(2 * reach) + 2;
  const taps = new Float64Array(maxTaps);
  for (let j = 0; j < Math.min(to, outLen); j++) {
    const offset = (j * from) / to;
    const first = Math.ceil(offset - reach);
    const last = Math.floor(offset + reach);
    const count = last - first + 1;
    for (let d = 0; d < count; d++) {
      const t = (first + d - offset) * s;
      const sinc = t === 0 ? 1 : Math.sin(Math.PI * t) / (Math.PI * t);
      const window = Math.cos((Math.PI * t) / (2 * width)) ** 2;
      taps[d] = s * sinc * window;
    }
    for (let o = j, base = 0; o < outLen; o += to, base += from) {
      const n0 = base + first;
      let acc = 0;
      const dLo = Math.max(0, -n0);
      const dHi = Math.min(count, len - n0);
      for (let d = dLo; d < dHi; d++) acc += samples[n0 + d] * taps[d];
      out[o] = acc;
    }
  }
  return out;
}
