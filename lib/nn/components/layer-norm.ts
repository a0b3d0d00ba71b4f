/** Layer norm with TransformerLens hooks: `hook_scale` = √(var + ε), `hook_normalized` before gain and bias. */
import * as tf from '@tensorflow/tfjs-core';
import { HookedModule } from '../hooked-module.js';
import { HookPoint, type RunContext } from '../hook-point.js';

/** LayerNorm over the last axis (biased variance), as in PyTorch. */
export class LayerNorm extends HookedModule {
  readonly hookScale = new HookPoint(); // [batch, pos, 1]
  readonly hookNormalized = new HookPoint(); // [batch, pos, dModel]

  constructor(
    /** Gain `[dModel]`. */
    readonly w: tf.Tensor1D,
    /** Bias `[dModel]`. */
    readonly b: tf.Tensor1D,
    readonly eps: number,
  ) {
    super();
  }

  /** `x [..., d]` → `(x − mean)/scale · w + b`, passing scale and normalized through their hooks. */
  forward(x: tf.Tensor, ctx: RunContext): tf.Tensor {
    const centred = tf.sub(x, tf.mean(x, -1, true));
    const scale = ctx.apply(this.hookScale, tf.sqrt(tf.add(tf.mean(tf.square(centred), -1, true), this.eps)));
    const normalized = ctx.apply(this.hookNormalized, tf.div(centred, scale));
    return tf.add(tf.mul(normalized, this.w), this.b);
  }
}
