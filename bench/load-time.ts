/**
 * `npm run bench:load -- CHECKPOINT_DIR`: cold start side by side with Hugging Face PyTorch. In fresh processes,
 * on the same warm page cache (every checkpoint file is read once first): `loadModel` vs `from_pretrained`
 * (memory-mapped safetensors; on the tensorflow backend, tensors of a 64-byte aligned checkpoint map the file too —
 * `tfjs-lens align` — and the bytes mapped are recorded), then the first `runWithCache` of every `hook_resid_post` + the logit lens on fixed
 * ids vs the first forward with `output_hidden_states` + the same lens, then the median of warm repeats; peak RSS.
 *
 *   npm run bench:load -- DIR [--backends tensorflow] [--python /path/to/python] [--tokens 8] [--warm 3] [--repeats 3] [--out FILE]
 *
 * Each tool runs `--repeats` times, the tools alternating (ours, PyTorch, ours, …), each run in a fresh process after
 * the page cache is warmed again; the medians are compared. Writes `bench/results/<date>-<host>-load.json` (every
 * run and the medians) and prints ours / PyTorch ratios.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, openSync, readSync, closeSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { setBackend } from '../lib/backend/index.js';
import { mappedFileBytes } from '../lib/backend/file-tensors.js';
import { loadModel } from '../lib/nn/load.js';
import { logitLens, residNamesFilter } from '../lib/lens/logit-lens.js';
import type { HookedGPT2 } from '../lib/nn/gpt2.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

interface ColdStart {
  tool: string;
  backend?: string;
  loadSeconds: number;
  firstRunSeconds: number;
  warmRunSeconds: number;
  rssPeakBytes: number;
  /** tfjs-lens: bytes of the checkpoint's files mapped right after `loadModel` (weights mapped, not read; 0 when read). */
  mappedBytes?: number;
}

function option(argv: string[], flag: string, fallback: string): string {
  const i = argv.indexOf(flag);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : fallback;
}

/** Reads every file of the checkpoint once, so that both tools start from the same warm page cache. */
function warmPageCache(dir: string): void {
  const buf = Buffer.allocUnsafe(64 << 20);
  for (const name of readdirSync(dir)) {
    const fd = openSync(join(dir, name), 'r');
    try {
      while (readSync(fd, buf, 0, buf.length, null) > 0);
    } finally {
      closeSync(fd);
    }
  }
}

