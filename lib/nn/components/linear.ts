/** Affine map on the last axis: `x [..., dIn] · W [dIn, dOut] + b [dOut]` (weights stored input-major). */
import * as tf from '@tensorflow/tfjs-core';

/** Applies `x · W + b` over the last axis of `x`. `W` is `[dIn, dOut]`; `b` is optional. */
export function linear(x: tf.Tensor, W: tf.Tensor2D, b?: tf.Tensor1D): tf.Tensor {
  const dIn = W.shape[0];
  const dOut = W.shape[1];
  const lead = x.shape.slice(0, -1);
  const flat = tf.reshape(x, [-1, dIn]) as tf.Tensor2D;
  const y = b ? tf.add(tf.matMul(flat, W), b) : tf.matMul(flat, W);
  return tf.reshape(y, [...lead, dOut]);
}
