/**
 * `tfjs-lens probe-grid`: sequence-classification probes over a grid of datasets × layers (h_ℓ,
 * ℓ = 0 … L) × token poolers × classifiers × seeded folds, one JSON line per cell in a log that a re-run
 * resumes (cells already logged are skipped; a torn last line is cut off and redone). `--shard i/n` (or a
 * Slurm / Kubernetes array) runs one contiguous block of the cells into a run folder.
 *
 * Datasets: the shipped `source` (data/text/sentences.txt, prose vs synthetic) and `topic` (its synthetic
 * sentences, by kind of document), or a JSONL/CSV/TSV/parquet file with a text and a label field.
 */
import type { Command } from 'commander';
import * as tf from '@tensorflow/tfjs-core';
import { basename, join, resolve } from 'node:path';
import { readFileSync } from 'node:fs';
import { CausalLmRoot } from '../nn/causal-lm.js';
import { parsePooler, type Pooler } from '../probes/pooling.js';
import { pooledResidFeatures, type PooledFeatures } from '../probes/pooled-features.js';
import { GRID_CLASSIFIERS, enumerateGridCells, gridCellKey, runProbeGrid, type GridAxes, type GridClassifier, type GridRecord } from '../probes/grid.js';
import { openJsonlLog } from '../io/jsonl-log.js';
import { PROBE_GRID_LOG } from '../probes/grid-merge.js';
import { readTextDataset } from '../data/text-dataset.js';
import { mean, semDdof0 } from '../math/stats.js';
import { lineChartSpec, writeChart } from '../plot/index.js';
import { ensureOutputDir } from '../io/atomic-write.js';
import { InvalidArgumentError, InvalidInputError } from '../errors.js';
import { BACKEND_HELP, PACKAGE_ROOT, formatTable, setup, type CommonOptions } from './common.js';
import { intOption, numberOption } from './text-input.js';
import { addShardOptions, finishShard, shardRunFromOptions, type ShardCliOptions } from './shard.js';
import { withLocalData } from './hub-data.js';

interface ProbeGridOptions extends CommonOptions, ShardCliOptions {
  dataset: string[];
  textField: string;
  labelField: string;
  maxExamples: string;
  layers?: string;
  poolers: string;
  classifiers: string;
  folds: string;
  seed: string;
  C: string;
  shrinkage: string;
  hidden: string;
  epochs: string;
  patience: string;
  lr: string;
  l2: string;
  batchSize: string;
  valFraction: string;
  batch: string;
  log?: string;
  out: string;
}

/** The shipped datasets. */
export const SHIPPED_GRID_DATASETS = ['source', 'topic'] as const;

/** One dataset of the grid: texts and their labels. */
interface GridDataset {
  name: string;
  file: string;
  /** Every file the dataset reads (hashed into a shard's manifest). */
  inputs: string[];
  texts: string[];
  /** Label names, sorted; `y` indexes them. */
  labels: string[];
  y: Int32Array;
}

function withLabelIds(name: string, inputs: string[], texts: string[], names: string[]): GridDataset {
  const labels = [...new Set(names)].sort();
  return { name, file: inputs[0]!, inputs, texts, labels, y: Int32Array.from(names, (l) => labels.indexOf(l)) };
}

/** The shipped sentences with their labels (data/text/sentences-labels.tsv, one row per sentence). */
function shippedDataset(name: 'source' | 'topic'): GridDataset {
  const file = join(PACKAGE_ROOT, 'data', 'text', 'sentences.txt');
  const labelFile = join(PACKAGE_ROOT, 'data', 'text', 'sentences-labels.tsv');
  const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.length > 0);
  const rows = readFileSync(labelFile, 'utf8').split('\n').filter((l) => l.length > 0).slice(1).map((r) => r.split('\t'));
  if (rows.length !== lines.length) throw new InvalidInputError(labelFile, `has ${rows.length} rows for the ${lines.length} sentences of ${file}`, 'regenerate it with node scripts/data/make-sentence-labels.mjs');
  const texts: string[] = [];
  const names: string[] = [];
  lines.forEach((text, i) => {
    const [source, kind] = rows[i]!;
    if (name === 'source') [texts[texts.length], names[names.length]] = [text, source!];
    else if (source === 'synthetic') [texts[texts.length], names[names.length]] = [text, kind!];
  });
  return withLabelIds(name, [file, labelFile], texts, names);
}

