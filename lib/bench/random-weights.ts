/**
 * Random weights for ViT and Whisper with their Hugging Face shapes (normal std 0.02 like HF's
 * `initializer_range` / `init_std`, layer-norm gains 1, biases 0), for benchmarks: the timings do not
 * depend on the values. GPT-2 uses `randomGpt2Weights` from `io/convert/gpt2.ts`.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ViTConfig } from '../io/config/vit.js';
import type { WhisperConfig } from '../io/config/whisper.js';
import type { ViTWeights } from '../io/convert/vit.js';
import { whisperSinusoids, type WhisperBlockWeights, type WhisperWeights } from '../io/convert/whisper.js';
import type { LnWeights } from '../io/convert/gpt2.js';
import type { AttentionWeights } from '../nn/components/attention.js';
import type { MlpWeights } from '../nn/components/mlp.js';

const STD = 0.02;

/** Seeded normal tensors `N(0, 0.02²)`: each call uses the next seed. */
function normalSource(seed: number): (shape: number[]) => tf.Tensor {
  let s = seed;
  return (shape: number[]) => tf.randomNormal(shape, 0, STD, 'float32', s++);
}

/** A random `[rows, cols]` matrix. */
function matrix(normal: ReturnType<typeof normalSource>, rows: number, cols: number): tf.Tensor2D {
  return normal([rows, cols]) as tf.Tensor2D;
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
