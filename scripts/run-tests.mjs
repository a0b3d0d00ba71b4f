#!/usr/bin/env node
// Runs the compiled node:test files under dist/test in tiers, one backend dimension per tier:
//   default     every unit, parity, integration and conformance test on the backends each test names (wasm,
//               cpu; tfjs-core's own op suite runs on cpu);
//   tensorflow  the same files again with TFJS_LENS_TEST_BACKEND=tensorflow (the op suite on tensorflow too)
//               — when `npx tfjs-lens setup tensorflow` has made that backend loadable;
//   webgpu      test/gpu (parity on WebGPU) — when a WebGPU adapter exists (a software one counts here).
// A tier whose backend is absent is skipped with the reason. `TFJS_LENS_TEST_TIERS=default,tensorflow` picks
// tiers; `node scripts/run-tests.mjs test/gpu` runs just those folders (the old form, used by test:gpu).
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const SPECIAL = [join('dist', 'test', 'gpu')];

function collect(roots, exclude = []) {
  const files = [];
  const walk = (dir) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) {
        if (!exclude.includes(path)) walk(path);
      } else if (name.endsWith('.test.js')) files.push(path);
    }
  };
  for (const r of roots) if (existsSync(r)) walk(r);
  return files;
}

const totals = { passed: 0, failed: 0, skipped: 0 };
let runs = 0;

/** Runs test files (spec reporter on the terminal, TAP to a file for the totals); returns the exit status. */
function runFiles(files, env = {}, concurrency = 1) {
  if (!files.length) return 1;
  const tap = join(tmpdir(), `tfjs-lens-tests-${process.pid}-${runs++}.tap`);
  const r = spawnSync(process.execPath, ['--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', '--test-reporter-destination=stdout', '--test-reporter=tap', `--test-reporter-destination=${tap}`, ...files], { stdio: 'inherit', env: { ...process.env, ...env } });
  try {
    const text = readFileSync(tap, 'utf8');
    const count = (key) => Number(new RegExp(`^# ${key} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
    totals.passed += count('pass');
    totals.failed += count('fail') + count('cancelled');
    totals.skipped += count('skipped') + count('todo');
    rmSync(tap, { force: true });
  } catch {
    totals.failed += 1; // no report: count the run as failed
  }
  return r.status ?? 1;
}

/** Loads a backend in a child process; returns undefined when it works, else the reason. */
function probe(backend) {
  const code = `const m = await import('./dist/lib/backend/index.js');
try { const a = await m.setBackend(${JSON.stringify(backend)}, { verbose: false }); console.log('OK ' + a.detail); }
catch (e) { console.log('NO ' + String(e.message).split('\\n')[0]); }
process.exit(0);`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', timeout: 120_000 });
  const line = (r.stdout ?? '').trim().split('\n').filter((l) => /^(OK|NO) /.test(l)).pop();
  if (!line) return { ok: false, why: `the probe crashed (${r.signal ?? `exit ${r.status}`}): ${(r.stderr ?? '').trim().split('\n').slice(-2).join(' ')}` };
  return line.startsWith('OK ') ? { ok: true, detail: line.slice(3) } : { ok: false, why: line.slice(3) };
}

function banner(text) {
  process.stdout.write(`\n==== ${text} ====\n`);
}

/** Runs `files` with TFJS_LENS_TEST_BACKEND=backend when that backend loads; 'skipped' (saying why) when not. */
function backendTier(backend, files, concurrency = 1) {
  const p = probe(backend);
  banner(p.ok ? `tier ${backend}: ${p.detail}${concurrency > 1 ? `, ${concurrency} files at a time` : ''}` : `tier ${backend}: skipped — ${p.why}`);
  return p.ok ? runFiles(files, { TFJS_LENS_TEST_BACKEND: backend }, concurrency) : 'skipped';
}

const wanted = process.argv.slice(2);
if (wanted.length) {
  const files = collect(wanted.map((w) => join('dist', w)));
  if (!files.length) {
    console.error(`no test files under ${wanted.join(', ')}`);
    process.exit(1);
  }
  const status = runFiles(files);
  process.stdout.write(`tests: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped\n`);
  process.exit(status);
}

const tiers = (process.env.TFJS_LENS_TEST_TIERS ?? 'default,tensorflow,webgpu').split(',').map((s) => s.trim()).filter(Boolean);
// Test files at a time: one per core in the default tier (wasm runs on one thread) and the tensorflow tier (measured
// on 2 cores: 345 → 211 s; much of a file's time is single-threaded JavaScript and child CLIs); one in the webgpu
// tier (SwiftShader uses every core: 215 s alone, 245 s two at a time). TFJS_LENS_TEST_CONCURRENCY overrides the first two.
const concurrency = Number(process.env.TFJS_LENS_TEST_CONCURRENCY ?? availableParallelism());
if (!Number.isInteger(concurrency) || concurrency < 1) {
  console.error(`TFJS_LENS_TEST_CONCURRENCY must be a positive integer, got '${process.env.TFJS_LENS_TEST_CONCURRENCY}'`);
  process.exit(1);
}
const results = [];
for (const tier of tiers) {
  if (tier === 'default') {
    banner(`tier default: unit, parity, integration, conformance (wasm and cpu), ${concurrency} file${concurrency === 1 ? '' : 's'} at a time`);
    results.push([tier, runFiles(collect([join('dist', 'test')], SPECIAL), {}, concurrency)]);
  } else if (tier === 'tensorflow') {
    results.push([tier, backendTier('tensorflow', collect([join('dist', 'test')], SPECIAL), concurrency)]);
  } else if (tier === 'webgpu') {
    results.push([tier, backendTier('webgpu', collect([join('dist', 'test', 'gpu')]))]);
  } else {
    console.error(`unknown tier '${tier}' (default, tensorflow, webgpu)`);
    process.exit(1);
  }
}
banner(`tiers: ${results.map(([t, s]) => `${t} ${s === 'skipped' ? 'skipped' : s === 0 ? 'passed' : 'FAILED'}`).join(', ')}`);
process.stdout.write(`tests: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped\n`);
process.exit(results.some(([, s]) => s !== 'skipped' && s !== 0) ? 1 : 0);