async function loadDataset(spec: string, opts: ProbeGridOptions): Promise<GridDataset> {
  if ((SHIPPED_GRID_DATASETS as readonly string[]).includes(spec)) return shippedDataset(spec as 'source' | 'topic');
  const data = await readTextDataset(spec, { textField: opts.textField, labelField: opts.labelField });
  if (!data.labels || !data.labelIds) throw new InvalidInputError(spec, 'has no labels', `a probe-grid dataset needs a label field (--label-field, now '${opts.labelField}') in a JSONL, CSV, TSV or parquet file`);
  return { name: basename(spec), file: spec, inputs: [spec], texts: data.records.map((r) => r.text), labels: data.labels, y: data.labelIds };
}

/** Mean ± SEM over folds of one (dataset, layer, pooler, classifier). */
export interface GridSummaryRow {
  dataset: string;
  layer: number;
  pooler: string;
  classifier: GridClassifier;
  folds: number;
  balancedAccuracy: { mean: number; sem: number };
  accuracy: { mean: number; sem: number };
  fitMs: number;
}

/** What `probe-grid --json` prints. */
export interface ProbeGridReport {
  model: string;
  backend: string;
  datasets: { name: string; file: string; examples: number; labels: string[]; classCounts: number[]; truncated: number }[];
  axes: GridAxes;
  seed: number;
  log: string;
  /** This process's block of cells, how many the log already had, how many were added now, torn bytes cut. */
  run: { start: number; end: number; total: number; skipped: number; added: number; repairedBytes: number; shard?: string };
  /** Over every record of the log that belongs to the grid (complete groups of folds only). */
  summary: GridSummaryRow[];
  files: string[];
}

function listOption(value: string, name: string): string[] {
  const items = value.split(',').map((s) => s.trim()).filter(Boolean);
  if (!items.length) throw new InvalidArgumentError(`--${name} is empty`);
  return items;
}

/** Groups complete fold sets of the log into summary rows (grid order). */
export function summarizeGrid(records: readonly GridRecord[], axes: GridAxes): GridSummaryRow[] {
  const byKey = new Map<string, GridRecord[]>();
  for (const r of records) {
    const key = JSON.stringify([r.dataset, r.layer, r.pooler, r.classifier]);
    byKey.set(key, [...(byKey.get(key) ?? []), r]);
  }
  const rows: GridSummaryRow[] = [];
  const seen = new Set<string>();
  for (const c of enumerateGridCells(axes)) {
    const key = JSON.stringify([c.dataset, c.layer, c.pooler, c.classifier]);
    if (seen.has(key)) continue;
    seen.add(key);
    const rs = (byKey.get(key) ?? []).filter((r) => r.folds === axes.folds);
    if (new Set(rs.map((r) => r.fold)).size !== axes.folds) continue;
    const ba = rs.map((r) => r.scores.balancedAccuracy);
    const acc = rs.map((r) => r.scores.accuracy);
    rows.push({
      dataset: c.dataset, layer: c.layer, pooler: c.pooler, classifier: c.classifier, folds: rs.length,
      balancedAccuracy: { mean: mean(ba), sem: semDdof0(ba) }, accuracy: { mean: mean(acc), sem: semDdof0(acc) }, fitMs: mean(rs.map((r) => r.timings.fitMs)),
    });
  }
  return rows;
}

