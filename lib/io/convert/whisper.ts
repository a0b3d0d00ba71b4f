/**
 * Whisper weight conversion (`WhisperForConditionalGeneration`): Hugging Face checkpoint keys (with or
 * without the `model.` prefix) → input-major tensors per component. `k_proj` has no bias; `proj_out` is
 * tied to `model.decoder.embed_tokens` unless the config unties it (then the checkpoint must store it). The
 * encoder's sinusoidal `embed_positions` are read when stored and recomputed (as HF `sinusoids`) when not.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Checkpoint } from '../checkpoint.js';
import type { WhisperConfig } from '../config/whisper.js';
import type { AttentionWeights, LnWeights, MlpWeights } from './weights.js';
import { WeightReader, readBlocks, readLinear, readLayerNorm } from './common.js';

/** Weights of one encoder or decoder block (the cross-attention parts only in the decoder). */
export interface WhisperBlockWeights {
  ln1: LnWeights;
  attn: AttentionWeights;
  lnCross?: LnWeights;
  crossAttn?: AttentionWeights;
  ln2: LnWeights;
  mlp: MlpWeights;
}

/** All Whisper weights, input-major (convolutions in PyTorch layout `[cOut, cIn, 3]`). */
export interface WhisperWeights {
  encoder: {
    conv1: { weight: tf.Tensor3D; bias: tf.Tensor1D };
    conv2: { weight: tf.Tensor3D; bias: tf.Tensor1D };
    /** Sinusoidal positions `[maxSourcePositions, dModel]`. */
    W_pos: tf.Tensor2D;
    blocks: WhisperBlockWeights[];
    lnFinal: LnWeights;
  };
  decoder: {
    /** Token embedding `[dVocab, dModel]`. */
    W_E: tf.Tensor2D;
    /** Learned positions `[maxTargetPositions, dModel]`. */
    W_pos: tf.Tensor2D;
    blocks: WhisperBlockWeights[];
    lnFinal: LnWeights;
    /** Unembedding, vocab-major `[dVocab, dModel]` (the same tensor as `W_E` when tied). */
    unembed: tf.Tensor2D;
  };
}

/**
 * Whisper's sinusoidal position table `[length, channels]` (HF `sinusoids`): for i < channels/2,
 * `sin(t·e^{−i·ln(10000)/(channels/2 − 1)})` then the cosines.
 */
export function whisperSinusoids(length: number, channels: number): tf.Tensor2D {
  const half = channels / 2;
  const increment = Math.log(10000) / (half - 1);
  const table = new Float32Array(length * channels);
  for (let t = 0; t < length; t++) {
    for (let i = 0; i < half; i++) {
      const angle = Math.fround(t * Math.fround(Math.exp(Math.fround(-increment * i)))); // float32 steps, as torch
      table[t * channels + i] = Math.sin(angle);
      table[t * channels + half + i] = Math.cos(angle);
    }
  }
  return tf.tensor2d(table, [length, channels]);
}

async function readAttention(r: WeightReader, prefix: string, d: number): Promise<AttentionWeights> {
  const q = await readLinear(r, `${prefix}.q_proj`, d, d);
  const k = await readLinear(r, `${prefix}.k_proj`, d, d, false);
  const v = await readLinear(r, `${prefix}.v_proj`, d, d);
  const o = await readLinear(r, `${prefix}.out_proj`, d, d);
  return { W_Q: q.W, b_Q: q.b, W_K: k.W, W_V: v.W, b_V: v.b, W_O: o.W, b_O: o.b };
}

async function readMlp(r: WeightReader, prefix: string, d: number, dMlp: number): Promise<MlpWeights> {
  const fc1 = await readLinear(r, `${prefix}.fc1`, d, dMlp);
  const fc2 = await readLinear(r, `${prefix}.fc2`, dMlp, d);
  return { W_in: fc1.W, b_in: fc1.b!, W_out: fc2.W, b_out: fc2.b! };
}

/** Checkpoint keys a Whisper may leave unread: a stored `proj_out.weight` when tied (transformers' `_tied_weights_keys`). */
export function whisperIgnorableKey(key: string, cfg: WhisperConfig): boolean {
  return cfg.tieWordEmbeddings && key === 'proj_out.weight';
}

/** Reads Whisper weights from an open checkpoint. */
export async function convertWhisper(ckpt: Checkpoint, cfg: WhisperConfig): Promise<WhisperWeights> {
  const r = new WeightReader(ckpt, ['model.', '']);
  const d = cfg.dModel;
  const encoderBlocks = await readBlocks(cfg.encoderLayers, async (i): Promise<WhisperBlockWeights> => {
    const p = `encoder.layers.${i}`;
    return {
      ln1: await readLayerNorm(r, `${p}.self_attn_layer_norm`, d),
      attn: await readAttention(r, `${p}.self_attn`, d),
      ln2: await readLayerNorm(r, `${p}.final_layer_norm`, d),
      mlp: await readMlp(r, p, d, cfg.encoderDMlp),
    };
  });
  const decoderBlocks = await readBlocks(cfg.nLayers, async (i): Promise<WhisperBlockWeights> => {
    const p = `decoder.layers.${i}`;
    return {
      ln1: await readLayerNorm(r, `${p}.self_attn_layer_norm`, d),
      attn: await readAttention(r, `${p}.self_attn`, d),
      lnCross: await readLayerNorm(r, `${p}.encoder_attn_layer_norm`, d),
      crossAttn: await readAttention(r, `${p}.encoder_attn`, d),
      ln2: await readLayerNorm(r, `${p}.final_layer_norm`, d),
      mlp: await readMlp(r, p, d, cfg.decoderDMlp),
    };
  });
  const conv = async (name: string, cIn: number) => ({
    weight: (await r.float(`encoder.${name}.weight`, [d, cIn, 3])) as tf.Tensor3D,
    bias: (await r.float(`encoder.${name}.bias`, [d])) as tf.Tensor1D,
  });
  const W_E = (await r.float('decoder.embed_tokens.weight', [cfg.dVocab, d])) as tf.Tensor2D;
  const untied = !cfg.tieWordEmbeddings;
  return {
    encoder: {
      conv1: await conv('conv1', cfg.nMels),
      conv2: await conv('conv2', d),
      W_pos: r.has('encoder.embed_positions.weight')
        ? ((await r.float('encoder.embed_positions.weight', [cfg.maxSourcePositions, d])) as tf.Tensor2D)
        : whisperSinusoids(cfg.maxSourcePositions, d),
      blocks: encoderBlocks,
      lnFinal: await readLayerNorm(r, 'encoder.layer_norm', d),
    },
    decoder: {
      W_E,
      W_pos: (await r.float('decoder.embed_positions.weight', [cfg.maxTargetPositions, d])) as tf.Tensor2D,
      blocks: decoderBlocks,
      lnFinal: await readLayerNorm(r, 'decoder.layer_norm', d),
      unembed: untied ? ((await new WeightReader(ckpt, ['']).float('proj_out.weight', [cfg.dVocab, d])) as tf.Tensor2D) : W_E,
    },
  };
}
