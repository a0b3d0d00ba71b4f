/**
 * `tfjs-lens shortcuts`: the "Jump to Conclusions" mat experiment (docs/methods.md §7–§10) with
 * `runMatPipeline` — one sampled position per sentence, linear shortcuts A_{j,i} fitted on the training
 * sentences (and the sub-module maps π for GPT-2), r² heatmaps on the validation sentences, and the
 * fixed-exit Precision@1 of every mapping per exit layer ℓ = 0 … L. Writes `shortcuts.safetensors`,
 * `report.json` and r² heatmap / Precision@1 PNGs into `--out`.
 *
 * Layer convention (mat): ℓ = 0 … L means the residual state h_ℓ (h_0 = embedding).
 */
import type { Command } from 'commander';
import * as tf from '@tensorflow/tfjs-core';
import { join, resolve } from 'node:path';
import { CausalLmRoot } from '../nn/causal-lm.js';
import { HookedBert } from '../nn/bert.js';
import { runMatPipeline, type MatPipelineReport, type MappingName } from '../shortcuts/index.js';
import { heatmapSpec, lineChartSpec, writeChart } from '../plot/index.js';
import { InvalidArgumentError } from '../errors.js';
import { BACKEND_HELP, formatTable, setup, type CommonOptions } from './common.js';
import { intOption, readTokenSequences, datasetTexts } from './text-input.js';
import { ensureOutputDir } from '../io/atomic-write.js';
import { addShardOptions, isShardDone, printShardDone, recordedOptions, shardRunFromOptions, type ShardCliOptions, type ShardDone } from './shard.js';
import { writeShortcutsShard } from './shortcuts-shard.js';
import type { ShortcutStatistics } from '../shortcuts/accumulate.js';
import { withLocalData } from './hub-data.js';

/** The options of `shortcuts` as commander gives them (also rebuilt by `merge` from a shard manifest). */
export interface ShortcutsOptions extends CommonOptions, ShardCliOptions {
  textFile?: string;
  textField?: string;
  idsFile?: string;
  nTrain?: string;
  nVal?: string;
  seed: string;
  batch: string;
  out: string;
}

/** What `shortcuts --json` prints: the pipeline report (timings left out) plus the input and figures. */
export interface ShortcutsReport extends Omit<MatPipelineReport, 'seconds'> {
  modelDir: string;
  backend: string;
  input: { file: string; source: 'text' | 'ids'; sequences: number; truncated: number; dropped: number };
  /** Mean r² over all pairs i < j (mat and id). */
  meanR2: { mat: number; id: number };
  figures: string[];
  /** Caveats about the fit (e.g. fewer training rows than d_model), also printed on stderr. */
  warnings: string[];
}

/**
 * The warning when the fit is underdetermined: with one position per sentence there are `nTrain` rows
 * for `dModel` unknowns per output column, so `nTrain < dModel` leaves every A_{j,i} underdetermined.
 */
export function underdeterminedWarning(nTrain: number, dModel: number): string | undefined {
  if (nTrain >= dModel) return undefined;
  return `${nTrain} training rows (one position per sentence) for d_model = ${dModel} unknowns per column: every fit A_{j,i} is underdetermined (the minimum-norm solution interpolates the training rows, and r² says little); use at least ${dModel} training sentences (--n-train, or a longer --text-file)`;
}

function meanUpper(m: number[][]): number {
  let s = 0;
  let n = 0;
  for (let i = 0; i < m.length; i++) for (let j = i + 1; j < m.length; j++) if (Number.isFinite(m[i]![j]!)) [s, n] = [s + m[i]![j]!, n + 1];
  return n ? s / n : NaN;
}

/**
 * Runs `shortcuts`: the whole pipeline, or with a shard (`--shard`, a job array, `--run-dir`) only the training
 * sums of that shard (returns what was written). `statistics`: the shards' sums added up (`merge`).
 */
