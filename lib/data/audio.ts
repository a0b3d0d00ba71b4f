/**
 * Whisper log-mel features with Hugging Face parity (`WhisperFeatureExtractor`, `padding='max_length'`):
 *
 * 1. waveform at 16 kHz (a WAV file is decoded and averaged to mono; other rates are resampled first,
 *    see `resample.ts`), zero-padded or truncated to `nSamples` (480 000 = 30 s);
 * 2. power STFT, `n_fft` 400, hop 160, periodic Hann window, centred with reflect padding (`stft.ts`);
 *    the last frame is dropped (HF keeps `[..., :-1]`), leaving `nSamples / 160` = 3000 frames;
 * 3. Slaney mel filter bank, 0–8000 Hz, Slaney area normalisation (`mel.ts`);
 * 4. `log10(max(mel, 1e-10))`, then `max(x, max(x) − 8)`, then `(x + 4) / 4`.
 *
 * Everything is computed in float64 on the host and returned as float32.
 */
import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError } from '../errors.js';
import { melFilterBank } from './mel.js';
import { powerSpectrogram } from './stft.js';
import { resampleSinc } from './resample.js';
import { readWav } from './wav.js';

/** Sampling rate (Hz) Whisper's features are computed at. */
export const WHISPER_SAMPLING_RATE = 16000;
/** STFT size and window length (25 ms). */
export const WHISPER_N_FFT = 400;
/** STFT hop (10 ms): one feature frame per 160 samples. */
export const WHISPER_HOP_LENGTH = 160;
/** Samples in a 30 s chunk, the length every input is padded or truncated to. */
export const WHISPER_N_SAMPLES = 480000;

/** Longest `nSamples` accepted: 10 minutes at 16 kHz (the features of longer audio would take gigabytes). */
export const WHISPER_MAX_SAMPLES = 600 * 16000;
/** Sampling rates accepted for resampling to 16 kHz (Hz); outside, resampling would blow the waveform up or make no sense. */
const MIN_SAMPLING_RATE = 1000;
const MAX_SAMPLING_RATE = 1_000_000;

/** Options of `whisperFeatures` (the fields of Whisper's `preprocessor_config.json`). */
export interface WhisperFeatureOptions {
  /** Mel bins (`feature_size`): 80, or 128 for large-v3; default 80. */
  nMels?: number;
  /**
   * Sampling rate of a `Float32Array` waveform, default 16000. Other rates are resampled to 16 kHz
   * (HF's extractor refuses them; its ASR pipeline resamples the same way). WAV files carry their own rate.
   */
  samplingRate?: number;
  /** Samples after padding/truncation (`n_samples`); default 480000 (30 s). */
  nSamples?: number;
}

/** Log-mel features as a plain array. */
export interface LogMelFeatures {
  /** float32 `[nMels, nFrames]` row-major. */
  data: Float32Array;
  nMels: number;
  nFrames: number;
}

const filterCache = new Map<number, { weights: Float64Array; first: Int32Array; last: Int32Array }>();

/** Whisper's mel filters with each filter's non-zero bin range, cached per `nMels`. */
function whisperFilters(nMels: number): { weights: Float64Array; first: Int32Array; last: Int32Array } {
  const cached = filterCache.get(nMels);
  if (cached) return cached;
  const nBins = WHISPER_N_FFT / 2 + 1;
  const weights = melFilterBank({
    numFrequencyBins: nBins,
    numMelFilters: nMels,
    minFrequency: 0,
    maxFrequency: 8000,
    samplingRate: WHISPER_SAMPLING_RATE,
    norm: 'slaney',
    melScale: 'slaney',
  });
  const first = new Int32Array(nMels);
  const last = new Int32Array(nMels);
  for (let m = 0; m < nMels; m++) {
    let lo = nBins;
    let hi = -1;
    for (let k = 0; k < nBins; k++) {
      if (weights[m * nBins + k] !== 0) {
        lo = Math.min(lo, k);
        hi = k;
      }
    }
    first[m] = lo;
    last[m] = hi;
  }
  const entry = { weights, first, last };
  filterCache.set(nMels, entry);
  return entry;
}

/**
 * Whisper log-mel features of a 16 kHz waveform, without tensors.
 * @param samples mono waveform at 16 kHz (padded/truncated to `nSamples` here).
 * @returns float32 `[nMels, nSamples / 160]`.
 * @throws InvalidArgumentError for bad `nMels` / `nSamples`.
 */
