/** Affine map on the last axis: `x [..., dIn] · W [dIn, dOut] + b [dOut]` (weights stored input-major). */
import * as tf from '@tensorflow/tfjs-core';
import { fusedLinearAvailable, runFusedLinear } from '../../backend/kernel-patches/fused-linear.js';

/**
 * Applies `x · W + b` over the last axis of `x`. `W` is `[dIn, dOut]`; `b` is optional. On the tensorflow backend
 * (oneDNN) the bias is added inside the matmul kernel when no gradient is taped: one output buffer instead of two.
 */
export function linear(x: tf.Tensor, W: tf.Tensor2D, b?: tf.Tensor1D): tf.Tensor {
  const dIn = W.shape[0];
  const dOut = W.shape[1];
  const lead = x.shape.slice(0, -1);
  const flat = tf.reshape(x, [-1, dIn]) as tf.Tensor2D;
  const y = !b ? tf.matMul(flat, W) : fusedLinearAvailable() && flat.dtype === 'float32' ? runFusedLinear(flat, W, b, 'none') : tf.add(tf.matMul(flat, W), b);
  return tf.reshape(y, [...lead, dOut]);
}
