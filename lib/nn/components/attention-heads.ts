/**
 * The part of attention every variant shares, from per-head q, k, v to the output: scores → `hook_attn_scores` →
 * softmax → `hook_pattern` → z → `hook_z` → output projection (`hook_result` per head, lazy). Serves multi-head
 * attention (GPT-2, ViT, Whisper, BERT) and grouped-query attention (Llama, Gemma, GPT-NeoX): with `kvHead < head`,
 * key/value head j serves the `head / kvHead` consecutive query heads j·g … (j+1)·g − 1 (HF's `repeat_kv`,
 * TransformerLens's `repeat_interleave`) without materialising the repeated keys and values.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { HookPoint, RunContext } from '../hook-point.js';
import { linear } from './linear.js';

/**
 * Additive attention mask: 0 where a query may attend to a key, −∞ where not; broadcastable to
 * `[batch, head, queryPos, keyPos]`. `hasEmptyRows` says some query row is fully masked (padding), whose
 * pattern is then set to 0 instead of NaN (as TransformerLens does).
 */
export interface AttentionMask {
  additive: tf.Tensor;
  hasEmptyRows: boolean;
}

/** The hook points of the shared tail (fields of both attention modules). */
export interface AttentionTailHooks {
  readonly hookAttnScores: HookPoint;
  readonly hookPattern: HookPoint;
  readonly hookZ: HookPoint;
  readonly hookResult: HookPoint;
}

/** How scores are formed: `softcap · tanh(scale · q·k / softcap)` (no softcap: `scale · q·k`), then the masks added. */
export interface ScoreOptions {
  scale: number;
  /** Attention logit soft-capping (Gemma 2), applied before the masks. */
  softcap?: number;
  /** Causal / padding mask. */
  mask?: AttentionMask;
  /** A further additive mask `[1, 1, queryPos, keyPos]` (a sliding window's band). */
  band?: tf.Tensor;
}

/** `x [batch, head, pos, n]` → `[batch, kvHead, group·pos, n]`: each key/value head's query heads stacked along positions. */
function groupHeads(x: tf.Tensor, kvHeads: number): tf.Tensor {
  const [batch, heads, pos, n] = x.shape as [number, number, number, number];
  return tf.reshape(x, [batch, kvHeads, (heads / kvHeads) * pos, n]);
}

/**
 * `q [batch, queryPos, head, dHead]`, `k`/`v [batch, keyPos, kvHead, dHead]` (kvHead divides head) → attention
 * output `[batch, queryPos, dModel]` through `W_O [head·dHead, dModel]` and `b_O`, passing scores, pattern, z and
 * (when the run reads it) the per-head result through `hooks`. Fully masked query rows (padding) get a zero pattern.
 */
export function attendHeads(q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D, W_O: tf.Tensor2D, b_O: tf.Tensor1D | undefined, opts: ScoreOptions, hooks: AttentionTailHooks, ctx: RunContext): tf.Tensor {
  const [batch, pos, heads, dHead] = q.shape;
  const kvHeads = k.shape[2];
  // In a blockwise run the scores and their scaled/masked copies are freed once the pattern exists.
  const pattern = ctx.block(() => {
    const grouped = tf.matMul(groupHeads(tf.transpose(q, [0, 2, 1, 3]), kvHeads), tf.transpose(k, [0, 2, 1, 3]), false, true); // [batch, kvHead, group·pos, keyPos]
    let scores = tf.mul(tf.reshape(grouped, [batch, heads, pos, -1]), opts.scale);
    if (opts.softcap !== undefined) scores = tf.mul(tf.tanh(tf.div(scores, opts.softcap)), opts.softcap);
    if (opts.mask) scores = tf.add(scores, opts.mask.additive);
    if (opts.band) scores = tf.add(scores, opts.band);
    scores = ctx.apply(hooks.hookAttnScores, scores);
    let probs = tf.softmax(scores);
    if (opts.mask?.hasEmptyRows) probs = tf.where(tf.isNaN(probs), tf.zerosLike(probs), probs);
    return ctx.apply(hooks.hookPattern, probs);
  });
  const zGrouped = tf.matMul(groupHeads(pattern, kvHeads), tf.transpose(v, [0, 2, 1, 3])); // [batch, kvHead, group·pos, dHead]
  const zHeads = tf.reshape(zGrouped, [batch, heads, pos, dHead]);
  const z = ctx.apply(hooks.hookZ, tf.transpose(zHeads, [0, 2, 1, 3]) as tf.Tensor4D);
  return projectHeads(z, W_O, b_O, hooks.hookResult, ctx);
}

/**
 * The output projection of attention: `z [batch, pos, head, dHead]` → `[batch, pos, dModel]` by one matmul, or,
 * when the run reads `hookResult`, per head (`hook_result [batch, pos, head, dModel]`) and then summed.
 */
export function projectHeads(z: tf.Tensor4D, W_O: tf.Tensor2D, b_O: tf.Tensor1D | undefined, hookResult: HookPoint, ctx: RunContext): tf.Tensor {
  const [batch, pos, nHeads, dHead] = z.shape;
  if (ctx.wants(hookResult.name)) {
    const perHeadWeights = tf.reshape(W_O, [nHeads, dHead, -1]);
    const zByHead = tf.reshape(tf.transpose(z, [2, 0, 1, 3]), [nHeads, batch * pos, dHead]);
    const resultByHead = tf.matMul(zByHead, perHeadWeights);
    const result = ctx.apply(hookResult, tf.transpose(tf.reshape(resultByHead, [nHeads, batch, pos, -1]), [1, 2, 0, 3]));
    const summed = tf.sum(result, 2);
    return b_O ? tf.add(summed, b_O) : summed;
  }
  return linear(tf.reshape(z, [batch, pos, nHeads * dHead]), W_O, b_O);
}
