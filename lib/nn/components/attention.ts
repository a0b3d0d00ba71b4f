/**
 * Multi-head attention with TransformerLens hooks. Serves self-attention (causal or not) and
 * cross-attention (keys and values from another sequence, e.g. the Whisper encoder output).
 * `hook_result` (per-head outputs `[batch, pos, head, dModel]`) is computed only when a hook or the
 * cache asks for it; otherwise the heads are merged by one matmul.
 */
import * as tf from '@tensorflow/tfjs-core';
import { HookedModule } from '../hooked-module.js';
import { HookPoint, NO_HOOKS, type RunContext } from '../hook-point.js';
import { linear } from './linear.js';
import { attendHeads, type AttentionMask } from './attention-heads.js';
import type { AttentionWeights } from '../../io/convert/weights.js';

export type { AttentionWeights } from '../../io/convert/weights.js';
export type { AttentionMask } from './attention-heads.js';

/** Head-specific inputs of q, k, v `[batch, pos, head, dModel]` (TransformerLens `hook_q_input` … after ln1). */
export interface PerHeadInputs {
  q?: tf.Tensor;
  k?: tf.Tensor;
  v?: tf.Tensor;
}

/** The hook points of TransformerLens's split attention inputs (`hook_attn_in` only in pre-LN blocks). */
export interface SplitInputHooks {
  attnIn?: HookPoint;
  q: HookPoint;
  k: HookPoint;
  v: HookPoint;
}

/** Head counts of the split inputs: `q` query heads; `kv` key/value heads (fewer in grouped-query attention). */
export interface SplitInputHeads {
  q: number;
  kv: number;
}

/**
 * TransformerLens's opt-in split inputs, only when the run reads one of them (undefined otherwise): the residual
 * repeated per query head `[batch, pos, head, dModel]` passes through `hook_attn_in` (when given) and then through
 * `hook_q_input`; `hook_k_input` and `hook_v_input` hold it per key/value head `[batch, pos, kvHead, dModel]`
 * (TransformerLens's `use_split_qkv_input` with `n_key_value_heads`). With as many key/value heads as query heads
 * they start from `hook_attn_in` too; a grouped layer has no `hook_attn_in` (its k/v inputs have other heads).
 * Returns the inputs a hook replaced (undefined where unchanged).
 */
export function splitInputs(ctx: RunContext, resid: tf.Tensor, heads: SplitInputHeads, hooks: SplitInputHooks): PerHeadInputs | undefined {
  if (![hooks.attnIn, hooks.q, hooks.k, hooks.v].some((h) => h && ctx.wants(h.name))) return undefined;
  const repeat = (n: number): tf.Tensor => tf.tile(tf.expandDims(resid, 2), [1, 1, n, 1]);
  const repeated = repeat(heads.q);
  const attnIn = hooks.attnIn ? ctx.apply(hooks.attnIn, repeated) : repeated;
  const kvRepeated = heads.kv === heads.q ? undefined : repeat(heads.kv);
  const kvIn = kvRepeated ?? attnIn;
  const changed = (x: tf.Tensor): tf.Tensor | undefined => (x === repeated || x === kvRepeated ? undefined : x);
  return { q: changed(ctx.apply(hooks.q, attnIn)), k: changed(ctx.apply(hooks.k, kvIn)), v: changed(ctx.apply(hooks.v, kvIn)) };
}

/**
 * `splitInputs` followed by the block's pre-attention norm, head by head, on the inputs a hook replaced: `norm(x, ctx)`
 * runs the norm (through `ctx.call`, so an override applies); the per-head calls get `NO_HOOKS`, so the norm's own
 * hooks fire once, on the residual, as in TransformerLens's blocks.
 */
export function normalizedSplitInputs(ctx: RunContext, resid: tf.Tensor, heads: SplitInputHeads, hooks: SplitInputHooks, norm: (x: tf.Tensor, c: RunContext) => tf.Tensor): PerHeadInputs | undefined {
  const split = splitInputs(ctx, resid, heads, hooks);
  const own = (x: tf.Tensor | undefined): tf.Tensor | undefined => x && norm(x, NO_HOOKS);
  return split && { q: own(split.q), k: own(split.k), v: own(split.v) };
}

/**
 * TransformerLens's split-input projection: `x [batch, pos, head, dModel]` → head h's projection of x[:, :, h]
 * `[batch, pos, head, dHead]`, with `W [dModel, head·dHead]` and `b [head·dHead]` (the head count is x's).
 */
export function projectPerHead(x: tf.Tensor, W: tf.Tensor2D, b: tf.Tensor1D | undefined): tf.Tensor4D {
  const [batch, pos, H, d] = x.shape as [number, number, number, number];
  const dHead = W.shape[1] / H;
  const byHead = tf.reshape(tf.transpose(x, [2, 0, 1, 3]), [H, batch * pos, d]);
  const perHeadW = tf.transpose(tf.reshape(W, [d, H, dHead]), [1, 0, 2]); // [H, d, dHead]
  const out = tf.transpose(tf.reshape(tf.matMul(byHead, perHeadW), [H, batch, pos, dHead]), [1, 2, 0, 3]);
  return (b ? tf.add(out, tf.reshape(b, [H, dHead])) : out) as tf.Tensor4D;
}

