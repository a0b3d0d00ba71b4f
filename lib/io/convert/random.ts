/**
 * Random weights with the Hugging Face shapes and initialisation (normal std 0.02 like HF's
 * `initializer_range` / `init_std`, layer-norm gains 1, biases 0) for every model family: the random
 * GPT-2 baseline and training start (`randomGpt2Weights`, residual projections scaled by 1/√(2L)), and
 * benchmark weights for ViT and Whisper (timings do not depend on the values). Seeded: the same seed
 * gives the same weights.
 */
import * as tf from '@tensorflow/tfjs-core';
import { materialize } from '../../backend/materialize.js';
import type { GPT2Config } from '../config/gpt2.js';
import type { ViTConfig } from '../config/vit.js';
import type { WhisperConfig } from '../config/whisper.js';
import type { GPT2Weights } from './gpt2.js';
import type { ViTWeights } from './vit.js';
import { whisperSinusoids, type WhisperBlockWeights, type WhisperWeights } from './whisper.js';
import type { AttentionWeights, LnWeights, MlpWeights } from './weights.js';
import type { LlamaConfig } from '../config/llama.js';
import type { LlamaWeights } from './llama.js';
import type { GptNeoXConfig } from '../config/gpt-neox.js';
import type { GptNeoXWeights } from './gpt-neox.js';
import type { GemmaConfig } from '../config/gemma.js';
import type { GemmaWeights } from './gemma.js';

const STD = 0.02;

/** Seeded normal tensors `N(0, 0.02²)`: each call uses the next seed. */
function normalSource(seed: number): (shape: number[]) => tf.Tensor {
  let s = seed;
  // randomNormal fills a host array; into the backend now (tfjs-node would keep it until the first forward).
  return (shape: number[]) => materialize(tf.randomNormal(shape, 0, STD, 'float32', s++));
}

/** A random `[rows, cols]` matrix. */
function matrix(normal: ReturnType<typeof normalSource>, rows: number, cols: number): tf.Tensor2D {
  return normal([rows, cols]) as tf.Tensor2D;
}

/** Token embedding `[dVocab, d]` and, unless tied, the unembedding `[dVocab, d]` (drawn in that order). */
function embeddings(normal: ReturnType<typeof normalSource>, cfg: { dVocab: number; dModel: number; tieWordEmbeddings: boolean }): { W_E: tf.Tensor2D; unembed?: tf.Tensor2D } {
  const W_E = matrix(normal, cfg.dVocab, cfg.dModel);
  return { W_E, unembed: cfg.tieWordEmbeddings ? undefined : matrix(normal, cfg.dVocab, cfg.dModel) };
}

function layerNorm(d: number): LnWeights {
  return { w: tf.ones([d]) as tf.Tensor1D, b: tf.zeros([d]) as tf.Tensor1D };
}

function attention(normal: ReturnType<typeof normalSource>, d: number, keyBias: boolean): AttentionWeights {
  return {
    W_Q: matrix(normal, d, d), b_Q: tf.zeros([d]) as tf.Tensor1D,
    W_K: matrix(normal, d, d), b_K: keyBias ? (tf.zeros([d]) as tf.Tensor1D) : undefined,
    W_V: matrix(normal, d, d), b_V: tf.zeros([d]) as tf.Tensor1D,
    W_O: matrix(normal, d, d), b_O: tf.zeros([d]) as tf.Tensor1D,
  };
}

function mlp(normal: ReturnType<typeof normalSource>, d: number, dMlp: number): MlpWeights {
  return { W_in: matrix(normal, d, dMlp), b_in: tf.zeros([dMlp]) as tf.Tensor1D, W_out: matrix(normal, dMlp, d), b_out: tf.zeros([d]) as tf.Tensor1D };
}

/** Random `ViTForImageClassification` weights for `cfg` (patch conv `[d, c, p, p]`, CLS, positions, blocks, classifier). */
export function randomVitWeights(cfg: ViTConfig, seed = 0): ViTWeights {
  const normal = normalSource(seed);
  const d = cfg.dModel;
  return {
    patch: { weight: normal([d, cfg.numChannels, cfg.patchSize, cfg.patchSize]) as tf.Tensor4D, bias: tf.zeros([d]) as tf.Tensor1D },
    clsToken: normal([d]) as tf.Tensor1D,
    W_pos: matrix(normal, cfg.nPatches + 1, d),
    blocks: Array.from({ length: cfg.nLayers }, () => ({
      ln1: layerNorm(d),
      attn: attention(normal, d, cfg.qkvBias),
      ln2: layerNorm(d),
      mlp: mlp(normal, d, cfg.dMlp),
    })),
    lnFinal: layerNorm(d),
    classifier: { W: matrix(normal, d, cfg.numLabels), b: tf.zeros([cfg.numLabels]) as tf.Tensor1D },
  };
}