async function measure(backend: string, dir: string, tokens: number, warmRuns: number): Promise<ColdStart> {
  await setBackend(backend as Parameters<typeof setBackend>[0]);
  const t0 = performance.now();
  const model = await loadModel(dir);
  const loadSeconds = (performance.now() - t0) / 1000;
  const mappedBytes = mappedFileBytes((path) => path.startsWith(`${dir}/`));
  const vocab = (JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { vocab_size: number }).vocab_size;
  const ids = [Array.from({ length: tokens }, (_, i) => (i * 7919 + 13) % vocab)];
  const run = async (): Promise<void> => {
    const lm = model as HookedGPT2;
    const { output, cache } = await lm.runWithCache(ids, { namesFilter: residNamesFilter(lm) });
    const lens = logitLens(lm, cache);
    await lens.data();
    tf.dispose([output, lens]);
    cache.dispose();
  };
  const t1 = performance.now();
  await run();
  const firstRunSeconds = (performance.now() - t1) / 1000;
  const warm: number[] = [];
  for (let i = 0; i < warmRuns; i++) {
    const t = performance.now();
    await run();
    warm.push((performance.now() - t) / 1000);
  }
  warm.sort((a, b) => a - b);
  model.dispose();
  return { tool: 'tfjs-lens', backend, loadSeconds, firstRunSeconds, warmRunSeconds: warm[Math.floor(warm.length / 2)]!, rssPeakBytes: process.resourceUsage().maxRSS * 1024, mappedBytes };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const dir = resolve(argv.find((a, i) => !a.startsWith('--') && (i === 0 || !argv[i - 1]!.startsWith('--'))) ?? '');
  const tokens = Number(option(argv, '--tokens', '8'));
  const warm = Number(option(argv, '--warm', '3'));
  const child = option(argv, '--child', '');
  if (child) {
    process.stdout.write(`${JSON.stringify(await measure(child, dir, tokens, warm))}\n`);
    return;
  }
  const backends = option(argv, '--backends', 'tensorflow').split(',');
  const python = option(argv, '--python', process.env.TFJS_LENS_BENCH_PYTHON ?? 'python3');
  const date = new Date().toISOString().slice(0, 10);
  const out = option(argv, '--out', join(ROOT, 'bench', 'results', `${date}-${hostname()}-load.json`));
  const repeats = Number(option(argv, '--repeats', '3'));
  if (!Number.isInteger(repeats) || repeats < 1) throw new Error(`--repeats ${repeats} is not a positive integer`);
  const last = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1)!) as ColdStart;
  const runs: ColdStart[] = [];
  let pythonFailed = false;
  for (let rep = 0; rep < repeats; rep++) {
    for (const backend of backends) {
      warmPageCache(dir);
      const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), dir, '--child', backend, '--tokens', String(tokens), '--warm', String(warm)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
      if (r.status === 0) runs.push(last(r.stdout));
      else process.stderr.write(`bench:load: ${backend} exited ${r.status ?? r.signal}\n`);
    }
    if (pythonFailed) continue;
    warmPageCache(dir);
    const py = spawnSync(python, [join(ROOT, 'bench', 'reference', 'load_hf.py'), dir, '--tokens', String(tokens), '--warm', String(warm)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, HF_HUB_OFFLINE: '1', TRANSFORMERS_VERBOSITY: 'error' } });
    if (py.status === 0) runs.push(last(py.stdout));
    else {
      pythonFailed = true;
      process.stderr.write(`bench:load: ${python} load_hf.py exited ${py.status ?? py.signal} (needs torch + transformers)\n`);
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const label = (r: ColdStart) => `${r.tool}${r.backend ? ` ${r.backend}` : ''}`;
  const rows: (ColdStart & { runs: number; loadSecondsRange: [number, number] })[] = [];
  for (const name of [...new Set(runs.map(label))]) {
    const mine = runs.filter((r) => label(r) === name);
    const loads = mine.map((r) => r.loadSeconds);
    rows.push({
      tool: mine[0]!.tool,
      backend: mine[0]!.backend,
      loadSeconds: median(loads),
      firstRunSeconds: median(mine.map((r) => r.firstRunSeconds)),
      warmRunSeconds: median(mine.map((r) => r.warmRunSeconds)),
      rssPeakBytes: median(mine.map((r) => r.rssPeakBytes)),
      ...(mine[0]!.mappedBytes !== undefined ? { mappedBytes: median(mine.map((r) => r.mappedBytes ?? 0)) } : {}),
      runs: mine.length,
      loadSecondsRange: [Math.min(...loads), Math.max(...loads)],
    });
  }
  const reference = rows.find((r) => r.tool === 'pytorch');
  for (const r of rows) {
    const ratio = (k: keyof ColdStart) => (reference ? ` (${((r[k] as number) / (reference[k] as number)).toFixed(2)}× PyTorch)` : '');
    process.stdout.write(
      `${label(r)}, median of ${r.runs}: load ${r.loadSeconds.toFixed(2)} s${ratio('loadSeconds')} [${r.loadSecondsRange.map((x) => x.toFixed(2)).join('–')}], first run ${r.firstRunSeconds.toFixed(2)} s${ratio('firstRunSeconds')}, ` +
        `warm run ${r.warmRunSeconds.toFixed(2)} s${ratio('warmRunSeconds')}, first/warm ${(r.firstRunSeconds / r.warmRunSeconds).toFixed(2)}, peak RSS ${(r.rssPeakBytes / 2 ** 30).toFixed(2)} GiB` +
        `${r.mappedBytes !== undefined ? `, weights mapped from the file ${(r.mappedBytes / 2 ** 30).toFixed(2)} GiB` : ''}\n`,
    );
  }
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify({ schema: 'tfjs-lens-load/2', date: new Date().toISOString(), host: hostname(), checkpoint: dir, tokens, repeats, results: rows, runs }, null, 2)}\n`);
  process.stdout.write(`wrote ${out}\n`);
}

await main();
