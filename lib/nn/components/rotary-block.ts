/**
 * Pre-norm decoder block with rotary grouped-query attention, in the layouts of the modern decoder families:
 * - sequential (GPT-NeoX with `use_parallel_residual: false`, Gemma): resid_pre → ln1 → attn → [ln1_post] →
 *   attn_out; resid_mid = resid_pre + attn_out; ln2 → mlp → [ln2_post] → mlp_out; resid_post = resid_mid + mlp_out;
 * - parallel (GPT-NeoX / Pythia): attention and MLP both read resid_pre (through ln1 and ln2);
 *   resid_post = resid_pre + attn_out + mlp_out, and there is no resid_mid (as TransformerLens).
 * Gemma's sandwich norms `ln1_post` / `ln2_post` normalize each sub-layer's output before it joins the residual;
 * `hook_attn_out` / `hook_mlp_out` hold what is added (after them), as TransformerLens names them.
 * ln1, attn, ln2 and mlp run through `ctx.call`, so a run can override them (`blocks.{i}.attn`, …).
 */
import * as tf from '@tensorflow/tfjs-core';
import { HookedModule } from '../hooked-module.js';
import { HookPoint, type RunContext } from '../hook-point.js';
import { normalizedSplitInputs, type AttentionMask } from './attention.js';
import type { GroupedQueryAttention } from './gqa-attention.js';
import { ropeFrequencies, rotaryTables, type RopeParams } from './rotary.js';
import type { LayerNorm } from './layer-norm.js';
import type { RmsNorm } from './rms-norm.js';
import type { Mlp } from './mlp.js';
import type { GatedMlp } from './gated-mlp.js';
import { positionIds } from '../token-input.js';

/** A norm a block applies: LayerNorm (GPT-NeoX) or RMSNorm (Gemma, Llama). */
export type BlockNorm = LayerNorm | RmsNorm;

/** The parts of a `RotaryBlock`. */
export interface RotaryBlockParts {
  ln1: BlockNorm;
  attn: GroupedQueryAttention;
  /** Gemma's post-attention norm (`post_attention_layernorm`). */
  ln1Post?: BlockNorm;
  ln2: BlockNorm;
  mlp: Mlp | GatedMlp;
  /** Gemma's post-MLP norm (`post_feedforward_layernorm`). */
  ln2Post?: BlockNorm;
  /** Attention and MLP read resid_pre side by side (GPT-NeoX `use_parallel_residual`). */
  parallel?: boolean;
  /** This layer's rotary embedding (Gemma 3: local or global base by layer kind). */
  rope: RopeParams;
}

/** A decoder block. Field order = forward order = hook order. */
export class RotaryBlock extends HookedModule {
  readonly hookResidPre = new HookPoint(); // [batch, pos, dModel]
  readonly hookAttnIn?: HookPoint; // [batch, pos, head, dModel] resid_pre per head (opt-in; not in grouped layers)
  readonly hookQInput = new HookPoint(); // [batch, pos, head, dModel] (opt-in)
  readonly hookKInput = new HookPoint(); // [batch, pos, kvHead, dModel] (opt-in)
  readonly hookVInput = new HookPoint(); // [batch, pos, kvHead, dModel] (opt-in)
  readonly ln1: BlockNorm;
  readonly attn: GroupedQueryAttention;
  readonly ln1Post?: BlockNorm;
  readonly hookAttnOut = new HookPoint(); // [batch, pos, dModel]
  readonly hookResidMid?: HookPoint; // [batch, pos, dModel] (sequential blocks only)
  readonly hookMlpIn = new HookPoint(); // [batch, pos, dModel] what ln2 reads (opt-in)
  readonly ln2: BlockNorm;
  readonly mlp: Mlp | GatedMlp;
  readonly ln2Post?: BlockNorm;
  readonly hookMlpOut = new HookPoint(); // [batch, pos, dModel]
  readonly hookResidPost = new HookPoint(); // [batch, pos, dModel]
  readonly parallel: boolean;
  readonly rope: RopeParams;