async function runProbeGridCli(opts: ProbeGridOptions): Promise<ProbeGridReport> {
  const folds = intOption(opts.folds, 'folds', { min: 2 });
  const seed = intOption(opts.seed, 'seed');
  const maxExamples = intOption(opts.maxExamples, 'max-examples', { min: 2 });
  const batch = intOption(opts.batch, 'batch', { min: 1 });
  const poolers: Pooler[] = listOption(opts.poolers, 'poolers').map(parsePooler);
  const classifiers = listOption(opts.classifiers, 'classifiers').map((c) => {
    if (!(GRID_CLASSIFIERS as readonly string[]).includes(c)) throw new InvalidArgumentError(`unknown classifier '${c}'`, `use ${GRID_CLASSIFIERS.join(', ')}`);
    return c as GridClassifier;
  });
  const params = {
    C: numberOption(opts.C, 'C', { min: Number.MIN_VALUE }),
    shrinkage: numberOption(opts.shrinkage, 'shrinkage', { min: 0, max: 1 }),
    neural: {
      hidden: intOption(opts.hidden, 'hidden', { min: 1 }), epochs: intOption(opts.epochs, 'epochs', { min: 1 }), patience: intOption(opts.patience, 'patience', { min: 1 }),
      learningRate: numberOption(opts.lr, 'lr', { min: Number.MIN_VALUE }), l2: numberOption(opts.l2, 'l2', { min: 0 }), batchSize: intOption(opts.batchSize, 'batch-size', { min: 1 }),
      valFraction: numberOption(opts.valFraction, 'val-fraction', { min: 0, max: 0.9 }),
    },
  };
  const shardRun = shardRunFromOptions(opts);
  const { model, dir, backend } = await setup(opts);
  try {
    if (!(model instanceof CausalLmRoot)) throw new InvalidArgumentError(`probe-grid needs a decoder language model (GPT-2, Llama, Mistral, Qwen2, GPT-NeoX, Gemma; text datasets); ${dir} is not one`);
    if (!model.tokenizer) throw new InvalidArgumentError(`${dir} has no tokenizer, so the text datasets cannot be tokenised`);
    const L = model.cfg.nLayers;
    const layers = opts.layers === undefined ? Array.from({ length: L + 1 }, (_, l) => l) : listOption(opts.layers, 'layers').map((s) => intOption(s, 'layers', { min: 0, max: L }));
    const datasets: GridDataset[] = [];
    const truncatedBy = new Map<string, number>();
    for (const spec of opts.dataset) {
      const ds = await loadDataset(spec, opts);
      if (datasets.some((d) => d.name === ds.name)) throw new InvalidArgumentError(`dataset '${ds.name}' is given twice`);
      const n = Math.min(maxExamples, ds.texts.length);
      datasets.push({ ...ds, texts: ds.texts.slice(0, n), y: ds.y.slice(0, n) });
    }
    const axes: GridAxes = { datasets: datasets.map((d) => d.name), layers, poolers: poolers.map((p) => p.name), classifiers, folds };
    const outDir = resolve(opts.out);
    const logPath = shardRun ? join(shardRun.dir, PROBE_GRID_LOG) : resolve(opts.log ?? join(outDir, 'probe-grid.jsonl'));
    const log = openJsonlLog<GridRecord>(logPath);
    const featureCache = new Map<string, { pooled: PooledFeatures; ds: GridDataset; y: Int32Array; nClasses: number }>();
    const featuresOf = async (name: string) => {
      if (!featureCache.has(name)) {
        const ds = datasets.find((d) => d.name === name)!;
        const seqs: number[][] = [];
        const keep: number[] = [];
        let truncated = 0;
        ds.texts.forEach((text, i) => {
          let ids = model.tokenizer!.encode(text);
          if (ids.length > model.cfg.nCtx) [ids, truncated] = [ids.slice(0, model.cfg.nCtx), truncated + 1];
          if (ids.length) [seqs[seqs.length], keep[keep.length]] = [ids, i];
        });
        truncatedBy.set(name, truncated);
        const pooled = await pooledResidFeatures(model, seqs, layers, poolers, batch);
        const yKept = Int32Array.from(keep, (i) => ds.y[i]!);
        featureCache.clear(); // one dataset's features at a time
        featureCache.set(name, { pooled, ds, y: yKept, nClasses: ds.labels.length });
      }
      return featureCache.get(name)!;
    };
    let run;
    try {
      run = await runProbeGrid({
        axes, seed, params, log, shard: shardRun?.shard,
        features: async (name, layer, pooler) => {
          const f = await featuresOf(name);
          return { X: { data: f.pooled.get(layer, pooler), shape: [f.pooled.n, f.pooled.dModel] }, y: f.y, nClasses: f.nClasses };
        },
        onRecord: (r, done, total) => {
          if (process.stderr.isTTY) process.stderr.write(`\rprobe-grid: ${done}/${total} ${r.dataset} h${r.layer} ${r.pooler} ${r.classifier} fold ${r.fold}   `);
        },
      });
    } finally {
      log.close();
      if (process.stderr.isTTY) process.stderr.write('\n');
    }
    const mine = new Set(enumerateGridCells(axes).slice(run.range.start, run.range.end).map(gridCellKey));
    const records = [...log.records, ...run.added].filter((r) => mine.has(gridCellKey(r)));
    const summary = summarizeGrid(records, axes);
    const files: string[] = [];
    if (shardRun) {
      process.stderr.write(`${finishShard(shardRun, { command: 'probe-grid', options: { axes, seed, params, maxExamples, model: dir }, inputFiles: [...new Set(datasets.flatMap((d) => d.inputs))], total: run.range.total, files: [PROBE_GRID_LOG], backend })}\n`);
    } else if (summary.length) {
      ensureOutputDir(outDir);
      for (const ds of axes.datasets) {
        const rows = summary.filter((r) => r.dataset === ds);
        if (!rows.length) continue;
        const names = [...new Set(rows.map((r) => `${r.pooler} · ${r.classifier}`))];
        const series = names.map((name) => {
          const rs = rows.filter((r) => `${r.pooler} · ${r.classifier}` === name);
          return { name, x: rs.map((r) => r.layer), y: rs.map((r) => r.balancedAccuracy.mean) };
        });
        const figure = join(outDir, `probe-grid-${ds.replace(/[^A-Za-z0-9._-]+/g, '_')}.png`);
        await writeChart(figure, lineChartSpec(series, { title: `Probe grid on '${ds}': balanced accuracy (mean over ${folds} folds)`, xTitle: 'residual state ℓ (h_ℓ)', yTitle: 'balanced accuracy', yDomain: [0, 1] }));
        files.push(figure);
      }
    }
    return {
      model: dir, backend,
      datasets: datasets.map((d) => {
        const f = featureCache.get(d.name);
        const y = f?.y ?? d.y;
        return { name: d.name, file: d.file, examples: y.length, labels: d.labels, classCounts: d.labels.map((_, k) => y.filter((v) => v === k).length), truncated: truncatedBy.get(d.name) ?? 0 };
      }),
      axes, seed, log: logPath,
      run: { ...run.range, skipped: run.skipped, added: run.added.length, repairedBytes: log.repairedBytes, ...(shardRun ? { shard: `${shardRun.shard.index}/${shardRun.shard.count}` } : {}) },
      summary, files,
    };
  } finally {
    model.dispose();
  }
}

