/**
 * Grouped-query self-attention with rotary position embeddings (Llama, Mistral, Qwen2; options for Gemma):
 * `nKvHeads` key/value heads serve `nHeads` query heads, each kv head a group of `nHeads / nKvHeads` consecutive
 * query heads (HF's `repeat_kv`, TransformerLens's `repeat_interleave`). As in TransformerLens, `hook_k` and
 * `hook_v` (and `hook_rot_k`) hold the `nKvHeads` heads; the expansion happens after the hooks.
 *
 * Hooks (forward order): `hook_q [batch, pos, head, dHead]`, `hook_k`, `hook_v [batch, pos, kvHead, dHead]`,
 * `q_norm.*`/`k_norm.*` (when the layer normalizes q and k per head, Gemma 3), `hook_rot_q`, `hook_rot_k`
 * (after the rotary embedding; only when the forward is given rotary tables), `hook_attn_scores`,
 * `hook_pattern [batch, head, queryPos, keyPos]`, `hook_z [batch, pos, head, dHead]`, `hook_result` (lazy).
 */
import * as tf from '@tensorflow/tfjs-core';
import { HookedModule } from '../hooked-module.js';
import { HookPoint, type RunContext } from '../hook-point.js';
import { linear } from './linear.js';
import { projectHeads, projectPerHead, type AttentionMask, type AttentionWeights, type PerHeadInputs } from './attention.js';
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
  readonly kNorm?: RmsNorm;
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
    this.kNorm = opts.kNorm;
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

  /** TransformerLens 3.x names: `q/k/v.hook_out` are hook_q/k/v, `o.hook_in` is hook_z. */
  override canonicalHooks(): Record<string, HookPoint | undefined> {
    return { 'q.hook_out': this.hookQ, 'k.hook_out': this.hookK, 'v.hook_out': this.hookV, 'o.hook_in': this.hookZ };
  }

  private project(x: tf.Tensor, W: tf.Tensor2D, b: tf.Tensor1D | undefined, heads: number): tf.Tensor4D {
    const [batch, pos] = x.shape as [number, number];
    return tf.reshape(linear(x, W, b), [batch, pos, heads, this.dHead]) as tf.Tensor4D;
  }

  /** `x [batch, head, pos, n]` → `[batch, kvHead, group·pos, n]`: each kv head's query heads stacked along positions. */
  private groupHeads(x: tf.Tensor): tf.Tensor {
    const [batch, , pos, n] = x.shape as [number, number, number, number];
    return tf.reshape(x, [batch, this.nKvHeads, this.groupSize * pos, n]);
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
    const [batch, pos] = x.shape as [number, number];
    let q: tf.Tensor4D = ctx.apply(this.hookQ, perHead.q ? projectPerHead(perHead.q, this.W_Q, this.b_Q) : this.project(x, this.W_Q, this.b_Q, this.nHeads));
    let k: tf.Tensor4D = ctx.apply(this.hookK, perHead.k ? projectPerHead(perHead.k, this.W_K, this.b_K) : this.project(x, this.W_K, this.b_K, this.nKvHeads));
    const v = ctx.apply(this.hookV, perHead.v ? projectPerHead(perHead.v, this.W_V, this.b_V) : this.project(x, this.W_V, this.b_V, this.nKvHeads));
    if (this.qNorm) q = this.qNorm.forward(q, ctx) as tf.Tensor4D;
    if (this.kNorm) k = this.kNorm.forward(k, ctx) as tf.Tensor4D;
    if (rotary) {
      q = ctx.apply(this.hookRotQ, applyRotary(q, rotary));
      k = ctx.apply(this.hookRotK, applyRotary(k, rotary));
    }
    const kHeads = tf.transpose(k, [0, 2, 1, 3]); // [batch, kvHead, keyPos, dHead]
    const grouped = tf.matMul(this.groupHeads(tf.transpose(q, [0, 2, 1, 3])), kHeads, false, true); // [batch, kvHead, group·pos, keyPos]
    let scores = tf.mul(tf.reshape(grouped, [batch, this.nHeads, pos, -1]), this.scoreScale);
    if (this.softcap !== undefined) scores = tf.mul(tf.tanh(tf.div(scores, this.softcap)), this.softcap);
    if (mask) scores = tf.add(scores, mask.additive);
    const band = this.windowMask(pos);
    if (band) scores = tf.add(scores, band);
    scores = ctx.apply(this.hookAttnScores, scores);
    let pattern = tf.softmax(scores);
    if (mask?.hasEmptyRows) pattern = tf.where(tf.isNaN(pattern), tf.zerosLike(pattern), pattern);
    pattern = ctx.apply(this.hookPattern, pattern);
    const zGrouped = tf.matMul(this.groupHeads(pattern), tf.transpose(v, [0, 2, 1, 3]));
    const zHeads = tf.reshape(zGrouped, [batch, this.nHeads, pos, this.dHead]);
    const z = ctx.apply(this.hookZ, tf.transpose(zHeads, [0, 2, 1, 3]) as tf.Tensor4D);
    return projectHeads(z, this.W_O, this.b_O, this.hookResult, ctx);
  }
}
