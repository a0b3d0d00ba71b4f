/**
 * Attention-head analyses on repeated random tokens (docs/methods.md §12, the ARENA induction-head
 * protocol): the token batches, induction and previous-token scores, the TransformerLens head detector,
 * and per-half log-probs / accuracy of the repeated sequence.
 *
 * Every score is reduced inside a hook on each `attn.hook_pattern` (to `[H]` per layer), so attention
 * patterns are never cached all at once. Scores come back as a `HostArray` `[L, H]` (`HeadScores`:
 * `scores.data[l * H + h]`).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { HookFn } from '../nn/hook-point.js';
import { InvalidArgumentError, ShapeMismatchError } from '../errors.js';
import { createRng } from '../math/rng.js';
import { hostArray, type HostArray } from '../math/host-array.js';
import type { HookedLensModel } from './logit-lens.js';
import { meanLogProbAsync, nextTokenAccuracyAsync, tokensTensor, type TokenIds } from './metrics.js';

/** One score per head: `[L, H]` (`data[l * H + h]` is layer l, head h). */
export type HeadScores = HostArray<Float32Array, readonly [number, number]>;

/** Options of `repeatedRandomTokens`. */
export interface RepeatedTokensOptions {
  /** Length N of the random sequence (default 50). */
  nTokens?: number;
  /** Number of sequences (default 10). */
  batch?: number;
  /** Vocabulary size V: tokens are uniform on 0 … V−1. */
  vocab: number;
  /** BOS id prepended to every row (default V−1, GPT-2's 50256 for V = 50257); `null` for none. */
  bos?: number | null;
  /** Seed of the random tokens (default 0). */
  seed?: number;
}

/**
 * `[BOS, r_1 … r_N, r_1 … r_N]` per row, `r_i` uniform on [0, V) from a seeded generator.
 * @returns int32 `[batch, 2N+1]` (`[batch, 2N]` with `bos: null`). Caller disposes.
 */
export function repeatedRandomTokens(opts: RepeatedTokensOptions): tf.Tensor2D {
  const n = opts.nTokens ?? 50;
  const batch = opts.batch ?? 10;
  const bos = opts.bos === undefined ? opts.vocab - 1 : opts.bos;
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`repeatedRandomTokens: nTokens ${n} must be a positive integer`);
  if (!Number.isInteger(batch) || batch < 1) throw new InvalidArgumentError(`repeatedRandomTokens: batch ${batch} must be a positive integer`);
  if (!Number.isInteger(opts.vocab) || opts.vocab < 1) throw new InvalidArgumentError(`repeatedRandomTokens: vocab ${opts.vocab} must be a positive integer`);
  if (bos !== null && (!Number.isInteger(bos) || bos < 0 || bos >= opts.vocab)) throw new InvalidArgumentError(`repeatedRandomTokens: bos ${bos} is outside 0..${opts.vocab - 1}`);
  const rng = createRng(opts.seed ?? 0);
  const width = 2 * n + (bos === null ? 0 : 1);
  const data = new Int32Array(batch * width);
  for (let b = 0; b < batch; b++) {
    const row = data.subarray(b * width, (b + 1) * width);
    let o = 0;
    if (bos !== null) row[o++] = bos;
    for (let i = 0; i < n; i++) row[o + i] = rng.uniformInt(opts.vocab);
    row.copyWithin(o + n, o, o + n);
  }
  return tf.tensor2d(data, [batch, width], 'int32');
}

/** True for the self-attention pattern hooks of the lensed stack (not cross-attention). */
function patternHookFilter(model: { residPrefix: string }): (name: string) => boolean {
  const re = new RegExp(`^${model.residPrefix.replace(/\./g, '\\.')}blocks\\.(\\d+)\\.attn\\.hook_pattern$`);
  return (name) => re.test(name);
}

function layerOf(name: string): number {
  return Number(/blocks\.(\d+)\.attn\.hook_pattern$/.exec(name)![1]);
}

