/**
 * `npm run soak`: the leak soak. Runs the hooked paths users loop over — `runWithCache` of every
 * `hook_resid_post` + the logit lens, `runWithHooks` with a patching hook, and a plain `forward` — N times
 * per backend on one model, and samples `tf.memory()` and the process's RSS as it goes. A leak shows as
 * tensors or backend bytes that grow with the iteration count, or as RSS that keeps climbing after the
 * allocator has settled (the slope is fitted on the second half of the samples).
 *
 *   npm run soak -- [--model weights/tiny-gpt2] [--backends tensorflow,wasm] [--n 10000] [--samples 20]
 *                   [--seq 32] [--out FILE]
 *
 * Exit status 1 when tensors or backend bytes at the end differ from the first sample (after warm-up).
 * Results go to `bench/results/<date>-<host>-soak.json` (one entry per backend).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs-core';
import { setBackend } from '../lib/backend/index.js';
import { loadModel } from '../lib/nn/load.js';
import { logitLens, residNamesFilter } from '../lib/lens/logit-lens.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

interface Sample {
  iteration: number;
  tensors: number;
  backendBytes: number;
  rssBytes: number;
  heapUsedBytes: number;
  externalBytes: number;
}

interface SoakResult {
  backend: string;
  device: string;
  model: string;
  seq: number;
  iterations: number;
  seconds: number;
  samples: Sample[];
  /** RSS growth per 1000 iterations, least-squares slope over the second half of the samples. */
  rssSlopeBytesPer1000: number;
  tensorsGrew: number;
  backendBytesGrew: number;
}

function option(argv: string[], flag: string, fallback: string): string {
  const i = argv.indexOf(flag);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : fallback;
}

function sample(iteration: number): Sample {
  const mem = tf.memory();
  const proc = process.memoryUsage();
  return { iteration, tensors: mem.numTensors, backendBytes: mem.numBytes, rssBytes: proc.rss, heapUsedBytes: proc.heapUsed, externalBytes: proc.external };
}

function slopePer1000(samples: readonly Sample[]): number {
  const half = samples.slice(Math.floor(samples.length / 2));
  const n = half.length;
  if (n < 2) return 0;
  const mx = half.reduce((s, p) => s + p.iteration, 0) / n;
  const my = half.reduce((s, p) => s + p.rssBytes, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (const p of half) {
    sxy += (p.iteration - mx) * (p.rssBytes - my);
    sxx += (p.iteration - mx) ** 2;
  }
  return sxx === 0 ? 0 : (sxy / sxx) * 1000;
}

/** One backend in this process (the parent runs each backend in its own child, so RSS is the backend's own). */
async function soakOne(backend: string, modelDir: string, n: number, nSamples: number, seq: number): Promise<SoakResult> {
  const info = await setBackend(backend as Parameters<typeof setBackend>[0]);
  const model = await loadModel(modelDir, { modelType: 'gpt2' });
  const vocab = model.cfg.dVocab;
  const ids = [Array.from({ length: seq }, (_, i) => (i * 7919 + 13) % vocab)];
  const names = residNamesFilter(model);
  const step = async (i: number): Promise<void> => {
    switch (i % 3) {
      case 0: {
        const { output, cache } = await model.runWithCache(ids, { namesFilter: names });
        const lens = logitLens(model, cache);
        await lens.data();
        tf.dispose([output, lens]);
        cache.dispose();
        break;
      }
      case 1: {
        const out = await model.runWithHooks(ids, { fwdHooks: [['blocks.0.hook_resid_post', (x) => tf.mul(x, 0.5)]] });
        await out.data();
        out.dispose();
        break;
      }
      default: {
        const out = await model.forward(ids);
        await out.data();
        out.dispose();
      }
    }
  };
  for (let i = 0; i < 30; i++) await step(i); // warm-up: kernels, allocator pools
  const every = Math.max(1, Math.floor(n / nSamples));
  const samples: Sample[] = [sample(0)];
  const t0 = performance.now();
  for (let i = 1; i <= n; i++) {
    await step(i);
    if (i % every === 0 || i === n) samples.push(sample(i));
  }
  const seconds = (performance.now() - t0) / 1000;
  const first = samples[0]!;
  const last = samples.at(-1)!;
  model.dispose();
  return {
    backend,
    device: info.detail,
    model: modelDir,
    seq,
    iterations: n,
    seconds,
    samples,
    rssSlopeBytesPer1000: slopePer1000(samples),
    tensorsGrew: last.tensors - first.tensors,
    backendBytesGrew: last.backendBytes - first.backendBytes,
  };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const modelDir = option(argv, '--model', join(ROOT, 'weights', 'tiny-gpt2'));
  const n = Number(option(argv, '--n', '10000'));
  const nSamples = Number(option(argv, '--samples', '20'));
  const seq = Number(option(argv, '--seq', '32'));
  const child = option(argv, '--child', '');
  if (child) {
    const result = await soakOne(child, modelDir, n, nSamples, seq);
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  const backends = option(argv, '--backends', 'tensorflow,wasm').split(',');
  const date = new Date().toISOString().slice(0, 10);
  const out = option(argv, '--out', join(ROOT, 'bench', 'results', `${date}-${hostname()}-soak.json`));
  const results: SoakResult[] = [];
  let failed = false;
  for (const backend of backends) {
    process.stderr.write(`soak: ${backend}, ${n} iterations of ${seq} tokens …\n`);
    const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', backend, '--model', modelDir, '--n', String(n), '--samples', String(nSamples), '--seq', String(seq)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 << 20 });
    if (r.status !== 0) {
      process.stderr.write(`soak: ${backend} exited ${r.status ?? r.signal}\n`);
      failed = true;
      continue;
    }
    const result = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as SoakResult;
    results.push(result);
    const first = result.samples[0]!;
    const last = result.samples.at(-1)!;
    const mb = (b: number) => (b / 2 ** 20).toFixed(1);
    process.stdout.write(
      `${backend}: ${n} iterations in ${result.seconds.toFixed(0)} s; tensors ${first.tensors} → ${last.tensors}, backend ${mb(first.backendBytes)} → ${mb(last.backendBytes)} MB, ` +
        `RSS ${mb(first.rssBytes)} → ${mb(last.rssBytes)} MB (second-half slope ${mb(result.rssSlopeBytesPer1000)} MB per 1000)\n`,
    );
    if (result.tensorsGrew !== 0 || result.backendBytesGrew !== 0) failed = true;
  }
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify({ schema: 'tfjs-lens-soak/1', date: new Date().toISOString(), host: hostname(), results }, null, 2)}\n`);
  process.stdout.write(`wrote ${out}\n`);
  if (failed) process.exitCode = 1;
}

await main();