export async function runShortcuts(opts: ShortcutsOptions, statistics?: ShortcutStatistics): Promise<ShortcutsReport | ShardDone> {
  const seed = intOption(opts.seed, 'seed');
  const batch = intOption(opts.batch, 'batch', { min: 1 });
  const { model, dir, backend } = await setup(opts);
  try {
    if (!(model instanceof CausalLmRoot) && !(model instanceof HookedBert)) throw new InvalidArgumentError(`shortcuts runs on decoder language models (GPT-2, Llama, Mistral, Qwen2, GPT-NeoX, Gemma) and BERT; ${dir} is none of them`);
    const nTrainOpt = opts.nTrain === undefined ? undefined : intOption(opts.nTrain, 'n-train', { min: 2 });
    const nValOpt = opts.nVal === undefined ? undefined : intOption(opts.nVal, 'n-val', { min: 2 });
    const wanted = nTrainOpt !== undefined && nValOpt !== undefined ? nTrainOpt + nValOpt : undefined;
    const input = readTokenSequences({ textFile: opts.textFile, texts: await datasetTexts(opts.textFile, opts.textField), idsFile: opts.idsFile, tokenizer: model.tokenizer, vocabSize: model.cfg.dVocab, maxLength: model.cfg.nCtx, maxExamples: wanted, modelDir: dir });
    const n = input.sequences.length;
    // Defaults: the original 9000 / 3000 split, scaled down to 3:1 of what the file has.
    const nTrain = nTrainOpt ?? Math.min(9000, nValOpt !== undefined ? n - nValOpt : Math.floor(0.75 * n));
    const nVal = nValOpt ?? Math.min(3000, n - nTrain);
    if (nTrain < 2 || nVal < 2 || nTrain + nVal > n) {
      throw new InvalidArgumentError(`${input.file} has ${n} usable sequences, but --n-train ${nTrain} + --n-val ${nVal} need ${nTrain + nVal} (each ≥ 2)`, 'use a larger file or smaller --n-train / --n-val');
    }
    const shard = statistics ? undefined : shardRunFromOptions(opts);
    if (shard) return await writeShortcutsShard(shard, model, input, { nTrain, nVal, seed, batchSize: batch }, { options: recordedOptions(opts, dir), backend });
    const outDir = resolve(opts.out);
    ensureOutputDir(outDir);
    const warnings = [underdeterminedWarning(nTrain, model.cfg.dModel)].filter((w): w is string => w !== undefined);
    for (const w of warnings) process.stderr.write(`shortcuts: warning: ${w}\n`);
    const report = await runMatPipeline(model, input.sequences, { nTrain, nVal, seed, outDir, batchSize: batch, statistics, onProgress: (stage) => process.stderr.write(`shortcuts: ${stage}…\n`) });
    const L = report.model.nLayers;
    const labels = Array.from({ length: L + 1 }, (_, l) => `h${l}`);
    const clip = (m: number[][]) => m.map((row) => row.map((v) => (Number.isFinite(v) ? Math.max(0, Math.min(1, v)) : NaN)));
    const figures = [join(outDir, 'shortcuts-r2-mat.png'), join(outDir, 'shortcuts-r2-id.png'), join(outDir, 'shortcuts-precision-at-1.png')];
    await writeChart(figures[0]!, heatmapSpec(clip(report.r2.mat), { title: 'r² of h_j ≈ A_{j,i}·h_i (mat), validation', domain: [0, 1], xLabels: labels, yLabels: labels, xTitle: 'target j', yTitle: 'source i' }));
    await writeChart(figures[1]!, heatmapSpec(clip(report.r2.id), { title: 'r² of h_j ≈ h_i (id), clipped to [0, 1]', domain: [0, 1], xLabels: labels, yLabels: labels, xTitle: 'target j', yTitle: 'source i' }));
    const series = (Object.keys(report.fixedExit) as MappingName[]).map((m) => ({ name: m, y: report.fixedExit[m]!.precisionAt1 }));
    await writeChart(figures[2]!, lineChartSpec(series, { title: 'Precision@1 of the mapped top-1 against the final top-1', xTitle: 'exit layer ℓ', yTitle: 'Precision@1', yDomain: [0, 1] }));
    const { seconds: _seconds, ...rest } = report;
    return {
      ...rest,
      modelDir: dir,
      backend,
      input: { file: input.file, source: input.source, sequences: n, truncated: input.truncated, dropped: input.dropped },
      meanR2: { mat: meanUpper(report.r2.mat), id: meanUpper(report.r2.id) },
      figures,
      warnings,
    };
  } finally {
    model.dispose();
  }
}

