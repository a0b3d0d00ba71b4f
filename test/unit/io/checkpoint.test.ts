/**
 * Checkpoint directories: the gpt2-tiny fixture split into two shards with a `model.safetensors.index.json`
 * reads back tensor-for-tensor identical to the single-file fixture; missing shards, directories and
 * config files raise CheckpointError.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, copyFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openCheckpoint, readConfigJson } from '../../../lib/io/checkpoint.js';
import { readAllSafetensors, type HostTensor } from '../../../lib/io/safetensors.js';
import { saveSafetensors, type HostValues } from '../../../lib/io/safetensors-writer.js';
import { CheckpointError } from '../../../lib/errors.js';
import { makeFifo, rejectionWithoutBlocking } from '../../helpers/fifo.js';

const FIXTURE_DIR = fileURLToPath(new URL('../../../../test/fixtures/hf/gpt2-tiny', import.meta.url));

async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'tfjs-lens-ckpt-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const asHost = (t: HostTensor): HostValues => ({ shape: t.shape, data: t.data as Float32Array });

/** Writes the fixture as two shards + index into `dir`; returns the name → shard map. */
async function writeShardedFixture(dir: string): Promise<Record<string, string>> {
  const tensors = await readAllSafetensors(join(FIXTURE_DIR, 'model.safetensors'));
  const names = [...tensors.keys()];
  const half = Math.ceil(names.length / 2);
  const shards = ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors'];
  const weightMap: Record<string, string> = {};
  for (const [i, shardNames] of [names.slice(0, half), names.slice(half)].entries()) {
    await saveSafetensors(join(dir, shards[i]!), new Map(shardNames.map((n) => [n, asHost(tensors.get(n)!)])), { format: 'pt' });
    for (const n of shardNames) weightMap[n] = shards[i]!;
  }
  await writeFile(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: { total_size: 0 }, weight_map: weightMap }));
  await copyFile(join(FIXTURE_DIR, 'config.json'), join(dir, 'config.json'));
  return weightMap;
}

test('a sharded checkpoint reads back identical tensors to the single-file fixture', async () => {
  await withTempDir(async (dir) => {
    const weightMap = await writeShardedFixture(dir);
    assert.equal(new Set(Object.values(weightMap)).size, 2);
    const single = await openCheckpoint(FIXTURE_DIR);
    const sharded = await openCheckpoint(dir);
    try {
      assert.equal(sharded.keys().length, 40);
      assert.deepEqual([...sharded.keys()].sort(), [...single.keys()].sort());
      for (const name of single.keys()) {
        assert.deepEqual(sharded.info(name).shape, single.info(name).shape, name);
        const a = await single.read(name);
        const b = await sharded.read(name);
        assert.deepEqual(b.shape, a.shape, name);
        assert.deepEqual(b.data, a.data, name);
      }
      assert.deepEqual(sharded.info('transformer.wte.weight').shape, [1000, 64]);
      await assert.rejects(sharded.read('transformer.no_such.weight'), CheckpointError);
      assert.equal((await readConfigJson(dir)).model_type, 'gpt2');
    } finally {
      await single.close();
      await sharded.close();
    }
  });
});

test('a missing shard raises CheckpointError naming it', async () => {
  await withTempDir(async (dir) => {
    await writeShardedFixture(dir);
    await rm(join(dir, 'model-00002-of-00002.safetensors'));
    await assert.rejects(openCheckpoint(dir), (err: unknown) => err instanceof CheckpointError && /model-00002-of-00002\.safetensors/.test(err.message));
  });
});

test('a shard index pointing outside the directory or at a shard without the tensor raises CheckpointError', async () => {
  await withTempDir(async (dir) => {
    const weightMap = await writeShardedFixture(dir);
    const [first] = Object.keys(weightMap);
    await writeFile(join(dir, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { ...weightMap, [first!]: '../model.safetensors' } }));
    await assert.rejects(openCheckpoint(dir), CheckpointError);
    const wrong = Object.fromEntries(Object.entries(weightMap).map(([n, s]) => [n, s === 'model-00001-of-00002.safetensors' ? 'model-00002-of-00002.safetensors' : s]));
    await writeFile(join(dir, 'model.safetensors.index.json'), JSON.stringify({ weight_map: wrong }));
    await assert.rejects(openCheckpoint(dir), (err: unknown) => err instanceof CheckpointError && /does not hold it/.test(err.message));
    await writeFile(join(dir, 'model.safetensors.index.json'), '{"weight_map": 3');
    await assert.rejects(openCheckpoint(dir), CheckpointError);
  });
});

test('a missing directory, missing weights and missing or broken config raise CheckpointError', async () => {
  await withTempDir(async (dir) => {
    await assert.rejects(openCheckpoint(join(dir, 'does-not-exist')), CheckpointError);
    await assert.rejects(readConfigJson(join(dir, 'does-not-exist')), CheckpointError);
    const empty = join(dir, 'empty');
    await mkdir(empty);
    await assert.rejects(openCheckpoint(empty), (err: unknown) => err instanceof CheckpointError && /no model\.safetensors/.test(err.message));
    await assert.rejects(readConfigJson(empty), (err: unknown) => err instanceof CheckpointError && /config\.json/.test(err.message));
    await writeFile(join(empty, 'config.json'), '{not json');
    await assert.rejects(readConfigJson(empty), CheckpointError);
  });
});

test('config.json, the shard index or the weights as a FIFO raise CheckpointError at once instead of blocking', async () => {
  for (const name of ['config.json', 'model.safetensors.index.json', 'model.safetensors']) {
    await withTempDir(async (dir) => {
      const fifo = join(dir, name);
      if (!makeFifo(fifo)) return; // no mkfifo (Windows)
      const action = name === 'config.json' ? () => readConfigJson(dir) : () => openCheckpoint(dir);
      const err = await rejectionWithoutBlocking(action, fifo);
      assert.ok(err instanceof CheckpointError && err.message.startsWith(`${fifo} is not a regular file (a FIFO)`), `${name}: ${String(err)}`);
    });
  }
});
