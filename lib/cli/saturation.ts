/**
 * `tfjs-lens saturation`: the "Looking Beyond the Top-1" analyses on a text (or id) file —
 * saturation layers s_0 … s_{k−1} of every position (docs/methods.md §1), the order analysis (§2: rank
 * correspondence mean position ± SEM with t-tests, mean strict Kendall τ with a permutation test) on the
 * positions kept by the s_0 ≤ floor(0.85·L) filter, the better-LM z-test (§6) on all positions that have a
 * true next token, and a rank-correspondence bar chart.
 *
 * Layer convention (beyond_top1): j = 0 … L−1 means the residual state h_{j+1}; s_r = L−1 means "fixed
 * only at the last layer".
 */
import type { Command } from 'commander';
import * as tf from '@tensorflow/tfjs-core';
import { join, resolve } from 'node:path';
import { CausalLmRoot } from '../nn/causal-lm.js';
import { topKPerLayer } from '../lens/topk.js';
import { filterBySaturation } from '../lens/saturation.js';
import { meanTauPermutationTest, rankCorrespondence } from '../lens/order.js';
import { betterLmGroups, type BetterLmExample, type BetterLmResult } from '../lens/better-lm.js';
import { mean } from '../math/stats.js';
import { barChartSpec, writeChart } from '../plot/index.js';
import { InvalidArgumentError } from '../errors.js';
import { BACKEND_HELP, formatTable, setup, type CommonOptions } from './common.js';
import { intOption, numberOption, readTokenSequences, datasetTexts } from './text-input.js';
import { addCollectInputOptions, checkCollectFlags, chunkedExamples, type CollectInputOptions } from './model-examples.js';
import { chunkedSaturation } from './saturation-chunks.js';
import { describeInput, type ExampleInput } from './image-examples.js';
import { addShardOptions, isShardDone, printShardDone, recordedOptions, shardItems, shardRunFromOptions, type ShardCliOptions, type ShardDone } from './shard.js';
import { saturationRows, writeChunkedSaturationShard, writeSaturationShard, type SaturationRows } from './saturation-shard.js';
import type { SaturationSummary } from '../explore/api-saturation.js';
import { withLocalData } from './hub-data.js';

/** The options of `saturation` as commander gives them (also rebuilt by `merge` from a shard manifest). */
export interface SaturationOptions extends CommonOptions, CollectInputOptions, ShardCliOptions {
  maxExamples?: string;
  k: string;
  filter: string;
  quirkAllAgreeIsL?: boolean;
  reps: string;
  seed: string;
  batch: string;
  out: string;
}

/** Lens rank tables of token sequences: `ranks(seq, pos)` → `[L][k]` ids (j = 0 … L−1 meaning h_{j+1}). */
export interface RankTables {
  /** Number of blocks L. */
  L: number;
  k: number;
  /** `[L][k]` ids of sequence `seq` at position `pos` (rank 0 first, ties → lower id). */
  ranks(seq: number, pos: number): number[][];
}

/**
 * Runs the lens top-k over sequences of different lengths: sequences of equal length share a forward
 * pass (at most `batchSize` per pass), so nothing is padded.
 * @param sequences token ids per sequence (each within the model's n_ctx).
 */
export async function lensRankTables(model: CausalLmRoot, sequences: readonly (readonly number[])[], k: number, batchSize = 16): Promise<RankTables> {
  const L = model.cfg.nLayers;
  // Per sequence: [T, L, k] ids.
  const tables: Int32Array[] = new Array(sequences.length);
  const byLength = new Map<number, number[]>();
  sequences.forEach((s, i) => {
    if (!byLength.has(s.length)) byLength.set(s.length, []);
    byLength.get(s.length)!.push(i);
  });
  for (const [T, members] of byLength) {
    for (let start = 0; start < members.length; start += batchSize) {
      const group = members.slice(start, start + batchSize);
      const top = await topKPerLayer(model, group.map((i) => sequences[i]! as number[]), { k });
      const B = group.length;
      group.forEach((seq, b) => {
        const table = new Int32Array(T * L * k);
        for (let p = 0; p < T; p++) {
          for (let j = 0; j < L; j++) {
            const src = ((j * B + b) * T + p) * k;
            table.set(top.ids.subarray(src, src + k), (p * L + j) * k);
          }
        }
        tables[seq] = table;
      });
    }
  }
  return {
    L,
    k,
    ranks: (seq, pos) => Array.from({ length: L }, (_, j) => Array.from(tables[seq]!.subarray((pos * L + j) * k, (pos * L + j + 1) * k))),
  };
}

