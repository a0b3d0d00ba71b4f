// Shard specs (--shard i/n, Slurm arrays, Kubernetes Indexed Jobs) and the contiguous assignment of items.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kubernetesShard, parseShard, resolveShard, shardLabel, shardRange, slurmShard } from '../../../lib/io/shard.js';
import { InvalidArgumentError } from '../../../lib/errors.js';

const bad = (fn: () => unknown, pattern: RegExp) => assert.throws(fn, (err: unknown) => err instanceof InvalidArgumentError && pattern.test(err.message));

test('parseShard reads i/n and refuses everything else with a typed error', () => {
  assert.deepEqual(parseShard('0/1'), { index: 0, count: 1 });
  assert.deepEqual(parseShard(' 3/4 '), { index: 3, count: 4 });
  bad(() => parseShard('4/4'), /index 4 is not below the shard count 4/);
  bad(() => parseShard('0/0'), /at least 1/);
  for (const s of ['1', '-1/4', '1.5/4', '1/4/2', 'a/b', '1/', '/4', '0x1/4', '1e0/4', '']) bad(() => parseShard(s), /must be i\/n/);
});

test('slurmShard maps task ids onto 0 … n−1 for arrays from 0, from 1 and with a step; gaps are refused', () => {
  assert.equal(slurmShard({}), undefined);
  assert.deepEqual(slurmShard({ SLURM_ARRAY_TASK_ID: '2', SLURM_ARRAY_TASK_COUNT: '4', SLURM_ARRAY_TASK_MIN: '0', SLURM_ARRAY_TASK_MAX: '3' }), { index: 2, count: 4 });
  assert.deepEqual(slurmShard({ SLURM_ARRAY_TASK_ID: '4', SLURM_ARRAY_TASK_COUNT: '4', SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_MAX: '4' }), { index: 3, count: 4 });
  // COUNT absent: (MAX − MIN) / STEP + 1
  assert.deepEqual(slurmShard({ SLURM_ARRAY_TASK_ID: '5', SLURM_ARRAY_TASK_MIN: '5', SLURM_ARRAY_TASK_MAX: '7' }), { index: 0, count: 3 });
  assert.deepEqual(slurmShard({ SLURM_ARRAY_TASK_ID: '12', SLURM_ARRAY_TASK_MIN: '0', SLURM_ARRAY_TASK_MAX: '12', SLURM_ARRAY_TASK_STEP: '4' }), { index: 3, count: 4 });
  // COUNT alone (no MIN/MAX): ids from 0
  assert.deepEqual(slurmShard({ SLURM_ARRAY_TASK_ID: '1', SLURM_ARRAY_TASK_COUNT: '2' }), { index: 1, count: 2 });
  bad(() => slurmShard({ SLURM_ARRAY_TASK_ID: '7', SLURM_ARRAY_TASK_COUNT: '3', SLURM_ARRAY_TASK_MIN: '0', SLURM_ARRAY_TASK_MAX: '7' }), /gaps/);
  bad(() => slurmShard({ SLURM_ARRAY_TASK_ID: '3' }), /shard count is unknown/);
  bad(() => slurmShard({ SLURM_ARRAY_TASK_ID: '0', SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_MAX: '4' }), /not min \+ k·step/);
  bad(() => slurmShard({ SLURM_ARRAY_TASK_ID: 'x', SLURM_ARRAY_TASK_COUNT: '2' }), /SLURM_ARRAY_TASK_ID='x'/);
  bad(() => slurmShard({ SLURM_ARRAY_TASK_ID: '4', SLURM_ARRAY_TASK_COUNT: '4' }), /not below the shard count 4/);
});

test('kubernetesShard takes JOB_COMPLETION_INDEX and the count from --shard-count or TFJS_LENS_SHARD_COUNT', () => {
  assert.equal(kubernetesShard({}), undefined);
  assert.deepEqual(kubernetesShard({ JOB_COMPLETION_INDEX: '2', TFJS_LENS_SHARD_COUNT: '3' }), { index: 2, count: 3 });
  assert.deepEqual(kubernetesShard({ JOB_COMPLETION_INDEX: '2', TFJS_LENS_SHARD_COUNT: '9' }, '4'), { index: 2, count: 4 });
  bad(() => kubernetesShard({ JOB_COMPLETION_INDEX: '0' }), /shard count is not/);
  bad(() => kubernetesShard({ JOB_COMPLETION_INDEX: '3', TFJS_LENS_SHARD_COUNT: '3' }), /not below the shard count 3/);
  bad(() => kubernetesShard({ JOB_COMPLETION_INDEX: '0' }, 'four'), /--shard-count must be a positive integer/);
});

test('resolveShard: --shard first, then Slurm, then Kubernetes; --shard-count alone is refused', () => {
  const env = { SLURM_ARRAY_TASK_ID: '1', SLURM_ARRAY_TASK_COUNT: '2', JOB_COMPLETION_INDEX: '0', TFJS_LENS_SHARD_COUNT: '5' };
  assert.deepEqual(resolveShard({ shard: '3/4' }, env), { index: 3, count: 4, source: '--shard' });
  assert.deepEqual(resolveShard({}, env), { index: 1, count: 2, source: 'slurm' });
  assert.deepEqual(resolveShard({}, { JOB_COMPLETION_INDEX: '4', TFJS_LENS_SHARD_COUNT: '5' }), { index: 4, count: 5, source: 'kubernetes' });
  assert.equal(resolveShard({}, {}), undefined);
  bad(() => resolveShard({ shardCount: '3' }, {}), /JOB_COMPLETION_INDEX is not set/);
  bad(() => resolveShard({ shard: '0/2', shardCount: '3' }, {}), /disagree/);
});

test('shardRange: contiguous blocks in order that cover every item once and differ in size by at most one', () => {
  for (const nItems of [0, 1, 5, 7, 100, 101]) {
    for (const count of [1, 2, 3, 4, 8]) {
      const blocks = Array.from({ length: count }, (_, index) => shardRange(nItems, { index, count }));
      assert.equal(blocks[0]!.start, 0);
      assert.equal(blocks.at(-1)!.end, nItems);
      blocks.slice(1).forEach((b, k) => assert.equal(b.start, blocks[k]!.end));
      const sizes = blocks.map((b) => b.end - b.start);
      assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `${nItems} items in ${count}: ${sizes}`);
    }
  }
  assert.deepEqual(shardRange(10, { index: 1, count: 3 }), { start: 3, end: 6 });
  bad(() => shardRange(10, { index: 3, count: 3 }), /not below/);
  bad(() => shardRange(-1, { index: 0, count: 1 }), /non-negative integer/);
  assert.equal(shardLabel({ index: 2, count: 4 }), '2-of-4');
});
