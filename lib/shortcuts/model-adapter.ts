/**
 * What the mat pipeline needs from a model, for GPT-2 and the Llama family (`CausalLmRoot`, causal, prefixes x_0 … x_t) and
 * BERT (`HookedBert`, bidirectional, the whole sentence with x_t replaced by [MASK], docs/methods.md §10):
 * building right-padded batches, and the embedding h_0 with the attention mask of the batch
 * (`model.embed(input)`; the blocks then run with `model.runBlocks`).
 *
 * Right padding with an attention mask is exact for both: position ids are `cumsum(mask) − 1`, so real
 * tokens keep positions 0 … n−1, and padded keys are masked out (GPT-2 additionally causal).
 */
import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError, ShapeMismatchError } from '../errors.js';
import { HookedBert } from '../nn/bert.js';
import { CausalLmRoot } from '../nn/causal-lm.js';
import type { BlockInputs } from '../nn/hooked-root.js';
import { padSequences } from '../nn/token-input.js';

/** Models the mat pipeline runs on. */
export type MatModel = CausalLmRoot | HookedBert;

/** Default [MASK] id of the BERT variant (bert-base-uncased). */
export const BERT_MASK_TOKEN_ID = 103;

/** Sizes of a model. */
export interface MatModelInfo {
  kind: 'gpt2' | 'bert';
  nLayers: number;
  dModel: number;
  dVocab: number;
  nCtx: number;
}

/** Kind and sizes of a model; throws for models the pipeline does not support. */
export function matModelInfo(model: MatModel): MatModelInfo {
  if (model instanceof CausalLmRoot) return { kind: 'gpt2', nLayers: model.cfg.nLayers, dModel: model.cfg.dModel, dVocab: model.cfg.dVocab, nCtx: model.cfg.nCtx };
  if (model instanceof HookedBert) return { kind: 'bert', nLayers: model.cfg.nLayers, dModel: model.cfg.dModel, dVocab: model.cfg.dVocab, nCtx: model.cfg.nCtx };
  throw new InvalidArgumentError(`the mat pipeline runs on decoder language models (HookedGPT2, HookedLlama) and HookedBert, got ${String((model as object)?.constructor?.name)}`);
}

/** Token-level options of a batch. */
export interface BatchOptions {
  /** BERT: id written at the sampled position (default 103, bert-base-uncased [MASK]). */
  maskTokenId?: number;
}

/** One right-padded batch: ids, mask and the row's sampled position. */
export interface PaddedBatch {
  /** Sample indices (into the sentence list) of the rows. */
  indices: Int32Array;
  /** `[B, T]` ids, right-padded. */
  inputIds: number[][];
  /** `[B, T]` 1 = real token, 0 = padding. */
  attentionMask: number[][];
  /** `[B]` sampled position t of each row. */
  positions: Int32Array;
}

/** Number of tokens the model reads for a sample: t+1 (GPT-2 prefix) or n (BERT, whole sentence). */
export function inputLength(info: MatModelInfo, sentence: ArrayLike<number>, t: number): number {
  return info.kind === 'gpt2' ? t + 1 : sentence.length;
}

/** Checks positions against sentence lengths and the context size. */
export function checkSamples(info: MatModelInfo, sentences: readonly ArrayLike<number>[], positions: ArrayLike<number>, opts: BatchOptions = {}): void {
  if (sentences.length !== positions.length) throw new ShapeMismatchError('mat pipeline: positions', `[${sentences.length}] (one per sentence)`, [positions.length]);
  for (let s = 0; s < sentences.length; s++) {
    const n = sentences[s]!.length;
    const t = positions[s]!;
    if (!Number.isInteger(t) || t < 0 || t >= n) throw new InvalidArgumentError(`mat pipeline: position ${t} of sentence ${s} is outside 0..${n - 1}`);
    const len = inputLength(info, sentences[s]!, t);
    if (len > info.nCtx) throw new ShapeMismatchError(`mat pipeline: sentence ${s}`, `at most ${info.nCtx} tokens read (the model's n_ctx); truncate sentences when tokenising`, `${len} tokens`);
  }
  if (info.kind === 'bert') {
    const mask = opts.maskTokenId ?? BERT_MASK_TOKEN_ID;
    if (!Number.isInteger(mask) || mask < 0 || mask >= info.dVocab) throw new InvalidArgumentError(`mat pipeline: maskTokenId ${mask} is outside the vocabulary [0, ${info.dVocab})`);
  }
}