/**
 * Runs `input` once with a hook on every self-attention pattern that reduces it to a per-head `[H]`
 * vector with `reduce(pattern [batch, H, Tq, Tk]) → [H]` (called inside the forward's tidy).
 * @returns `[L, H]`.
 */
export async function reducePatterns<I>(model: HookedLensModel<I>, input: I, reduce: (pattern: tf.Tensor, layer: number) => tf.Tensor): Promise<HeadScores> {
  const perLayer = new Map<number, tf.Tensor>();
  const hook: HookFn = (pattern, info) => {
    const layer = layerOf(info.name);
    const r = tf.tidy(() => reduce(pattern, layer));
    perLayer.get(layer)?.dispose();
    perLayer.set(layer, tf.keep(r));
    return undefined;
  };
  try {
    const out = await model.runWithHooks(input, { fwdHooks: [[patternHookFilter(model), hook]] });
    out.dispose();
    if (perLayer.size !== model.nLayers) throw new InvalidArgumentError(`attention scores: saw ${perLayer.size} of ${model.nLayers} pattern hooks`);
    const rows: Float32Array[] = [];
    for (let l = 0; l < model.nLayers; l++) rows.push((await perLayer.get(l)!.data()) as Float32Array);
    const H = rows[0]!.length;
    const out2 = new Float32Array(model.nLayers * H);
    rows.forEach((r, l) => {
      if (r.length !== H) throw new ShapeMismatchError(`reducePatterns: layer ${l}'s reduction`, `[${H}] like layer 0's`, [r.length]);
      out2.set(r, l * H);
    });
    return hostArray(out2, [model.nLayers, H] as const);
  } finally {
    for (const t of perLayer.values()) t.dispose();
  }
}

/** Host copy of token ids `[batch, pos]`. */
async function hostTokens(tokens: TokenIds): Promise<{ data: Int32Array; batch: number; pos: number }> {
  const t = tokensTensor(tokens);
  try {
    const [batch, pos] = t.shape;
    return { data: (await t.data()) as Int32Array, batch, pos };
  } finally {
    t.dispose();
  }
}

/** `[T, T]` 0/1 mask with ones at (q, q + offset) for q in [qFrom, qTo]. */
function diagonalMask(T: number, offset: number, qFrom: number, qTo: number): Float32Array {
  const m = new Float32Array(T * T);
  for (let q = Math.max(qFrom, 0); q <= Math.min(qTo, T - 1); q++) {
    const k = q + offset;
    if (k >= 0 && k < T) m[q * T + k] = 1;
  }
  return m;
}

/** Mean over the batch and the entries of `mask` of `pattern ⊙ mask` → `[H]`. */
function maskedMean(pattern: tf.Tensor, mask: tf.Tensor, count: number): tf.Tensor {
  return tf.div(tf.sum(tf.mul(pattern, mask), [0, 2, 3]), pattern.shape[0]! * count);
}

/**
 * Number of repeated tokens N of a `[batch, 2N+1]` repeated-token batch (BOS first).
 */
function repeatLength(pos: number, nTokens?: number): number {
  const n = nTokens ?? (pos - 1) / 2;
  if (!Number.isInteger(n) || n < 1 || 2 * n + 1 > pos) throw new InvalidArgumentError(`a repeated-token batch has 2N+1 positions (BOS first); got ${pos}`, 'pass nTokens for other layouts');
  return n;
}

/**
 * Induction score of every head: the mean over the batch and over the pattern diagonal with offset 1−N
 * (query q attends to key q−N+1) for q = N−1 … 2N (N+2 entries; `strict`: q = N+1 … 2N, N entries).
 * @param tokens `[batch, 2N+1]` repeated random tokens (`repeatedRandomTokens`).
 * @returns `[L, H]`.
 */