/**
 * Random `WhisperForConditionalGeneration` weights for `cfg`: conv stem `[d, nMels, 3]` and `[d, d, 3]`,
 * sinusoidal encoder positions, encoder blocks, decoder blocks with cross-attention (`k_proj` without
 * bias, as Whisper), learned decoder positions, unembedding tied to the token embedding.
 */
export function randomWhisperWeights(cfg: WhisperConfig, seed = 0): WhisperWeights {
  const normal = normalSource(seed);
  const d = cfg.dModel;
  const encoderBlock = (): WhisperBlockWeights => ({ ln1: layerNorm(d), attn: attention(normal, d, false), ln2: layerNorm(d), mlp: mlp(normal, d, cfg.encoderDMlp) });
  const decoderBlock = (): WhisperBlockWeights => ({
    ln1: layerNorm(d),
    attn: attention(normal, d, false),
    lnCross: layerNorm(d),
    crossAttn: attention(normal, d, false),
    ln2: layerNorm(d),
    mlp: mlp(normal, d, cfg.decoderDMlp),
  });
  const W_E = matrix(normal, cfg.dVocab, d);
  return {
    encoder: {
      conv1: { weight: normal([d, cfg.nMels, 3]) as tf.Tensor3D, bias: tf.zeros([d]) as tf.Tensor1D },
      conv2: { weight: normal([d, d, 3]) as tf.Tensor3D, bias: tf.zeros([d]) as tf.Tensor1D },
      W_pos: whisperSinusoids(cfg.maxSourcePositions, d),
      blocks: Array.from({ length: cfg.encoderLayers }, encoderBlock),
      lnFinal: layerNorm(d),
    },
    decoder: {
      W_E,
      W_pos: matrix(normal, cfg.maxTargetPositions, d),
      blocks: Array.from({ length: cfg.nLayers }, decoderBlock),
      lnFinal: layerNorm(d),
      unembed: W_E,
    },
  };
}

/**
 * Random GPT-2 weights with the Hugging Face initialisation (normal std 0.02, residual projections
 * scaled by 1/√(2L), LN gains 1, biases 0) — for benchmarks and the "random GPT-2" baseline.
 */
export function randomGpt2Weights(cfg: GPT2Config, seed = 0): GPT2Weights {
  let s = seed;
  const normal = (shape: number[], std: number) => materialize(tf.randomNormal(shape, 0, std, 'float32', s++));
  const std = 0.02;
  const projStd = std / Math.sqrt(2 * cfg.nLayers);
  const d = cfg.dModel;
  const ln = (): LnWeights => layerNorm(d);
  return {
    W_E: normal([cfg.dVocab, d], std) as tf.Tensor2D,
    W_pos: normal([cfg.nCtx, d], std) as tf.Tensor2D,
    lnFinal: ln(),
    blocks: Array.from({ length: cfg.nLayers }, () => ({
      ln1: ln(),
      attn: {
        W_Q: normal([d, d], std) as tf.Tensor2D, W_K: normal([d, d], std) as tf.Tensor2D, W_V: normal([d, d], std) as tf.Tensor2D,
        b_Q: tf.zeros([d]) as tf.Tensor1D, b_K: tf.zeros([d]) as tf.Tensor1D, b_V: tf.zeros([d]) as tf.Tensor1D,
        W_O: normal([d, d], projStd) as tf.Tensor2D, b_O: tf.zeros([d]) as tf.Tensor1D,
      },
      ln2: ln(),
      mlp: {
        W_in: normal([d, cfg.dMlp], std) as tf.Tensor2D, b_in: tf.zeros([cfg.dMlp]) as tf.Tensor1D,
        W_out: normal([cfg.dMlp, d], projStd) as tf.Tensor2D, b_out: tf.zeros([d]) as tf.Tensor1D,
      },
    })),
  };
}

