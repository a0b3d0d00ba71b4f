/** Two-layer MLP with `hook_pre` (before the activation) and `hook_post` (after it). */
import * as tf from '@tensorflow/tfjs-core';
import { HookedModule } from '../hooked-module.js';
import { HookPoint, type RunContext } from '../hook-point.js';
import { linear } from './linear.js';
import { activation, type ActivationName } from './activations.js';
import { fusedLinearAvailable, runFusedLinear, type FusedActivation } from '../../backend/kernel-patches/fused-linear.js';
import type { MlpWeights } from '../../io/convert/weights.js';

export type { MlpWeights } from '../../io/convert/weights.js';

/** The fused kernel's form of each activation it can run: GELU's exact erf form and its tanh forms. */
const FUSED_GELU: Partial<Record<ActivationName, FusedActivation>> = { gelu: 'gelu_erf', gelu_new: 'gelu_tanh', gelu_pytorch_tanh: 'gelu_tanh' };

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

  /** TransformerLens 3.x names: `in.hook_out` is hook_pre, `out.hook_in` is hook_post. */
  override canonicalHooks(): Record<string, HookPoint | undefined> {
    return { 'in.hook_out': this.hookPre, 'out.hook_in': this.hookPost };
  }

  /** Returns the MLP output `[batch, pos, dModel]` (the block applies `hook_mlp_out`). */
  forward(x: tf.Tensor, ctx: RunContext): tf.Tensor {
    if (this.fusable(ctx)) {
      // x·W_in + b_in and GELU as one backend kernel: nothing reads hook_pre in this run.
      const lead = x.shape.slice(0, -1);
      const flat = tf.reshape(x, [-1, this.W_in.shape[0]]) as tf.Tensor2D;
      const fused = runFusedLinear(flat, this.W_in, this.b_in, FUSED_GELU[this.act]!);
      const post = ctx.apply(this.hookPost, tf.reshape(fused, [...lead, this.W_in.shape[1]]));
      return linear(post, this.W_out, this.b_out);
    }
    const pre = ctx.apply(this.hookPre, linear(x, this.W_in, this.b_in));
    const post = ctx.apply(this.hookPost, activation(this.act, pre));
    return linear(post, this.W_out, this.b_out);
  }

  /** Whether this run may use the fused linear + GELU kernel (a GELU in `FUSED_GELU`; hook_pre unread; backend has it). */
  private fusable(ctx: RunContext): boolean {
    return FUSED_GELU[this.act] !== undefined && !ctx.wants(this.hookPre.name) && fusedLinearAvailable();
  }
}