export async function inductionScores<I>(model: HookedLensModel<I>, tokens: TokenIds & I, opts: { strict?: boolean; nTokens?: number } = {}): Promise<HeadScores> {
  const t = tokens instanceof tf.Tensor ? tokens.shape : [(tokens as readonly (readonly number[])[]).length, (tokens as readonly (readonly number[])[])[0]!.length];
  const T = t[t.length - 1]!;
  const n = repeatLength(T, opts.nTokens);
  const qFrom = opts.strict ? n + 1 : n - 1;
  const maskData = diagonalMask(T, 1 - n, qFrom, 2 * n);
  const count = maskData.reduce((s, v) => s + v, 0);
  const mask = tf.tensor(maskData, [1, 1, T, T]);
  try {
    return await reducePatterns(model, tokens, (p) => maskedMean(p, mask, count));
  } finally {
    mask.dispose();
  }
}

/**
 * Previous-token score of every head: mean over the batch and q = 1 … T−1 of `pattern[q, q−1]`.
 * @returns `[L, H]`.
 */
export async function previousTokenScores<I>(model: HookedLensModel<I>, tokens: I): Promise<HeadScores> {
  return reducePatterns(model, tokens, (p) => {
    const T = p.shape[2]!;
    const mask = tf.tensor(diagonalMask(T, -1, 1, T - 1), [1, 1, T, T]);
    return maskedMean(p, mask, T - 1);
  });
}

/** Options of `headDetector` (TransformerLens `detect_head`). */
export interface HeadDetectorOptions {
  /** Detection pattern: a built-in one, or your own `[T, T]` / `[batch, T, T]` 0/1 tensor. */
  pattern: 'previous' | 'duplicate' | 'induction' | tf.Tensor;
  /** `'mul'` (default): Σ(P ⊙ D)/ΣP; `'abs'`: 1 − round(mean|P − D|·T, 3). */
  mode?: 'mul' | 'abs';
  /** mul mode: zero the attention to position 0 first. */
  excludeBos?: boolean;
  /** mul mode: zero the diagonal (attention to the current token) first. */
  excludeCurrent?: boolean;
}

/**
 * TransformerLens detection patterns for one sequence, `[T, T]` (query rows):
 * previous — ones at (q, q−1); duplicate — ones where token_k == token_q, k < q; induction — the
 * duplicate pattern shifted one key to the right (column 0 zero), lower-triangular.
 */
export function detectionPattern(kind: 'previous' | 'duplicate' | 'induction', tokens: ArrayLike<number>): HostArray<Float32Array, readonly [number, number]> {
  const T = tokens.length;
  const out = new Float32Array(T * T);
  for (let q = 0; q < T; q++) {
    for (let k = 0; k <= q; k++) {
      let v = 0;
      if (kind === 'previous') v = k === q - 1 ? 1 : 0;
      else if (kind === 'duplicate') v = k < q && tokens[k] === tokens[q] ? 1 : 0;
      else v = k >= 1 && k - 1 < q && tokens[k - 1] === tokens[q] ? 1 : 0;
      out[q * T + k] = v;
    }
  }
  return hostArray(out, [T, T] as const);
}

/**
 * TransformerLens head detector on every head: per sequence, score = Σ(P ⊙ D)/ΣP ('mul', after the
 * optional exclusions) or 1 − round(mean|P − D|·T, 3) ('abs', no exclusions, as TL), then averaged over
 * the batch.
 * @param tokens `[batch, T]` token ids (the detection pattern of each row is built from its tokens).
 * @returns `[L, H]`.
 */
