/**
 * Sharded runs merged equal the single-process run, on the shipped tiny GPT-2 and the shipped sentences:
 * `shortcuts` (float64 Gram sums within 1e-12 relative, Precision@1 equal, r² within 1e-9), `saturation` (rows
 * and report identical) and `probe` (dataset rows and report identical), each with n = 1, 3 and 4 shards;
 * plus the errors of a run that is not one (missing shard, other options, changed input, no --run-dir).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { ROOT } from '../helpers/fixtures.js';
import { shardAll as shardAllIn, withoutPaths as reportWithoutPaths } from '../helpers/shards.js';
import { defaultTierOnly, testBackend } from '../helpers/backend.js';
import { runShortcuts, type ShortcutsOptions } from '../../lib/cli/shortcuts.js';
import { runSaturation, type SaturationOptions } from '../../lib/cli/saturation.js';
import { runProbe, type ProbeOptions } from '../../lib/cli/probe.js';
import { runMerge } from '../../lib/cli/merge.js';
import { isShardDone } from '../../lib/cli/shard.js';
import { mergeShortcutStatistics } from '../../lib/cli/shortcuts-shard.js';
import { mergeSaturationRows, saturationRows } from '../../lib/cli/saturation-shard.js';
import { mergeProbeData } from '../../lib/cli/probe-shard.js';
import { lensRankTables } from '../../lib/cli/saturation.js';
import { readTokenSequences } from '../../lib/cli/text-input.js';
import { readRunShards } from '../../lib/io/shard-run.js';
import { collectMatStatistics, type ShortcutStatistics } from '../../lib/shortcuts/index.js';
import { buildProbeDataset } from '../../lib/probes/index.js';
import { setBackend } from '../../lib/backend/index.js';
import { loadModel } from '../../lib/nn/load.js';
import { HookedGPT2 } from '../../lib/nn/gpt2.js';
import { InvalidArgumentError, ShardMergeError } from '../../lib/errors.js';

const MODEL = join(ROOT, 'weights', 'tiny-gpt2');
const TEXT = join(ROOT, 'data', 'text', 'sentences.txt');
const BACKEND = testBackend('wasm');
const COUNTS = [1, 3, 4];

let dir: string;
let tensorsBefore: number;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tfjs-lens-shard-merge-'));
  await setBackend(BACKEND);
  tensorsBefore = tf.memory().numTensors;
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
  assert.equal(tf.memory().numTensors, tensorsBefore, 'no tensors left behind');
});

/** The report without the paths that differ between the runs (input as given, output folder). */
const withoutPaths = (report: object) => reportWithoutPaths(report, { inputFile: true });

/** Runs every shard of `run` (in-process) into a fresh run folder; returns the folder. */
const shardAll = async (name: string, n: number, run: (shard: string, runDir: string) => Promise<object>): Promise<string> => (await shardAllIn(dir, name, n, run)).runDir;

function relDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) [num, den] = [num + (a[i]! - b[i]!) ** 2, den + b[i]! ** 2];
  return Math.sqrt(num) / Math.sqrt(den);
}

function maxStatisticsDiff(a: ShortcutStatistics, b: ShortcutStatistics): number {
  assert.equal(a.count, b.count);
  const pairs = [...a.fromLayer.map((g, i) => [g, b.fromLayer[i]!]), ...a.perBlock.flatMap((acc, k) => acc.map((g, j) => [g, b.perBlock[k]![j]!]))];
  let worst = 0;
  for (const [x, y] of pairs) {
    assert.equal(x!.count, y!.count);
    for (const key of ['xtx', 'xty', 'sumX', 'sumY'] as const) worst = Math.max(worst, relDiff(x![key], y![key]));
  }
  return worst;
}