export function whisperLogMel(samples: Float32Array, opts: { nMels?: number; nSamples?: number } = {}): LogMelFeatures {
  const nMels = opts.nMels ?? 80;
  const nSamples = opts.nSamples ?? WHISPER_N_SAMPLES;
  const maxMels = WHISPER_N_FFT / 2 + 1;
  if (!Number.isInteger(nMels) || nMels < 1 || nMels > maxMels) {
    throw new InvalidArgumentError(`whisperFeatures: nMels must be an integer in 1 … ${maxMels} (the STFT's frequency bins), got ${nMels}`, 'Whisper checkpoints use 80 (128 for large-v3): the num_mel_bins of config.json');
  }
  if (!Number.isInteger(nSamples) || nSamples <= WHISPER_N_FFT / 2 || nSamples > WHISPER_MAX_SAMPLES) {
    throw new InvalidArgumentError(`whisperFeatures: nSamples must be an integer in ${WHISPER_N_FFT / 2 + 1} … ${WHISPER_MAX_SAMPLES} (10 minutes at 16 kHz), got ${nSamples}`, `Whisper reads ${WHISPER_N_SAMPLES} samples (30 s); split longer audio into chunks`);
  }
  const padded = new Float64Array(nSamples);
  const kept = Math.min(nSamples, samples.length);
  for (let i = 0; i < kept; i++) padded[i] = samples[i];
  const { power, nFrames: allFrames, nBins } = powerSpectrogram(padded, { nFft: WHISPER_N_FFT, hopLength: WHISPER_HOP_LENGTH });
  const nFrames = allFrames - 1;
  const { weights, first, last } = whisperFilters(nMels);
  const logMel = new Float64Array(nMels * nFrames);
  let maxLog = -Infinity;
  for (let t = 0; t < nFrames; t++) {
    const row = t * nBins;
    for (let m = 0; m < nMels; m++) {
      let mel = 0;
      const w = m * nBins;
      for (let k = first[m]; k <= last[m]; k++) mel += weights[w + k] * power[row + k];
      const v = Math.log10(Math.max(mel, 1e-10));
      logMel[m * nFrames + t] = v;
      if (v > maxLog) maxLog = v;
    }
  }
  const floor = maxLog - 8;
  const data = new Float32Array(nMels * nFrames);
  for (let i = 0; i < data.length; i++) data[i] = (Math.max(logMel[i], floor) + 4) / 4;
  return { data, nMels, nFrames };
}

/**
 * The `input_features` that Hugging Face's `WhisperFeatureExtractor` computes for one waveform.
 * @param waveform mono samples (at `opts.samplingRate`, default 16 kHz) or the path of a WAV file.
 * @returns float32 `[1, nMels, nSamples / 160]` (`[1, 80, 3000]` by default; the caller disposes it).
 * @throws InvalidInputError for a missing, corrupt or unsupported WAV file; InvalidArgumentError for bad options.
 */
export function whisperFeatures(waveform: Float32Array | string, opts: WhisperFeatureOptions = {}): tf.Tensor3D {
  let samples: Float32Array;
  let rate: number;
  if (typeof waveform === 'string') {
    ({ samples, sampleRate: rate } = readWav(waveform));
  } else if (waveform instanceof Float32Array) {
    samples = waveform;
    rate = opts.samplingRate ?? WHISPER_SAMPLING_RATE;
  } else {
    throw new InvalidArgumentError('whisperFeatures: waveform must be a Float32Array or a WAV file path');
  }
  if (!Number.isInteger(rate) || rate < MIN_SAMPLING_RATE || rate > MAX_SAMPLING_RATE) {
    const source = typeof waveform === 'string' ? `${waveform} has` : 'samplingRate is';
    throw new InvalidArgumentError(`whisperFeatures: ${source} ${rate} Hz; the sampling rate must be an integer in ${MIN_SAMPLING_RATE} … ${MAX_SAMPLING_RATE} Hz`, `audio is resampled to ${WHISPER_SAMPLING_RATE} Hz; pass the rate the samples were recorded at`);
  }
  if (rate !== WHISPER_SAMPLING_RATE) samples = resampleSinc(samples, rate, WHISPER_SAMPLING_RATE);
  const { data, nMels, nFrames } = whisperLogMel(samples, { nMels: opts.nMels, nSamples: opts.nSamples });
  return tf.tensor3d(data, [1, nMels, nFrames], 'float32');
}
