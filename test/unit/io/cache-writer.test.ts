/**
 * Sharded activation caches: many appended batches with a small shard limit give the expected number of
 * shards, reassemble exactly, and every shard is a valid safetensors file under the reference
 * implementation's strict rules (aligned header, contiguous offsets covering the whole buffer).
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { ShardedCacheWriter, readCacheShards, readCacheTensor, readCacheIndex, CACHE_INDEX_FILE } from '../../../lib/io/cache-writer.js';
import { SafetensorsFile } from '../../../lib/io/safetensors.js';
import { setBackend } from '../../../lib/backend/index.js';
import { CheckpointError, InvalidArgumentError, ShapeMismatchError } from '../../../lib/errors.js';
import { testBackend } from '../../helpers/backend.js';

const DTYPE_BYTES: Record<string, number> = { F32: 4, I32: 4, BOOL: 1 };

before(async () => {
  await setBackend(testBackend('cpu'));
});

async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'tfjs-lens-cache-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Deterministic values: row r, element e of a name with seed s. */
const value = (seed: number, row: number, element: number): number => Math.fround(Math.sin(seed * 1000 + row * 31 + element) * 100);

/**
 * Validates a shard as the Rust `safetensors` crate does: u64 header length, 8-byte alignment (as Python
 * writes), JSON object with known dtypes, offsets sorted, contiguous from 0, ending exactly at the file end.
 */
async function assertStrictSafetensors(path: string): Promise<Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>> {
  const bytes = await readFile(path);
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  assert.equal((8 + n) % 8, 0, `${path}: header not 8-byte aligned`);
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8')) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  const entries = Object.entries(header).filter(([k]) => k !== '__metadata__').sort((a, b) => a[1].data_offsets[0] - b[1].data_offsets[0]);
  let offset = 0;
  for (const [name, e] of entries) {
    assert.ok(['F32', 'I32', 'BOOL'].includes(e.dtype), `${name}: dtype ${e.dtype}`);
    assert.equal(e.data_offsets[0], offset, `${path}: ${name} is not contiguous`);
    assert.equal(e.data_offsets[1] - e.data_offsets[0], e.shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[e.dtype]!, `${path}: ${name} span`);
    offset = e.data_offsets[1];
  }
  assert.equal(8 + n + offset, bytes.byteLength, `${path}: buffer does not end at the file end`);
  return header;
}

test('many batches with a small shard limit: shard count, exact reassembly, strict shard headers', async () => {
  await withTempDir(async (dir) => {
    // Rows of 10 floats (40 bytes) and 10 ints (40 bytes): 400-byte shards hold exactly 10 rows each.
    const maxShardBytes = 400;
    const writer = new ShardedCacheWriter(dir, { maxShardBytes, metadata: { model: 'gpt2-tiny', hook: 'resid' } });
    const batches = 23;
    let rows = 0;
    for (let b = 0; b < batches; b++) {
      const batch = 1 + (b % 7); // 1..7 rows
      const resid = new Float32Array(batch * 10);
      const ids = new Int32Array(batch * 10);
      for (let r = 0; r < batch; r++) {
        for (let e = 0; e < 10; e++) {
          resid[r * 10 + e] = value(1, rows + r, e);
          ids[r * 10 + e] = (rows + r) * 1000 + e;
        }
      }
      await writer.append('blocks.0.hook_resid_post', { dtype: 'float32', shape: [batch, 2, 5], data: resid });
      await writer.append('input_ids', { shape: [batch, 10], data: ids });
      rows += batch;
    }
    const index = await writer.close();
    const totalBytes = 2 * rows * 40;
    assert.equal(index.shards.length, Math.ceil(totalBytes / maxShardBytes));
    assert.equal(writer.shardCount, index.shards.length);
    const files = (await readdir(dir)).sort();
    assert.deepEqual(files, [...index.shards.map((s) => s.file), CACHE_INDEX_FILE].sort());
    assert.equal(index.shards[0]!.file, 'cache-00001.safetensors');
    for (const shard of index.shards) {
      assert.ok(shard.bytes <= maxShardBytes);
      const header = await assertStrictSafetensors(join(dir, shard.file));
      assert.deepEqual(header.__metadata__, { model: 'gpt2-tiny', hook: 'resid' });
      const file = await SafetensorsFile.open(join(dir, shard.file));
      try {
        assert.deepEqual(file.header.metadata, { model: 'gpt2-tiny', hook: 'resid' });
        const dataBytes = file.header.tensors.reduce((n, t) => n + t.byteLength, 0);
        assert.equal(dataBytes, shard.bytes);
      } finally {
        await file.close();
      }
    }
    // Full shards except possibly the last.
    for (const shard of index.shards.slice(0, -1)) assert.equal(shard.bytes, maxShardBytes);

    const resid = await readCacheTensor(dir, 'blocks.0.hook_resid_post');
    assert.equal(resid.dtype, 'float32');
    assert.deepEqual(resid.shape, [rows, 2, 5]);
    for (let r = 0; r < rows; r++) for (let e = 0; e < 10; e++) assert.equal(resid.data[r * 10 + e], value(1, r, e), `row ${r}`);
    const ids = await readCacheTensor(dir, 'input_ids');
    assert.equal(ids.dtype, 'int32');
    assert.deepEqual(ids.shape, [rows, 10]);
    for (let r = 0; r < rows; r++) for (let e = 0; e < 10; e++) assert.equal(ids.data[r * 10 + e], r * 1000 + e);

    // Streaming gives the same rows in order, shard by shard, with the index's row ranges.
    const entry = (await readCacheIndex(dir)).tensors.find((t) => t.name === 'input_ids')!;
    let seen = 0;
    let parts = 0;
    for await (const part of readCacheShards(dir, 'input_ids')) {
      const [start, end] = entry.parts[parts]!.rows;
      assert.equal(start, seen);
      assert.deepEqual(part.shape, [end - start, 10]);
      assert.equal(part.data[0], seen * 1000);
      seen += part.shape[0]!;
      parts++;
    }
    assert.equal(seen, rows);
    assert.equal(parts, entry.parts.length);
  });
});

