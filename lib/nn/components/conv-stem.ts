/**
 * 1-D convolution (PyTorch `nn.Conv1d` semantics: zero padding on both sides, integer stride, no
 * dilation) computed as im2col: pad, take the `kernel` shifted strided slices, concatenate them on the
 * channel axis, one matmul. Exact up to float summation order; works on every backend. Used by the
 * Whisper encoder's two-convolution stem.
 */
import * as tf from '@tensorflow/tfjs-core';
import { HookedModule } from '../hooked-module.js';
import { ShapeMismatchError } from '../../errors.js';

/** A Conv1d on channels-last input `[batch, frames, cIn]`. */
export class Conv1d extends HookedModule {
  constructor(
    /** Weight `[kernel·cIn, cOut]`; row `j·cIn + c` holds PyTorch's `weight[:, c, j]`. */
    readonly W: tf.Tensor2D,
    /** Bias `[cOut]`. */
    readonly b: tf.Tensor1D,
    readonly kernel: number,
    readonly stride: number,
    readonly padding: number,
  ) {
    super();
  }

  /** Builds the im2col weight from a PyTorch `Conv1d` weight `[cOut, cIn, kernel]` (the input tensor is not kept). */
  static fromTorch(weight: tf.Tensor3D, bias: tf.Tensor1D, stride: number, padding: number): Conv1d {
    const [cOut, cIn, kernel] = weight.shape;
    const W = tf.tidy(() => tf.reshape(tf.transpose(weight, [2, 1, 0]), [kernel * cIn, cOut]) as tf.Tensor2D);
    return new Conv1d(W, bias, kernel, stride, padding);
  }

  /** Input channels. */
  get cIn(): number {
    return this.W.shape[0] / this.kernel;
  }

  /** Output frames for `frames` input frames: ⌊(frames + 2·padding − kernel) / stride⌋ + 1. */
  outFrames(frames: number): number {
    return Math.floor((frames + 2 * this.padding - this.kernel) / this.stride) + 1;
  }

  /** `x [batch, frames, cIn]` → `[batch, outFrames, cOut]`. */
  forward(x: tf.Tensor): tf.Tensor3D {
    const [batch, frames, cIn] = x.shape as [number, number, number];
    if (x.rank !== 3 || cIn !== this.cIn) throw new ShapeMismatchError('Conv1d input', `[batch, frames, ${this.cIn}]`, x.shape);
    const outFrames = this.outFrames(frames);
    if (outFrames < 1) throw new ShapeMismatchError('Conv1d input', `at least ${this.kernel - 2 * this.padding} frames`, x.shape);
    const padded = this.padding ? tf.pad(x, [[0, 0], [this.padding, this.padding], [0, 0]]) : x;
    const span = this.stride * (outFrames - 1) + 1;
    const taps: tf.Tensor[] = [];
    for (let j = 0; j < this.kernel; j++) {
      taps.push(tf.stridedSlice(padded, [0, j, 0], [batch, j + span, cIn], [1, this.stride, 1]));
    }
    const columns = tf.reshape(tf.concat(taps, 2), [batch * outFrames, this.kernel * cIn]) as tf.Tensor2D;
    return tf.reshape(tf.add(tf.matMul(columns, this.W), this.b), [batch, outFrames, this.W.shape[1]]) as tf.Tensor3D;
  }
}