/** Numbers within `tol` relative (scale max(1, |b|)); everything else equal. */
function assertClose(a: unknown, b: unknown, tol: number, path = ''): void {
  if (typeof a === 'number' && typeof b === 'number') {
    assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${path}: ${a} vs ${b}`);
  } else if (a && b && typeof a === 'object') {
    assert.deepEqual(Object.keys(a).sort(), Object.keys(b).sort(), path);
    for (const k of Object.keys(a)) assertClose((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], tol, `${path}.${k}`);
  } else {
    assert.equal(a, b, path);
  }
}

/** The shipped model and the first `maxExamples` shipped sentences, read as the commands read them. */
async function shipped(maxExamples: number) {
  const model = await loadModel(MODEL);
  assert.ok(model instanceof HookedGPT2);
  return { model, input: readTokenSequences({ textFile: TEXT, tokenizer: model.tokenizer, vocabSize: model.cfg.dVocab, maxLength: model.cfg.nCtx, maxExamples }) };
}

const shortcutsOpts = (extra: Partial<ShortcutsOptions> = {}): ShortcutsOptions => ({ model: MODEL, textFile: TEXT, nTrain: '24', nVal: '6', seed: '0', batch: '4', out: join(dir, 'shortcuts-single'), backend: BACKEND, ...extra });

test('shortcuts: 1, 3 and 4 shards merged = one process (Gram sums ≤ 1e-12 relative, Precision@1 equal, r² ≤ 1e-9)', defaultTierOnly(), async () => {
  const single = await runShortcuts(shortcutsOpts());
  assert.ok(!isShardDone(single));
  const { model, input } = await shipped(30);
  const reference = await collectMatStatistics(model, input.sequences, { nTrain: 24, nVal: 6, seed: 0, batchSize: 4 });
  model.dispose();
  assert.equal(reference.batches.total, 6);
  for (const n of COUNTS) {
    const runDir = await shardAll('shortcuts', n, (shard, runDir) => runShortcuts(shortcutsOpts({ shard, runDir })));
    const merged = await mergeShortcutStatistics(readRunShards(runDir));
    const diff = maxStatisticsDiff(merged, reference.statistics);
    assert.ok(diff <= 1e-12, `n = ${n}: Gram sums differ by ${diff}`);
    const report = JSON.parse(await runMerge(runDir, { json: true, backend: BACKEND })) as Record<string, unknown>;
    for (const f of report.figures as string[]) assert.ok(f.startsWith(join(runDir, 'merged')) && existsSync(f), f);
    assert.ok(existsSync(join(runDir, 'merged', 'shortcuts.safetensors')));
    assert.deepEqual(report.fixedExit, JSON.parse(JSON.stringify(single.fixedExit)), `n = ${n}: Precision@1 and the other fixed-exit metrics`);
    assertClose(withoutPaths(report), withoutPaths(single), 1e-9);
  }
});

const saturationOpts = (extra: Partial<SaturationOptions> = {}): SaturationOptions => ({ model: MODEL, textFile: TEXT, maxExamples: '24', k: '5', filter: '0.85', reps: '100', seed: '0', batch: '4', out: join(dir, 'saturation-single'), backend: BACKEND, ...extra });

test('saturation: 1, 3 and 4 shards merged = one process (rows and report identical)', defaultTierOnly(), async () => {
  const single = await runSaturation(saturationOpts());
  assert.ok(!isShardDone(single));
  const { model, input } = await shipped(24);
  const rows = await saturationRows((s) => lensRankTables(model, s, 5, 4), input.sequences, { k: 5, batchSize: 4, quirk: false });
  model.dispose();
  assert.equal(rows.S.length, single.positions);
  for (const n of COUNTS) {
    const runDir = await shardAll('saturation', n, (shard, runDir) => runSaturation(saturationOpts({ shard, runDir })));
    assert.deepEqual(await mergeSaturationRows(runDir, readRunShards(runDir), 5), rows, `n = ${n}: rows`);
    const report = JSON.parse(await runMerge(runDir, { json: true, backend: BACKEND })) as Record<string, unknown>;
    assert.deepEqual(withoutPaths(report), withoutPaths(single), `n = ${n}: report`);
    assert.ok(existsSync(join(runDir, 'merged', 'saturation-rank-correspondence.png')));
  }
});

const probeOpts = (extra: Partial<ProbeOptions> = {}): ProbeOptions => ({ model: MODEL, textFile: TEXT, maxExamples: '16', J0: '0', K: '3', probeK: '3', folds: '3', minPerLayer: '5', filter: '0.85', featureSpace: 'resid', seed: '0', batch: '16', backend: BACKEND, ...extra });

test('probe: 1, 3 and 4 shards merged = one process (dataset rows and report identical)', defaultTierOnly(), async () => {
  const single = await runProbe(probeOpts());
  assert.ok(!isShardDone(single));
  const { model, input } = await shipped(16);
  const options = { J0: 0, K: 3, k: 5, minPerLayer: 5, filterFraction: 0.85, featureSpace: 'resid' as const, batchSize: 1 };
  const dataset = await buildProbeDataset(model, input.sequences, options);
  model.dispose();
  assert.ok(dataset.y.length > 0);
  for (const n of COUNTS) {
    const runDir = await shardAll('probe', n, (shard, runDir) => runProbe(probeOpts({ shard, runDir })));
    const merged = await mergeProbeData(runDir, readRunShards(runDir), { ...options, L: 4 });
    assert.deepEqual(merged.dataset.X, dataset.X, `n = ${n}: features`);
    assert.deepEqual(merged.dataset.y, dataset.y, `n = ${n}: labels`);
    assert.deepEqual(merged.dataset.perLayer, dataset.perLayer);
    const report = JSON.parse(await runMerge(runDir, { json: true, backend: BACKEND })) as Record<string, unknown>;
    assert.deepEqual(withoutPaths(report), withoutPaths(single), `n = ${n}: report`);
  }
});

function mergeFails(runDir: string, problem: string, pattern: RegExp) {
  return assert.rejects(runMerge(runDir, { backend: BACKEND }), (err: unknown) => {
    assert.ok(err instanceof ShardMergeError, String(err));
    assert.equal(err.problem, problem);
    assert.match(err.message, pattern);
    return true;
  });
}

test('merge refuses a missing shard, shards with other options, and input that changed; a shard needs --run-dir', defaultTierOnly(), async () => {
  const runDir = join(dir, 'errors');
  const opts = (extra: Partial<SaturationOptions>) => saturationOpts({ maxExamples: '12', reps: '10', ...extra });
  await runSaturation(opts({ shard: '0/3', runDir }));
  await runSaturation(opts({ shard: '2/3', runDir }));
  await mergeFails(runDir, 'missing', /1 of 3 shards missing: 1-of-3/);
  await runSaturation(opts({ shard: '1/3', runDir, k: '4' }));
  await mergeFails(runDir, 'mismatch', /shards 0-of-3 and 1-of-3 differ in their options: .*"k":"5".*"k":"4"/);
  rmSync(join(runDir, 'shards', '1-of-3'), { recursive: true });
  // the input changed after the shards read it
  const text = join(dir, 'copy.txt');
  cpSync(TEXT, text);
  const copyRun = join(dir, 'changed');
  for (const shard of ['0/2', '1/2']) await runSaturation(opts({ textFile: text, shard, runDir: copyRun }));
  cpSync(join(ROOT, 'data', 'text', 'heldout.txt'), text);
  await mergeFails(copyRun, 'mismatch', /input files changed/);
  await assert.rejects(runSaturation(opts({ shard: '0/2' })), (err: unknown) => err instanceof InvalidArgumentError && /needs --run-dir/.test(err.message));
  assert.ok(readFileSync(join(runDir, 'shards', '0-of-3', 'manifest.json'), 'utf8').includes('"command": "saturation"'));
});
