/**
 * `npm run bench`: the wasm-vs-cpu comparison on this machine. Builds the same random-weight model on
 * each backend (default: the GPT-2 small architecture — d_model 768, 12 heads, vocab 50257 — with 2
 * blocks, batch 1 × 64 tokens), runs the per-layer benchmark on each in turn, prints both reports and a
 * cpu / wasm ratio table, and writes `bench/results/<date>-<host>-cpu.json` (a suite: one result per
 * backend, each with device, versions and date).
 *
 *   npm run bench -- [--model gpt2] [--n-layers 2] [--batch 1] [--seq 64] [--warmup 1] [--iters 3]
 *                    [--cache all] [--backends wasm,cpu] [--out-dir bench/results]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hostname } from 'node:os';
import { Command } from 'commander';
import { setBackend } from '../lib/backend/index.js';
import { buildBenchTarget } from '../lib/bench/targets.js';
import { runBench } from '../lib/bench/run-bench.js';
import { BENCH_SUITE_SCHEMA, type BenchResult, type BenchSuite } from '../lib/bench/schema.js';
import { formatBenchReport } from '../lib/bench/report.js';
import { formatComparison } from '../lib/bench/compare.js';
import { parseCacheModes } from '../lib/cli/bench.js';
import { intOption } from '../lib/cli/text-input.js';

/** Repository root (dist/bench/run.js → ../..). */
const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

interface RunOptions {
  model: string;
  nLayers: string;
  batch: string;
  seq: string;
  warmup: string;
  iters: string;
  cache: string;
  backends: string;
  outDir: string;
}

async function main(): Promise<void> {
  const program = new Command()
    .name('bench/run')
    .option('--model <name>', 'named bench model', 'gpt2')
    .option('--n-layers <n>', 'blocks to build', '2')
    .option('--batch <n>', 'batch', '1')
    .option('--seq <n>', 'tokens', '64')
    .option('--warmup <n>', 'untimed runs per series', '1')
    .option('--iters <n>', 'timed runs per series', '3')
    .option('--cache <modes>', 'cache modes besides the plain forward', 'all')
    .option('--backends <list>', 'backends to compare, in order', 'wasm,cpu')
    .option('--out-dir <dir>', 'where the JSON goes', join(REPO_ROOT, 'bench', 'results'))
    .parse(process.argv);
  const opts = program.opts<RunOptions>();
  const settings = {
    batch: intOption(opts.batch, 'batch', { min: 1 }),
    seq: intOption(opts.seq, 'seq', { min: 1 }),
    warmup: intOption(opts.warmup, 'warmup', { min: 0 }),
    iters: intOption(opts.iters, 'iters', { min: 1 }),
    cache: parseCacheModes(opts.cache),
  };
  const nLayers = intOption(opts.nLayers, 'n-layers', { min: 1 });
  const runs: BenchResult[] = [];
  for (const backend of opts.backends.split(',').map((s) => s.trim()).filter(Boolean)) {
    await setBackend(backend, { verbose: false });
    process.stderr.write(`bench: ${opts.model} (${nLayers} blocks) on ${backend} …\n`);
    const target = await buildBenchTarget(opts.model, { nLayers });
    try {
      const result = await runBench(target, settings);
      runs.push(result);
      process.stdout.write(`\n${formatBenchReport(result)}\n`);
    } finally {
      target.dispose();
    }
  }
  for (const other of runs.slice(1)) {
    process.stdout.write(`\n${formatComparison(other, runs[0]!, { ours: other.backend, reference: runs[0]!.backend })}\n`);
  }
  const date = new Date().toISOString();
  const suite: BenchSuite = {
    schema: BENCH_SUITE_SCHEMA,
    date,
    title: `${opts.backends} comparison: ${opts.model} architecture with ${nLayers} blocks, batch ${settings.batch} × ${settings.seq} tokens`,
    runs,
  };
  const host = hostname().replace(/[^A-Za-z0-9_.-]+/g, '_');
  const path = join(opts.outDir, `${date.slice(0, 10)}-${host}-cpu.json`);
  mkdirSync(opts.outDir, { recursive: true });
  writeFileSync(path, `${JSON.stringify(suite, null, 2)}\n`);
  process.stdout.write(`\nwrote ${path}\n`);
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
