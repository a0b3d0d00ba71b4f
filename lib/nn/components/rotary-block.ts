/**
 * Pre-RMS-norm decoder block with rotary grouped-query attention and a gated MLP (Llama, Mistral, Qwen2; Gemma adds
 * the optional post-norms): resid_pre → ln1 → attn (rotary at this block's rope) → [ln1_post] → attn_out;
 * resid_mid = resid_pre + attn_out; ln2 → mlp → [ln2_post] → mlp_out; resid_post = resid_mid + mlp_out.
 * Sub-modules run through `ctx.call`, so a run can override `blocks.{i}.ln1`, `.attn`, `.ln2`, `.mlp` or the block.
 */
import * as tf from '@tensorflow/tfjs-core';
import { HookedModule } from '../hooked-module.js';
import { HookPoint, type RunContext } from '../hook-point.js';
import type { AttentionMask } from './attention.js';
import type { RmsNorm } from './rms-norm.js';
import type { GroupedQueryAttention } from './gqa-attention.js';
import type { GatedMlp } from './gated-mlp.js';
import { ropeFrequencies, rotaryTables, type RopeParams } from './rotary.js';
import { positionIds } from '../token-input.js';

/** The parts of a rotary block. `ln1Post`/`ln2Post` normalize the attention and MLP outputs (Gemma 2/3). */
export interface RotaryBlockParts {
  ln1: RmsNorm;
  attn: GroupedQueryAttention;
  ln1Post?: RmsNorm;
  ln2: RmsNorm;
  mlp: GatedMlp;
  ln2Post?: RmsNorm;
  /** The rotary embedding of this block's attention (Gemma 3: its local or global base). */
  rope: RopeParams;
}

/** A pre-RMS-norm rotary block. Field order = forward order = hook order. */
export class RotaryBlock extends HookedModule {
  readonly hookResidPre = new HookPoint(); // [batch, pos, dModel]
  readonly ln1: RmsNorm;
  readonly attn: GroupedQueryAttention;
  readonly ln1Post?: RmsNorm;
  readonly hookAttnOut = new HookPoint(); // [batch, pos, dModel]
  readonly hookResidMid = new HookPoint(); // [batch, pos, dModel]
  readonly hookMlpIn = new HookPoint(); // [batch, pos, dModel] what ln2 reads (opt-in)
  readonly ln2: RmsNorm;
  readonly mlp: GatedMlp;
  readonly ln2Post?: RmsNorm;
  readonly hookMlpOut = new HookPoint(); // [batch, pos, dModel]
  readonly hookResidPost = new HookPoint(); // [batch, pos, dModel]
  readonly rope: RopeParams;

  constructor(parts: RotaryBlockParts) {
    super();
    this.ln1 = parts.ln1;
    this.attn = parts.attn;
    this.ln1Post = parts.ln1Post;
    this.ln2 = parts.ln2;
    this.mlp = parts.mlp;
    this.ln2Post = parts.ln2Post;
    this.rope = parts.rope;
  }

  /** TransformerLens 3.x names: the block's and its norms' `hook_in`/`hook_out`. */
  override canonicalHooks(): Record<string, HookPoint | undefined> {
    return {
      hook_in: this.hookResidPre,
      'ln1.hook_in': this.hookResidPre,
      'attn.hook_out': this.hookAttnOut,
      'ln2.hook_in': this.hookResidMid,
      'mlp.hook_out': this.hookMlpOut,
      hook_out: this.hookResidPost,
    };
  }

  /**
   * The attention sub-block without the residual add: ln1 → attention at this block's rope (tables from
   * `positions [batch, pos]`, default 0 … pos−1 per row) → ln1_post when present. `[batch, pos, dModel]` →
   * `[batch, pos, dModel]` (before `hook_attn_out`).
   */
  attentionOut(residPre: tf.Tensor, mask: AttentionMask | undefined, ctx: RunContext, positions?: tf.Tensor2D): tf.Tensor {
    const [batch, pos] = residPre.shape as [number, number];
    const tables = rotaryTables(positions ?? positionIds(batch, pos), ropeFrequencies(this.rope, pos));
    const normalized = ctx.call(this.ln1, residPre, () => this.ln1.forward(residPre, ctx));
    const attnOut = ctx.call(this.attn, normalized, () => this.attn.forward(normalized, mask, ctx, tables));
    return this.ln1Post ? this.ln1Post.forward(attnOut, ctx) : attnOut;
  }

  /**
   * `residPre [batch, pos, dModel]` → `residPost [batch, pos, dModel]`. `positions [batch, pos]` are the position ids
   * the rotary embedding reads (default 0 … pos−1 in every row; left-padded inputs pass theirs).
   */
  forward(residPre: tf.Tensor, mask: AttentionMask | undefined, ctx: RunContext, _encoderOut?: tf.Tensor, positions?: tf.Tensor2D): tf.Tensor {
    residPre = ctx.apply(this.hookResidPre, residPre);
    const attnOut = ctx.apply(this.hookAttnOut, this.attentionOut(residPre, mask, ctx, positions));
    const resid = ctx.apply(this.hookResidMid, tf.add(residPre, attnOut));
    // TransformerLens's hook_mlp_in: what ln2 reads; a replacement does not change the residual sum.
    const mlpInput = ctx.wants(this.hookMlpIn.name) ? ctx.apply(this.hookMlpIn, resid) : resid;
    const mlpIn = ctx.call(this.ln2, mlpInput, () => this.ln2.forward(mlpInput, ctx));
    let mlpOut = ctx.call(this.mlp, mlpIn, () => this.mlp.forward(mlpIn, ctx));
    if (this.ln2Post) mlpOut = this.ln2Post.forward(mlpOut, ctx);
    mlpOut = ctx.apply(this.hookMlpOut, mlpOut);
    return ctx.apply(this.hookResidPost, tf.add(resid, mlpOut));
  }
}
