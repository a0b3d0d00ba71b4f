/**
 * Token inputs of language models: int32 tensors, nested arrays, text (tokenised), or explicit
 * `{ inputIds, attentionMask }`. Batches of different lengths are left-padded with an attention mask
 * (1 = real token, 0 = padding); nothing is ever silently truncated.
 */
import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError, ShapeMismatchError } from '../errors.js';
import { checkAttentionMask, checkIntegerTensorDtype, checkTokenIds, describeValue } from './input-checks.js';
import { readSync } from '../math/sync-read.js';

/** The minimal tokenizer a model needs for text input. */
export interface TextEncoder {
  encode(text: string): number[];
}

/** What users may pass as token input. */
export type TokenInput =
  | tf.Tensor
  | readonly number[]
  | readonly (readonly number[])[]
  | string
  | readonly string[]
  | { inputIds: tf.Tensor | readonly (readonly number[])[]; attentionMask?: tf.Tensor | readonly (readonly number[])[] };

/** Token ids `[batch, pos]` int32 and an optional attention mask `[batch, pos]` (1 real, 0 pad). */
export interface PreparedTokens {
  inputIds: tf.Tensor2D;
  attentionMask?: tf.Tensor2D;
  /** Tensors created here (freed after the run); user tensors are never disposed. */
  owned: tf.Tensor[];
}

/** Options of `prepareTokens`. */
export interface TokenInputOptions {
  vocabSize: number;
  maxPositions: number;
  tokenizer?: TextEncoder;
  /** Prepend this id to every text (TransformerLens prepends BOS; HF and tfjs-lens default: no). */
  prependBos?: number;
  /** Id written at padded positions (masked out anyway). */
  padId?: number;
}

/** Options of `padSequences`. */
export interface PadOptions {
  /** `'left'` (default; causal language models, as TransformerLens) or `'right'` (BERT, the mat pipeline). */
  side?: 'left' | 'right';
  /** Id written at padded positions (masked out anyway). Default 0. */
  padId?: number;
  /** Return the mask also when no sequence needed padding. Default false. */
  alwaysMask?: boolean;
}

/**
 * Pads sequences of ids into `[batch, maxLen]` with an attention mask (1 = real token, 0 = padding); the
 * mask is omitted when all sequences have the same length (unless `alwaysMask`).
 */
export function padSequences(seqs: readonly (readonly number[])[], opts: PadOptions = {}): { ids: number[][]; mask?: number[][] } {
  const maxLen = Math.max(...seqs.map((s) => s.length));
  const same = seqs.every((s) => s.length === maxLen);
  if (same && !opts.alwaysMask) return { ids: seqs.map((s) => [...s]) };
  const fill = (n: number, v: number): number[] => new Array<number>(n).fill(v);
  const left = (opts.side ?? 'left') === 'left';
  const padId = opts.padId ?? 0;
  return {
    ids: seqs.map((s) => (left ? [...fill(maxLen - s.length, padId), ...s] : [...s, ...fill(maxLen - s.length, padId)])),
    mask: seqs.map((s) => (left ? [...fill(maxLen - s.length, 0), ...fill(s.length, 1)] : [...fill(s.length, 1), ...fill(maxLen - s.length, 0)])),
  };
}

/** Left-pads sequences of ids into `[batch, maxLen]` with a mask; the mask is omitted when all are equal. */
export function leftPad(seqs: readonly (readonly number[])[], padId = 0): { ids: number[][]; mask?: number[][] } {
  return padSequences(seqs, { side: 'left', padId });
}

/** Turns any `TokenInput` into int32 ids `[batch, pos]` (+ mask), validating ids and length. */
export function prepareTokens(input: TokenInput, opts: TokenInputOptions): PreparedTokens {
  return prepareWith(input, opts, (t) => readSync(t, 'prepareTokens: a tensor input', 'use prepareTokensAsync'));
}

/**
 * `prepareTokens` that reads tensor inputs (ids, attention mask) from the device asynchronously before
 * checking them: the webgpu backend in Node cannot read synchronously (its `dataSync` needs a browser
 * `OffscreenCanvas`), so the hooked models' forward path uses this one.
 */
export async function prepareTokensAsync(input: TokenInput, opts: TokenInputOptions): Promise<PreparedTokens> {
  const host = new Map<tf.Tensor, ArrayLike<number>>();
  const tensors = input instanceof tf.Tensor ? [input] : typeof input === 'object' && input !== null && !Array.isArray(input) && 'inputIds' in input ? [(input as { inputIds: unknown }).inputIds, (input as { attentionMask?: unknown }).attentionMask] : [];
  for (const t of tensors) if (t instanceof tf.Tensor && !t.isDisposed && (t.dtype === 'int32' || t.dtype === 'float32' || t.dtype === 'bool')) host.set(t, (await t.data()) as ArrayLike<number>);
  return prepareWith(input, opts, (t) => host.get(t) ?? readSync(t, 'prepareTokensAsync: a tensor input'));
}

/** Host values of a tensor input (read before the checks; synchronously or from an earlier async read). */
type ReadHost = (t: tf.Tensor) => ArrayLike<number>;

function prepareWith(input: TokenInput, opts: TokenInputOptions, read: ReadHost): PreparedTokens {
  const owned: tf.Tensor[] = [];
  try {
    return buildTokens(input, opts, owned, read);
  } catch (err) {
    for (const t of owned) t.dispose();
    throw err;
  }
}

