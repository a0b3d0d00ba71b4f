/**
 * The per-position rows of `saturation` (saturation layers s_0 … s_{k−1} of every position, and the §6
 * better-LM record of every position with a next token), for the whole input or one shard of it, and the
 * merge of the shards' rows. The items of a `saturation` run are the forward passes of `lensRankTables`
 * (sequences of equal length, at most `--batch` per pass, in the order it forms them); a shard runs a
 * contiguous block of them, so every sequence is computed in the same pass as in a single process, and
 * writes its sequences' rows (`rows.safetensors`, I32). `merge` puts the rows back in sequence order and the
 * statistics (rank correspondence, Kendall τ and its permutation test, the better-LM test) are computed over
 * all positions, as the single-process command does.
 */
import { join } from 'node:path';
import { ShardMergeError } from '../errors.js';
import { ensureOutputDir } from '../io/atomic-write.js';
import { readAllSafetensors } from '../io/safetensors.js';
import { saveSafetensors } from '../io/safetensors-writer.js';
import type { RunShard } from '../io/shard-run.js';
import { saturationLayers } from '../lens/saturation.js';
import { betterLmExample, type BetterLmExample } from '../lens/better-lm.js';
import { finishShard, shardItems, type ShardDone, type ShardRun } from './shard.js';
import type { TokenSequences } from './text-input.js';
import type { ChunkedExamples } from './model-examples.js';
import { chunkedSaturation } from './saturation-chunks.js';

/** The rows file of a `saturation` shard. */
export const SATURATION_ROWS_FILE = 'rows.safetensors';

/** Per-position rows of some sequences, in sequence order then position order. */
export interface SaturationRows {
  /** `[P][k]` saturation layers of every position. */
  S: number[][];
  /** Better-LM records of the positions with a next token (k ≥ 2). */
  lmRecords: BetterLmExample[];
}

/** How the rows are computed (the command's --k, --batch, --quirk-all-agree-is-l). */
export interface SaturationRowOptions {
  k: number;
  batchSize: number;
  quirk: boolean;
}

/**
 * The lens rank tables of some sequences (`lensRankTables` of the command's model, k and batch):
 * `ranks(seq, pos)` → `[L][k]` ids of sequence `seq` of the given list at position `pos`.
 */
export type RankTablesOf = (sequences: readonly (readonly number[])[]) => Promise<{ ranks(seq: number, pos: number): number[][] }>;

/**
 * The forward passes `lensRankTables` makes for sequences of these lengths: equal lengths share a pass
 * (at most `batchSize`), lengths in order of first appearance. A contiguous block of passes, handed to
 * `lensRankTables` as the sequences it holds (in input order), is run as the same passes.
 * @returns per pass, the sequence indices.
 */
export function lensPassPlan(lengths: readonly number[], batchSize: number): number[][] {
  const byLength = new Map<number, number[]>();
  lengths.forEach((T, i) => (byLength.get(T) ?? byLength.set(T, []).get(T)!).push(i));
  const passes: number[][] = [];
  for (const members of byLength.values()) for (let start = 0; start < members.length; start += batchSize) passes.push(members.slice(start, start + batchSize));
  return passes;
}

/** Rows of `sequences` (each sequence's positions in order), per sequence. */
async function rowsPerSequence(rankTables: RankTablesOf, sequences: readonly (readonly number[])[], opts: SaturationRowOptions): Promise<SaturationRows[]> {
  const tables = await rankTables(sequences);
  return sequences.map((ids, s) => {
    const rows: SaturationRows = { S: [], lmRecords: [] };
    for (let p = 0; p < ids.length; p++) {
      const ranks = tables.ranks(s, p);
      rows.S.push(saturationLayers(ranks, { quirkAllAgreeIsL: opts.quirk }));
      if (opts.k >= 2 && p + 1 < ids.length) rows.lmRecords.push(betterLmExample(ranks, ids[p + 1]!, { quirkAllAgreeIsL: opts.quirk }));
    }
    return rows;
  });
}

function concatRows(parts: readonly SaturationRows[]): SaturationRows {
  return { S: parts.flatMap((r) => r.S), lmRecords: parts.flatMap((r) => r.lmRecords) };
}

/** The rows of every position of every sequence (the single-process run). */
export async function saturationRows(rankTables: RankTablesOf, sequences: readonly (readonly number[])[], opts: SaturationRowOptions): Promise<SaturationRows> {
  return concatRows(await rowsPerSequence(rankTables, sequences, opts));
}