/** What `saturation --json` prints. */
export interface SaturationReport extends SaturationSummary {
  model: string;
  backend: string;
  /** Where the examples came from (`sequences`: text/id sequences, images or clips). */
  input: ExampleInput;
  /** Number of blocks L (layers j = 0 … L−1 mean h_{j+1}). */
  L: number;
  k: number;
  quirkAllAgreeIsL: boolean;
  /** §6 on all positions with a next token (null for ViT, which has no next token, and for k < 2). `positions` counts
   * every example: every position of every sequence (Whisper: decoder position of every clip), every image (ViT). */
  betterLm: (BetterLmResult & { positions: number }) | null;
  files: string[];
}

/** Runs `saturation`; with a shard only that shard's rows (returns what was written); `given`: the shards' rows (merge). */
export async function runSaturation(opts: SaturationOptions, given?: SaturationRows): Promise<SaturationReport | ShardDone> {
  const k = intOption(opts.k, 'k', { min: 1 });
  const fraction = numberOption(opts.filter, 'filter', { min: 0, max: 1 });
  const reps = intOption(opts.reps, 'reps', { min: 1 });
  const seed = intOption(opts.seed, 'seed');
  const batch = intOption(opts.batch, 'batch', { min: 1 });
  const maxExamples = opts.maxExamples === undefined ? undefined : intOption(opts.maxExamples, 'max-examples', { min: 1 });
  const quirk = !!opts.quirkAllAgreeIsL;
  const { model, dir, backend } = await setup(opts);
  try {
    checkCollectFlags(model, opts, dir);
    const shard = given ? undefined : shardRunFromOptions(opts);
    // A shard makes only its block of chunks; merge (given rows) makes none.
    const range = given ? () => ({ start: 0, end: 0 }) : shard ? (total: number) => shardItems(shard, total) : undefined;
    const chunked = await chunkedExamples(model, dir, { ...opts, maxExamples, batch, range });
    let input: ExampleInput;
    let L: number;
    // §1 saturation layers of every position; §6 records of positions with a next token (one shard of them
    // with --shard / --run-dir; all shards' with merge).
    let S: number[][];
    let lmRecords: BetterLmExample[];
    if (chunked) {
      // ViT images (CLS position), Whisper clips (teacher-forced decoder positions).
      if (shard) return await writeChunkedSaturationShard(shard, chunked, { k, batchSize: batch, quirk }, { options: recordedOptions(opts, dir), backend });
      input = chunked.input;
      L = chunked.model.nLayers;
      ({ S, lmRecords } = given ?? (await chunkedSaturation(chunked, k, quirk)));
    } else {
      if (!(model instanceof CausalLmRoot)) throw new InvalidArgumentError(`saturation needs a decoder language model (GPT-2, Llama, Mistral, Qwen2, GPT-NeoX, Gemma), ViT or Whisper checkpoint (a next-token or class lens); ${dir} is not one`);
      if (k > model.cfg.dVocab) throw new InvalidArgumentError(`--k ${k} is larger than the vocabulary (${model.cfg.dVocab})`);
      const tokens = readTokenSequences({ textFile: opts.textFile, texts: await datasetTexts(opts.textFile, opts.textField), idsFile: opts.idsFile, tokenizer: model.tokenizer, vocabSize: model.cfg.dVocab, maxLength: model.cfg.nCtx, maxExamples, modelDir: dir });
      input = { file: tokens.file, source: tokens.source, sequences: tokens.sequences.length, truncated: tokens.truncated, dropped: tokens.dropped };
      L = model.cfg.nLayers;
      const rankTables = (sequences: readonly (readonly number[])[]) => lensRankTables(model, sequences, k, batch);
      if (shard) return await writeSaturationShard(shard, rankTables, tokens, { k, batchSize: batch, quirk }, { options: recordedOptions(opts, dir), backend });
      ({ S, lmRecords } = given ?? (await saturationRows(rankTables, tokens.sequences, { k, batchSize: batch, quirk })));
    }
    const s0Histogram = new Array<number>(L + 1).fill(0);
    for (const row of S) s0Histogram[row[0]!]!++;
    if (!quirk) s0Histogram.pop();

    // §2 on the filtered positions.
    const filtered = filterBySaturation(S, L, { fraction });
    const rc = rankCorrespondence(filtered.kept, L);
    const tau = meanTauPermutationTest(filtered.kept, L, { reps, seed });
    const betterLm = k >= 2 && lmRecords.length ? { ...betterLmGroups(lmRecords, L), positions: lmRecords.length } : null;

    // Figure.
    const outDir = resolve(opts.out);
    const figure = join(outDir, 'saturation-rank-correspondence.png');
    const bars = rc.perRank.map((r) => ({ category: `rank ${r.rank + 1}`, value: r.meanPosition }));
    await writeChart(figure, barChartSpec(bars, { title: `rank correspondence, ${filtered.kept.length} positions (L = ${L})`, xTitle: 'rank r', yTitle: 'mean position of s_r in sorted s', width: Math.max(320, 60 * k), height: 240 }));

    return {
      model: dir,
      backend,
      input,
      L,
      k,
      quirkAllAgreeIsL: quirk,
      positions: S.length,
      meanSaturation: Array.from({ length: k }, (_, r) => mean(S.map((row) => row[r]!))),
      s0Histogram,
      filter: { fraction, maxS0: filtered.maxS0, kept: filtered.kept.length },
      rankCorrespondence: { perRank: rc.perRank.map(({ rank, n, meanPosition, sem }) => ({ rank, n, meanPosition, sem })), tests: rc.tests },
      kendall: { meanTau: tau.meanTau, p: tau.p, pLabel: tau.pLabel, nUsed: tau.nUsed, nSkipped: tau.nSkipped, reps: tau.reps, seed: tau.seed },
      betterLm,
      files: [figure],
    };
  } finally {
    model.dispose();
  }
}

