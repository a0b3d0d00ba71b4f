/**
 * The explorer's saturation view ("Looking Beyond the Top-1", docs/methods.md §1–2): per position of each
 * sentence, the saturation layers s_0 … s_{k−1} of the top-k lens ranks (`topKPerLayer`, `saturationLayers`;
 * j = 0 … L−1 means h_{j+1}), and the order statistics on the positions kept by the s_0 ≤ floor(0.85·L)
 * filter (`filterBySaturation`, `rankCorrespondence`, `meanTauPermutationTest`). One sentence per step.
 */
import { z } from 'zod';
import { topKPerLayer } from '../lens/topk.js';
import { filterBySaturation, saturationLayers } from '../lens/saturation.js';
import { meanTauPermutationTest, rankCorrespondence, type RankCorrespondenceResult } from '../lens/order.js';
import { InvalidArgumentError } from '../errors.js';
import type { JobContext } from './jobs.js';
import { parseRequest, promptTokens, tokenStrings, type ExploreModel } from './context.js';

/** Body of `POST /api/saturation`: sentences one per line. */
export const SaturationRequest = z.strictObject({
  text: z.string().max(64 * 1024),
  k: z.int().min(1).max(10).default(5),
  filter: z.number().min(0).max(1).default(0.85),
  reps: z.int().min(1).max(10000).default(1000),
  seed: z.int().min(0).max(2 ** 31 - 1).default(0),
});

/** The saturation statistics over a set of positions (the explorer's reply and `tfjs-lens saturation --json`). */
export interface SaturationSummary {
  /** Every position of every sequence. */
  positions: number;
  /** Mean s_r per rank r over all positions. */
  meanSaturation: number[];
  /** Histogram of s_0 over all positions: `s0Histogram[j]` = positions with s_0 = j (j = 0 … L, L only with the quirk). */
  s0Histogram: number[];
  /** The §1 filter: keep iff s_0 ≤ maxS0 = floor(fraction·L). */
  filter: { fraction: number; maxS0: number; kept: number };
  /** §2a on the kept positions (per-rank positions arrays left out). */
  rankCorrespondence: { perRank: { rank: number; n: number; meanPosition: number; sem: number }[]; tests: RankCorrespondenceResult['tests'] };
  /** §2b on the kept positions (permuted means left out). */
  kendall: { meanTau: number; p: number; pLabel: string; nUsed: number; nSkipped: number; reps: number; seed: number };
}

/** Reply of `POST /api/saturation`. */
export interface SaturationReply extends SaturationSummary {
  /** Number of blocks L (layers j = 0 … L−1 mean h_{j+1}). */
  L: number;
  k: number;
  /** Per sentence: its tokens and `s[pos][r]`. */
  sentences: { tokens: string[]; s: number[][] }[];
}

/** Runs the saturation analysis on the sentences of `text`. */
export function saturation(m: ExploreModel, body: unknown): (job: JobContext) => Promise<SaturationReply> {
  const req = parseRequest(SaturationRequest, body);
  const lines = req.text.split('\n').map((l) => l.trim()).filter(Boolean);
  if (!lines.length) throw new InvalidArgumentError('no sentences: write one sentence per line');
  if (lines.length > 200) throw new InvalidArgumentError(`${lines.length} sentences; the explorer takes at most 200`, 'use `tfjs-lens saturation --text-file` for more');
  const L = m.model.cfg.nLayers;
  const tokenized = lines.map((line, i) => promptTokens(m, line, `sentence ${i + 1}`));
  return async (job) => {
    const sentences: SaturationReply['sentences'] = [];
    const S: number[][] = [];
    for (const [i, ids] of tokenized.entries()) {
      await job.step(`sentence ${i + 1}`, i, lines.length + 1);
      const top = await topKPerLayer(m.model, [ids], { k: req.k });
      const T = ids.length;
      const s: number[][] = [];
      for (let p = 0; p < T; p++) {
        const ranks = Array.from({ length: L }, (_, j) => Array.from(top.ids.subarray((j * T + p) * req.k, (j * T + p + 1) * req.k)));
        s.push(saturationLayers(ranks));
      }
      S.push(...s);
      sentences.push({ tokens: tokenStrings(m, ids), s });
    }
    await job.step('order statistics', lines.length, lines.length + 1);
    const s0Histogram = new Array<number>(L).fill(0);
    for (const row of S) s0Histogram[row[0]!]!++;
    const filtered = filterBySaturation(S, L, { fraction: req.filter });
    const rc = rankCorrespondence(filtered.kept, L);
    const tau = meanTauPermutationTest(filtered.kept, L, { reps: req.reps, seed: req.seed });
    const meanSaturation = Array.from({ length: req.k }, (_, r) => S.reduce((acc, row) => acc + row[r]!, 0) / S.length);
    return {
      L,
      k: req.k,
      sentences,
      positions: S.length,
      meanSaturation,
      s0Histogram,
      filter: { fraction: req.filter, maxS0: filtered.maxS0, kept: filtered.kept.length },
      rankCorrespondence: { perRank: rc.perRank.map(({ rank, n, meanPosition, sem }) => ({ rank, n, meanPosition, sem })), tests: rc.tests },
      kendall: { meanTau: tau.meanTau, p: tau.p, pLabel: tau.pLabel, nUsed: tau.nUsed, nSkipped: tau.nSkipped, reps: tau.reps, seed: tau.seed },
    };
  };
}
