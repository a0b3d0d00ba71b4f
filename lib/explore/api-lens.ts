/**
 * The explorer's logit-lens view (docs/methods.md §0): the top-k tokens of every residual state h_0 … h_L at
 * every position (`topKPerLayer`), and the rank and probability of one chosen token across the layers
 * (`logitLens` on a cache of the residual states).
 */
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { topKPerLayer } from '../lens/topk.js';
import { logitLens, residNamesFilter } from '../lens/logit-lens.js';
import { InvalidArgumentError } from '../errors.js';
import type { JobContext } from './jobs.js';
import { parseRequest, promptTokens, tokenString, tokenStrings, type ExploreModel } from './context.js';

/** Body of `POST /api/lens`. */
export const LensRequest = z.strictObject({ text: z.string().max(4000), k: z.int().min(1).max(20).default(5) });

/** One entry of the grid. */
export interface LensEntry {
  id: number;
  token: string;
  prob: number;
}

/** Reply of `POST /api/lens`. */
export interface LensGrid {
  tokens: string[];
  ids: number[];
  /** Residual index ℓ of each row (0 = embedding … L = last block). */
  layers: number[];
  k: number;
  /** `top[row][pos]` = the k best tokens of h_{layers[row]} at `pos`, best first. */
  top: LensEntry[][][];
}

/** Runs the lens grid of a prompt. */
export function lensGrid(m: ExploreModel, body: unknown): (job: JobContext) => Promise<LensGrid> {
  const req = parseRequest(LensRequest, body);
  const ids = promptTokens(m, req.text);
  return async (job) => {
    await job.step('lens', 0, 1);
    const r = await topKPerLayer(m.model, [ids], { k: req.k, includeEmbedding: true });
    const [nRows, , T, k] = r.shape;
    const top = Array.from({ length: nRows }, (_, row) =>
      Array.from({ length: T }, (_, p) =>
        Array.from({ length: k }, (_, i) => {
          const at = (row * T + p) * k + i;
          return { id: r.ids[at]!, token: tokenString(m, r.ids[at]!), prob: r.probs[at]! };
        }),
      ),
    );
    await job.step('lens', 1, 1);
    return { tokens: tokenStrings(m, ids), ids, layers: r.layers, k, top };
  };
}

/** Body of `POST /api/lens/token`. */
export const TokenTraceRequest = z.strictObject({ text: z.string().max(4000), position: z.int().min(0), tokenId: z.int().min(0) });

/** Reply of `POST /api/lens/token`: per residual index ℓ, the token's rank (0 = top-1) and probability. */
export interface TokenTrace {
  tokenId: number;
  token: string;
  position: number;
  layers: number[];
  rank: number[];
  prob: number[];
}

/** Rank and probability of one token at one position across h_0 … h_L. */
export function tokenTrace(m: ExploreModel, body: unknown): (job: JobContext) => Promise<TokenTrace> {
  const req = parseRequest(TokenTraceRequest, body);
  const ids = promptTokens(m, req.text);
  if (req.position >= ids.length) throw new InvalidArgumentError(`position ${req.position} is outside the prompt's ${ids.length} tokens`);
  if (req.tokenId >= m.model.cfg.dVocab) throw new InvalidArgumentError(`tokenId ${req.tokenId} is outside the vocabulary (${m.model.cfg.dVocab})`);
  return async (job) => {
    await job.step('lens', 0, 1);
    const { output, cache } = await m.model.runWithCache([ids], { namesFilter: residNamesFilter(m.model) });
    let rankT: tf.Tensor | undefined;
    let probT: tf.Tensor | undefined;
    try {
      [rankT, probT] = tf.tidy(() => {
        const logits = logitLens(m.model, cache, { positions: [req.position] });
        const flat = tf.reshape(logits, [logits.shape[0]!, -1]);
        const target = tf.slice(flat, [0, req.tokenId], [-1, 1]);
        const rank = tf.sum(tf.cast(tf.greater(flat, target), 'int32'), 1);
        const prob = tf.exp(tf.sub(tf.squeeze(target, [1]), tf.logSumExp(flat, 1)));
        return [rank, prob];
      });
      const [rank, prob] = await Promise.all([rankT.data(), probT.data()]);
      await job.step('lens', 1, 1);
      const layers = Array.from({ length: m.model.cfg.nLayers + 1 }, (_, l) => l);
      return { tokenId: req.tokenId, token: tokenString(m, req.tokenId), position: req.position, layers, rank: Array.from(rank), prob: Array.from(prob) };
    } finally {
      tf.dispose([output, rankT!, probT!].filter(Boolean));
      cache.dispose();
    }
  };
}