function fmt(x: number, digits = 3): string {
  return Number.isFinite(x) ? x.toFixed(digits) : x === Infinity ? '∞' : x === -Infinity ? '-∞' : 'n/a';
}

/** The plain-text report of `saturation`. */
export function printSaturation(r: SaturationReport): string {
  const out: string[] = [];
  out.push(`model ${r.model} on ${r.backend}`);
  out.push(`${describeInput(r.input, r.positions)}, L = ${r.L} blocks, k = ${r.k}${r.quirkAllAgreeIsL ? ', all-agree ranks → s = L' : ''}`);
  out.push('');
  out.push('§1 saturation layers (j = 0 … L−1 means h_{j+1}; s = L−1: fixed only at the last layer)');
  out.push(formatTable(['rank', 'mean s_r'], r.meanSaturation.map((m, i) => [String(i + 1), fmt(m, 2)])));
  out.push(`s_0 histogram: ${r.s0Histogram.map((c, j) => `${j}:${c}`).join(' ')}`);
  out.push(`filter s_0 ≤ floor(${r.filter.fraction}·L) = ${r.filter.maxS0}: kept ${r.filter.kept} of ${r.positions} positions`);
  out.push('');
  out.push('§2a rank correspondence (mean position of s_r in the sorted vector, 1-based; in order = 1, 2, 3, …)');
  const rows = r.rankCorrespondence.perRank.map((p, i) => {
    const t = r.rankCorrespondence.tests[i];
    return [String(p.rank + 1), String(p.n), p.n ? `${fmt(p.meanPosition)} ± ${fmt(p.sem)}` : 'n/a', t ? `t = ${fmt(t.t, 2)}, p = ${t.p.toExponential(2)} ${t.stars}`.trimEnd() : i + 1 < r.rankCorrespondence.perRank.length ? 'n/a' : ''];
  });
  out.push(formatTable(['rank', 'n', 'mean ± SEM', 'vs next rank'], rows));
  out.push('');
  out.push(`§2b mean strict Kendall τ = ${fmt(r.kendall.meanTau)} over ${r.kendall.nUsed} positions (${r.kendall.nSkipped} skipped), permutation test ${r.kendall.pLabel} (${r.kendall.reps} permutations, seed ${r.kendall.seed})`);
  out.push('');
  if (r.betterLm) {
    const b = r.betterLm;
    out.push(`§6 better LM: ${b.positions} positions with a next token; final top-1 correct at ${b.top1Correct}; of the rest, rank-2 token = next token:`);
    out.push(formatTable(['group', 'positions', 'rank-2 correct', '%'], [
      [`A: s_1 = L−1 = ${r.L - 1}`, String(b.groupA.count), String(b.groupA.rank2Correct), fmt(b.groupA.percent, 1)],
      [`B: s_1 ≤ L−7 = ${r.L - 7}`, String(b.groupB.count), String(b.groupB.rank2Correct), fmt(b.groupB.percent, 1)],
      ['neither', String(b.neither), '', ''],
    ]));
    out.push(b.test ? `two-proportion z = ${fmt(b.test.statistic, 2)}, p = ${b.test.p.toExponential(2)} (negative z: rank 2 is right more often when it saturates early)` : `z-test n/a (a group is empty${r.L < 7 ? `; group B needs s_1 ≤ L−7 and this model has L = ${r.L}` : ''})`);
    out.push('');
  }
  out.push(`wrote ${r.files.join(', ')}`);
  return out.join('\n');
}