  constructor(parts: RotaryBlockParts) {
    super();
    this.rope = parts.rope;
    if (parts.attn.nKvHeads === parts.attn.nHeads) this.hookAttnIn = new HookPoint();
    this.ln1 = parts.ln1;
    this.attn = parts.attn;
    this.ln1Post = parts.ln1Post;
    this.parallel = parts.parallel ?? false;
    if (!this.parallel) this.hookResidMid = new HookPoint();
    this.ln2 = parts.ln2;
    this.mlp = parts.mlp;
    this.ln2Post = parts.ln2Post;
  }

  /** TransformerLens 3.x names: the block's and its norms' `hook_in`/`hook_out`. */
  override canonicalHooks(): Record<string, HookPoint | undefined> {
    return {
      hook_in: this.hookResidPre,
      'ln1.hook_in': this.hookResidPre,
      'attn.hook_out': this.ln1Post ? undefined : this.hookAttnOut,
      'ln2.hook_in': this.hookResidMid ?? this.hookResidPre,
      'mlp.hook_out': this.ln2Post ? undefined : this.hookMlpOut,
      hook_out: this.hookResidPost,
    };
  }

  /**
   * The attention sub-block without the residual add: ln1 → attention at this block's rope (tables from
   * `positions [batch, pos]`, default 0 … pos−1 per row) → ln1_post when present. `[batch, pos, dModel]` →
   * `[batch, pos, dModel]` (before `hook_attn_out`). TransformerLens's opt-in split inputs, only when a run reads
   * them: `hook_q_input` is resid_pre per query head, `hook_k_input`/`hook_v_input` per key/value head, and
   * `hook_attn_in` (layers with as many key/value heads as query heads only) feeds all three; a replaced input is
   * read through ln1 head by head (ln1's hooks fire once, on resid_pre).
   */
  attentionOut(residPre: tf.Tensor, mask: AttentionMask | undefined, ctx: RunContext, positions?: tf.Tensor2D): tf.Tensor {
    const [batch, pos] = residPre.shape as [number, number];
    const tables = rotaryTables(positions ?? positionIds(batch, pos), ropeFrequencies(this.rope, pos));
    const norm = (x: tf.Tensor, c: RunContext): tf.Tensor => ctx.call(this.ln1, x, () => this.ln1.forward(x, c));
    const { nHeads, nKvHeads } = this.attn;
    const perHead = normalizedSplitInputs(ctx, residPre, { q: nHeads, kv: nKvHeads }, { attnIn: this.hookAttnIn, q: this.hookQInput, k: this.hookKInput, v: this.hookVInput }, norm);
    const normalized = norm(residPre, ctx);
    const attnOut = ctx.call(this.attn, normalized, () => this.attn.forward(normalized, mask, ctx, tables, perHead));
    return this.ln1Post ? this.ln1Post.forward(attnOut, ctx) : attnOut;
  }

  /**
   * `residPre [batch, pos, dModel]` → `residPost [batch, pos, dModel]`. `positions [batch, pos]` are the position ids
   * the rotary embedding reads (default 0 … pos−1 in every row; left-padded inputs pass theirs).
   */
  forward(residPre: tf.Tensor, mask: AttentionMask | undefined, ctx: RunContext, _encoderOut?: tf.Tensor, positions?: tf.Tensor2D): tf.Tensor {
    residPre = ctx.apply(this.hookResidPre, residPre);
    const { ln2, mlp, ln2Post } = this;
    const attnOut = ctx.apply(this.hookAttnOut, this.attentionOut(residPre, mask, ctx, positions));
    const resid = this.hookResidMid ? ctx.apply(this.hookResidMid, tf.add(residPre, attnOut)) : residPre;
    // TransformerLens's hook_mlp_in: what ln2 reads; a replacement does not change the residual sum.
    const mlpInput = ctx.wants(this.hookMlpIn.name) ? ctx.apply(this.hookMlpIn, resid) : resid;
    const mlpIn = ctx.call(ln2, mlpInput, () => ln2.forward(mlpInput, ctx));
    const mlpRaw = ctx.call(mlp, mlpIn, () => mlp.forward(mlpIn, ctx));
    const mlpOut = ctx.apply(this.hookMlpOut, ln2Post ? ln2Post.forward(mlpRaw, ctx) : mlpRaw);
    const sum = this.parallel ? tf.add(tf.add(residPre, attnOut), mlpOut) : tf.add(resid, mlpOut);
    return ctx.apply(this.hookResidPost, sum);
  }
}