function f3(x: number): string {
  return Number.isFinite(x) ? x.toFixed(3) : 'n/a';
}

/** The plain-text report of `probe-grid`. */
export function printProbeGrid(r: ProbeGridReport): string {
  const out: string[] = [];
  out.push(`model ${r.model} on ${r.backend}`);
  for (const d of r.datasets) out.push(`dataset ${d.name} (${d.file}): ${d.examples} examples, ${d.labels.length} classes (${d.labels.map((l, k) => `${l} ${d.classCounts[k]}`).join(', ')})`);
  const a = r.axes;
  out.push(`grid: ${a.datasets.length} datasets × ${a.layers.length} layers × ${a.poolers.length} poolers × ${a.classifiers.length} classifiers × ${a.folds} folds = ${r.run.total} cells (seed ${r.seed})`);
  out.push(`log ${r.log}: cells ${r.run.start}…${r.run.end - 1}${r.run.shard ? ` (shard ${r.run.shard})` : ''}, ${r.run.skipped} already logged, ${r.run.added} added${r.run.repairedBytes ? `, a torn last line (${r.run.repairedBytes} bytes) was cut off` : ''}`);
  if (r.summary.length) {
    out.push('');
    out.push('best layer per dataset, pooler and classifier (balanced accuracy, mean ± SEM over folds):');
    const best = new Map<string, (typeof r.summary)[number]>();
    for (const row of r.summary) {
      const key = JSON.stringify([row.dataset, row.pooler, row.classifier]);
      const cur = best.get(key);
      if (!cur || row.balancedAccuracy.mean > cur.balancedAccuracy.mean) best.set(key, row);
    }
    out.push(formatTable(['dataset', 'pooler', 'classifier', 'best h_ℓ', 'balanced accuracy', 'fit ms'], [...best.values()].map((b) => [
      b.dataset, b.pooler, b.classifier, `h${b.layer}`, `${f3(b.balancedAccuracy.mean)} ± ${f3(b.balancedAccuracy.sem)}`, b.fitMs.toFixed(0),
    ])));
  }
  if (r.files.length) out.push(`\nwrote ${r.files.join(', ')}`);
  return out.join('\n');
}