/** Registers `saturation`. */
export function registerSaturation(program: Command): void {
  const command = addCollectInputOptions(
    program
      .command('saturation')
      .description('saturation layers of the top-k lens ranks, their order (rank correspondence, Kendall τ) and the better-LM test')
      .option('-m, --model <dir|hubId>', 'a decoder language model (GPT-2, Llama, Mistral, Qwen2, GPT-NeoX, Gemma), ViT or Whisper checkpoint (default: the shipped tiny GPT-2)'),
  )
    .option('-k, --k <k>', 'ranks whose saturation layers are computed', '5')
    .option('--filter <fraction>', 'order analysis keeps positions with s_0 ≤ floor(fraction·L)', '0.85')
    .option('--quirk-all-agree-is-l', 'a rank that agrees at every layer gets s = L (the original top-k routine) instead of 0')
    .option('--reps <n>', 'permutations of the Kendall τ test', '1000')
    .option('--seed <n>', 'seed of the permutation test', '0')
    .option('--batch <n>', 'sequences (images) per forward pass (equal lengths are batched; Whisper: one clip)', '16')
    .option('-o, --out <dir>', 'where the bar chart PNG goes', 'tfjs-lens-saturation')
    .option('-b, --backend <name>', BACKEND_HELP)
    .option('--json', 'print JSON instead of tables');
  addShardOptions(command).action(async (opts: SaturationOptions) => {
    const report = await runSaturation(await withLocalData(opts, ['textFile', 'idsFile', 'images', 'audio']));
    process.stdout.write(isShardDone(report) ? `${printShardDone(report, opts.json)}\n` : opts.json ? `${JSON.stringify(report, null, 2)}\n` : `${printSaturation(report)}\n`);
    tf.disposeVariables();
  });
}
