/**
 * WeightReader's pipeline: reads run one at a time, and the backend copy of one tensor happens after the next read
 * has started (so libtensorflow's copy overlaps the kernel's read). readBlocks starts every block at once, returns
 * them in order and, when one fails, lets the others settle before throwing — loadModel then leaves no tensor.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { setBackend } from '../../../lib/backend/index.js';
import { WeightReader, readBlocks } from '../../../lib/io/convert/common.js';
import type { Checkpoint } from '../../../lib/io/checkpoint.js';
import type { HostTensor, ReadOptions } from '../../../lib/io/safetensors.js';
import type { TensorInfo } from '../../../lib/io/safetensors-layout.js';
import { loadModel } from '../../../lib/nn/load.js';
import { saveSafetensors } from '../../../lib/io/safetensors-writer.js';
import { readAllSafetensors } from '../../../lib/io/safetensors.js';
import { ShapeMismatchError } from '../../../lib/errors.js';
import { testBackend } from '../../helpers/backend.js';
import { ROOT } from '../../helpers/fixtures.js';

/** An in-memory checkpoint of `n` float32 tensors `t0 … t{n−1}` of `size` values (value i + 1); reads take 5 ms. */
function fakeCheckpoint(n: number, size: number, log: { key: string; tensorsAtStart: number; concurrent: number }[]): Checkpoint {
  let inFlight = 0;
  const keys = Array.from({ length: n }, (_, i) => `t${i}`);
  return {
    dir: 'fake',
    keys: () => keys,
    has: (k) => keys.includes(k),
    info: (k) => ({ dtype: 'F32', shape: [size], start: 0, byteLength: size * 4, name: k }) as unknown as TensorInfo,
    async read(key: string, opts: ReadOptions = {}): Promise<HostTensor> {
      inFlight++;
      log.push({ key, tensorsAtStart: tf.memory().numTensors, concurrent: inFlight });
      await new Promise((r) => setTimeout(r, 5));
      const bytes = opts.allocate ? opts.allocate(size * 4) : new Uint8Array(size * 4);
      const data = new Float32Array(bytes.buffer, bytes.byteOffset, size);
      data.fill(Number(key.slice(1)) + 1);
      inFlight--;
      return { dtype: 'float32', shape: [size], data };
    },
    close: async () => {},
  };
}

test('reads run one at a time and each tensor is copied into the backend after the next read has started', async () => {
  await setBackend(testBackend('wasm'));
  const log: { key: string; tensorsAtStart: number; concurrent: number }[] = [];
  const n = 6;
  const size = 32 * 1024; // 128 KiB: through the staging buffers
  const reader = new WeightReader(fakeCheckpoint(n, size, log), ['']);
  const base = tf.memory().numTensors;
  const tensors = await Promise.all(Array.from({ length: n }, (_, i) => reader.float(`t${i}`, [size])));
  assert.deepEqual(log.map((e) => e.key), tensors.map((_, i) => `t${i}`), 'reads in the order asked');
  assert.ok(log.every((e) => e.concurrent === 1), 'one read at a time');
  // When read k+1 starts, tensor k is not made yet (it is copied while k+1 is read); tensor k−1 is.
  assert.deepEqual(log.map((e) => e.tensorsAtStart - base), [0, 0, 1, 2, 3, 4]);
  for (const [i, t] of tensors.entries()) {
    const v = await t.data();
    assert.equal(v.length, size);
    assert.ok(v.every((x) => x === i + 1), `tensor ${i} kept its own values although its buffer was reused`);
  }
  tf.dispose(tensors);
  assert.equal(tf.memory().numTensors, base);
});

test('readBlocks: blocks in order; a failing block lets the others settle, then its error is thrown', async () => {
  const order: number[] = [];
  const blocks = await readBlocks(4, async (i) => {
    await new Promise((r) => setTimeout(r, (4 - i) * 3));
    order.push(i);
    return i * 10;
  });
  assert.deepEqual(blocks, [0, 10, 20, 30]);
  assert.deepEqual(order, [3, 2, 1, 0], 'all started at once');
  const settled: number[] = [];
  await assert.rejects(
    readBlocks(4, async (i) => {
      if (i === 1) throw new Error('block 1 is bad');
      if (i === 2) throw new Error('block 2 is bad');
      await new Promise((r) => setTimeout(r, 10));
      settled.push(i);
      return i;
    }),
    /block 1 is bad/,
  );
  assert.deepEqual(settled.sort(), [0, 3], 'the other blocks finished before the error was thrown');
});

test('loadModel: a bad tensor in a late block fails the load with a typed error and leaves no tensor', async () => {
  await setBackend(testBackend('wasm'));
  const dir = await mkdtemp(join(tmpdir(), 'tfjs-lens-reader-'));
  try {
    const src = join(ROOT, 'weights', 'tiny-gpt2');
    await cp(src, dir, { recursive: true });
    const stored = await readAllSafetensors(join(src, 'model.safetensors'));
    const key = stored.has('h.3.mlp.c_fc.bias') ? 'h.3.mlp.c_fc.bias' : 'transformer.h.3.mlp.c_fc.bias';
    const tensors = new Map([...stored].map(([name, t]) => [name, { dtype: 'F32' as const, shape: name === key ? [t.shape[0]! / 2, 2] : t.shape, data: t.data }]));
    await saveSafetensors(join(dir, 'model.safetensors'), tensors);
    const before = tf.memory().numTensors;
    await assert.rejects(loadModel(dir), (err: unknown) => err instanceof ShapeMismatchError && /c_fc\.bias/.test((err as Error).message));
    assert.equal(tf.memory().numTensors, before, 'tensors left behind by the failed load');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
