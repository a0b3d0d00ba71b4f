/**
 * Audio files to mono float32, picked by their magic bytes (never the extension): WAV (RIFF/RIFX/RF64)
 * through `decodeWav`, FLAC (`fLaC`) through `@wasm-audio-decoders/flac` (libFLAC compiled to wasm).
 * Channels are averaged; integer samples are scaled by `1 / 2^(bits−1)` in both, so a 16-bit FLAC and the
 * 16-bit WAV of the same signal decode to the same floats.
 */
import { InvalidInputError } from '../errors.js';
import { readInputFile, BYTES_SOURCE } from './read-input.js';
import { decodeWav, type WavAudio } from './wav.js';

/** Decoded audio (channels averaged). */
export type DecodedAudio = WavAudio;

/** What `@wasm-audio-decoders/flac`'s `FLACDecoder` returns from `decodeFile`. */
interface FlacDecoded {
  channelData: Float32Array[];
  samplesDecoded: number;
  sampleRate: number;
  bitDepth: number;
  errors?: { message: string; frameNumber?: number }[];
}

interface FlacDecoderInstance {
  ready: Promise<void>;
  decodeFile(bytes: Uint8Array): Promise<FlacDecoded>;
  free(): void;
}

/** The FLAC decoder package, loaded on first use (a module name in a variable keeps it an optional dependency at build time). */
const FLAC_PACKAGE = '@wasm-audio-decoders/flac';

async function flacDecoder(source: string): Promise<FlacDecoderInstance> {
  let mod: { FLACDecoder: new () => FlacDecoderInstance };
  try {
    mod = (await import(FLAC_PACKAGE)) as typeof mod;
  } catch (err) {
    throw new InvalidInputError(source, `is FLAC, and the FLAC decoder package ${FLAC_PACKAGE} cannot be loaded (${(err as Error).message})`, `install ${FLAC_PACKAGE}, or convert the clip to WAV`);
  }
  const decoder = new mod.FLACDecoder();
  await decoder.ready;
  return decoder;
}

/** Whether the bytes start a FLAC stream. */
export function isFlac(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x66 && bytes[1] === 0x4c && bytes[2] === 0x61 && bytes[3] === 0x43;
}

/**
 * Decodes a FLAC file's bytes to mono float32.
 * @throws InvalidInputError for a stream libFLAC reports errors in, or that decodes to no samples.
 */
export async function decodeFlac(bytes: Uint8Array, source: string = BYTES_SOURCE): Promise<DecodedAudio> {
  if (!isFlac(bytes)) throw new InvalidInputError(source, 'is not a FLAC stream (no fLaC marker)');
  const decoder = await flacDecoder(source);
  let decoded: FlacDecoded;
  try {
    decoded = await decoder.decodeFile(bytes);
  } finally {
    decoder.free();
  }
  if (decoded.errors?.length) {
    const e = decoded.errors[0]!;
    throw new InvalidInputError(source, `corrupt FLAC stream: ${e.message}${e.frameNumber !== undefined ? ` (frame ${e.frameNumber})` : ''}`);
  }
  const channels = decoded.channelData.length;
  const n = decoded.samplesDecoded;
  if (!channels || !n) throw new InvalidInputError(source, 'the FLAC stream holds no samples');
  let samples: Float32Array;
  if (channels === 1) samples = decoded.channelData[0]!.slice(0, n);
  else {
    samples = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      let sum = 0;
      for (let c = 0; c < channels; c++) sum += decoded.channelData[c]![i]!;
      samples[i] = sum / channels;
    }
  }
  return { samples, sampleRate: decoded.sampleRate, channels, encoding: `flac${decoded.bitDepth}` };
}

/**
 * Reads a WAV or FLAC file to mono float32 with its own sampling rate.
 * @throws InvalidInputError for a missing file, another format, or a corrupt stream.
 */
export async function readAudioFile(path: string): Promise<DecodedAudio> {
  const bytes = readInputFile(path, 'audio');
  if (isFlac(bytes)) return decodeFlac(bytes, path);
  const head = new TextDecoder('latin1').decode(bytes.subarray(0, 4));
  if (head === 'RIFF' || head === 'RIFX' || head === 'RF64') return decodeWav(bytes, path);
  throw new InvalidInputError(path, 'is neither WAV nor FLAC audio (by its first bytes)', 'convert the clip to WAV or FLAC');
}