function buildTokens(input: TokenInput, opts: TokenInputOptions, owned: tf.Tensor[], read: ReadHost): PreparedTokens {
  let ids: tf.Tensor;
  let mask: tf.Tensor | undefined;
  if (typeof input === 'string' || (Array.isArray(input) && input.length > 0 && typeof input[0] === 'string')) {
    const texts = typeof input === 'string' ? [input] : (input as readonly unknown[]);
    const notText = texts.findIndex((t) => typeof t !== 'string');
    if (notText >= 0) throw new InvalidArgumentError(`text input [${notText}] is ${describeValue(texts[notText])}; a batch of texts holds only strings`);
    if (!opts.tokenizer) throw new InvalidArgumentError('text input needs a tokenizer, and this model has none', 'pass token ids, or load a checkpoint directory with tokenizer.json / vocab.json + merges.txt');
    const seqs = (texts as string[]).map((t) => [...(opts.prependBos !== undefined ? [opts.prependBos] : []), ...opts.tokenizer!.encode(t)]);
    if (seqs.some((s) => s.length === 0)) throw new InvalidArgumentError('an input text tokenised to zero tokens');
    const padded = leftPad(seqs, opts.padId ?? 0);
    ids = tf.tensor2d(padded.ids, undefined, 'int32');
    owned.push(ids);
    if (padded.mask) owned.push((mask = tf.tensor2d(padded.mask, undefined, 'int32')));
  } else if (input instanceof tf.Tensor) {
    ids = input;
  } else if (Array.isArray(input)) {
    ids = idTensor(input, opts, owned);
  } else if (typeof input === 'object' && input !== null && 'inputIds' in input) {
    const obj = input as { inputIds: unknown; attentionMask?: unknown };
    ids = obj.inputIds instanceof tf.Tensor ? obj.inputIds : idTensor(obj.inputIds, opts, owned);
    if (obj.attentionMask instanceof tf.Tensor) mask = obj.attentionMask;
    else if (obj.attentionMask !== undefined) {
      const rows = nestedRows(obj.attentionMask, 'attentionMask');
      checkAttentionMask({ rows });
      owned.push((mask = tf.tensor2d(rows as number[][], undefined, 'int32')));
    }
  } else {
    throw new InvalidArgumentError(`token input must be text, ids ([pos] or [batch][pos] numbers), an int32 tensor or { inputIds, attentionMask? }, got ${describeValue(input)}`);
  }
  const idsSource = ids;
  if (ids.rank === 1) owned.push((ids = tf.expandDims(ids, 0)));
  if (ids.rank !== 2) throw new ShapeMismatchError('token ids', '[batch, pos]', ids.shape);
  const [, pos] = ids.shape as [number, number];
  if (pos === 0) throw new ShapeMismatchError('token ids', '[batch, pos] with pos ≥ 1', ids.shape);
  if (pos > opts.maxPositions) {
    throw new ShapeMismatchError('token ids', `at most ${opts.maxPositions} positions (the model's n_ctx); split the text — nothing is truncated silently`, ids.shape);
  }
  // checked before the cast: int32 conversion would turn 1.5 into 1 and NaN into 0
  checkIntegerTensorDtype(ids, 'token ids');
  checkTokenIds({ flat: read(idsSource), cols: pos }, opts.vocabSize);
  if (ids.dtype !== 'int32') owned.push((ids = tf.cast(ids, 'int32')));
  if (mask) {
    if (!tf.util.arraysEqual(mask.shape, ids.shape)) throw new ShapeMismatchError('attention mask', `[${ids.shape.join(',')}] like the ids`, mask.shape);
    checkIntegerTensorDtype(mask, 'attention mask');
    checkAttentionMask({ flat: read(mask), cols: pos });
    if (mask.dtype !== 'int32') owned.push((mask = tf.cast(mask, 'int32')));
  }
  return { inputIds: ids as tf.Tensor2D, attentionMask: mask as tf.Tensor2D | undefined, owned };
}

/**
 * Position ids `[batch, pos]`: 0..pos−1, or with a left-padding mask `cumsum(mask) − 1` clipped at 0
 * (so every sequence's first real token gets position 0, as Hugging Face does).
 */
export function positionIds(batch: number, pos: number, attentionMask?: tf.Tensor2D): tf.Tensor2D {
  if (!attentionMask) return tf.broadcastTo(tf.range(0, pos, 1, 'int32'), [batch, pos]) as tf.Tensor2D;
  return tf.maximum(tf.sub(tf.cumsum(attentionMask, 1), tf.scalar(1, 'int32')), tf.scalar(0, 'int32')) as tf.Tensor2D;
}

/** `[pos]` or `[batch][pos]` JS arrays as rows of equal length (values not yet checked). */
function nestedRows(input: unknown, what: string): readonly unknown[][] {
  if (!Array.isArray(input)) throw new InvalidArgumentError(`${what} must be an array or a tensor, got ${describeValue(input)}`);
  const rows = (input.length && Array.isArray(input[0]) ? input : [input]) as unknown[][];
  const lengths = new Set(rows.map((r) => (Array.isArray(r) ? r.length : -1)));
  if (lengths.has(-1)) throw new InvalidArgumentError(`${what} mixes rows and single values; pass [pos] or [batch][pos] numbers`);
  if (lengths.size !== 1) throw new ShapeMismatchError(`${what} rows`, 'equal lengths (pad them and pass { inputIds, attentionMask })', [...lengths].join('/'));
  return rows;
}

/** Token ids from JS arrays: every value checked as given, then an int32 tensor `[batch, pos]` (owned). */
function idTensor(input: unknown, opts: TokenInputOptions, owned: tf.Tensor[]): tf.Tensor {
  const rows = nestedRows(input, 'token ids');
  checkTokenIds({ rows }, opts.vocabSize);
  const ids = tf.tensor2d(rows as number[][], [rows.length, rows[0]!.length], 'int32');
  owned.push(ids);
  return ids;
}
