/**
 * The weight records the converters produce and the model components consume, input-major
 * (`x · W + b`): one interface per component kind. They live here, below `nn/`, so that the converters
 * never import the model code.
 */
import type * as tf from '@tensorflow/tfjs-core';

/** Layer-norm parameters: gain `w [dModel]` and bias `b [dModel]`. */
export interface LnWeights {
  w: tf.Tensor1D;
  b: tf.Tensor1D;
}

/** Weights of one attention layer, input-major: `W_Q [dModel, nHeads·dHead]`, `W_O [nHeads·dHead, dModel]`. */
export interface AttentionWeights {
  W_Q: tf.Tensor2D;
  b_Q?: tf.Tensor1D;
  W_K: tf.Tensor2D;
  b_K?: tf.Tensor1D;
  W_V: tf.Tensor2D;
  b_V?: tf.Tensor1D;
  W_O: tf.Tensor2D;
  b_O?: tf.Tensor1D;
}

/** Weights of an MLP, input-major (`W_in [dModel, dMlp]`, `W_out [dMlp, dModel]`). */
export interface MlpWeights {
  W_in: tf.Tensor2D;
  b_in: tf.Tensor1D;
  W_out: tf.Tensor2D;
  b_out: tf.Tensor1D;
}

/** Weights of a gated MLP (Llama's SwiGLU, Gemma's GeGLU), input-major: `W_gate`, `W_in [dModel, dMlp]`, `W_out [dMlp, dModel]`. */
export interface GatedMlpWeights {
  W_gate: tf.Tensor2D;
  b_gate?: tf.Tensor1D;
  W_in: tf.Tensor2D;
  W_out: tf.Tensor2D;
  b_in?: tf.Tensor1D;
  b_out?: tf.Tensor1D;
}
