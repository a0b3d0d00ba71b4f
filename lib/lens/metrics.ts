/**
 * Language-model metrics on logits: per-token log-probabilities of the next token, the TransformerLens
 * loss (mean next-token cross-entropy over positions 0 … T−2), logit differences, and ready-made scalar
 * metrics for `patchScan` / `ablateScan` (functions `logits → number`).
 */
import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError, ShapeMismatchError } from '../errors.js';
import { readSync } from '../math/sync-read.js';

/** Token ids `[batch, pos]` as a tensor or nested arrays. */
export type TokenIds = tf.Tensor | readonly (readonly number[])[];

/** Token ids as an int32 tensor `[batch, pos]` (new tensor; caller disposes). */
export function tokensTensor(tokens: TokenIds): tf.Tensor2D {
  return tf.tidy(() => {
    const t = tokens instanceof tf.Tensor ? tf.cast(tokens, 'int32') : tf.tensor2d(tokens as number[][], undefined, 'int32');
    const t2 = t.rank === 1 ? tf.expandDims(t, 0) : t;
    if (t2.rank !== 2) throw new ShapeMismatchError('token ids', '[batch, pos]', t2.shape);
    return t2 as tf.Tensor2D;
  });
}

function checkLogits(logits: tf.Tensor, tokens: tf.Tensor): void {
  if (logits.rank !== 3) throw new ShapeMismatchError('logits', '[batch, pos, dVocab]', logits.shape);
  if (logits.shape[0] !== tokens.shape[0] || logits.shape[1] !== tokens.shape[1]) {
    throw new ShapeMismatchError('token ids for these logits', `[${logits.shape[0]}, ${logits.shape[1]}]`, tokens.shape);
  }
  if (logits.shape[1]! < 2) throw new InvalidArgumentError('next-token metrics need at least 2 positions');
}

/**
 * Per-token log-probabilities of the next token: `lp[b, t] = log_softmax(logits[b, t])[tokens[b, t+1]]`
 * for t = 0 … T−2.
 * @param logits `[batch, pos, dVocab]`. @param tokens `[batch, pos]`.
 * @returns `[batch, pos − 1]` (caller disposes).
 */
export function tokenLogProbs(logits: tf.Tensor, tokens: TokenIds): tf.Tensor2D {
  return tf.tidy(() => {
    const ids = tokensTensor(tokens);
    checkLogits(logits, ids);
    const [batch, pos, vocab] = logits.shape as [number, number, number];
    const logProbs = tf.logSoftmax(tf.slice(logits, [0, 0, 0], [batch, pos - 1, vocab]));
    const next = tf.slice(ids, [0, 1], [batch, pos - 1]);
    const mask = tf.oneHot(next, vocab);
    return tf.sum(tf.mul(logProbs, mask), 2) as tf.Tensor2D;
  });
}

/**
 * TransformerLens loss: mean next-token cross-entropy over every batch item and positions 0 … T−2.
 * @returns a scalar tensor (caller disposes). `perToken: true` gives `[batch, pos − 1]` instead.
 */
export function lmLoss(logits: tf.Tensor, tokens: TokenIds, opts: { perToken?: boolean } = {}): tf.Tensor {
  return tf.tidy(() => {
    const nll = tf.neg(tokenLogProbs(logits, tokens));
    return opts.perToken ? nll : tf.mean(nll);
  });
}

/**
 * Logit difference `logits[b, position, correct_b] − logits[b, position, incorrect_b]`, averaged over the batch.
 * @param correct one id for all items, or one per batch item. @param position default −1 (last).
 * @returns a scalar tensor (caller disposes).
 */
export function logitDiff(logits: tf.Tensor, correct: number | readonly number[], incorrect: number | readonly number[], opts: { position?: number } = {}): tf.Scalar {
  if (logits.rank !== 3) throw new ShapeMismatchError('logits', '[batch, pos, dVocab]', logits.shape);
  const [batch, pos, vocab] = logits.shape as [number, number, number];
  const p = opts.position ?? -1;
  const at = p < 0 ? pos + p : p;
  if (at < 0 || at >= pos) throw new InvalidArgumentError(`logitDiff: position ${p} is outside 0..${pos - 1}`);
  const perItem = (x: number | readonly number[], what: string): number[] => {
    const arr = typeof x === 'number' ? new Array<number>(batch).fill(x) : [...x];
    if (arr.length !== batch) throw new ShapeMismatchError(`logitDiff ${what} ids`, `[${batch}]`, [arr.length]);
    for (const id of arr) if (!Number.isInteger(id) || id < 0 || id >= vocab) throw new InvalidArgumentError(`logitDiff: ${what} id ${id} is outside 0..${vocab - 1}`);
    return arr;
  };
  const c = perItem(correct, 'correct');
  const w = perItem(incorrect, 'incorrect');
  return tf.tidy(() => {
    const last = tf.reshape(tf.slice(logits, [0, at, 0], [batch, 1, vocab]), [batch, vocab]);
    const sign = tf.sub(tf.oneHot(tf.tensor1d(c, 'int32'), vocab), tf.oneHot(tf.tensor1d(w, 'int32'), vocab));
    return tf.mean(tf.sum(tf.mul(last, sign), 1)) as tf.Scalar;
  });
}

