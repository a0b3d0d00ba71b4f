/**
 * RMS norm with TransformerLens hooks (Llama, Mistral, Qwen2, Gemma): `hook_scale` = √(mean(x²) + ε)
 * `[batch, pos, 1]`, `hook_normalized` = x / scale `[batch, pos, d]` before the gain; the output is
 * `normalized · w`, or `normalized · (1 + w)` for Gemma's zero-centred gain.
 */
import * as tf from '@tensorflow/tfjs-core';
import { HookedModule } from '../hooked-module.js';
import { HookPoint, type RunContext } from '../hook-point.js';
import { ShapeMismatchError } from '../../errors.js';

/** Options of `RmsNorm`. */
export interface RmsNormOptions {
  /** ε added to mean(x²) (config `rms_norm_eps`). */
  eps: number;
  /** Gain is `1 + w` (Gemma's `GemmaRMSNorm`) instead of `w`. Default false. */
  offsetGain?: boolean;
}

/** RMSNorm over the last axis. */
export class RmsNorm extends HookedModule {
  readonly hookScale = new HookPoint(); // [batch, pos, 1]
  readonly hookNormalized = new HookPoint(); // [batch, pos, d]
  readonly eps: number;
  readonly offsetGain: boolean;

  constructor(
    /** Gain `[d]` as stored in the checkpoint (for `offsetGain`, the multiplier is `1 + w`). */
    readonly w: tf.Tensor1D,
    opts: RmsNormOptions,
  ) {
    super();
    this.eps = opts.eps;
    this.offsetGain = opts.offsetGain ?? false;
  }

  /** The multiplier the normalized input is scaled by, `[d]`: `w` or `1 + w` (a new tensor: dispose it or call in a tidy). */
  gain(): tf.Tensor1D {
    return this.offsetGain ? tf.add(this.w, 1) : tf.clone(this.w);
  }

  /** `x [..., d]` → `x / √(mean(x²) + ε) · gain`, passing scale and normalized through their hooks. */
  forward(x: tf.Tensor, ctx: RunContext): tf.Tensor {
    const d = this.w.shape[0];
    if (x.shape.at(-1) !== d) throw new ShapeMismatchError(`RMS norm '${this.moduleName || 'rms_norm'}' input`, `[..., ${d}]`, x.shape);
    const scale = ctx.apply(this.hookScale, tf.sqrt(tf.add(tf.mean(tf.square(x), -1, true), this.eps)));
    const normalized = ctx.apply(this.hookNormalized, tf.div(x, scale));
    return tf.mul(normalized, this.offsetGain ? tf.add(this.w, 1) : this.w);
  }
}
