/**
 * ViT patch embedding: the stride-p, kernel-p convolution of Hugging Face `ViTPatchEmbeddings`, computed
 * exactly as "cut the image into p×p patches, flatten each (channel, row, column), one matmul".
 * Patches are numbered row-major (`index = row·(W/p) + column`), as `conv(x).flatten(2).transpose(1, 2)`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { HookedModule } from '../hooked-module.js';
import { ShapeMismatchError } from '../../errors.js';

/** Patch projection; holds `W [channels·p·p, dModel]` (input-major) and `b [dModel]`. */
export class PatchEmbed extends HookedModule {
  constructor(
    /** Projection `[channels·p·p, dModel]`, rows ordered (channel, row-in-patch, column-in-patch). */
    readonly W: tf.Tensor2D,
    /** Bias `[dModel]`. */
    readonly b: tf.Tensor1D,
    readonly patchSize: number,
    readonly channels: number,
  ) {
    super();
  }

  /** Builds the projection from a PyTorch `Conv2d` weight `[dModel, channels, p, p]` (the input tensor is not kept). */
  static fromConv2d(weight: tf.Tensor4D, bias: tf.Tensor1D): PatchEmbed {
    const [dModel, channels, p] = weight.shape;
    const W = tf.tidy(() => tf.transpose(tf.reshape(weight, [dModel, channels * p * p])) as tf.Tensor2D);
    return new PatchEmbed(W, bias, p, channels);
  }

  /** Flattened patches: `pixels [batch, channels, H, W]` → `[batch, (H/p)·(W/p), channels·p·p]`. */
  patches(pixels: tf.Tensor): tf.Tensor3D {
    const p = this.patchSize;
    const [batch, channels, height, width] = pixels.shape as [number, number, number, number];
    if (pixels.rank !== 4 || channels !== this.channels || height % p !== 0 || width % p !== 0) {
      throw new ShapeMismatchError('pixel values', `[batch, ${this.channels}, H, W] with H and W multiples of ${p}`, pixels.shape);
    }
    const rows = height / p;
    const cols = width / p;
    const split = tf.reshape(pixels, [batch, channels, rows, p, cols, p]);
    const patchMajor = tf.transpose(split, [0, 2, 4, 1, 3, 5]); // [batch, rows, cols, channels, p, p]
    return tf.reshape(patchMajor, [batch, rows * cols, channels * p * p]) as tf.Tensor3D;
  }

  /** `pixels [batch, channels, H, W]` → patch embeddings `[batch, nPatches, dModel]`. */
  forward(pixels: tf.Tensor): tf.Tensor3D {
    const flat = this.patches(pixels);
    const [batch, nPatches, width] = flat.shape;
    const projected = tf.add(tf.matMul(tf.reshape(flat, [batch * nPatches, width]) as tf.Tensor2D, this.W), this.b);
    return tf.reshape(projected, [batch, nPatches, this.W.shape[1]]) as tf.Tensor3D;
  }
}
