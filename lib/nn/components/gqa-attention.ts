/**
 * Grouped-query self-attention with rotary position embeddings (Llama, Mistral, Qwen2; options for Gemma):
 * `nKvHeads` key/value heads serve `nHeads` query heads, each kv head a group of `nHeads / nKvHeads` consecutive
 * query heads (HF's `repeat_kv`, TransformerLens's `repeat_interleave`). As in TransformerLens, `hook_k` and
 * `hook_v` (and `hook_rot_k`) hold the `nKvHeads` heads; the expansion happens after the hooks.
 *
 * Hooks (forward order): `hook_q [batch, pos, head, dHead]`, `hook_k`, `hook_v [batch, pos, kvHead, dHead]`,
 * `q_norm.*`, `hook_q_normed`, `k_norm.*`, `hook_k_normed` (when the layer normalizes q and k per head, Gemma 3;
 * TransformerLens 3's names, in this module's `[batch, pos, head, dHead]` layout), `hook_rot_q`, `hook_rot_k`
 * (after the rotary embedding; only when the forward is given rotary tables), `hook_attn_scores`,
 * `hook_pattern [batch, head, queryPos, keyPos]`, `hook_z [batch, pos, head, dHead]`, `hook_result` (lazy); the
 * scores → output tail is `attendHeads`, shared with multi-head attention.
 */
import * as tf from '@tensorflow/tfjs-core';
import { HookedModule } from '../hooked-module.js';
import { HookPoint, type RunContext } from '../hook-point.js';
import { linear } from './linear.js';
import { projectPerHead, type AttentionWeights, type PerHeadInputs } from './attention.js';
import { attendHeads, type AttentionMask } from './attention-heads.js';
import { applyRotary, type RotaryTables } from './rotary.js';
import type { RmsNorm } from './rms-norm.js';
import { InvalidArgumentError } from '../../errors.js';

/** Options of `GroupedQueryAttention` (every one but the head counts optional). */
export interface GqaOptions {
  nHeads: number;
  /** Key/value heads; divides `nHeads` (= nHeads for plain multi-head attention). */
  nKvHeads: number;
  /** Head size (Llama: hidden_size / num_attention_heads unless config `head_dim` says otherwise). */
  dHead: number;
  /** Multiplier of q·k; default 1/√dHead (Gemma: query_pre_attn_scalar^−½). */
  scoreScale?: number;
  /** A query attends to the last `slidingWindow` keys only (itself included; HF: kv > q − window). */
  slidingWindow?: number;
  /** Attention logit soft-capping (Gemma 2): scores → cap · tanh(scores / cap), before the mask. */
  softcap?: number;
  /** RMS norm over each query head's dHead dims, before the rotary embedding (Gemma 3 `q_norm`). */
  qNorm?: RmsNorm;
  /** The same for keys (`k_norm`). */
  kNorm?: RmsNorm;
}

/** Grouped-query attention. Field order = hook order. */
export class GroupedQueryAttention extends HookedModule {
  readonly hookQ = new HookPoint(); // [batch, pos, head, dHead]
  readonly hookK = new HookPoint(); // [batch, pos, kvHead, dHead]
  readonly hookV = new HookPoint(); // [batch, pos, kvHead, dHead]
  readonly qNorm?: RmsNorm;
  readonly hookQNormed?: HookPoint; // [batch, pos, head, dHead] q_norm's output (with its gain)
  readonly kNorm?: RmsNorm;
  readonly hookKNormed?: HookPoint; // [batch, pos, kvHead, dHead]
  readonly hookRotQ = new HookPoint(); // [batch, pos, head, dHead]
  readonly hookRotK = new HookPoint(); // [batch, pos, kvHead, dHead]
  readonly hookAttnScores = new HookPoint(); // [batch, head, queryPos, keyPos]
  readonly hookPattern = new HookPoint(); // [batch, head, queryPos, keyPos]
  readonly hookZ = new HookPoint(); // [batch, pos, head, dHead]
  readonly hookResult = new HookPoint(); // [batch, pos, head, dModel] (lazy)
  /** `[dModel, nHeads·dHead]`. */
  readonly W_Q: tf.Tensor2D;
  readonly b_Q?: tf.Tensor1D;
  /** `[dModel, nKvHeads·dHead]`. */
  readonly W_K: tf.Tensor2D;
  readonly b_K?: tf.Tensor1D;
  /** `[dModel, nKvHeads·dHead]`. */
  readonly W_V: tf.Tensor2D;
  readonly b_V?: tf.Tensor1D;
  /** `[nHeads·dHead, dModel]`. */
  readonly W_O: tf.Tensor2D;
  readonly b_O?: tf.Tensor1D;
  readonly nHeads: number;
  readonly nKvHeads: number;
  readonly dHead: number;
  readonly scoreScale: number;
  readonly slidingWindow?: number;
  readonly softcap?: number;