/** Multi-head attention (the scores → pattern → z → output tail is `attendHeads`, shared with grouped-query attention). */
export class Attention extends HookedModule {
  readonly hookQ = new HookPoint(); // [batch, pos, head, dHead]
  readonly hookK = new HookPoint(); // [batch, keyPos, head, dHead]
  readonly hookV = new HookPoint(); // [batch, keyPos, head, dHead]
  readonly hookAttnScores = new HookPoint(); // [batch, head, queryPos, keyPos]
  readonly hookPattern = new HookPoint(); // [batch, head, queryPos, keyPos]
  readonly hookZ = new HookPoint(); // [batch, pos, head, dHead]
  readonly hookResult = new HookPoint(); // [batch, pos, head, dModel] (lazy)
  readonly W_Q: tf.Tensor2D;
  readonly b_Q?: tf.Tensor1D;
  readonly W_K: tf.Tensor2D;
  readonly b_K?: tf.Tensor1D;
  readonly W_V: tf.Tensor2D;
  readonly b_V?: tf.Tensor1D;
  readonly W_O: tf.Tensor2D;
  readonly b_O?: tf.Tensor1D;

  constructor(
    weights: AttentionWeights,
    readonly nHeads: number,
    /** Multiplier of q·k (default 1/√dHead). */
    readonly scoreScale: number = 1 / Math.sqrt(weights.W_Q.shape[1] / nHeads),
  ) {
    super();
    ({ W_Q: this.W_Q, b_Q: this.b_Q, W_K: this.W_K, b_K: this.b_K, W_V: this.W_V, b_V: this.b_V, W_O: this.W_O, b_O: this.b_O } = weights);
  }

  /** Head size. */
  get dHead(): number {
    return this.W_Q.shape[1] / this.nHeads;
  }

  private split(x: tf.Tensor): tf.Tensor4D {
    const [batch, pos] = x.shape as [number, number];
    return tf.reshape(x, [batch, pos, this.nHeads, this.dHead]) as tf.Tensor4D;
  }

  /** TransformerLens 3.x names: `q/k/v.hook_out` are hook_q/k/v, `o.hook_in` is hook_z. */
  override canonicalHooks(): Record<string, HookPoint | undefined> {
    return { 'q.hook_out': this.hookQ, 'k.hook_out': this.hookK, 'v.hook_out': this.hookV, 'o.hook_in': this.hookZ };
  }

  /**
   * `query [batch, pos, dModel]`, `keyValue [batch, keyPos, dModel]` (= query for self-attention) →
   * attention output `[batch, pos, dModel]` (the block applies `hook_attn_out`). `perHead` gives head-specific
   * (already normalized) inputs `[batch, pos, head, dModel]` for q, k or v instead of `query`/`keyValue`.
   */
  forward(query: tf.Tensor, keyValue: tf.Tensor, mask: AttentionMask | undefined, ctx: RunContext, perHead: PerHeadInputs = {}): tf.Tensor {
    const q = ctx.apply(this.hookQ, perHead.q ? projectPerHead(perHead.q, this.W_Q, this.b_Q) : this.split(linear(query, this.W_Q, this.b_Q)));
    const k = ctx.apply(this.hookK, perHead.k ? projectPerHead(perHead.k, this.W_K, this.b_K) : this.split(linear(keyValue, this.W_K, this.b_K)));
    const v = ctx.apply(this.hookV, perHead.v ? projectPerHead(perHead.v, this.W_V, this.b_V) : this.split(linear(keyValue, this.W_V, this.b_V)));
    return attendHeads(q, k, v, this.W_O, this.b_O, { scale: this.scoreScale, mask }, this, ctx);
  }
}

/**
 * Builds the additive mask for self-attention: causal (key ≤ query) and/or key padding
 * (`attentionMask [batch, pos]` with 1 = real token, 0 = padding). Returns undefined when nothing is masked.
 */
export function buildAttentionMask(pos: number, opts: { causal: boolean; attentionMask?: tf.Tensor2D; keyPos?: number }): AttentionMask | undefined {
  const keyPos = opts.keyPos ?? pos;
  let allowed: tf.Tensor | undefined;
  if (opts.causal) {
    const queryIdx = tf.reshape(tf.range(0, pos, 1, 'int32'), [pos, 1]);
    const keyIdx = tf.reshape(tf.range(0, keyPos, 1, 'int32'), [1, keyPos]);
    allowed = tf.reshape(tf.lessEqual(keyIdx, queryIdx), [1, 1, pos, keyPos]);
  }
  let hasEmptyRows = false;
  if (opts.attentionMask) {
    const keyOk = tf.reshape(tf.greater(opts.attentionMask, 0), [opts.attentionMask.shape[0], 1, 1, keyPos]);
    allowed = allowed ? tf.logicalAnd(allowed, keyOk) : keyOk;
    hasEmptyRows = true;
  }
  if (!allowed) return undefined;
  const additive = tf.where(allowed, tf.zeros(allowed.shape), tf.fill(allowed.shape, -Infinity));
  return { additive, hasEmptyRows };
}
