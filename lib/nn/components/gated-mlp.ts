/**
 * Gated MLP (Llama/Mistral/Qwen2 SwiGLU, Gemma GeGLU) with TransformerLens's GatedMLP hooks:
 * `hook_pre` = x·W_gate (the gate before its activation), `hook_pre_linear` = x·W_in, `hook_post` =
 * act(hook_pre) ⊙ hook_pre_linear, all `[batch, pos, dMlp]`; output `hook_post·W_out [batch, pos, dModel]`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { HookedModule } from '../hooked-module.js';
import { HookPoint, type RunContext } from '../hook-point.js';
import { linear } from './linear.js';
import { activation, type ActivationName } from './activations.js';
import type { GatedMlpWeights } from '../../io/convert/weights.js';
import { InvalidArgumentError } from '../../errors.js';

export type { GatedMlpWeights } from '../../io/convert/weights.js';

/** `x [batch, pos, dModel]` → `(act(x·W_gate + b_gate) ⊙ (x·W_in + b_in))·W_out + b_out`. */
export class GatedMlp extends HookedModule {
  readonly hookPre = new HookPoint(); // [batch, pos, dMlp]
  readonly hookPreLinear = new HookPoint(); // [batch, pos, dMlp]
  readonly hookPost = new HookPoint(); // [batch, pos, dMlp]
  readonly W_gate: tf.Tensor2D;
  readonly b_gate?: tf.Tensor1D;
  readonly W_in: tf.Tensor2D;
  readonly b_in?: tf.Tensor1D;
  readonly W_out: tf.Tensor2D;
  readonly b_out?: tf.Tensor1D;

  /** `act`: the config's `hidden_act` (silu for Llama, gelu_pytorch_tanh for Gemma). Raises InvalidArgumentError on mismatched shapes. */
  constructor(weights: GatedMlpWeights, readonly act: ActivationName) {
    super();
    ({ W_gate: this.W_gate, b_gate: this.b_gate, W_in: this.W_in, b_in: this.b_in, W_out: this.W_out, b_out: this.b_out } = weights);
    if (!tf.util.arraysEqual(this.W_gate.shape, this.W_in.shape) || this.W_out.shape[0] !== this.W_in.shape[1]) {
      throw new InvalidArgumentError(`gated MLP weights do not fit: W_gate [${this.W_gate.shape}], W_in [${this.W_in.shape}], W_out [${this.W_out.shape}]`);
    }
  }

  /** TransformerLens 3.x names: `out.hook_in` is hook_post. */
  override canonicalHooks(): Record<string, HookPoint | undefined> {
    return { 'out.hook_in': this.hookPost };
  }

  /** Returns the MLP output `[batch, pos, dModel]` (the block applies `hook_mlp_out`). */
  forward(x: tf.Tensor, ctx: RunContext): tf.Tensor {
    const pre = ctx.apply(this.hookPre, linear(x, this.W_gate, this.b_gate));
    const preLinear = ctx.apply(this.hookPreLinear, linear(x, this.W_in, this.b_in));
    const post = ctx.apply(this.hookPost, tf.mul(activation(this.act, pre), preLinear));
    return linear(post, this.W_out, this.b_out);
  }
}
