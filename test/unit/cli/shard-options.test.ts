// The sharding options of the collecting commands: when a process is a shard, what its manifest records,
// the lens pass plan a saturation shard splits, and the float64 statistics file of a shortcuts shard.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { recordedOptions, shardRunFromOptions } from '../../../lib/cli/shard.js';
import { lensPassPlan } from '../../../lib/cli/saturation-shard.js';
import { concatenateShardFiles } from '../../../lib/cli/merge.js';
import { addShortcutStatistics, readShortcutStatistics, saveShortcutStatistics, type ShortcutStatistics } from '../../../lib/shortcuts/index.js';
import { createRng } from '../../../lib/math/rng.js';
import { InvalidArgumentError } from '../../../lib/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'tfjs-lens-shard-options-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('shardRunFromOptions: --run-dir alone is shard 0 of 1; a shard needs --run-dir; a one-task array without --run-dir is an ordinary run', () => {
  assert.equal(shardRunFromOptions({}, {}), undefined);
  assert.deepEqual(shardRunFromOptions({ runDir: 'r' }, {}), { runDir: 'r', shard: { index: 0, count: 1, source: '--shard' }, dir: join('r', 'shards', '0-of-1') });
  assert.deepEqual(shardRunFromOptions({ runDir: 'r' }, { SLURM_ARRAY_TASK_ID: '6', SLURM_ARRAY_TASK_MIN: '5', SLURM_ARRAY_TASK_MAX: '8' })?.dir, join('r', 'shards', '1-of-4'));
  assert.equal(shardRunFromOptions({}, { SLURM_ARRAY_TASK_ID: '0', SLURM_ARRAY_TASK_COUNT: '1' }), undefined);
  const needs = (fn: () => unknown, pattern: RegExp) => assert.throws(fn, (e: unknown) => e instanceof InvalidArgumentError && pattern.test(e.message));
  needs(() => shardRunFromOptions({ shard: '0/1' }, {}), /--shard 0\/1 needs --run-dir/);
  needs(() => shardRunFromOptions({}, { SLURM_ARRAY_TASK_ID: '1', SLURM_ARRAY_TASK_COUNT: '2' }), /Slurm array task \(shard 1 of 2\) needs --run-dir/);
  needs(() => shardRunFromOptions({}, { JOB_COMPLETION_INDEX: '0', TFJS_LENS_SHARD_COUNT: '3' }), /Kubernetes Indexed Job pod \(shard 0 of 3\) needs --run-dir/);
});

test('recordedOptions keeps what decides the result, makes file and folder options absolute, drops where the run goes', () => {
  const rec = recordedOptions({ textFile: 'data/x.txt', seed: '0', k: '5', shard: '1/2', shardCount: undefined, runDir: 'r', backend: 'wasm', json: true, out: 'o', quirkAllAgreeIsL: undefined }, 'weights/none');
  assert.deepEqual(rec, { textFile: resolve('data/x.txt'), seed: '0', k: '5', model: 'weights/none' });
});

test('lensPassPlan: equal lengths share a pass (at most batchSize), lengths in order of first appearance', () => {
  assert.deepEqual(lensPassPlan([3, 5, 3, 3, 5, 2, 3], 2), [[0, 2], [3, 6], [1, 4], [5]]);
  // a contiguous block of passes, re-planned from its sequences in input order, is the same passes
  const lengths = Array.from({ length: 40 }, (_, i) => 3 + ((i * 7) % 5));
  const plan = lensPassPlan(lengths, 3);
  for (const [start, end] of [[0, 4], [4, 9], [9, plan.length]] as const) {
    const mine = plan.slice(start, end).flat().sort((a, b) => a - b);
    const again = lensPassPlan(mine.map((s) => lengths[s]!), 3).map((p) => p.map((i) => mine[i]!));
    assert.deepEqual(again.map((p) => [...p].sort((a, b) => a - b)).sort((a, b) => a[0]! - b[0]!), plan.slice(start, end).map((p) => [...p].sort((a, b) => a - b)).sort((a, b) => a[0]! - b[0]!));
  }
});

function randomStatistics(seed: number, count: number): ShortcutStatistics {
  const rng = createRng(seed);
  const gram = (dIn: number, dOut: number) => ({ xtx: Float64Array.from({ length: dIn * dIn }, () => rng.normal() * 1e3), xty: Float64Array.from({ length: dIn * dOut }, () => rng.normal() / 7), sumX: Float64Array.from({ length: dIn }, () => rng.normal()), sumY: Float64Array.from({ length: dOut }, () => rng.normal()), count });
  return { nLayers: 2, dModel: 3, submodules: true, fromLayer: [gram(3, 9), gram(3, 6)], perBlock: [[gram(3, 3), gram(3, 3), gram(3, 3)], [gram(3, 3), gram(3, 3), gram(3, 3)]], count };
}

test('the statistics file round-trips float64 sums bit for bit; addShortcutStatistics adds them', async () => {
  const a = randomStatistics(1, 5);
  const path = join(dir, 'stats.safetensors');
  await saveShortcutStatistics(path, a);
  assert.deepEqual(await readShortcutStatistics(path), a);
  const b = randomStatistics(2, 7);
  const sum = addShortcutStatistics([a, b]);
  assert.equal(sum.count, 12);
  assert.equal(sum.perBlock[1]![2]!.xty[4], a.perBlock[1]![2]!.xty[4]! + b.perBlock[1]![2]!.xty[4]!);
  assert.equal(sum.fromLayer[0]!.sumY[8], a.fromLayer[0]!.sumY[8]! + b.fromLayer[0]!.sumY[8]!);
  assert.throws(() => addShortcutStatistics([a, { ...b, dModel: 4 }]), /addShortcutStatistics/);
});

test('concatenateShardFiles joins the shards\' JSON lines in shard order; a shard without the file adds nothing', async () => {
  const shards = [0, 1, 2].map((i) => ({ dir: join(dir, `s${i}`) }));
  mkdirSync(shards[0]!.dir);
  mkdirSync(shards[2]!.dir);
  writeFileSync(join(shards[0]!.dir, 'log.jsonl'), '{"a":0}\n{"a":1}\n');
  writeFileSync(join(shards[2]!.dir, 'log.jsonl'), '{"a":2}');
  const out = join(dir, 'all.jsonl');
  assert.equal(concatenateShardFiles(shards, 'log.jsonl', out), 3);
  assert.equal(readFileSync(out, 'utf8'), '{"a":0}\n{"a":1}\n{"a":2}\n');
});
