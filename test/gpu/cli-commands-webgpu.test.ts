/**
 * The CLI on the tier's GPU backend (webgpu by default; SwiftShader in CI): `lens`, `hooks`, `patch` and
 * `saturation` print the same `--json` output as on wasm (floats within 1e-4 relative, everything else exact;
 * backend names, paths and timings aside): token checks, patching metrics and rank tables read the GPU
 * asynchronously. Head scores and the explorer's server run in webgpu-async-reads.test.ts. The other analysis
 * commands (heads, shortcuts, probe, intervene, early-exit, probe-grid, merge of GPU shards) were run by hand on
 * SwiftShader with the same result; at 15–45 s each there they would take CI past its time budget (docs/backends.md).
 * Skipped where the backend is absent.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setBackend } from '../../lib/backend/index.js';
import { BackendUnavailableError } from '../../lib/errors.js';
import { ROOT } from '../helpers/fixtures.js';
import { CLI } from '../helpers/cli.js';
import { testBackend } from '../helpers/backend.js';

const GPU = testBackend('webgpu');
const TEXT = join(ROOT, 'data', 'text', 'sentences.txt');
let skip: string | undefined;

before(async () => {
  try {
    await setBackend(GPU);
  } catch (err) {
    if (!(err instanceof BackendUnavailableError)) throw err;
    skip = `${GPU} is not available here: ${err.message}`;
  }
});

/** Runs `tfjs-lens ...args --backend backend --json` in a child process and returns the parsed output. */
function runJson(backend: string, args: readonly string[]): unknown {
  const r = spawnSync(process.execPath, [CLI, ...args, '--backend', backend, '--json'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, `tfjs-lens ${args.join(' ')} --backend ${backend}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** Keys whose values name the backend, a path or a time: not compared. */
const IGNORED = /^(backend|backends|device|versions|model|out|outDir|files|runDir|report|png|svg|html|file|path|seconds|ms|.*Ms|.*Seconds|timing|timings|date|host|machine|software)$/;

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

/** Each command with small inputs; `out` folders differ per backend. */
const COMMANDS: { name: string; args: (out: string) => string[] }[] = [
  { name: 'lens', args: () => ['lens', '--text', 'The capital city of France is'] },
  { name: 'hooks', args: () => ['hooks'] },
  { name: 'patch', args: (out) => ['patch', '--clean', 'The capital city of France is', '--corrupt', 'The capital city of Italy is', '--answer', ' Paris', '--wrong', ' Rome', '--out', out] },
  { name: 'saturation', args: (out) => ['saturation', '--text-file', TEXT, '--max-examples', '4', '--out', out] },
];

for (const { name, args } of COMMANDS) {
  test(`${name} on the GPU backend = ${name} on wasm`, async (t) => {
    if (skip) return t.skip(skip);
    const [gpuOut, wasmOut] = [tmp(), tmp()];
    try {
      const gpu = runJson(GPU, args(gpuOut));
      const wasm = runJson('wasm', args(wasmOut));
      assert.deepEqual(differences(gpu, wasm), []);
    } finally {
      rmSync(gpuOut, { recursive: true, force: true });
      rmSync(wasmOut, { recursive: true, force: true });
    }
  });
}
