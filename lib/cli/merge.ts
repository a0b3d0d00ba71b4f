/**
 * `tfjs-lens merge RUN_DIR`: combines the shards of a sharded run (`--shard i/n` / job arrays with
 * `--run-dir`) and writes what the single-process command writes. It first checks that the manifests make
 * one run (`readRunShards`: every shard once, same command, options, input hash, count and software) and
 * that the input files still hash to what the shards read, then hands the shards to the command's merger:
 * Gram sums add in float64, rows concatenate in item order, JSON-lines logs concatenate; the statistics are
 * recomputed over everything. One merger per collecting command, in `MERGERS`.
 */
import type { Command } from 'commander';
import * as tf from '@tensorflow/tfjs-core';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ShardMergeError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic-write.js';
import { hashFiles, readRunShards, type RunShard } from '../io/shard-run.js';
import { BACKEND_HELP, formatTable } from './common.js';
import { mergeProbeGridShards } from '../probes/grid-merge.js';
import { summarizeGrid } from './probe-grid.js';
import type { GridAxes } from '../probes/grid.js';
import { mergeShortcutStatistics } from './shortcuts-shard.js';
import { printShortcuts, runShortcuts, type ShortcutsOptions } from './shortcuts.js';
import { isShardDone } from './shard.js';
import { mergeSaturationRows } from './saturation-shard.js';
import { mergeProbeData } from './probe-shard.js';
import { printProbe, runProbe, type ProbeOptions } from './probe.js';
import { printSaturation, runSaturation, type SaturationOptions } from './saturation.js';

/** Options of `merge`. */
export interface MergeOptions {
  out?: string;
  backend?: string;
  json?: boolean;
}

/** What a merger gets: the checked shards (index order), the recorded options, and merge's own options. */
export interface MergeContext {
  runDir: string;
  shards: RunShard[];
  /** The options every manifest records. */
  options: Record<string, unknown>;
  /** Where the merged outputs go. */
  out: string;
  backend?: string;
  json?: boolean;
}

/** Combines the shards of one command; returns the text (or JSON) to print. */
export type Merger = (ctx: MergeContext) => Promise<string>;

/** One merger per collecting command. */
export const MERGERS: Record<string, Merger> = {
  shortcuts: async (ctx) => {
    const statistics = await mergeShortcutStatistics(ctx.shards);
    const report = await runShortcuts({ ...(ctx.options as unknown as ShortcutsOptions), out: ctx.out, backend: ctx.backend, json: ctx.json }, statistics);
    if (isShardDone(report)) throw new ShardMergeError(ctx.runDir, 'invalid', [], 'the merged run was sharded again');
    return ctx.json ? JSON.stringify(report, null, 2) : printShortcuts(report);
  },
  saturation: async (ctx) => {
    const rows = await mergeSaturationRows(ctx.runDir, ctx.shards, Number(ctx.options.k));
    const report = await runSaturation({ ...(ctx.options as unknown as SaturationOptions), out: ctx.out, backend: ctx.backend, json: ctx.json }, rows);
    if (isShardDone(report)) throw new ShardMergeError(ctx.runDir, 'invalid', [], 'the merged run was sharded again');
    return ctx.json ? JSON.stringify(report, null, 2) : printSaturation(report);
  },
  'probe-grid': async (ctx) => {
    const { records, path } = mergeProbeGridShards(ctx.runDir);
    const summary = summarizeGrid(records, (ctx.options as { axes: GridAxes }).axes);
    if (ctx.json) return JSON.stringify({ log: path, cells: records.length, summary }, null, 2);
    const rows = summary.map((r) => [r.dataset, String(r.layer), r.pooler, r.classifier, String(r.folds), `${r.balancedAccuracy.mean.toFixed(3)} ± ${r.balancedAccuracy.sem.toFixed(3)}`]);
    return `merged ${records.length} cells into ${path}\n${formatTable(['dataset', 'layer', 'pooler', 'classifier', 'folds', 'balanced accuracy'], rows)}`;
  },
  probe: async (ctx) => {
    const report = await runProbe({ ...(ctx.options as unknown as ProbeOptions), backend: ctx.backend, json: ctx.json }, (o) => mergeProbeData(ctx.runDir, ctx.shards, o));
    if (isShardDone(report)) throw new ShardMergeError(ctx.runDir, 'invalid', [], 'the merged run was sharded again');
    return ctx.json ? JSON.stringify(report, null, 2) : printProbe(report);
  },
};

/**
 * Concatenates one file of every shard (JSON lines, logs) in shard order into `outPath`; a shard without
 * the file contributes nothing.
 * @returns the number of lines written.
 */
export function concatenateShardFiles(shards: readonly Pick<RunShard, 'dir'>[], file: string, outPath: string): number {
  const parts = shards.map((s) => join(s.dir, file)).filter((p) => existsSync(p)).map((p) => readFileSync(p, 'utf8'));
  const text = parts.map((t) => (t === '' || t.endsWith('\n') ? t : `${t}\n`)).join('');
  writeFileAtomic(outPath, text);
  return text.split('\n').filter(Boolean).length;
}

/**
 * Checks and merges the run in `runDir`.
 * @returns the printed report of the merged command.
 * @throws ShardMergeError for shards that do not make one run, input files that changed since the shards
 *   read them, or a command without a merger.
 */
export async function runMerge(runDir: string, opts: MergeOptions = {}): Promise<string> {
  const dir = resolve(runDir);
  const shards = readRunShards(dir);
  const first = shards[0]!.manifest;
  const merger = MERGERS[first.command];
  if (!merger) throw new ShardMergeError(dir, 'invalid', [], `the shards are of '${first.command}', which merge does not know`, `merge combines ${Object.keys(MERGERS).join(', ')}`);
  const missing = first.input.files.filter((f) => !existsSync(f));
  if (missing.length) throw new ShardMergeError(dir, 'mismatch', [], `the input the shards read is gone: ${missing.join(', ')}`, 'merge where the shards\' input files are at the same paths');
  const now = hashFiles(first.input.files);
  if (now !== first.input.hash) throw new ShardMergeError(dir, 'mismatch', [], `the input files changed since the shards read them (${first.input.files.join(', ')}: ${now}, the shards saw ${first.input.hash})`, 'rerun the shards on the current input, or restore the input they read');
  process.stderr.write(`merge: ${shards.length} shard${shards.length === 1 ? '' : 's'} of ${first.command} from ${dir}\n`);
  return merger({ runDir: dir, shards, options: first.options, out: resolve(opts.out ?? join(dir, 'merged')), backend: opts.backend, json: opts.json });
}

/** Registers `merge`. */
export function registerMerge(program: Command): void {
  program
    .command('merge')
    .description('combine the shards of a sharded run (RUN_DIR/shards/<i>-of-<n>/) and write what the single-process command writes')
    .argument('<runDir>', 'the --run-dir every shard wrote into')
    .option('-o, --out <dir>', 'where the merged outputs go (default: RUN_DIR/merged)')
    .option('-b, --backend <name>', BACKEND_HELP)
    .option('--json', 'print JSON instead of tables')
    .action(async (runDir: string, opts: MergeOptions) => {
      process.stdout.write(`${await runMerge(runDir, opts)}\n`);
      tf.disposeVariables();
    });
}