/** Writes the rows of some sequences (images, clips): `examples[i]`'s rows are `perSeq[i]`. */
async function saveShardRows(run: ShardRun, examples: readonly number[], perSeq: readonly SaturationRows[], k: number): Promise<void> {
  const rows = concatRows(perSeq);
  ensureOutputDir(run.dir);
  await saveSafetensors(join(run.dir, SATURATION_ROWS_FILE), {
    sequence: { shape: [examples.length], data: Int32Array.from(examples) },
    positions: { shape: [examples.length], data: Int32Array.from(perSeq, (r) => r.S.length) },
    lm_positions: { shape: [examples.length], data: Int32Array.from(perSeq, (r) => r.lmRecords.length) },
    saturation: { shape: [rows.S.length, k], data: Int32Array.from(rows.S.flat()) },
    better_lm: { shape: [rows.lmRecords.length, 3], data: Int32Array.from(rows.lmRecords.flatMap((r) => [r.s1, Number(r.finalTop1Correct), Number(r.rank2IsTarget)])) },
  }, { format: 'tfjs-lens saturation rows', better_lm: 'columns s1, final top-1 correct, rank-2 token is the target' });
}

/** Computes this shard's rows, writes them, then the manifest. */
export async function writeSaturationShard(run: ShardRun, rankTables: RankTablesOf, input: TokenSequences, opts: SaturationRowOptions, ctx: { options: Record<string, unknown>; backend: string }): Promise<ShardDone> {
  const plan = lensPassPlan(input.sequences.map((s) => s.length), opts.batchSize);
  const { start, end } = shardItems(run, plan.length);
  const mine = plan.slice(start, end).flat().sort((a, b) => a - b);
  process.stderr.write(`saturation: shard ${run.shard.index}/${run.shard.count}: ${end - start} of ${plan.length} passes, ${mine.length} sequences…\n`);
  await saveShardRows(run, mine, await rowsPerSequence(rankTables, mine.map((s) => input.sequences[s]!), opts), opts.k);
  return finishShard(run, { command: 'saturation', options: ctx.options, inputFiles: [input.file], total: plan.length, files: [SATURATION_ROWS_FILE], backend: ctx.backend });
}

/**
 * Computes the rows of this shard's block of ViT / Whisper chunks (`ex` made with the shard's range: each
 * chunk is the forward pass one process makes), writes them per image / clip, then the manifest, which
 * hashes every file of the examples.
 */
export async function writeChunkedSaturationShard(run: ShardRun, ex: ChunkedExamples, opts: SaturationRowOptions, ctx: { options: Record<string, unknown>; backend: string }): Promise<ShardDone> {
  const { start, end } = shardItems(run, ex.total);
  process.stderr.write(`saturation: shard ${run.shard.index}/${run.shard.count}: ${end - start} of ${ex.total} passes (${ex.input.source})…\n`);
  const { perExample } = await chunkedSaturation(ex, opts.k, opts.quirk);
  await saveShardRows(run, perExample.map((_, i) => ex.firstExample + i), perExample, opts.k);
  return finishShard(run, { command: 'saturation', options: ctx.options, inputFiles: ex.files, total: ex.total, files: [SATURATION_ROWS_FILE], backend: ctx.backend });
}

/**
 * The rows of all shards in sequence order.
 * Every sequence must come from exactly one shard.
 * @throws ShardMergeError when a sequence is missing or present twice.
 */
export async function mergeSaturationRows(runDir: string, shards: readonly RunShard[], k: number): Promise<SaturationRows> {
  const perSequence = new Map<number, SaturationRows>();
  for (const shard of shards) {
    const t = await readAllSafetensors(join(shard.dir, SATURATION_ROWS_FILE));
    const get = (name: string) => {
      const v = t.get(name);
      if (!v) throw new ShardMergeError(runDir, 'invalid', [shard.dir], `${SATURATION_ROWS_FILE} has no '${name}'`, 'rerun that shard');
      return Array.from(v.data as Int32Array);
    };
    const [sequence, positions, lmPositions, sat, lm] = ['sequence', 'positions', 'lm_positions', 'saturation', 'better_lm'].map(get) as [number[], number[], number[], number[], number[]];
    let p = 0;
    let q = 0;
    sequence.forEach((s, i) => {
      if (perSequence.has(s)) throw new ShardMergeError(runDir, 'duplicate', [shard.dir], `sequence ${s} is in two shards`);
      const S = Array.from({ length: positions[i]! }, (_, r) => sat.slice((p + r) * k, (p + r + 1) * k));
      const lmRecords = Array.from({ length: lmPositions[i]! }, (_, r) => ({ s1: lm[(q + r) * 3]!, finalTop1Correct: lm[(q + r) * 3 + 1] === 1, rank2IsTarget: lm[(q + r) * 3 + 2] === 1 }));
      p += positions[i]!;
      q += lmPositions[i]!;
      perSequence.set(s, { S, lmRecords });
    });
  }
  const order = [...perSequence.keys()].sort((a, b) => a - b);
  const gap = order.findIndex((s, i) => s !== i);
  if (gap >= 0) throw new ShardMergeError(runDir, 'missing', [], `no shard holds sequence ${gap}`, 'rerun the shards with the same options');
  return concatRows(order.map((s) => perSequence.get(s)!));
}