/**
 * Random Llama-family weights for `cfg` (benchmarks: timings do not depend on the values): `N(0, 0.02²)` matrices,
 * RMS gains 1, zero biases where the config has them; `lm_head` only when the embeddings are untied.
 */
export function randomLlamaWeights(cfg: LlamaConfig, seed = 0): LlamaWeights {
  const normal = normalSource(seed);
  const d = cfg.dModel;
  const q = cfg.nHeads * cfg.dHead;
  const kv = cfg.nKvHeads * cfg.dHead;
  const bias = (on: boolean, n: number) => (on ? (tf.zeros([n]) as tf.Tensor1D) : undefined);
  return {
    ...embeddings(normal, cfg),
    lnFinal: tf.ones([d]) as tf.Tensor1D,
    blocks: Array.from({ length: cfg.nLayers }, () => ({
      ln1: tf.ones([d]) as tf.Tensor1D,
      attn: {
        W_Q: matrix(normal, d, q), b_Q: bias(cfg.qkvBias, q), W_K: matrix(normal, d, kv), b_K: bias(cfg.qkvBias, kv),
        W_V: matrix(normal, d, kv), b_V: bias(cfg.qkvBias, kv), W_O: matrix(normal, q, d), b_O: bias(cfg.oBias, d),
      },
      ln2: tf.ones([d]) as tf.Tensor1D,
      mlp: {
        W_gate: matrix(normal, d, cfg.dMlp), b_gate: bias(cfg.mlpBias, cfg.dMlp), W_in: matrix(normal, d, cfg.dMlp), b_in: bias(cfg.mlpBias, cfg.dMlp),
        W_out: matrix(normal, cfg.dMlp, d), b_out: bias(cfg.mlpBias, d),
      },
    })),
  };
}

/**
 * Random GPT-NeoX / Pythia weights for `cfg` (benchmarks): `N(0, 0.02²)` matrices, LayerNorm gains 1, zero biases
 * (attention biases when `attentionBias`), an untied unembedding unless the embeddings are tied.
 */
export function randomGptNeoXWeights(cfg: GptNeoXConfig, seed = 0): GptNeoXWeights {
  const normal = normalSource(seed);
  const d = cfg.dModel;
  const w = cfg.nHeads * cfg.dHead;
  const bias = (n: number) => (cfg.attentionBias ? (tf.zeros([n]) as tf.Tensor1D) : undefined);
  return {
    ...embeddings(normal, cfg),
    lnFinal: layerNorm(d),
    blocks: Array.from({ length: cfg.nLayers }, () => ({
      ln1: layerNorm(d),
      attn: {
        W_Q: matrix(normal, d, w), b_Q: bias(w), W_K: matrix(normal, d, w), b_K: bias(w),
        W_V: matrix(normal, d, w), b_V: bias(w), W_O: matrix(normal, w, d), b_O: bias(d),
      },
      ln2: layerNorm(d),
      mlp: mlp(normal, d, cfg.dMlp),
    })),
  };
}

/**
 * Random Gemma 2 / Gemma 3 weights for `cfg` (benchmarks): `N(0, 0.02²)` matrices, RMS weights 0 (the model multiplies
 * by 1 + w, so gains 1), q/k norms for Gemma 3, no biases; an unembedding only when untied.
 */
export function randomGemmaWeights(cfg: GemmaConfig, seed = 0): GemmaWeights {
  const normal = normalSource(seed);
  const d = cfg.dModel;
  const q = cfg.nHeads * cfg.dHead;
  const kv = cfg.nKvHeads * cfg.dHead;
  const gain = (n: number) => tf.zeros([n]) as tf.Tensor1D;
  return {
    ...embeddings(normal, cfg),
    lnFinal: gain(d),
    blocks: Array.from({ length: cfg.nLayers }, () => ({
      ln1: gain(d),
      attn: { W_Q: matrix(normal, d, q), W_K: matrix(normal, d, kv), W_V: matrix(normal, d, kv), W_O: matrix(normal, q, d) },
      qNorm: cfg.qkNorm ? gain(cfg.dHead) : undefined,
      kNorm: cfg.qkNorm ? gain(cfg.dHead) : undefined,
      ln1Post: gain(d),
      ln2: gain(d),
      mlp: { W_gate: matrix(normal, d, cfg.dMlp), W_in: matrix(normal, d, cfg.dMlp), W_out: matrix(normal, cfg.dMlp, d) },
      ln2Post: gain(d),
    })),
  };
}
