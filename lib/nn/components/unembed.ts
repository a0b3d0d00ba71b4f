/**
 * Unembedding: normalized residual `[..., dModel]` → logits `[..., dVocab]` with a vocab-major matrix
 * `[dVocab, dModel]` (how tied embeddings and `lm_head` / `proj_out` / the MLM decoder are stored) and an
 * optional bias. Also the TransformerLens views `W_U [dModel, dVocab]` (a transposed copy built on first
 * use) and `b_U` (zeros when there is no bias). Used by GPT-2, the Whisper decoder and BERT's MLM head.
 */
import * as tf from '@tensorflow/tfjs-core';
import { HookedModule } from '../hooked-module.js';

/** The unembedding of a language model head. */
export class Unembed extends HookedModule {
  private dModelMajor?: tf.Tensor2D;
  private zeroBias?: tf.Tensor1D;

  constructor(
    /** `[dVocab, dModel]` (may be the token embedding itself when tied: disposing twice is harmless). */
    readonly vocabMajor: tf.Tensor2D,
    /** `[dVocab]`, or none. */
    readonly bias?: tf.Tensor1D,
  ) {
    super();
  }

  /** `[dModel, dVocab]` (owned here; do not dispose). */
  get W_U(): tf.Tensor2D {
    this.dModelMajor ??= tf.keep(tf.transpose(this.vocabMajor) as tf.Tensor2D); // kept: may be first read inside a caller's tf.tidy
    return this.dModelMajor;
  }

  /** `[dVocab]`: the bias, or zeros (owned here; do not dispose). */
  get b_U(): tf.Tensor1D {
    if (this.bias) return this.bias;
    this.zeroBias ??= tf.keep(tf.zeros([this.vocabMajor.shape[0]]) as tf.Tensor1D);
    return this.zeroBias;
  }

  /** `normalized [..., dModel]` → `normalized · W_U (+ b)` `[..., dVocab]`. */
  forward(normalized: tf.Tensor): tf.Tensor {
    const [dVocab, dModel] = this.vocabMajor.shape;
    const lead = normalized.shape.slice(0, -1);
    const flat = tf.reshape(normalized, [-1, dModel]) as tf.Tensor2D;
    const logits = tf.matMul(flat, this.vocabMajor, false, true);
    return tf.reshape(this.bias ? tf.add(logits, this.bias) : logits, [...lead, dVocab]);
  }
}
