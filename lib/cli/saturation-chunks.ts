/**
 * Saturation layers (§1) and better-LM records (§6) of chunked examples (ViT images, Whisper clips): each
 * chunk is one forward pass of `topKPerLayer`; every (row, lensed position) of it is one example, in chunk
 * order. A shard runs a block of the chunks (`chunkedExamples` with a range): the same passes as one process.
 */
import { batchChunks, rankTable, topKPerLayer } from '../lens/topk.js';
import { saturationLayers } from '../lens/saturation.js';
import { betterLmExample, type BetterLmExample } from '../lens/better-lm.js';
import type { ChunkedExamples } from './model-examples.js';

/** The §1 table and §6 records of chunked examples. */
export interface ChunkedSaturation {
  /** Number of blocks L. */
  L: number;
  /** `[N][k]` saturation layers per example. */
  S: number[][];
  /** §6 records of the examples that have a next token (k ≥ 2 only). */
  lmRecords: BetterLmExample[];
  /** The same rows per example (image, clip) of the chunks, in order: `S` and `lmRecords` of its positions. */
  perExample: { S: number[][]; lmRecords: BetterLmExample[] }[];
}

/** Runs the lens top-k over every chunk and computes each example's saturation layers. */
export async function chunkedSaturation(ex: ChunkedExamples, k: number, quirkAllAgreeIsL: boolean): Promise<ChunkedSaturation> {
  const perExample: ChunkedSaturation['perExample'] = [];
  let c = 0;
  for (const { chunk, owned } of batchChunks(ex.chunks, undefined)) {
    try {
      const top = await topKPerLayer(ex.model, chunk, { k });
      const [, batch, nPos] = top.shape;
      for (let b = 0; b < batch; b++) {
        const rows: ChunkedSaturation['perExample'][number] = { S: [], lmRecords: [] };
        for (let p = 0; p < nPos; p++) {
          const ranks = rankTable(top, b, p);
          rows.S.push(saturationLayers(ranks, { quirkAllAgreeIsL }));
          const next = ex.nextToken(c, b, p);
          if (k >= 2 && next !== undefined) rows.lmRecords.push(betterLmExample(ranks, next, { quirkAllAgreeIsL }));
        }
        perExample.push(rows);
      }
    } finally {
      owned?.dispose();
    }
    c++;
  }
  return { L: ex.model.nLayers, S: perExample.flatMap((r) => r.S), lmRecords: perExample.flatMap((r) => r.lmRecords), perExample };
}
