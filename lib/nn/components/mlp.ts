/** Two-layer MLP with `hook_pre` (before the activation) and `hook_post` (after it). */
import * as tf from '@tensorflow/tfjs-core';
import { HookedModule } from '../hooked-module.js';
import { HookPoint, type RunContext } from '../hook-point.js';
import { linear } from './linear.js';
import { activation, type ActivationName } from './activations.js';
import type { MlpWeights } from '../../io/convert/weights.js';

export type { MlpWeights } from '../../io/convert/weights.js';

/** `x [batch, pos, dModel]` → `act(x·W_in + b_in)·W_out + b_out`. */
export class Mlp extends HookedModule {
  readonly hookPre = new HookPoint(); // [batch, pos, dMlp]
  readonly hookPost = new HookPoint(); // [batch, pos, dMlp]
  readonly W_in: tf.Tensor2D;
  readonly b_in: tf.Tensor1D;
  readonly W_out: tf.Tensor2D;
  readonly b_out: tf.Tensor1D;

  constructor(weights: MlpWeights, readonly act: ActivationName) {
    super();
    ({ W_in: this.W_in, b_in: this.b_in, W_out: this.W_out, b_out: this.b_out } = weights);
  }

  /** Returns the MLP output `[batch, pos, dModel]` (the block applies `hook_mlp_out`). */
  forward(x: tf.Tensor, ctx: RunContext): tf.Tensor {
    const pre = ctx.apply(this.hookPre, linear(x, this.W_in, this.b_in));
    const post = ctx.apply(this.hookPost, activation(this.act, pre));
    return linear(post, this.W_out, this.b_out);
  }
}