/** Registers `probe-grid`. */
export function registerProbeGrid(program: Command): void {
  const command = program
    .command('probe-grid')
    .description('sequence probes over datasets × layers × token poolers × classifiers (logistic, LDA, linear, MLP) × folds; resumable JSON-lines log')
    .option('-m, --model <dir|hubId>', 'a decoder language model with a tokenizer: GPT-2, Llama, Mistral, Qwen2, GPT-NeoX, Gemma (default: the shipped tiny GPT-2)')
    .option('--dataset <name|file>', `a dataset: ${SHIPPED_GRID_DATASETS.join(' | ')} (shipped sentences) or a JSONL/CSV/TSV/parquet file with text and label fields (local, or hf://datasets/OWNER/NAME[@REV]/FILE); repeatable`, (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--text-field <name>', 'text field of a dataset file', 'text')
    .option('--label-field <name>', 'label field of a dataset file', 'label')
    .option('--max-examples <n>', 'first n examples of each dataset', '300')
    .option('--layers <list>', 'residual states ℓ (h_ℓ, 0 = embedding … L), comma-separated (default all)')
    .option('--poolers <list>', 'token poolers: mean, first, last, max, min, quantile:q[:linear|lower|higher|nearest|midpoint]', 'mean,last,max,quantile:0.5')
    .option('--classifiers <list>', `classifiers: ${GRID_CLASSIFIERS.join(', ')}`, GRID_CLASSIFIERS.join(','))
    .option('--folds <n>', 'cross-validation folds', '5')
    .option('--seed <n>', 'seed of the folds and of the gradient-trained probes', '0')
    .option('--C <c>', 'logistic: inverse L2 strength', '1')
    .option('--shrinkage <a>', 'lda: covariance shrinkage α in [0, 1]', '0.001')
    .option('--hidden <n>', 'mlp: hidden units', '64')
    .option('--epochs <n>', 'linear/mlp: maximum epochs', '200')
    .option('--patience <n>', 'linear/mlp: epochs without a better validation loss before stopping', '10')
    .option('--lr <x>', 'linear/mlp: Adam learning rate', '0.01')
    .option('--l2 <x>', 'linear/mlp: L2 penalty on the weights', '0.0001')
    .option('--batch-size <n>', 'linear/mlp: mini-batch size', '64')
    .option('--val-fraction <x>', 'linear/mlp: share of the training rows held out for early stopping', '0.2')
    .option('--batch <n>', 'sequences of equal length per forward pass', '16')
    .option('--log <file>', 'the JSON-lines log (default OUT/probe-grid.jsonl); a re-run skips the cells it holds')
    .option('-o, --out <dir>', 'where the log and the figures go', 'tfjs-lens-probe-grid')
    .option('-b, --backend <name>', BACKEND_HELP)
    .option('--json', 'print JSON instead of tables');
  addShardOptions(command).action(async (opts: ProbeGridOptions) => {
    if (!opts.dataset.length) opts.dataset = ['source'];
    const report = await runProbeGridCli(await withLocalData(opts, ['dataset']));
    process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : `${printProbeGrid(report)}\n`);
    tf.disposeVariables();
  });
}
