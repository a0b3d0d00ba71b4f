/**
 * The explorer's attention view: one head's pattern on a prompt (cached `blocks.{l}.attn.hook_pattern`),
 * and the head-score tables of the repeated-random-token probe (docs/methods.md §12): induction and
 * previous-token scores (`inductionScores`, `previousTokenScores`), TransformerLens's head detector
 * (`headDetector`: previous / duplicate / induction) and the per-half log-prob and accuracy
 * (`repeatedSequenceStats`).
 */
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { headDetector, inductionScores, previousTokenScores, repeatedRandomTokens, repeatedSequenceStats, type HeadScores, type RepeatedSequenceStats } from '../lens/attention.js';
import { InvalidArgumentError } from '../errors.js';
import type { JobContext } from './jobs.js';
import { parseRequest, promptTokens, tokenStrings, type ExploreModel } from './context.js';

/** Body of `POST /api/attention/pattern`: a prompt (`text`) or token ids (`ids`), and the head. */
export const PatternRequest = z.strictObject({
  text: z.string().max(4000).optional(),
  ids: z.array(z.int().min(0)).min(1).max(4096).optional(),
  layer: z.int().min(0),
  head: z.int().min(0),
});

/** Reply of `POST /api/attention/pattern`. */
export interface PatternReply {
  tokens: string[];
  ids: number[];
  layer: number;
  head: number;
  /** `pattern[q][k]`: attention of query position q to key position k (rows sum to 1, causal). */
  pattern: number[][];
}

/** The attention pattern of one head on a prompt. */
export function attentionPattern(m: ExploreModel, body: unknown): (job: JobContext) => Promise<PatternReply> {
  const req = parseRequest(PatternRequest, body);
  const { nLayers, nHeads, dVocab, nCtx } = m.model.cfg;
  if (req.layer >= nLayers) throw new InvalidArgumentError(`layer ${req.layer} is outside 0 … ${nLayers - 1}`);
  if (req.head >= nHeads) throw new InvalidArgumentError(`head ${req.head} is outside 0 … ${nHeads - 1}`);
  if ((req.text === undefined) === (req.ids === undefined)) throw new InvalidArgumentError('send either text or ids');
  const ids = req.ids ?? promptTokens(m, req.text!);
  if (ids.length > nCtx) throw new InvalidArgumentError(`${ids.length} ids, more than the model's n_ctx ${nCtx}`);
  const bad = ids.find((id) => id >= dVocab);
  if (bad !== undefined) throw new InvalidArgumentError(`token id ${bad} is outside the vocabulary (${dVocab})`);
  return async (job) => {
    await job.step('pattern', 0, 1);
    const name = `blocks.${req.layer}.attn.hook_pattern`;
    const { output, cache } = await m.model.runWithCache([ids], { namesFilter: [name] });
    let head: tf.Tensor | undefined;
    try {
      head = tf.tidy(() => tf.reshape(tf.slice(cache.get(name), [0, req.head, 0, 0], [1, 1, -1, -1]), [ids.length, ids.length]));
      const flat = (await head.data()) as Float32Array;
      const T = ids.length;
      const pattern = Array.from({ length: T }, (_, q) => Array.from(flat.subarray(q * T, (q + 1) * T)));
      await job.step('pattern', 1, 1);
      return { tokens: tokenStrings(m, ids), ids, layer: req.layer, head: req.head, pattern };
    } finally {
      tf.dispose([output, ...(head ? [head] : [])]);
      cache.dispose();
    }
  };
}

/** Body of `POST /api/attention/heads`. */
export const HeadScoresRequest = z.strictObject({
  nTokens: z.int().min(2).optional(),
  batch: z.int().min(1).max(64).default(10),
  seed: z.int().min(0).max(2 ** 31 - 1).default(0),
});

/** Score kinds of the head tables, in display order. */
export const HEAD_SCORES = ['induction', 'previousToken', 'detectorPrevious', 'detectorDuplicate', 'detectorInduction'] as const;

/** Reply of `POST /api/attention/heads`. */
export interface HeadScoresReply {
  nLayers: number;
  nHeads: number;
  nTokens: number;
  batch: number;
  seed: number;
  bos: number;
  /** `scores[kind][layer][head]`. */
  scores: Record<(typeof HEAD_SCORES)[number], number[][]>;
  repeated: RepeatedSequenceStats;
  /** The first sequence of the batch (`[BOS, r_1 … r_N, r_1 … r_N]`), to look at a head's pattern on it. */
  firstSequence: number[];
}

/**
 * Length N of the repeated random sequences of the head scores: `requested`, or 50 where BOS + 2×50 fits
 * `nCtx`, else the most that fits. Throws when BOS + 2N tokens exceed `nCtx` (`name` names the option).
 */
export function repeatedTokensLength(nCtx: number, requested: number | undefined, name: string): number {
  const fits = Math.floor((nCtx - 1) / 2);
  const nTokens = requested ?? Math.min(50, fits);
  if (nTokens > fits) throw new InvalidArgumentError(`${name} ${nTokens}: BOS + 2×${nTokens} tokens exceed the model's n_ctx ${nCtx}`, `use ${fits} or less`);
  return nTokens;
}

/** Head scores of every head on repeated random tokens. */
export function headScores(m: ExploreModel, body: unknown): (job: JobContext) => Promise<HeadScoresReply> {
  const req = parseRequest(HeadScoresRequest, body);
  const { nLayers: L, nHeads: H, nCtx, dVocab } = m.model.cfg;
  const nTokens = repeatedTokensLength(nCtx, req.nTokens, 'nTokens');
  const bos = m.model.cfg.bosTokenId !== undefined && m.model.cfg.bosTokenId < dVocab ? m.model.cfg.bosTokenId : dVocab - 1;
  return async (job) => {
    const tokens = repeatedRandomTokens({ nTokens, batch: req.batch, vocab: dVocab, bos, seed: req.seed });
    const total = HEAD_SCORES.length + 1;
    try {
      const grid = (scores: HeadScores) => Array.from({ length: L }, (_, l) => Array.from(scores.data.subarray(l * H, (l + 1) * H)));
      const steps: [string, () => Promise<HeadScores>][] = [
        ['induction', () => inductionScores(m.model, tokens)],
        ['previousToken', () => previousTokenScores(m.model, tokens)],
        ['detectorPrevious', () => headDetector(m.model, tokens, { pattern: 'previous' })],
        ['detectorDuplicate', () => headDetector(m.model, tokens, { pattern: 'duplicate' })],
        ['detectorInduction', () => headDetector(m.model, tokens, { pattern: 'induction' })],
      ];
      const scores = {} as HeadScoresReply['scores'];
      for (const [i, [kind, run]] of steps.entries()) {
        await job.step(kind, i, total);
        scores[kind as keyof HeadScoresReply['scores']] = grid(await run());
      }
      await job.step('repeated', total - 1, total);
      const repeated = await repeatedSequenceStats(m.model, tokens);
      const first = tf.slice(tokens, [0, 0], [1, -1]);
      const firstSequence = Array.from((await first.data()) as Int32Array);
      first.dispose();
      await job.step('done', total, total);
      return { nLayers: L, nHeads: H, nTokens, batch: req.batch, seed: req.seed, bos, scores, repeated, firstSequence };
    } finally {
      tokens.dispose();
    }
  };
}