test('tfjs tensors are appended without leaking, bool and int32 keep their dtype', async () => {
  await withTempDir(async (dir) => {
    const before = tf.memory().numTensors;
    const writer = new ShardedCacheWriter(dir, { maxShardBytes: 64 });
    const expected: number[] = [];
    for (let b = 0; b < 5; b++) {
      const values = Array.from({ length: 3 * 4 }, (_, i) => b * 100 + i);
      expected.push(...values.map(Math.fround));
      const t = tf.tensor2d(values, [3, 4], 'float32');
      const mask = tf.tensor1d([1, 0, 1], 'bool');
      await writer.append('act', t);
      await writer.append('mask', mask);
      t.dispose();
      mask.dispose();
    }
    await writer.close();
    assert.equal(tf.memory().numTensors, before);
    const act = await readCacheTensor(dir, 'act');
    assert.deepEqual(act.shape, [15, 4]);
    assert.deepEqual([...act.data], expected);
    const mask = await readCacheTensor(dir, 'mask');
    assert.equal(mask.dtype, 'bool');
    assert.deepEqual([...mask.data], [1, 0, 1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 1, 0, 1]);
  });
});

test('a row larger than the limit gets a shard of its own; un-awaited appends stay in order', async () => {
  await withTempDir(async (dir) => {
    const writer = new ShardedCacheWriter(dir, { maxShardBytes: 10 });
    const appends = [0, 1, 2].map((b) => writer.append('big', { shape: [2, 4], data: new Float32Array([b, b, b, b, b + 0.5, b + 0.5, b + 0.5, b + 0.5]) }));
    await Promise.all(appends);
    const index = await writer.close();
    assert.equal(index.shards.length, 6);
    assert.deepEqual(index.tensors[0]!.parts.map((p) => p.rows), [[0, 1], [1, 2], [2, 3], [3, 4], [4, 5], [5, 6]]);
    const big = await readCacheTensor(dir, 'big');
    assert.deepEqual([...big.data].filter((_, i) => i % 4 === 0), [0, 0.5, 1, 1.5, 2, 2.5]);
  });
});

