/**
 * `tfjs-lens bench`: per-layer benchmark of a GPT-2 / ViT / Whisper model (random weights from a named
 * config, or a checkpoint): forward tokens/s, per-block and attention-vs-MLP times, the cost of caching
 * activations, peak memory. Prints a table (or JSON), optionally writes the result file and a chart.
 */
import type { Command } from 'commander';
import { writeFileAtomic } from '../io/atomic-write.js';
import { setBackend } from '../backend/index.js';
import { InvalidArgumentError } from '../errors.js';
import { buildBenchTarget } from '../bench/targets.js';
import { runBench, type BenchSettings } from '../bench/run-bench.js';
import { CACHE_MODES, type BenchResult, type CacheMode } from '../bench/schema.js';
import { BENCH_MODEL_NAMES } from '../bench/configs.js';
import { formatBenchReport, benchChartSpec } from '../bench/report.js';
import { writeChart } from '../plot/render.js';
import { intOption } from './text-input.js';
import { BACKEND_HELP } from './common.js';

/** Options of the `bench` command as commander parses them. */
interface BenchCliOptions {
  model: string;
  backend?: string;
  batch: string;
  seq: string;
  cache: string;
  warmup: string;
  iters: string;
  layers: string;
  nLayers?: string;
  seed: string;
  memory: boolean;
  json?: boolean;
  out?: string;
  chart?: string;
}

/** Parses `--cache none|resid|all` (comma-separated list allowed). */
export function parseCacheModes(value: string): CacheMode[] {
  const modes = value.split(',').map((s) => s.trim()).filter(Boolean);
  for (const m of modes) {
    if (!(CACHE_MODES as readonly string[]).includes(m)) throw new InvalidArgumentError(`--cache '${m}' is not one of ${CACHE_MODES.join(', ')}`);
  }
  return modes as CacheMode[];
}

/** Parses `--layers all|none|17|0,5,17`. */
export function parseLayers(value: string): BenchSettings['layers'] {
  if (value === 'all' || value === 'none') return value;
  return value.split(',').map((s) => intOption(s.trim(), 'layers', { min: 0 }));
}

/** A progress bar on stderr when it is a terminal; otherwise nothing. */
async function progressBar(): Promise<{ update: (done: number, total: number, label: string) => void; stop: () => void }> {
  if (!process.stderr.isTTY) return { update: () => {}, stop: () => {} };
  const { SingleBar } = (await import('cli-progress')).default;
  const bar = new SingleBar({ format: ' bench [{bar}] {value}/{total} {label}', stream: process.stderr, hideCursor: true, fps: 5, clearOnComplete: true });
  let started = false;
  return {
    update(done, total, label) {
      if (!started) {
        bar.start(total, done, { label });
        started = true;
      }
      bar.update(done, { label });
    },
    stop: () => started && bar.stop(),
  };
}

/** Runs the benchmark the options describe and returns its result. */
export async function runBenchCommand(opts: BenchCliOptions): Promise<BenchResult> {
  const settings: BenchSettings = {
    batch: intOption(opts.batch, 'batch', { min: 1 }),
    seq: intOption(opts.seq, 'seq', { min: 1 }),
    warmup: intOption(opts.warmup, 'warmup', { min: 0 }),
    iters: intOption(opts.iters, 'iters', { min: 1 }),
    cache: parseCacheModes(opts.cache),
    layers: parseLayers(opts.layers),
    seed: intOption(opts.seed, 'seed', { min: 0 }),
    memory: opts.memory,
  };
  if (opts.chart && !/\.(png|svg)$/i.test(opts.chart)) throw new InvalidArgumentError(`--chart ${opts.chart} must end in .png or .svg`);
  await setBackend(opts.backend ?? process.env.TFJS_LENS_BACKEND ?? 'wasm', { verbose: false });
  const target = await buildBenchTarget(opts.model, { nLayers: opts.nLayers === undefined ? undefined : intOption(opts.nLayers, 'n-layers', { min: 1 }), seed: settings.seed });
  const bar = await progressBar();
  try {
    return await runBench(target, settings, { onProgress: bar.update });
  } finally {
    bar.stop();
    target.dispose();
  }
}

/** Adds `tfjs-lens bench` to the program. */
export function registerBench(program: Command): void {
  program
    .command('bench')
    .description('per-layer benchmark: forward tokens/s, per-block and attention vs MLP time, cache cost, peak memory')
    .option('-m, --model <name|dir>', `${BENCH_MODEL_NAMES.join(' | ')} (random weights) or a checkpoint directory`, 'gpt2')
    .option('-b, --backend <name>', `${BACKEND_HELP} (default: TFJS_LENS_BACKEND or wasm)`)
    .option('--batch <n>', 'input items per forward pass', '1')
    .option('--seq <n>', 'token positions (GPT-2, Whisper decoder; ViT has 197)', '64')
    .option('--cache <modes>', 'cache modes to measure besides the plain forward: none | states | resid | all (comma list)', 'none')
    .option('--warmup <n>', 'untimed runs before each timed series', '1')
    .option('--iters <n>', 'timed runs per series', '5')
    .option('--layers <which>', 'blocks to time one by one: all | none | comma list of indices', 'all')
    .option('--n-layers <n>', 'build a named model with this many blocks (quick runs)')
    .option('--seed <n>', 'seed of the random weights and inputs', '0')
    .option('--no-memory', 'skip the tf.profile memory passes')
    .option('--json', 'print the result as JSON instead of tables')
    .option('-o, --out <file.json>', 'write the result as JSON')
    .option('--chart <file.png|svg>', 'write a chart of per-block times')
    .action(async (opts: BenchCliOptions) => {
      const result = await runBenchCommand(opts);
      if (opts.out) {
        writeFileAtomic(opts.out, `${JSON.stringify(result, null, 2)}\n`);
      }
      if (opts.chart) await writeChart(opts.chart, benchChartSpec(result));
      process.stdout.write(opts.json ? `${JSON.stringify(result, null, 2)}\n` : `${formatBenchReport(result)}\n`);
    });
}
