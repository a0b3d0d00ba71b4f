/**
 * `npm run bench:compare`: tfjs-lens on its backends and Hugging Face PyTorch, side by side in one run on this
 * machine, at the same thread count; writes one suite file to bench/results/ and prints ratio tables
 * (tokens/s of ours / PyTorch: above 1 we are faster).
 *
 *   npm run bench:compare -- [--workloads quick|full|gpt2:1x128,...] [--backends tensorflow,wasm]
 *                            [--python .venv/bin/python] [--cache states] [--iters 5] [--layers all|none|0,5] [--out FILE]
 *
 * A workload is `model:BATCHxSEQ[@backend+backend]` (ViT ignores SEQ; `@…` limits the backends of that workload).
 * `quick` = GPT-2 small 1×128 (all backends) and 4×512 (tensorflow); `full` adds
 * GPT-2 XL 1×128, ViT-L/16 batch 8 and Whisper-large (encoder on 30 s + a 64-token decoder). The Python needs
 * torch and transformers (`pip install torch==2.13.0+cpu transformers==5.18.0`); never a package dependency.
 * Each run is a separate process (tfjs-lens CLI, bench_hf.py), so one model's memory never holds the next.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { cpus, hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchSuiteSchema, type BenchResult } from '../lib/bench/schema.js';
import { formatComparison, pairResults } from '../lib/bench/compare.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = join(ROOT, 'dist', 'lib', 'cli', 'main.js');
const WORKLOADS: Record<string, string[]> = {
  quick: ['gpt2:1x128', 'gpt2:4x512@tensorflow'],
  full: ['gpt2:1x128', 'gpt2:4x512@tensorflow', 'gpt2-xl:1x128@tensorflow', 'vit-l16:8x0@tensorflow', 'whisper-large:1x64@tensorflow'],
};

interface Options {
  workloads: string[];
  backends: string[];
  python: string;
  cache: string;
  iters: number;
  layers: string;
  out: string;
}

function parse(argv: string[]): Options {
  const get = (flag: string, fallback: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 && argv[i + 1] ? argv[i + 1]! : fallback;
  };
  const w = get('--workloads', 'quick');
  const date = new Date().toISOString().slice(0, 10);
  return {
    workloads: WORKLOADS[w] ?? w.split(','),
    backends: get('--backends', 'tensorflow,wasm').split(','),
    python: get('--python', process.env.TFJS_LENS_BENCH_PYTHON ?? 'python3'),
    cache: get('--cache', 'states'),
    iters: Number(get('--iters', '5')),
    layers: get('--layers', 'all'),
    out: get('--out', join(ROOT, 'bench', 'results', `${date}-${hostname()}-compare.json`)),
  };
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): boolean {
  process.stderr.write(`bench:compare: ${cmd === process.execPath ? 'node' : cmd} ${args.join(' ')}\n`);
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, ...env } });
  if (r.status !== 0) process.stderr.write(`bench:compare: exited ${r.status ?? r.signal}; skipping this run\n`);
  return r.status === 0;
}

function readRuns(file: string): BenchResult[] {
  const json = JSON.parse(readFileSync(file, 'utf8')) as unknown;
  const suite = benchSuiteSchema.safeParse(json);
  return suite.success ? suite.data.runs : [json as BenchResult];
}

function main(): void {
  const opts = parse(process.argv.slice(2));
  const threads = String(cpus().length);
  const tmp = mkdtempSync(join(tmpdir(), 'tfjs-lens-compare-'));
  const ours: BenchResult[] = [];
  const reference: BenchResult[] = [];
  // Same thread count for both: TensorFlow's and PyTorch's intra-op pools default to the cores; make it explicit.
  const env = { OMP_NUM_THREADS: threads, TF_NUM_INTRAOP_THREADS: threads, TF_CPP_MIN_LOG_LEVEL: '3' };
  for (const w of opts.workloads) {
    const [spec, only] = w.split('@');
    const [model, shape = '1x128'] = spec!.split(':');
    const [batch, seq] = shape.split('x');
    for (const backend of opts.backends.filter((b) => !only || only.split('+').includes(b))) {
      const file = join(tmp, `${model}-${shape}-${backend}.json`);
      const args = [CLI, 'bench', '-m', model!, '-b', backend, '--batch', batch!, '--seq', seq && seq !== '0' ? seq : '64', '--cache', opts.cache, '--iters', String(opts.iters), '--layers', opts.layers, '-o', file];
      if (run(process.execPath, args, env)) ours.push(...readRuns(file));
    }
    const first = ours.filter((r) => r.model.name === model).at(-1);
    if (!first) continue;
    const single = join(tmp, `${model}-${shape}-ours.json`);
    writeFileSync(single, JSON.stringify(first));
    const torchFile = join(tmp, `${model}-${shape}-torch.json`);
    if (run(opts.python, [join(ROOT, 'bench', 'reference', 'bench_hf.py'), '--from-result', single, '--device', 'cpu', '--attn', 'eager', '--out', torchFile], env)) reference.push(...readRuns(torchFile));
  }
  const suite = { schema: 'tfjs-lens-bench-suite/1', date: new Date().toISOString(), title: `tfjs-lens vs Hugging Face PyTorch on ${hostname()} (${threads} threads)`, runs: [...ours, ...reference] };
  mkdirSync(dirname(opts.out), { recursive: true });
  writeFileSync(opts.out, `${JSON.stringify(suite, null, 2)}\n`);
  for (const backend of opts.backends) {
    const pairs = pairResults(ours.filter((r) => r.backend === backend), reference);
    for (const [o, r] of pairs) process.stdout.write(`${formatComparison(o, r, { ours: `tfjs-lens ${o.backend}`, reference: `PyTorch ${r.backend}` })}\n\n`);
  }
  process.stdout.write(`wrote ${opts.out}\n`);
}

main();