test('empty caches, zero-row batches and the default limit', async () => {
  await withTempDir(async (dir) => {
    const writer = new ShardedCacheWriter(join(dir, 'nested', 'cache'));
    assert.equal(writer.maxShardBytes, 2 ** 30);
    await writer.append('empty', { shape: [0, 3], data: new Float32Array(0) });
    await writer.append('small', { shape: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, 6]) });
    const index = await writer.close();
    assert.equal(index.shards.length, 1);
    const empty = await readCacheTensor(join(dir, 'nested', 'cache'), 'empty');
    assert.deepEqual(empty.shape, [0, 3]);
    assert.equal(empty.data.length, 0);
    assert.deepEqual([...(await readCacheTensor(join(dir, 'nested', 'cache'), 'small')).data], [1, 2, 3, 4, 5, 6]);
    const none = new ShardedCacheWriter(join(dir, 'none'));
    const noneIndex = await none.close();
    assert.deepEqual(noneIndex.shards, []);
    assert.deepEqual(await readdir(join(dir, 'none')), [CACHE_INDEX_FILE]);
  });
});

test('typed errors: mismatched shapes and dtypes, closed writers, existing caches, damaged caches', async () => {
  await withTempDir(async (dir) => {
    assert.throws(() => new ShardedCacheWriter(dir, { maxShardBytes: 0 }), InvalidArgumentError);
    const writer = new ShardedCacheWriter(dir, { maxShardBytes: 1000 });
    await writer.append('x', { shape: [1, 3], data: new Float32Array(3) });
    await assert.rejects(writer.append('y', { shape: [2], data: new Float32Array(3) }), InvalidArgumentError);
    await assert.rejects(writer.append('x', { shape: [1, 3], dtype: 'F16', data: new Float32Array(3) } as never), InvalidArgumentError);
    await assert.rejects(writer.append('x', { shape: [1, 2], data: new Float32Array(2) }), ShapeMismatchError);
    await assert.rejects(writer.append('s', { shape: [], data: new Float32Array(1) }), ShapeMismatchError);
    // A rejected batch changes nothing: the writer goes on.
    await writer.append('x', { shape: [1, 3], data: new Float32Array([7, 8, 9]) });
    const index = await writer.close();
    assert.deepEqual(index.tensors.map((t) => [t.name, t.shape]), [['x', [2, 3]]]);
    assert.deepEqual([...(await readCacheTensor(dir, 'x')).data], [0, 0, 0, 7, 8, 9]);
    await assert.rejects(writer.close(), InvalidArgumentError);
    await assert.rejects(writer.append('x', { shape: [1, 3], data: new Float32Array(3) }), InvalidArgumentError);

    const cacheDir = join(dir, 'cache');
    const good = new ShardedCacheWriter(cacheDir, { maxShardBytes: 16 });
    await good.append('x', { shape: [2, 3], data: new Float32Array(6) });
    await assert.rejects(good.append('x', { shape: [1, 4], data: new Float32Array(4) }), ShapeMismatchError);
    const second = new ShardedCacheWriter(join(dir, 'second'), { maxShardBytes: 16 });
    await second.append('ids', { shape: [4], data: new Int32Array([1, 2, 3, 4]) });
    await assert.rejects(second.append('ids', { shape: [1], data: new Float32Array(1) }), (err: unknown) => err instanceof InvalidArgumentError && /int32/.test(err.message));
    // `good` wrote a shard into cacheDir: another writer must not mix its shards with it.
    await assert.rejects(new ShardedCacheWriter(cacheDir).close(), (err: unknown) => err instanceof InvalidArgumentError && /already holds/.test(err.message));

    const replaced = new ShardedCacheWriter(cacheDir, { maxShardBytes: 16, overwrite: true });
    await replaced.append('x', { shape: [4, 3], data: new Float32Array(12).fill(2) });
    const replacedIndex = await replaced.close();
    assert.deepEqual((await readdir(cacheDir)).sort(), [...replacedIndex.shards.map((s) => s.file), CACHE_INDEX_FILE].sort());
    assert.deepEqual([...(await readCacheTensor(cacheDir, 'x')).data], new Array(12).fill(2));

    await assert.rejects(readCacheTensor(cacheDir, 'nope'), (err: unknown) => err instanceof CheckpointError && /'nope'/.test(err.message));
    await assert.rejects(readCacheTensor(join(dir, 'missing'), 'x'), CheckpointError);
    await rm(join(cacheDir, replacedIndex.shards[1]!.file));
    await assert.rejects(readCacheTensor(cacheDir, 'x'), CheckpointError);
    await writeFile(join(cacheDir, CACHE_INDEX_FILE), '{"format":"something else"}');
    await assert.rejects(readCacheIndex(cacheDir), CheckpointError);
  });
});