/** Range of next-token indices t (log-prob of token t+1), `from` inclusive, `to` exclusive. */
export interface TokenRange {
  from?: number;
  to?: number;
}

function resolveRange(range: TokenRange, n: number): [number, number] {
  const from = range.from ?? 0;
  const to = range.to ?? n;
  if (!Number.isInteger(from) || !Number.isInteger(to) || from < 0 || to > n || from >= to) {
    throw new InvalidArgumentError(`token range [${from}, ${to}) is not inside [0, ${n})`);
  }
  return [from, to];
}

/** Mean next-token log-prob over t ∈ [from, to) as a scalar tensor (caller disposes). */
function meanLogProbTensor(logits: tf.Tensor, tokens: TokenIds, range: TokenRange): tf.Scalar {
  return tf.tidy(() => {
    const lp = tokenLogProbs(logits, tokens);
    const [from, to] = resolveRange(range, lp.shape[1]);
    return tf.mean(tf.slice(lp, [0, from], [-1, to - from])) as tf.Scalar;
  });
}

/** Top-1 next-token accuracy over t ∈ [from, to) as a scalar tensor (caller disposes). */
function nextTokenAccuracyTensor(logits: tf.Tensor, tokens: TokenIds, range: TokenRange): tf.Scalar {
  return tf.tidy(() => {
    const ids = tokensTensor(tokens);
    checkLogits(logits, ids);
    const [batch, pos] = ids.shape;
    const [from, to] = resolveRange(range, pos - 1);
    const pred = tf.argMax(tf.slice(logits, [0, from, 0], [batch, to - from, -1]), 2);
    const next = tf.slice(ids, [0, from + 1], [batch, to - from]);
    return tf.mean(tf.cast(tf.equal(pred, next), 'float32')) as tf.Scalar;
  });
}

/** Reads a scalar tensor asynchronously (every backend, webgpu in Node included) and disposes it. */
export async function readScalar(t: tf.Tensor): Promise<number> {
  try {
    return (await t.data())[0]!;
  } finally {
    t.dispose();
  }
}

/**
 * Mean next-token log-prob over t ∈ [from, to) and the batch (t indexes `tokenLogProbs`, 0 … T−2).
 * @returns a number (reads the device synchronously: not on webgpu in Node, use `meanLogProbAsync`).
 */
export function meanLogProb(logits: tf.Tensor, tokens: TokenIds, range: TokenRange = {}): number {
  return tf.tidy(() => readSync(meanLogProbTensor(logits, tokens, range), 'meanLogProb', 'use meanLogProbAsync')[0]!);
}

/** `meanLogProb` read asynchronously (works on every backend). */
export function meanLogProbAsync(logits: tf.Tensor, tokens: TokenIds, range: TokenRange = {}): Promise<number> {
  return readScalar(meanLogProbTensor(logits, tokens, range));
}

/**
 * Top-1 accuracy of the next token over t ∈ [from, to) and the batch: `argmax logits[b, t] == tokens[b, t+1]`
 * (argmax ties → lower id). Reads synchronously; `nextTokenAccuracyAsync` works on every backend.
 */
export function nextTokenAccuracy(logits: tf.Tensor, tokens: TokenIds, range: TokenRange = {}): number {
  return tf.tidy(() => readSync(nextTokenAccuracyTensor(logits, tokens, range), 'nextTokenAccuracy', 'use nextTokenAccuracyAsync')[0]!);
}

/** `nextTokenAccuracy` read asynchronously (works on every backend). */
export function nextTokenAccuracyAsync(logits: tf.Tensor, tokens: TokenIds, range: TokenRange = {}): Promise<number> {
  return readScalar(nextTokenAccuracyTensor(logits, tokens, range));
}

/** A metric for `patchScan`/`ablateScan`: mean next-token log-prob over t ∈ [from, to) (read asynchronously). */
export function meanLogProbMetric(tokens: TokenIds, range: TokenRange = {}): (logits: tf.Tensor) => Promise<number> {
  return (logits) => meanLogProbAsync(logits, tokens, range);
}

/** A metric for `patchScan`/`ablateScan`: mean logit difference at `position` (default last), read asynchronously. */
export function logitDiffMetric(correct: number | readonly number[], incorrect: number | readonly number[], opts: { position?: number } = {}): (logits: tf.Tensor) => Promise<number> {
  return (logits) => readScalar(logitDiff(logits, correct, incorrect, opts));
}
