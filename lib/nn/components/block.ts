/**
 * Pre-LN transformer block (GPT-2, ViT, Whisper encoder and decoder), with optional cross-attention:
 * resid_pre → ln1 → attn → attn_out; resid_mid = resid_pre + attn_out;
 * [ln_cross → cross_attn → cross_attn_out; resid_mid_cross = resid_mid + cross_attn_out;]
 * ln2 → mlp → mlp_out; resid_post = (resid_mid | resid_mid_cross) + mlp_out.
 * Every sub-module runs through `ctx.call`, so a run can override it (`blocks.{i}.mlp`, `blocks.{i}.ln1`, …).
 */
import * as tf from '@tensorflow/tfjs-core';
import { HookedModule } from '../hooked-module.js';
import { HookPoint, type RunContext } from '../hook-point.js';
import type { LayerNorm } from './layer-norm.js';
import { normalizedSplitInputs, type Attention, type AttentionMask } from './attention.js';
import type { Mlp } from './mlp.js';
import { InvalidArgumentError } from '../../errors.js';

/** Cross-attention parts of a decoder block. */
export interface CrossAttentionParts {
  lnCross: LayerNorm;
  crossAttn: Attention;
}

/** A pre-LN block. Field order = forward order = hook order. */
export class TransformerBlock extends HookedModule {
  readonly hookResidPre = new HookPoint(); // [batch, pos, dModel]
  readonly hookAttnIn = new HookPoint(); // [batch, pos, head, dModel] resid_pre per head (opt-in)
  readonly hookQInput = new HookPoint(); // [batch, pos, head, dModel] (opt-in)
  readonly hookKInput = new HookPoint(); // [batch, pos, head, dModel] (opt-in)
  readonly hookVInput = new HookPoint(); // [batch, pos, head, dModel] (opt-in)
  readonly ln1: LayerNorm;
  readonly attn: Attention;
  readonly hookAttnOut = new HookPoint(); // [batch, pos, dModel]
  readonly hookResidMid = new HookPoint(); // [batch, pos, dModel]
  readonly lnCross?: LayerNorm;
  readonly crossAttn?: Attention;
  readonly hookCrossAttnOut?: HookPoint; // [batch, pos, dModel]
  readonly hookResidMidCross?: HookPoint; // [batch, pos, dModel]
  readonly hookMlpIn: HookPoint; // [batch, pos, dModel] what ln2 reads (opt-in)
  readonly ln2: LayerNorm;
  readonly mlp: Mlp;
  readonly hookMlpOut = new HookPoint(); // [batch, pos, dModel]
  readonly hookResidPost = new HookPoint(); // [batch, pos, dModel]

  constructor(parts: { ln1: LayerNorm; attn: Attention; ln2: LayerNorm; mlp: Mlp; cross?: CrossAttentionParts }) {
    super();
    this.ln1 = parts.ln1;
    this.attn = parts.attn;
    if (parts.cross) {
      this.lnCross = parts.cross.lnCross;
      this.crossAttn = parts.cross.crossAttn;
      this.hookCrossAttnOut = new HookPoint();
      this.hookResidMidCross = new HookPoint();
    }
    this.hookMlpIn = new HookPoint();
    this.ln2 = parts.ln2;
    this.mlp = parts.mlp;
  }

  /**
   * ln1 → self-attention. TransformerLens's opt-in split inputs, only when a run reads them: `hook_attn_in`
   * is resid_pre repeated per head, `hook_q/k/v_input` start from it; a hook that replaces one of them makes
   * that projection read ln1 of its own per-head input (ln1's hooks fire once, on resid_pre, as usual).
   */
  private selfAttention(residPre: tf.Tensor, mask: AttentionMask | undefined, ctx: RunContext): tf.Tensor {
    const norm = (x: tf.Tensor, c: RunContext): tf.Tensor => ctx.call(this.ln1, x, () => this.ln1.forward(x, c));
    const heads = { q: this.attn.nHeads, kv: this.attn.nHeads };
    const perHead = normalizedSplitInputs(ctx, residPre, heads, { attnIn: this.hookAttnIn, q: this.hookQInput, k: this.hookKInput, v: this.hookVInput }, norm);
    const normalized = norm(residPre, ctx);
    return ctx.call(this.attn, normalized, () => this.attn.forward(normalized, normalized, mask, ctx, perHead));
  }

  /** TransformerLens 3.x names: the block's and its layer norms' `hook_in`/`hook_out`. */
  override canonicalHooks(): Record<string, HookPoint | undefined> {
    return {
      hook_in: this.hookResidPre,
      'ln1.hook_in': this.hookResidPre,
      'attn.hook_out': this.hookAttnOut,
      'ln_cross.hook_in': this.lnCross && this.hookResidMid,
      'cross_attn.hook_out': this.hookCrossAttnOut,
      'ln2.hook_in': this.hookResidMidCross ?? this.hookResidMid,
      'mlp.hook_out': this.hookMlpOut,
      hook_out: this.hookResidPost,
    };
  }

  /**
   * `residPre [batch, pos, dModel]` → `residPost [batch, pos, dModel]`. `encoderOut [batch, srcPos, dModel]`
   * is required for blocks with cross-attention.
   */
  forward(residPre: tf.Tensor, mask: AttentionMask | undefined, ctx: RunContext, encoderOut?: tf.Tensor): tf.Tensor {
    if (this.crossAttn && !encoderOut) throw new InvalidArgumentError(`block '${this.moduleName}' has cross-attention and needs the encoder output`, 'pass the inputs of model.embed(input) to runBlocks');
    residPre = ctx.apply(this.hookResidPre, residPre);
    const attnOut = ctx.apply(this.hookAttnOut, this.selfAttention(residPre, mask, ctx));
    let resid = ctx.apply(this.hookResidMid, tf.add(residPre, attnOut));
    if (this.crossAttn && this.lnCross && encoderOut) {
      const { lnCross, crossAttn } = this;
      const residMid = resid;
      const crossIn = ctx.call(lnCross, residMid, () => lnCross.forward(residMid, ctx));
      const crossOut = ctx.apply(this.hookCrossAttnOut!, ctx.call(crossAttn, crossIn, () => crossAttn.forward(crossIn, encoderOut, undefined, ctx)));
      resid = ctx.apply(this.hookResidMidCross!, tf.add(resid, crossOut));
    }
    // TransformerLens's hook_mlp_in: what ln2 reads; a replacement does not change the residual sum.
    const mlpInput = ctx.wants(this.hookMlpIn.name) ? ctx.apply(this.hookMlpIn, resid) : resid;
    const mlpIn = ctx.call(this.ln2, mlpInput, () => this.ln2.forward(mlpInput, ctx));
    const mlpOut = ctx.apply(this.hookMlpOut, ctx.call(this.mlp, mlpIn, () => this.mlp.forward(mlpIn, ctx)));
    return ctx.apply(this.hookResidPost, tf.add(resid, mlpOut));
  }
}
