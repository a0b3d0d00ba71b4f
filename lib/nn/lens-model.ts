/**
 * What the lens library needs from a model (§0 of the spec): where its residual stream lives, the lens
 * readout (final layer norm with fresh statistics + unembedding/classifier), and the layer norms that
 * read each residual state. GPT-2, ViT, the Whisper decoder and BERT all implement it; lens code reads a
 * model through this interface only.
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
  /**
   * The layer norm that reads residual state `layer` (0 … L), applied with the input's own statistics
   * (gain and bias included): at L the final norm of the lens readout, below L block `layer`'s ln1 (ln2
   * with `mlpInput`) of pre-LN blocks. Undefined where no layer norm reads that state (BERT).
   */
  lensNorm?(layer: number, opts?: { mlpInput?: boolean }): LensNormFn | undefined;
  /**
   * Which representation of h_{j+1} the original "Looking Beyond the Top-1" probe reads (the
   * `featureSpace: 'original'` preset): `below` for j < L−1, `last` for j = L−1; `'lnFinal'` = through the
   * final layer norm. GPT-2 `{ below: 'resid', last: 'lnFinal' }` (Hugging Face's hidden states), ViT
   * `{ below: 'lnFinal', last: 'resid' }`, the Whisper decoder `'lnFinal'` at both. Undefined: no original
   * choice (BERT).
   */
  readonly originalProbeFeatures?: OriginalProbeFeatures;
}

/** The representation the original probe reads below the last layer and at it (see `LensModel.originalProbeFeatures`). */
export interface OriginalProbeFeatures {
  below: 'resid' | 'lnFinal';
  last: 'resid' | 'lnFinal';
}

/** A layer norm as a function `[..., dModel]` → `[..., dModel]` (returns a new tensor). */
export type LensNormFn = (resid: tf.Tensor) => tf.Tensor;

/** Hook name of residual state h_l (l = 0 … L), before any final layer norm. */
export function residName(model: Pick<LensModel, 'nLayers' | 'residPrefix'>, layer: number): string {
  return layer === 0 ? `${model.residPrefix}blocks.0.hook_resid_pre` : `${model.residPrefix}blocks.${layer - 1}.hook_resid_post`;
}
