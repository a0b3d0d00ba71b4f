/**
 * Every analysis command of the CLI on the tier's GPU backend (webgpu by default; SwiftShader in CI) prints the
 * same `--json` output as on wasm (floats within 1e-4 relative, everything else exact; backend names, paths and
 * timings aside): lens, hooks, patch, saturation, heads, shortcuts, shortcuts shards merged, probe, intervene,
 * early-exit, probe-grid and demo; `bench` runs and times every block. Inputs are small (SwiftShader spends
 * milliseconds per GPU program): equal-length token sequences batch into one forward pass. `explore` started
 * from the CLI serves the same lens grid and head scores on the GPU as on wasm (its server's other routes run in
 * webgpu-async-reads.test.ts). Skipped where the backend is absent.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setBackend } from '../../lib/backend/index.js';
import { BackendUnavailableError } from '../../lib/errors.js';
import { ROOT } from '../helpers/fixtures.js';
import { CLI } from '../helpers/cli.js';
import { testBackend } from '../helpers/backend.js';
import { loadHfTokenizer } from '../../lib/data/hf-tokenizer.js';
import { jobResult, startExploreCli } from '../helpers/explore.js';

const GPU = testBackend('webgpu');
const TEXT = join(ROOT, 'data', 'text', 'sentences.txt');
let skip: string | undefined;

/**
 * The first `n` shipped sentences of at least `len` tokens, cut to their first `len` tokens, as an `--ids-file`:
 * sequences of one length run as one batch, so a command makes a few GPU programs per layer instead of a few
 * per sentence (SwiftShader spends milliseconds on each).
 */
function equalLengthIds(dir: string, n: number, len: number): string {
  const tokenizer = loadHfTokenizer(join(ROOT, 'weights', 'tiny-gpt2'));
  const rows = readFileSync(TEXT, 'utf8').split('\n').map((line) => tokenizer.encode(line)).filter((ids) => ids.length >= len).slice(0, n);
  assert.equal(rows.length, n);
  const file = join(dir, `ids-${n}x${len}.txt`);
  writeFileSync(file, rows.map((ids) => ids.slice(0, len).join(',')).join('\n') + '\n');
  return file;
}

let idsDir: string | undefined;
/** `n` (8 or 16) shipped sentences cut to 10 tokens each (see `equalLengthIds`). */
const ids = (n: 8 | 16 = 16) => join(idsDir!, `ids-${n}x10.txt`);

before(async () => {
  try {
    await setBackend(GPU);
  } catch (err) {
    if (!(err instanceof BackendUnavailableError)) throw err;
    skip = `${GPU} is not available here: ${err.message}`;
    return;
  }
  idsDir = mkdtempSync(join(tmpdir(), 'tfjs-lens-cli-gpu-ids-'));
  equalLengthIds(idsDir, 16, 10);
  equalLengthIds(idsDir, 8, 10);
});

after(() => {
  if (idsDir) rmSync(idsDir, { recursive: true, force: true });
});

/** Runs `tfjs-lens ...args --backend backend --json` in a child process and returns the parsed output. */
function runJson(backend: string, args: readonly string[]): unknown {
  const r = spawnSync(process.execPath, [CLI, ...args, '--backend', backend, '--json'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, `tfjs-lens ${args.join(' ')} --backend ${backend}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** Keys whose values name the backend, a path or a time: not compared. */
const IGNORED = /^(backend|backends|device|versions|model|out|outDir|files|runDir|report|png|svg|html|file|path|figures|log|seconds|ms|.*Ms|.*Seconds|timing|timings|date|host|machine|software)$/;

/** Relative tolerance of floats between the GPU and wasm. */
const REL = 1e-4;

/** Differences between two JSON values: floats within `REL` relative, everything else exact. */
function differences(a: unknown, b: unknown, path = '', out: string[] = []): string[] {
  if (out.length > 5) return out;
  if (typeof a === 'number' && typeof b === 'number') {
    if (Number.isInteger(a) && Number.isInteger(b) ? a !== b : Math.abs(a - b) > REL * Math.max(1, Math.abs(a), Math.abs(b))) out.push(`${path}: ${a} vs ${b}`);
  } else if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) out.push(`${path}: length ${a.length} vs ${b.length}`);
    else a.forEach((x, i) => differences(x, b[i], `${path}[${i}]`, out));
  } else if (a && b && typeof a === 'object' && typeof b === 'object') {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) {
      if (IGNORED.test(k)) continue;
      differences((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`, out);
    }
  } else if (a !== b) out.push(`${path}: ${JSON.stringify(a)?.slice(0, 60)} vs ${JSON.stringify(b)?.slice(0, 60)}`);
  return out;
}

const tmp = () => mkdtempSync(join(tmpdir(), 'tfjs-lens-cli-gpu-'));

/**
 * Every analysis command with the smallest inputs that still exercise its whole path (SwiftShader spends
 * milliseconds per GPU program, so the inputs are a few sentences). A command is one or more CLI runs; the
 * last one's JSON is compared. `out` folders differ per backend.
 */