  /** Raises InvalidArgumentError when nKvHeads does not divide nHeads or the weights do not fit the head sizes. */
  constructor(weights: AttentionWeights, opts: GqaOptions) {
    super();
    const { nHeads, nKvHeads, dHead } = opts;
    if (!(nKvHeads > 0 && nHeads % nKvHeads === 0)) throw new InvalidArgumentError(`nKvHeads ${nKvHeads} must divide nHeads ${nHeads}`);
    const want: [string, tf.Tensor, number][] = [['W_Q', weights.W_Q, nHeads * dHead], ['W_K', weights.W_K, nKvHeads * dHead], ['W_V', weights.W_V, nKvHeads * dHead]];
    for (const [name, W, cols] of want) {
      if (W.shape[1] !== cols) throw new InvalidArgumentError(`attention ${name} has ${W.shape[1]} columns, expected ${cols} (heads × dHead ${dHead})`);
    }
    if (weights.W_O.shape[0] !== nHeads * dHead) throw new InvalidArgumentError(`attention W_O has ${weights.W_O.shape[0]} rows, expected ${nHeads * dHead}`);
    ({ W_Q: this.W_Q, b_Q: this.b_Q, W_K: this.W_K, b_K: this.b_K, W_V: this.W_V, b_V: this.b_V, W_O: this.W_O, b_O: this.b_O } = weights);
    this.qNorm = opts.qNorm;
    if (opts.qNorm) this.hookQNormed = new HookPoint();
    this.kNorm = opts.kNorm;
    if (opts.kNorm) this.hookKNormed = new HookPoint();
    this.nHeads = nHeads;
    this.nKvHeads = nKvHeads;
    this.dHead = dHead;
    this.scoreScale = opts.scoreScale ?? 1 / Math.sqrt(dHead);
    this.slidingWindow = opts.slidingWindow;
    this.softcap = opts.softcap;
  }

  /** Query heads per key/value head. */
  get groupSize(): number {
    return this.nHeads / this.nKvHeads;
  }

  /** TransformerLens 3.x names: `q/k/v.hook_out` are hook_q/k/v, `o.hook_in` is hook_z, `q_norm.hook_in/out` hook_q / hook_q_normed. */
  override canonicalHooks(): Record<string, HookPoint | undefined> {
    const norms = { 'q_norm.hook_in': this.qNorm && this.hookQ, 'q_norm.hook_out': this.hookQNormed, 'k_norm.hook_in': this.kNorm && this.hookK, 'k_norm.hook_out': this.hookKNormed };
    return { 'q.hook_out': this.hookQ, 'k.hook_out': this.hookK, 'v.hook_out': this.hookV, 'o.hook_in': this.hookZ, ...norms };
  }

  private project(x: tf.Tensor, W: tf.Tensor2D, b: tf.Tensor1D | undefined, heads: number): tf.Tensor4D {
    const [batch, pos] = x.shape as [number, number];
    return tf.reshape(linear(x, W, b), [batch, pos, heads, this.dHead]) as tf.Tensor4D;
  }

  /** Additive band `[1, 1, queryPos, keyPos]`: −∞ where key ≤ query − window (undefined when nothing is cut). */
  private windowMask(pos: number): tf.Tensor | undefined {
    const w = this.slidingWindow;
    if (w === undefined || w >= pos) return undefined;
    const q = tf.reshape(tf.range(0, pos, 1, 'int32'), [pos, 1]);
    const k = tf.reshape(tf.range(0, pos, 1, 'int32'), [1, pos]);
    const inside = tf.greater(k, tf.sub(q, tf.scalar(w, 'int32')));
    return tf.reshape(tf.where(inside, tf.zeros([pos, pos]), tf.fill([pos, pos], -Infinity)), [1, 1, pos, pos]);
  }

  /**
   * `x [batch, pos, dModel]` (the normalized residual) → attention output `[batch, pos, dModel]` (the block applies
   * `hook_attn_out`). `mask` is the causal/padding mask; `rotary` the tables of this layer's rope (none: no rotation,
   * and hook_rot_q/k do not fire). `perHead` gives head-specific (already normalized) inputs instead of `x`:
   * q `[batch, pos, head, dModel]`, k and v `[batch, pos, kvHead, dModel]` (TransformerLens's split inputs).
   */
  forward(x: tf.Tensor, mask: AttentionMask | undefined, ctx: RunContext, rotary?: RotaryTables, perHead: PerHeadInputs = {}): tf.Tensor {
    let q: tf.Tensor4D = ctx.apply(this.hookQ, perHead.q ? projectPerHead(perHead.q, this.W_Q, this.b_Q) : this.project(x, this.W_Q, this.b_Q, this.nHeads));
    let k: tf.Tensor4D = ctx.apply(this.hookK, perHead.k ? projectPerHead(perHead.k, this.W_K, this.b_K) : this.project(x, this.W_K, this.b_K, this.nKvHeads));
    const v = ctx.apply(this.hookV, perHead.v ? projectPerHead(perHead.v, this.W_V, this.b_V) : this.project(x, this.W_V, this.b_V, this.nKvHeads));
    if (this.qNorm && this.hookQNormed) q = ctx.apply(this.hookQNormed, this.qNorm.forward(q, ctx) as tf.Tensor4D);
    if (this.kNorm && this.hookKNormed) k = ctx.apply(this.hookKNormed, this.kNorm.forward(k, ctx) as tf.Tensor4D);
    if (rotary) {
      q = ctx.apply(this.hookRotQ, applyRotary(q, rotary));
      k = ctx.apply(this.hookRotK, applyRotary(k, rotary));
    }
    const opts = { scale: this.scoreScale, softcap: this.softcap, mask, band: this.windowMask(x.shape[1]!) };
    return attendHeads(q, k, v, this.W_O, this.b_O, opts, this, ctx);
  }
}
