/**
 * Greedy decoding for Whisper-like encoder–decoder models: encode once, then re-run the decoder on the
 * whole prefix at every step (no KV cache), applying only `suppress_tokens` / `begin_suppress_tokens`.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { WhisperConfig } from '../io/config/whisper.js';
import { InvalidArgumentError } from '../errors.js';
import type { FeatureInput } from './whisper-input.js';

/** Options of `generate`. */
export interface WhisperGenerateOptions {
  /** Decoder prompt, the same for every batch row (default `[decoder_start_token_id]`). */
  forcedPrefix?: readonly number[];
  /** Maximum tokens generated after the prefix (default: up to `max_target_positions`). */
  maxNewTokens?: number;
  /** Stop token (default the config's `eos_token_id`); rows that emitted it are finished. */
  eosTokenId?: number;
  /** Ids never generated (default the config's `suppress_tokens`). */
  suppressTokens?: readonly number[];
  /** Ids not generated at the first step (default the config's `begin_suppress_tokens`). */
  beginSuppressTokens?: readonly number[];
  /**
   * Called after each generated token with the steps done and the most there can be (progress; an
   * awaited promise, so a caller can yield to its event loop). A rejection stops decoding and propagates.
   */
  onStep?: (done: number, total: number) => void | Promise<void>;
}

/** What greedy decoding needs from the model. */
export interface GenerationModel {
  readonly cfg: WhisperConfig;
  /** Features → encoder output `[batch, srcPos, dModel]` (caller disposes). */
  encode(features: FeatureInput): tf.Tensor3D;
  /** Decoder logits `[batch, pos, dVocab]` for a reused encoder output. */
  forward(input: { encoderOutput: tf.Tensor; decoderInputIds: number[][] }): Promise<tf.Tensor>;
}

/**
 * Greedy decoding: encodes once, then re-runs the decoder on the whole prefix at every step (no KV
 * cache: step t costs a t-token decoder pass). Returns one id list per batch row, starting with the
 * forced prefix and ending with the EOS token when one was produced. No timestamp or language logic;
 * only `suppressTokens` / `beginSuppressTokens` are applied to the logits.
 */
export async function greedyGenerate(model: GenerationModel, features: FeatureInput, opts: WhisperGenerateOptions = {}): Promise<number[][]> {
  const cfg = model.cfg;
  const prefix = [...(opts.forcedPrefix ?? [cfg.decoderStartTokenId])];
  if (prefix.length === 0) throw new InvalidArgumentError('generate: forcedPrefix must hold at least one token');
  const room = cfg.maxTargetPositions - prefix.length;
  if (room < 0) throw new InvalidArgumentError(`generate: forcedPrefix has ${prefix.length} tokens, more than max_target_positions ${cfg.maxTargetPositions}`);
  const maxNew = Math.min(opts.maxNewTokens ?? room, room);
  const eos = opts.eosTokenId ?? cfg.eosTokenId;
  const suppress = opts.suppressTokens ?? cfg.suppressTokens;
  const beginSuppress = opts.beginSuppressTokens ?? cfg.beginSuppressTokens;
  const encoderOutput = model.encode(features);
  try {
    const batch = encoderOutput.shape[0];
    const seqs = Array.from({ length: batch }, () => [...prefix]);
    const done = new Array<boolean>(batch).fill(false);
    for (let step = 0; step < maxNew && !done.every(Boolean); step++) {
      const banned = step === 0 ? [...suppress, ...beginSuppress] : suppress;
      const logits = await model.forward({ encoderOutput, decoderInputIds: seqs });
      const next = tf.tidy(() => {
        const pos = logits.shape[1]!;
        let last = tf.reshape(tf.slice(logits, [0, pos - 1, 0], [batch, 1, cfg.dVocab]), [batch, cfg.dVocab]);
        const valid = banned.filter((id) => id >= 0 && id < cfg.dVocab);
        if (valid.length) {
          const penalty = new Float32Array(cfg.dVocab);
          for (const id of valid) penalty[id] = -Infinity;
          last = tf.add(last, tf.tensor1d(penalty));
        }
        return tf.argMax(last, -1);
      });
      logits.dispose();
      const ids = Array.from(await next.data());
      next.dispose();
      for (let b = 0; b < batch; b++) {
        const id = done[b] ? (eos ?? ids[b]!) : ids[b]!;
        seqs[b]!.push(id);
        if (eos !== undefined && id === eos) done[b] = true;
      }
      await opts.onStep?.(step + 1, maxNew);
    }
    return seqs.map((s) => {
      if (eos === undefined) return s;
      const end = s.indexOf(eos, prefix.length);
      return end < 0 ? s : s.slice(0, end + 1);
    });
  } finally {
    encoderOutput.dispose();
  }
}