const COMMANDS: { name: string; runs: (out: string) => string[][] }[] = [
  { name: 'lens', runs: () => [['lens', '--text', 'The capital city of France is']] },
  { name: 'hooks', runs: () => [['hooks']] },
  { name: 'patch', runs: (out) => [['patch', '--clean', 'The capital city of France is', '--corrupt', 'The capital city of Italy is', '--answer', ' Paris', '--wrong', ' Rome', '--out', out]] },
  { name: 'saturation', runs: (out) => [['saturation', '--ids-file', ids(), '--out', out]] },
  { name: 'heads', runs: (out) => [['heads', '--n-tokens', '8', '--batch', '2', '--out', out]] },
  { name: 'shortcuts', runs: (out) => [['shortcuts', '--ids-file', ids(), '--n-train', '12', '--n-val', '4', '--out', out]] },
  {
    // shards collected on the GPU, merged on the host: what `merge` writes from them
    name: 'shortcuts --shard + merge',
    runs: (out) => [0, 1].map((i) => ['shortcuts', '--ids-file', ids(), '--n-train', '12', '--n-val', '4', '--shard', `${i}/2`, '--run-dir', join(out, 'run')] as string[])
      .concat([['merge', join(out, 'run'), '--out', join(out, 'merged')]]),
  },
  { name: 'probe', runs: () => [['probe', '--ids-file', ids(8), '--J0', '0', '--K', '3', '--probe-k', '3', '--min-per-layer', '3', '--folds', '2']] },
  { name: 'intervene', runs: (out) => [['intervene', '--ids-file', ids(), '--delta', '2', '--half-width', '1', '--min-s', '1', '--n-pairs', '2', '--out', out]] },
  { name: 'early-exit', runs: (out) => [['early-exit', '--ids-file', ids(8), '--articles', '2', '--probe-articles', '6', '--J0', '0', '--K', '3', '--calm', 'none', '--out', out]] },
  { name: 'demo', runs: (out) => [['demo', '--n-tokens', '8', '--batch', '2', '--heldout-tokens', '32', '--out', out]] },
  { name: 'probe-grid', runs: (out) => [['probe-grid', '--dataset', 'source', '--max-examples', '16', '--layers', '2', '--poolers', 'mean', '--classifiers', 'logistic,lda', '--folds', '2', '--out', out]] },
];

for (const { name, runs } of COMMANDS) {
  test(`${name} on the GPU backend = ${name} on wasm`, async (t) => {
    if (skip) return t.skip(skip);
    const [gpuOut, wasmOut] = [tmp(), tmp()];
    try {
      const gpu = runs(gpuOut).map((args) => runJson(GPU, args)).at(-1);
      const wasm = runs(wasmOut).map((args) => runJson('wasm', args)).at(-1);
      assert.deepEqual(differences(gpu, wasm), []);
    } finally {
      rmSync(gpuOut, { recursive: true, force: true });
      rmSync(wasmOut, { recursive: true, force: true });
    }
  });
}

/** What the bench checks below read of `bench --json`. */
interface BenchJson {
  backend: string;
  model: { params: number; source: string };
  settings: { seq: number };
  forward: { ms: { n: number; median: number } };
  blocks: { name: string; tokens: number; ms: { median: number }; parts: { part: string; ms: { median: number } }[] }[];
  memory: { weightsBytes: number };
}

test('bench runs on the GPU backend: the same model, a timed forward and every block and sub-block timed', async (t) => {
  if (skip) return t.skip(skip);
  const args = ['bench', '--model', join(ROOT, 'weights', 'tiny-gpt2'), '--seq', '8', '--iters', '2', '--warmup', '1', '--no-memory', '--layers', 'all'];
  const gpu = runJson(GPU, args) as BenchJson;
  const wasm = runJson('wasm', args) as BenchJson;
  assert.equal(gpu.backend, GPU);
  assert.equal(gpu.model.source, 'checkpoint');
  // the same checkpoint on both backends: parameter count and weight bytes agree
  assert.equal(gpu.model.params, wasm.model.params);
  assert.equal(gpu.memory.weightsBytes, wasm.memory.weightsBytes);
  assert.equal(gpu.forward.ms.n, 2);
  assert.ok(gpu.forward.ms.median > 0, `forward median ${gpu.forward.ms.median} ms`);
  assert.deepEqual(gpu.blocks.map((b) => b.name), wasm.blocks.map((b) => b.name));
  assert.equal(gpu.blocks.length, 4);
  for (const b of gpu.blocks) {
    assert.equal(b.tokens, 8);
    assert.ok(b.ms.median > 0, `${b.name}: ${b.ms.median} ms`);
    assert.deepEqual(b.parts.map((p) => p.part), ['attn', 'mlp']);
  }
});

test('explore on the GPU backend: the served lens grid and head scores = those of explore on wasm', async (t) => {
  if (skip) return t.skip(skip);
  const servers: ChildProcess[] = [];
  try {
    const replies: unknown[][] = [];
    for (const backend of [GPU, 'wasm']) {
      const { url, child } = await startExploreCli(['--backend', backend]);
      servers.push(child);
      const info = (await (await fetch(new URL('/api/info', url))).json()) as { backend: string };
      assert.match(info.backend, new RegExp(`^${backend}`));
      replies.push([await jobResult(url, '/api/lens', { text: 'The capital city of France is', k: 3 }), await jobResult(url, '/api/attention/heads', { nTokens: 8, batch: 2 })]);
    }
    assert.deepEqual(differences(replies[0], replies[1]), []);
  } finally {
    for (const child of servers) child.kill('SIGTERM');
  }
});