function fmt(x: number, digits = 3): string {
  return Number.isFinite(x) ? x.toFixed(digits) : 'n/a';
}

/** The plain-text report of `shortcuts`. */
export function printShortcuts(r: ShortcutsReport): string {
  const L = r.model.nLayers;
  const out: string[] = [];
  out.push(`model ${r.modelDir} (${r.model.kind}, L = ${L}, d = ${r.model.dModel}) on ${r.backend}`);
  out.push(`${r.input.sequences} sequences from ${r.input.file}: ${r.nTrain} train, ${r.nVal} validation, one position per sentence (seed ${r.seed})`);
  out.push('');
  out.push(`r² on validation (ℓ = 0 … L means h_ℓ): mean over all pairs i < j: mat ${fmt(r.meanR2.mat)}, id ${fmt(r.meanR2.id)}`);
  out.push(formatTable(['source', `r² to h${L} mat`, `r² to h${L} id`, 'r² to next mat', 'r² to next id'], Array.from({ length: L }, (_, i) => [
    `h${i}`, fmt(r.r2.mat[i]![L]!), fmt(r.r2.id[i]![L]!), fmt(r.r2.mat[i]![i + 1]!), fmt(r.r2.id[i]![i + 1]!),
  ])));
  out.push('');
  const mappings = Object.keys(r.fixedExit) as MappingName[];
  out.push('Precision@1 (mapped top-1 = final top-1) per exit layer');
  out.push(formatTable(['exit ℓ', ...mappings], Array.from({ length: L + 1 }, (_, l) => [`h${l}`, ...mappings.map((m) => fmt(r.fixedExit[m]!.precisionAt1[l]!))])));
  out.push('');
  for (const w of r.warnings) out.push(`warning: ${w}`);
  out.push(`wrote ${[r.files.maps, r.files.report, ...r.figures].filter(Boolean).join(', ')}`);
  return out.join('\n');
}

/** Registers `shortcuts`. */
export function registerShortcuts(program: Command): void {
  const command = program
    .command('shortcuts')
    .description('linear shortcuts between layers (mat vs id): r² heatmaps and Precision@1 per exit layer, maps saved as safetensors')
    .option('-m, --model <dir|hubId>', 'a GPT-2, Llama-family or BERT checkpoint (default: the shipped tiny GPT-2)')
    .option('--text-file <file>', 'text, one sentence per line (tokenised with the model\'s tokenizer); or hf://datasets/OWNER/NAME[@REV]/FILE')
    .option('--text-field <name>', 'the text column of a JSONL/CSV/TSV/parquet --text-file (one sentence per record)', 'text')
    .option('--ids-file <file>', 'token ids instead of text: one comma-separated sequence per line; or hf://datasets/OWNER/NAME[@REV]/FILE')
    .option('--n-train <n>', 'training sentences, the first ones of the file (default: 3/4 of the file, at most 9000)')
    .option('--n-val <n>', 'validation sentences, the next ones (default: the rest, at most 3000)')
    .option('--seed <n>', 'seed of the position sampling', '0')
    .option('--batch <n>', 'samples per forward pass', '16')
    .option('-o, --out <dir>', 'where shortcuts.safetensors, report.json and the PNGs go', 'tfjs-lens-shortcuts')
    .option('-b, --backend <name>', BACKEND_HELP)
    .option('--json', 'print JSON instead of tables');
  addShardOptions(command).action(async (opts: ShortcutsOptions) => {
    const report = await runShortcuts(await withLocalData(opts, ['textFile', 'idsFile']));
    process.stdout.write(isShardDone(report) ? `${printShardDone(report, opts.json)}\n` : opts.json ? `${JSON.stringify(report, null, 2)}\n` : `${printShortcuts(report)}\n`);
    tf.disposeVariables();
  });
}