export async function headDetector<I>(model: HookedLensModel<I>, tokens: TokenIds & I, opts: HeadDetectorOptions): Promise<HeadScores> {
  const mode = opts.mode ?? 'mul';
  if (mode !== 'mul' && mode !== 'abs') throw new InvalidArgumentError(`headDetector: mode '${String(mode)}' is not 'mul' or 'abs'`);
  const host = await hostTokens(tokens);
  const { batch, pos: T } = host;
  let D: tf.Tensor;
  if (opts.pattern instanceof tf.Tensor) {
    const p = opts.pattern;
    if (!(p.rank === 2 && p.shape[0] === T && p.shape[1] === T) && !(p.rank === 3 && p.shape[0] === batch && p.shape[1] === T && p.shape[2] === T)) {
      throw new ShapeMismatchError('head detector pattern', `[${T}, ${T}] or [${batch}, ${T}, ${T}]`, p.shape);
    }
    D = tf.tidy(() => tf.reshape(tf.cast(p, 'float32'), [p.rank === 2 ? 1 : batch, 1, T, T]));
  } else {
    if (!['previous', 'duplicate', 'induction'].includes(opts.pattern)) throw new InvalidArgumentError(`headDetector: unknown pattern '${opts.pattern}'`, "use 'previous', 'duplicate', 'induction' or a [T, T] tensor");
    const data = new Float32Array(batch * T * T);
    for (let b = 0; b < batch; b++) data.set(detectionPattern(opts.pattern, host.data.subarray(b * T, (b + 1) * T)).data, b * T * T);
    D = tf.tensor(data, [batch, 1, T, T]);
  }
  try {
    if (mode === 'mul') {
      return await reducePatterns(model, tokens, (p) => {
        let P = p;
        if (opts.excludeBos) P = tf.mul(P, tf.reshape(tf.concat([tf.zeros([1]), tf.ones([T - 1])]), [1, 1, 1, T]));
        if (opts.excludeCurrent) P = tf.mul(P, tf.sub(1, tf.reshape(tf.eye(T), [1, 1, T, T])));
        const perSeq = tf.div(tf.sum(tf.mul(P, D), [2, 3]), tf.sum(P, [2, 3])); // [batch, H]
        return tf.mean(perSeq, 0);
      });
    }
    // abs: round per sequence on the host (TL rounds each sequence's score to 3 decimals).
    const meanAbs = (await reducePatterns(model, tokens, (p) => tf.reshape(tf.transpose(tf.mean(tf.abs(tf.sub(p, D)), [2, 3])), [-1]))).data; // [L, H·batch]
    const H = meanAbs.length / (model.nLayers * batch);
    const out = new Float32Array(model.nLayers * H);
    for (let l = 0; l < model.nLayers; l++) {
      for (let h = 0; h < H; h++) {
        let s = 0;
        for (let b = 0; b < batch; b++) s += 1 - Math.round(meanAbs[(l * H + h) * batch + b]! * T * 1000) / 1000;
        out[l * H + h] = s / batch;
      }
    }
    return hostArray(out, [model.nLayers, H] as const);
  } finally {
    D.dispose();
  }
}

/** Mean log-prob and top-1 accuracy of each half of a repeated-token batch. */
export interface RepeatedSequenceStats {
  /** Mean of lp_0 … lp_{N−1} (lp_t = log p(token_{t+1})). */
  logProbFirstHalf: number;
  /** Mean of lp_N … lp_{2N−1} (the first term, t = N, is not predictable). */
  logProbSecondHalf: number;
  /** Top-1 accuracy over t = 0 … N−1. */
  accFirstHalf: number;
  /** Top-1 accuracy over t = N … 2N−1. */
  accSecondHalf: number;
}

/**
 * Per-half log-probs and accuracy of `[BOS, r_1..r_N, r_1..r_N]` (docs/methods.md §12), averaged over the batch.
 * @param tokens `[batch, 2N+1]`.
 */
export async function repeatedSequenceStats<I>(model: HookedLensModel<I>, tokens: TokenIds & I, opts: { nTokens?: number } = {}): Promise<RepeatedSequenceStats> {
  const logits = await model.forward(tokens);
  try {
    const T = logits.shape[1]!;
    const n = repeatLength(T, opts.nTokens);
    return {
      logProbFirstHalf: await meanLogProbAsync(logits, tokens, { from: 0, to: n }),
      logProbSecondHalf: await meanLogProbAsync(logits, tokens, { from: n, to: 2 * n }),
      accFirstHalf: await nextTokenAccuracyAsync(logits, tokens, { from: 0, to: n }),
      accSecondHalf: await nextTokenAccuracyAsync(logits, tokens, { from: n, to: 2 * n }),
    };
  } finally {
    logits.dispose();
  }
}
