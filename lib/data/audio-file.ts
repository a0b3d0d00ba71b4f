/**
 * Audio files to mono float32, picked by their magic bytes (never the extension): WAV (RIFF/RIFX/RF64)
 * through `decodeWav`, FLAC (`fLaC`) through `@wasm-audio-decoders/flac` (libFLAC compiled to wasm).
 * Channels are averaged; integer samples are scaled by `1 / 2^(bits−1)` in both (the FLAC decoder's own
 * `1 / (2^(bits−1) − 1)` is undone), so a 16-bit FLAC and the 16-bit WAV of the same signal decode to the
 * same floats.
 */
import { FLACDecoder } from '@wasm-audio-decoders/flac';
import { InvalidInputError } from '../errors.js';
import { readInputFile, BYTES_SOURCE } from './read-input.js';
import { decodeWav, type WavAudio } from './wav.js';

/** Decoded audio (channels averaged). */
export type DecodedAudio = WavAudio;

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
  const decoder = new FLACDecoder();
  await decoder.ready;
  let decoded: Awaited<ReturnType<FLACDecoder['decodeFile']>>;
  try {
    decoded = await decoder.decodeFile(bytes);
  } finally {
    decoder.free();
  }
  if (decoded.errors?.length) {
    const e = decoded.errors[0]!;
    throw new InvalidInputError(source, `corrupt FLAC stream: ${e.message} (frame ${e.frameNumber})`);
  }
  const channels = decoded.channelData.length;
  const n = decoded.samplesDecoded;
  if (!channels || !n) throw new InvalidInputError(source, 'the FLAC stream holds no samples');
  // The decoder scales integers by 1 / (2^(bits−1) − 1); undo that (exact up to 24 bits: the float32 value
  // times 2^(bits−1) − 1 is within 0.25 of the integer) and scale by 1 / 2^(bits−1) like the WAV reader.
  const full = 2 ** (decoded.bitDepth - 1);
  const toInt = decoded.bitDepth <= 24 ? (v: number) => Math.round(v * (full - 1)) : (v: number) => v * (full - 1);
  const samples = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let c = 0; c < channels; c++) sum += toInt(decoded.channelData[c]![i]!) / full;
    samples[i] = sum / channels;
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
