// The run folder of a sharded collection: manifests written atomically, read back, and checked to make one run.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashFiles, readRunShards, shardDir, SHARD_MANIFEST_FORMAT, writeShardManifest, type ShardManifest } from '../../../lib/io/shard-run.js';
import { shardRange } from '../../../lib/io/shard.js';
import { ShardMergeError, type ShardMergeProblem } from '../../../lib/errors.js';

const root = mkdtempSync(join(tmpdir(), 'tfjs-lens-shard-run-'));
after(() => rmSync(root, { recursive: true, force: true }));
let runs = 0;

function manifest(index: number, count: number, over: Partial<ShardManifest> = {}): ShardManifest {
  const total = 10;
  return {
    format: SHARD_MANIFEST_FORMAT,
    command: 'shortcuts',
    options: { seed: 0, nTrain: 8, nVal: 2, model: '/m' },
    input: { hash: 'sha256:abc', files: ['data/x.txt'] },
    shard: { index, count },
    items: { total, ...shardRange(total, { index, count }) },
    software: { node: 'v20', 'tfjs-lens': '1.0.0' },
    backend: 'cpu',
    files: ['gram.safetensors'],
    createdAt: new Date(0).toISOString(),
    ...over,
  };
}

function run(manifests: ShardManifest[]): string {
  const dir = join(root, `run${runs++}`);
  for (const m of manifests) writeShardManifest(dir, m);
  return dir;
}

function fails(dir: string, problem: ShardMergeProblem, shards: string[], pattern: RegExp) {
  assert.throws(() => readRunShards(dir), (err: unknown) => {
    assert.ok(err instanceof ShardMergeError, String(err));
    assert.equal(err.code, 'E_SHARD_MERGE');
    assert.equal(err.problem, problem);
    assert.deepEqual(err.shards.map((s) => s.replace(/^.*\//, '')), shards);
    assert.match(err.message, pattern);
    return true;
  });
}

test('hashFiles hashes the bytes with lengths, not the paths', () => {
  const a = join(root, 'a.txt');
  const b = join(root, 'b.txt');
  writeFileSync(a, 'ab');
  writeFileSync(b, 'c');
  const ref = createHash('sha256').update('2:ab1:c').digest('hex');
  assert.equal(hashFiles([a, b]), `sha256:${ref}`);
  const a2 = join(root, 'a2.txt');
  const b2 = join(root, 'b2.txt');
  writeFileSync(a2, 'a');
  writeFileSync(b2, 'bc');
  assert.notEqual(hashFiles([a2, b2]), hashFiles([a, b]));
});

test('a complete run reads back in index order, one folder per shard, no temporary files left', () => {
  const dir = run([manifest(2, 3), manifest(0, 3), manifest(1, 3)]);
  const shards = readRunShards(dir);
  assert.deepEqual(shards.map((s) => s.manifest.shard.index), [0, 1, 2]);
  assert.deepEqual(shards.map((s) => s.dir), [0, 1, 2].map((index) => shardDir(dir, { index, count: 3 })));
  assert.deepEqual(readdirSync(join(dir, 'shards')).sort(), ['0-of-3', '1-of-3', '2-of-3']);
  assert.deepEqual(readdirSync(shards[0]!.dir), ['manifest.json']);
  assert.deepEqual(shards[1]!.manifest, manifest(1, 3));
});

test('missing, duplicate, incomplete and invalid shards are ShardMergeErrors naming them', () => {
  fails(join(root, 'nothing'), 'no-shards', [], /no shards/);
  fails(run([manifest(0, 4), manifest(2, 4)]), 'missing', ['1-of-4', '3-of-4'], /2 of 4 shards missing: 1-of-4, 3-of-4/);
  const dup = run([manifest(0, 2), manifest(1, 2)]);
  cpSync(join(dup, 'shards', '1-of-2'), join(dup, 'shards', '1-of-2.retry'), { recursive: true });
  fails(dup, 'duplicate', ['1-of-2', '1-of-2.retry'], /more than once/);
  const unfinished = run([manifest(0, 2)]);
  mkdirSync(join(unfinished, 'shards', '1-of-2'));
  fails(unfinished, 'incomplete', ['1-of-2'], /did not finish/);
  const broken = run([manifest(0, 1)]);
  writeFileSync(join(broken, 'shards', '0-of-1', 'manifest.json'), '{"format": "tfjs-lens-shard/1"');
  fails(broken, 'invalid', ['0-of-1'], /not readable JSON/);
  fails(run([{ ...manifest(0, 1), format: 'other/9' as typeof SHARD_MANIFEST_FORMAT }]), 'invalid', ['0-of-1'], /format/);
  fails(run([{ ...manifest(0, 2), items: { total: 10, start: 0, end: 4 } }]), 'invalid', ['0-of-2'], /\[0, 4\).*\[0, 5\)/);
});

test('manifests that disagree on command, options, input, count or software are refused, naming both shards', () => {
  fails(run([manifest(0, 2), manifest(1, 2, { command: 'probe' })]), 'mismatch', ['0-of-2', '1-of-2'], /differ in their command: "shortcuts" vs "probe"/);
  fails(run([manifest(0, 2), manifest(1, 2, { options: { seed: 1, nTrain: 8, nVal: 2, model: '/m' } })]), 'mismatch', ['0-of-2', '1-of-2'], /options/);
  fails(run([manifest(0, 2), manifest(1, 2, { input: { hash: 'sha256:def', files: ['data/x.txt'] } })]), 'mismatch', ['0-of-2', '1-of-2'], /input hash/);
  fails(run([manifest(0, 2), manifest(1, 3)]), 'mismatch', ['0-of-2', '1-of-3'], /shard count: 2 vs 3/);
  fails(run([manifest(0, 2), manifest(1, 2, { software: { node: 'v22', 'tfjs-lens': '1.0.0' } })]), 'mismatch', ['0-of-2', '1-of-2'], /software/);
  // the key order of the options and a different backend do not matter
  const ok = run([manifest(0, 2), manifest(1, 2, { options: { model: '/m', nVal: 2, nTrain: 8, seed: 0 }, backend: 'wasm' })]);
  assert.equal(readRunShards(ok).length, 2);
});
