/**
 * Whisper input preparation: what users pass (log-mel features, a waveform or WAV path, or a reused
 * encoder output, each with decoder ids) → the checked tensors the forward pass reads.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { WhisperConfig } from '../io/config/whisper.js';
import { InvalidArgumentError, ShapeMismatchError } from '../errors.js';
import { whisperFeatures } from '../data/audio.js';
import { prepareTokensAsync } from './token-input.js';

/** Log-mel features: a `[batch, nMels, frames]` tensor, or the same as typed array + shape. */
export type FeatureInput = tf.Tensor | { data: Float32Array; shape: readonly [number, number, number] };

/** Decoder token ids `[batch, decPos]` (int32 tensor or nested arrays; one row may be a flat array). */
export type DecoderIds = tf.Tensor | readonly number[] | readonly (readonly number[])[];

/** Whisper input: features and decoder ids, or a reused encoder output and decoder ids. */
export type WhisperInput =
  | { inputFeatures: FeatureInput; decoderInputIds: DecoderIds }
  | {
      /** A 16 kHz mono waveform or a WAV file path; log-mel features are computed with `whisperFeatures`. */
      audio: Float32Array | string;
      decoderInputIds: DecoderIds;
    }
  | {
      /** Output of `model.encode(features)`: `[batch, srcPos, dModel]` (after the encoder's final LN). */
      encoderOutput: tf.Tensor;
      decoderInputIds: DecoderIds;
    };

/** Tensors the forward pass reads. */
export interface PreparedWhisper {
  features?: tf.Tensor3D;
  encoderOutput?: tf.Tensor3D;
  decoderInputIds: tf.Tensor2D;
  owned: tf.Tensor[];
}

/** Checks log-mel features against the config (`[batch, nMels, 2·max_source_positions]`, float32); tensors made here go to `owned`. */
export function prepareFeatures(input: FeatureInput, cfg: WhisperConfig, owned: tf.Tensor[]): tf.Tensor3D {
  let x: tf.Tensor;
  if (input instanceof tf.Tensor) x = input;
  else if (input && input.data instanceof Float32Array && Array.isArray(input.shape)) {
    const shape = [...input.shape];
    if (shape.length !== 3 || shape.reduce((a, b) => a * b, 1) !== input.data.length) {
      throw new ShapeMismatchError('input features (typed array)', `a [batch, nMels, frames] shape with ${input.data.length} elements`, shape);
    }
    owned.push((x = tf.tensor3d(input.data, shape as [number, number, number])));
  } else {
    throw new InvalidArgumentError('Whisper input features must be a [batch, nMels, frames] tensor or { data: Float32Array, shape }');
  }
  if (x.rank === 2) owned.push((x = tf.expandDims(x, 0)));
  const frames = 2 * cfg.maxSourcePositions;
  if (x.rank !== 3 || x.shape[1] !== cfg.nMels || x.shape[2] !== frames) {
    throw new ShapeMismatchError('input features', `[batch, ${cfg.nMels}, ${frames}] (num_mel_bins × 2·max_source_positions frames; whisperFeatures pads audio to 30 s)`, x.shape);
  }
  if (x.dtype !== 'float32') owned.push((x = tf.cast(x, 'float32')));
  return x as tf.Tensor3D;
}

/**
 * Turns a `WhisperInput` into checked tensors (freed by the caller through `owned`). Tensor decoder ids are
 * read from the device asynchronously (webgpu in Node has no synchronous read).
 */
export async function prepareWhisperInput(input: WhisperInput, cfg: WhisperConfig): Promise<PreparedWhisper> {
  const owned: tf.Tensor[] = [];
  try {
    if (!input || typeof input !== 'object' || !('decoderInputIds' in input)) {
      throw new InvalidArgumentError('Whisper input must be { inputFeatures | audio | encoderOutput, decoderInputIds }');
    }
    const tokens = await prepareTokensAsync(input.decoderInputIds as tf.Tensor | number[][], { vocabSize: cfg.dVocab, maxPositions: cfg.maxTargetPositions });
    owned.push(...tokens.owned);
    const batch = tokens.inputIds.shape[0];
    const prepared: PreparedWhisper = { decoderInputIds: tokens.inputIds, owned };
    if ('encoderOutput' in input && input.encoderOutput !== undefined) {
      const e = input.encoderOutput;
      if (!(e instanceof tf.Tensor) || e.rank !== 3 || e.shape[2] !== cfg.dModel) {
        throw new ShapeMismatchError('encoderOutput', `[batch, srcPos, ${cfg.dModel}] (from model.encode)`, e instanceof tf.Tensor ? e.shape : String(e));
      }
      prepared.encoderOutput = e as tf.Tensor3D;
    } else if ('inputFeatures' in input) {
      prepared.features = prepareFeatures(input.inputFeatures, cfg, owned);
    } else if ('audio' in input) {
      const features = whisperFeatures(input.audio, { nMels: cfg.nMels });
      owned.push(features);
      prepared.features = prepareFeatures(features, cfg, owned);
    } else {
      throw new InvalidArgumentError('Whisper input needs inputFeatures or encoderOutput');
    }
    const encBatch = (prepared.features ?? prepared.encoderOutput)!.shape[0];
    if (encBatch !== batch) throw new ShapeMismatchError('decoderInputIds', `${encBatch} rows like the audio batch`, tokens.inputIds.shape);
    return prepared;
  } catch (err) {
    for (const t of owned) t.dispose();
    throw err;
  }
}