/**
 * Splits samples into batches of at most `batchSize`; with `sortByLength` the samples are ordered by the
 * number of tokens the model reads (stable), so each batch pads little.
 */
export function batchGroups(info: MatModelInfo, sentences: readonly ArrayLike<number>[], positions: ArrayLike<number>, batchSize: number, sortByLength = true): Int32Array[] {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new InvalidArgumentError(`mat pipeline: batchSize must be a positive integer, got ${batchSize}`);
  const order = Array.from({ length: sentences.length }, (_, s) => s);
  if (sortByLength) {
    const len = order.map((s) => inputLength(info, sentences[s]!, positions[s]!));
    order.sort((a, b) => len[a]! - len[b]! || a - b);
  }
  const groups: Int32Array[] = [];
  for (let start = 0; start < order.length; start += batchSize) groups.push(Int32Array.from(order.slice(start, start + batchSize)));
  return groups;
}

/** Builds the right-padded batch of the given samples. */
export function buildBatch(model: MatModel, info: MatModelInfo, sentences: readonly ArrayLike<number>[], positions: ArrayLike<number>, indices: Int32Array, opts: BatchOptions = {}): PaddedBatch {
  // Padded positions are masked out; any id inside the vocabulary will do.
  const padId = model instanceof HookedBert ? model.cfg.padTokenId : 0;
  const rows: number[][] = [];
  const rowPositions = new Int32Array(indices.length);
  for (let r = 0; r < indices.length; r++) {
    const s = indices[r]!;
    const sentence = sentences[s]!;
    const t = positions[s]!;
    rowPositions[r] = t;
    const ids = Array.from({ length: inputLength(info, sentence, t) }, (_, k) => sentence[k]!);
    if (info.kind === 'bert') ids[t] = opts.maskTokenId ?? BERT_MASK_TOKEN_ID;
    rows.push(ids);
  }
  const { ids, mask } = padSequences(rows, { side: 'right', padId, alwaysMask: true });
  return { indices, inputIds: ids, attentionMask: mask!, positions: rowPositions };
}

/** Device tensors of a batch: h_0 at every position, the blocks' inputs, gather indices. */
export interface DeviceBatch {
  /** `[B, T, dModel]` embedding output h_0 (BERT: after the embedding LayerNorm). */
  h0: tf.Tensor;
  /** What the blocks read besides h: the batch's attention mask (causal + padding for GPT-2, padding for BERT). */
  inputs: BlockInputs;
  /** `[B, 2]` int32 rows (b, t_b) for `tf.gatherND`. */
  gatherIndices: tf.Tensor2D;
  /** Frees the tensors. */
  dispose(): void;
}

/** Runs the model's embedding of a batch (`model.embed`): h_0 and the blocks' attention mask. */
export async function deviceBatch(model: MatModel, batch: PaddedBatch): Promise<DeviceBatch> {
  const inputIds = tf.tensor2d(batch.inputIds, undefined, 'int32');
  const attentionMask = tf.tensor2d(batch.attentionMask, undefined, 'int32');
  try {
    const embedded = await model.embed({ inputIds, attentionMask });
    const gatherIndices = tf.tensor2d(Array.from(batch.positions, (t, r) => [r, t]), [batch.positions.length, 2], 'int32');
    return {
      h0: embedded.resid,
      inputs: embedded.inputs,
      gatherIndices,
      dispose: () => {
        embedded.dispose();
        gatherIndices.dispose();
      },
    };
  } finally {
    tf.dispose([inputIds, attentionMask]);
  }
}
