/**
 * Post-LN transformer block (BERT), built from the same `LayerNorm`, `Attention` and `Mlp` as the pre-LN
 * `TransformerBlock`; only the place of the layer norms differs:
 * resid_pre → attn → attn_out; resid_mid = resid_pre + attn_out; x = ln1(resid_mid);
 * mlp(x) → mlp_out; resid_post_pre_ln = x + mlp_out; resid_post = ln2(resid_post_pre_ln) (the block output).
 * Note that TransformerLens's `BertBlock` calls the pre-LN sum `hook_resid_post` and the block output
 * `hook_normalized_resid_post`; here `hook_resid_post` is always the block output (h_l of the spec).
 */
import * as tf from '@tensorflow/tfjs-core';
import { HookedModule } from '../hooked-module.js';
import { HookPoint, type RunContext } from '../hook-point.js';
import type { LayerNorm } from './layer-norm.js';
import { splitInputs, type Attention, type AttentionMask } from './attention.js';
import type { Mlp } from './mlp.js';

/** A post-LN block. Field order = forward order = hook order. */
export class PostLnBlock extends HookedModule {
  readonly hookResidPre = new HookPoint(); // [batch, pos, dModel]
  readonly hookQInput = new HookPoint(); // [batch, pos, head, dModel] resid_pre per head (opt-in)
  readonly hookKInput = new HookPoint(); // [batch, pos, head, dModel] (opt-in)
  readonly hookVInput = new HookPoint(); // [batch, pos, head, dModel] (opt-in)
  readonly attn: Attention;
  readonly hookAttnOut = new HookPoint(); // [batch, pos, dModel]
  readonly hookResidMid = new HookPoint(); // [batch, pos, dModel] resid_pre + attn_out, before ln1
  readonly hookMlpIn = new HookPoint(); // [batch, pos, dModel] what ln1 reads (opt-in)
  readonly ln1: LayerNorm;
  readonly mlp: Mlp;
  readonly hookMlpOut = new HookPoint(); // [batch, pos, dModel]
  readonly hookResidPostPreLn = new HookPoint(); // [batch, pos, dModel] ln1 output + mlp_out, before ln2
  readonly ln2: LayerNorm;
  readonly hookResidPost = new HookPoint(); // [batch, pos, dModel] block output (after ln2)

  constructor(parts: { attn: Attention; ln1: LayerNorm; mlp: Mlp; ln2: LayerNorm }) {
    super();
    this.attn = parts.attn;
    this.ln1 = parts.ln1;
    this.mlp = parts.mlp;
    this.ln2 = parts.ln2;
  }

  /** TransformerLens 3.x names: the block's and its layer norms' `hook_in`/`hook_out` (post-LN places). */
  override canonicalHooks(): Record<string, HookPoint | undefined> {
    return {
      hook_in: this.hookResidPre,
      'attn.hook_out': this.hookAttnOut,
      'ln1.hook_in': this.hookResidMid,
      'mlp.hook_out': this.hookMlpOut,
      'ln2.hook_in': this.hookResidPostPreLn,
      hook_out: this.hookResidPost,
    };
  }

  /** `residPre [batch, pos, dModel]` → block output `[batch, pos, dModel]`. */
  forward(residPre: tf.Tensor, mask: AttentionMask | undefined, ctx: RunContext): tf.Tensor {
    residPre = ctx.apply(this.hookResidPre, residPre);
    const attnIn = residPre;
    // TransformerLens's BertBlock split inputs: per-head residuals straight into the projections (no LN before attention).
    const perHead = splitInputs(ctx, residPre, { q: this.attn.nHeads, kv: this.attn.nHeads }, { q: this.hookQInput, k: this.hookKInput, v: this.hookVInput });
    const attnOut = ctx.apply(this.hookAttnOut, ctx.call(this.attn, attnIn, () => this.attn.forward(attnIn, attnIn, mask, ctx, perHead)));
    const residMid = ctx.apply(this.hookResidMid, tf.add(residPre, attnOut));
    // hook_mlp_in (TL): what ln1 reads; ln1's output is both the MLP input and the residual, so a replacement reaches both.
    const mlpIn = ctx.wants(this.hookMlpIn.name) ? ctx.apply(this.hookMlpIn, residMid) : residMid;
    const attnBlockOut = ctx.call(this.ln1, mlpIn, () => this.ln1.forward(mlpIn, ctx));
    const mlpOut = ctx.apply(this.hookMlpOut, ctx.call(this.mlp, attnBlockOut, () => this.mlp.forward(attnBlockOut, ctx)));
    const preLn2 = ctx.apply(this.hookResidPostPreLn, tf.add(attnBlockOut, mlpOut));
    return ctx.apply(this.hookResidPost, ctx.call(this.ln2, preLn2, () => this.ln2.forward(preLn2, ctx)));
  }
}
