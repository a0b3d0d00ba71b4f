/**
 * WAV decoding to mono float32 through the `wavefile` package (RIFF, RIFX and RF64 containers).
 *
 * Encodings: integer PCM of 8 (unsigned), 16, 24 and 32 bits, scaled by `1 / 2^(bits−1)` (so 16-bit
 * samples are `int16 / 32768`, as soundfile and ffmpeg decode them); IEEE float of 32 and 64 bits as is;
 * also inside WAVE_FORMAT_EXTENSIBLE. Several channels are averaged to one. Compressed encodings (A-law,
 * µ-law, ADPCM, MP3 in WAV…) are refused with `InvalidInputError`.
 *
 * wavefile parses the container and its chunks; the samples are unpacked here from the raw `data` bytes,
 * because wavefile takes WAVE_FORMAT_EXTENSIBLE float data for integers and returns unscaled integers.
 */
import wavefile from 'wavefile';
import { InvalidInputError } from '../errors.js';
import { readInputFile, BYTES_SOURCE } from './read-input.js';

/** Decoded audio, channels averaged. */
export interface WavAudio {
  /** Mono samples in [−1, 1] (floats may exceed it). */
  samples: Float32Array;
  /** Sampling rate in Hz. */
  sampleRate: number;
  /** Channels in the file (averaged into `samples`). */
  channels: number;
  /** The file's encoding, e.g. `'pcm16'`, `'pcm24'`, `'float32'`. */
  encoding: string;
}

const WAVE_FORMAT_PCM = 1;
const WAVE_FORMAT_IEEE_FLOAT = 3;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;

const FORMAT_NAMES: Record<number, string> = {
  2: 'Microsoft ADPCM',
  6: 'A-law',
  7: 'µ-law',
  17: 'IMA ADPCM',
  49: 'GSM 6.10',
  80: 'MPEG',
  85: 'MP3',
};

interface WavFmt {
  audioFormat: number;
  numChannels: number;
  sampleRate: number;
  bitsPerSample: number;
  blockAlign: number;
  subformat?: number[];
}

/**
 * Decodes a WAV file's bytes.
 * @param source file name for error messages (default `'<bytes>'`).
 * @throws InvalidInputError for a file that is not WAV, is corrupt, or uses an unsupported encoding.
 */
export function decodeWav(bytes: Uint8Array, source: string = BYTES_SOURCE): WavAudio {
  let wav: InstanceType<typeof wavefile.WaveFile>;
  try {
    wav = new wavefile.WaveFile(bytes);
  } catch (err) {
    throw new InvalidInputError(source, `not a readable WAV file (${err instanceof Error ? err.message : String(err)})`, 'pass a RIFF/WAVE file');
  }
  const fmt = wav.fmt as WavFmt;
  const raw = (wav.data as { samples: Uint8Array }).samples;
  const code = fmt.audioFormat === WAVE_FORMAT_EXTENSIBLE && fmt.subformat ? fmt.subformat[0] : fmt.audioFormat;
  const bits = fmt.bitsPerSample;
  const channels = fmt.numChannels;
  if (!(channels >= 1)) throw new InvalidInputError(source, `WAV header declares ${channels} channels`);
  if (!(fmt.sampleRate > 0)) throw new InvalidInputError(source, `WAV header declares a sampling rate of ${fmt.sampleRate} Hz`);
  const bigEndian = wav.container === 'RIFX';
  let interleaved: Float64Array;
  let encoding: string;
  if (code === WAVE_FORMAT_PCM && [8, 16, 24, 32].includes(bits)) {
    encoding = `pcm${bits}`;
    interleaved = decodePcm(raw, bits, bigEndian, source);
  } else if (code === WAVE_FORMAT_IEEE_FLOAT && (bits === 32 || bits === 64)) {
    encoding = `float${bits}`;
    interleaved = decodeFloat(raw, bits, bigEndian);
  } else {
    const what = FORMAT_NAMES[code] ?? (code === WAVE_FORMAT_PCM || code === WAVE_FORMAT_IEEE_FLOAT ? `${bits}-bit ${code === 1 ? 'PCM' : 'float'}` : `format code ${code}`);
    throw new InvalidInputError(source, `unsupported WAV encoding: ${what}`, 'convert to 16/24/32-bit PCM or 32-bit float WAV (e.g. ffmpeg -i in -c:a pcm_s16le out.wav)');
  }
  const frames = Math.floor(interleaved.length / channels);
  const samples = new Float32Array(frames);
  for (let f = 0; f < frames; f++) {
    let sum = 0;
    for (let c = 0; c < channels; c++) sum += interleaved[f * channels + c];
    samples[f] = sum / channels;
  }
  return { samples, sampleRate: fmt.sampleRate, channels, encoding };
}

function decodePcm(raw: Uint8Array, bits: number, bigEndian: boolean, source: string): Float64Array {
  const bytesPer = bits / 8;
  const count = Math.floor(raw.length / bytesPer);
  const view = new DataView(raw.buffer, raw.byteOffset, count * bytesPer);
  const out = new Float64Array(count);
  const little = !bigEndian;
  switch (bits) {
    case 8:
      for (let i = 0; i < count; i++) out[i] = (raw[i] - 128) / 128;
      break;
    case 16:
      for (let i = 0; i < count; i++) out[i] = view.getInt16(i * 2, little) / 32768;
      break;
    case 24:
      for (let i = 0; i < count; i++) {
        const p = i * 3;
        const [b0, b1, b2] = little ? [raw[p], raw[p + 1], raw[p + 2]] : [raw[p + 2], raw[p + 1], raw[p]];
        const u = b0 | (b1 << 8) | (b2 << 16);
        out[i] = (u >= 0x800000 ? u - 0x1000000 : u) / 8388608;
      }
      break;
    case 32:
      for (let i = 0; i < count; i++) out[i] = view.getInt32(i * 4, little) / 2147483648;
      break;
    default:
      throw new InvalidInputError(source, `unsupported PCM bit depth ${bits}`);
  }
  return out;
}

function decodeFloat(raw: Uint8Array, bits: number, bigEndian: boolean): Float64Array {
  const bytesPer = bits / 8;
  const count = Math.floor(raw.length / bytesPer);
  const view = new DataView(raw.buffer, raw.byteOffset, count * bytesPer);
  const out = new Float64Array(count);
  const little = !bigEndian;
  if (bits === 32) for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, little);
  else for (let i = 0; i < count; i++) out[i] = view.getFloat64(i * 8, little);
  return out;
}

/**
 * Reads a WAV file.
 * @returns mono float32 samples (channels averaged) and the file's sampling rate in Hz.
 * @throws InvalidInputError for a missing, corrupt or unsupported file.
 */
export function readWav(path: string): { samples: Float32Array; sampleRate: number } {
  const { samples, sampleRate } = decodeWav(readInputFile(path, 'WAV audio'), path);
  return { samples, sampleRate };
}
