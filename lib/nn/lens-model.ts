/**
 * What the lens library needs from a model (§0 of the spec): where its residual stream lives, and the
 * lens readout (final layer norm with fresh statistics + unembedding/classifier). GPT-2, ViT, the
 * Whisper decoder and BERT all implement it.
 */
import type * as tf from '@tensorflow/tfjs-core';

/** A hooked model that the logit lens and the analyses built on it can read. */
export interface LensModel {
  /** Number of blocks L (the residual states are h_0 … h_L). */
  readonly nLayers: number;
  /** Prefix of the lensed stack's hook names: '' (GPT-2, ViT, BERT) or 'decoder.' (Whisper). */
  readonly residPrefix: string;
  /** `'all'` positions are lensed (language models) or only the `'cls'` position 0 (ViT). */
  readonly lensPositions: 'all' | 'cls';
  /**
   * Lens readout `resid [..., dModel]` → logits `[..., dVocab]`: the final layer norm recomputed with
   * this input's own statistics (never a cached scale), then the unembedding (BERT: the MLM head).
   */
  lensLogits(resid: tf.Tensor): tf.Tensor;
}

/** Hook name of residual state h_l (l = 0 … L), before any final layer norm. */
export function residName(model: Pick<LensModel, 'nLayers' | 'residPrefix'>, layer: number): string {
  return layer === 0 ? `${model.residPrefix}blocks.0.hook_resid_pre` : `${model.residPrefix}blocks.${layer - 1}.hook_resid_post`;
}
