/**
 * stagingAllocator: one reused buffer for the values of new tensors where the backend copies them on creation
 * (wasm; tensorflow at an offset libtensorflow does not adopt), fresh arrays where it keeps them (cpu, webgpu).
 * Checked on the tier's backend: a tensor made from a staging view keeps its values after the buffer is
 * overwritten by the next call; reads of every float dtype land in the allocated memory with the values of a
 * plain read; the shipped tiny GPT-2 converts to the checkpoint's bytes; the probes leave no tensor behind.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { setBackend } from '../../../lib/backend/index.js';
import { materialize } from '../../../lib/backend/materialize.js';
import { stagingAllocator, reusableAllocator, STAGING_MIN_BYTES } from '../../../lib/backend/staging-memory.js';
import { withSafetensors } from '../../../lib/io/safetensors.js';
import { saveSafetensors } from '../../../lib/io/safetensors-writer.js';
import type { SafetensorsDtype } from '../../../lib/io/dtypes.js';
import { testBackend } from '../../helpers/backend.js';
import { ROOT } from '../../helpers/fixtures.js';
import { openCheckpoint, readConfigJson } from '../../../lib/io/checkpoint.js';
import { parseGpt2Config } from '../../../lib/io/config/gpt2.js';
import { convertGpt2 } from '../../../lib/io/convert/gpt2.js';

const backend = testBackend('wasm');
before(async () => {
  await setBackend(backend);
});

test(`staging views are reused where ${backend} copies on creation, and a tensor keeps its values after the next call overwrites the buffer`, async () => {
  const start = tf.memory().numTensors;
  const allocate = stagingAllocator();
  const n = STAGING_MIN_BYTES / 4 + 5;
  const first = allocate(n * 4);
  new Float32Array(first.buffer, first.byteOffset, n).fill(1.5);
  const a = materialize(tf.tensor1d(new Float32Array(first.buffer, first.byteOffset, n), 'float32'));
  const second = allocate(n * 4 - 8); // smaller: same buffer where reused
  new Float32Array(second.buffer, second.byteOffset, n - 2).fill(-7);
  const b = materialize(tf.tensor1d(new Float32Array(second.buffer, second.byteOffset, n - 2), 'float32'));
  const reused = second.buffer === first.buffer;
  assert.equal(reused, backend === 'wasm' || backend === 'tensorflow', `reuse on ${backend}`);
  if (reused) assert.equal(second.byteOffset, first.byteOffset);
  assert.ok((await a.data()).every((v) => v === 1.5), 'the first tensor kept its own values');
  assert.ok((await b.data()).every((v) => v === -7));
  const larger = allocate(n * 8); // grows: a new buffer
  assert.notEqual(larger.buffer, first.buffer);
  assert.equal(larger.byteLength, n * 8);
  const small = allocate(1024);
  assert.equal(small.byteOffset, 0);
  assert.equal(small.buffer.byteLength, 1024, 'small arrays are fresh');
  tf.dispose([a, b]);
  assert.equal(tf.memory().numTensors, start, 'the probes leave no tensor');
});

test('reusableAllocator hands out views of one buffer, grown when a request is larger', () => {
  const allocate = reusableAllocator();
  const a = allocate(100);
  const b = allocate(60);
  assert.equal(b.buffer, a.buffer);
  assert.equal(b.byteLength, 60);
  const c = allocate(1000);
  assert.notEqual(c.buffer, a.buffer);
  assert.equal(c.byteLength, 1000);
});

test('safetensors read with the allocator: every float dtype lands in the allocated memory with the values of a plain read', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tfjs-lens-staging-'));
  try {
    const path = join(dir, 'w.safetensors');
    const n = STAGING_MIN_BYTES / 4 + 3; // past the threshold, odd length
    const values = Array.from({ length: n }, (_, i) => Math.sin(i) * 100);
    const dtypes: SafetensorsDtype[] = ['F32', 'F16', 'BF16', 'F64'];
    const tensors: Record<string, { shape: number[]; data: number[]; dtype: SafetensorsDtype }> = {};
    for (const dtype of dtypes) tensors[dtype] = { shape: [n], data: values, dtype };
    await saveSafetensors(path, tensors);
    await withSafetensors(path, async (file) => {
      for (const dtype of dtypes) {
        const given: ArrayBufferLike[] = [];
        const values = stagingAllocator();
        const plainRead = await file.read(dtype);
        const read = await file.read(dtype, { allocate: (bytes) => { const m = values(bytes); given.push(m.buffer); return m; }, scratch: reusableAllocator() });
        assert.equal(given.length, 1, `${dtype}: one allocation`);
        assert.equal(read.data.buffer, given[0], `${dtype}: values live in the allocated memory`);
        assert.deepEqual(read.data, plainRead.data, dtype);
        const t = materialize(tf.tensor1d(read.data as Float32Array, 'float32'));
        assert.deepEqual(await t.data(), plainRead.data, `${dtype}: tensor values`);
        t.dispose();
      }
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the shipped tiny GPT-2 converted through the staging buffers: weights (c_attn cut on the host) equal the checkpoint bytes, nothing left behind', async () => {
  const ckpt = await openCheckpoint(join(ROOT, 'weights', 'tiny-gpt2'));
  const start = tf.memory().numTensors;
  try {
    const cfg = parseGpt2Config(await readConfigJson(ckpt.dir), 'tiny-gpt2');
    const weights = await convertGpt2(ckpt, cfg);
    const raw = async (key: string): Promise<Float32Array> => (await ckpt.read(key)).data as Float32Array;
    // wte (2 MiB) and the MLP matrices (256 KiB each) go through the reused buffer, biases are fresh arrays.
    assert.deepEqual(await weights.W_E.data(), await raw('wte.weight'));
    for (let i = 0; i < cfg.nLayers; i++) {
      assert.deepEqual(await weights.blocks[i]!.mlp.W_in.data(), await raw(`h.${i}.mlp.c_fc.weight`), `block ${i} W_in`);
      assert.deepEqual(await weights.blocks[i]!.mlp.W_out.data(), await raw(`h.${i}.mlp.c_proj.weight`), `block ${i} W_out`);
      assert.deepEqual(await weights.blocks[i]!.mlp.b_in.data(), await raw(`h.${i}.mlp.c_fc.bias`), `block ${i} b_in`);
      // c_attn [d, 3d] is cut into W_Q | W_K | W_V on the host: column blocks of the stored matrix
      const d = cfg.dModel;
      const cAttn = await raw(`h.${i}.attn.c_attn.weight`);
      const cAttnBias = await raw(`h.${i}.attn.c_attn.bias`);
      const { W_Q, W_K, W_V, b_Q, b_K, b_V } = weights.blocks[i]!.attn;
      for (const [p, W, b] of [[0, W_Q, b_Q], [1, W_K, b_K], [2, W_V, b_V]] as const) {
        assert.deepEqual(W.shape, [d, d]);
        const expected = new Float32Array(d * d);
        for (let r = 0; r < d; r++) expected.set(cAttn.subarray(r * 3 * d + p * d, r * 3 * d + (p + 1) * d), r * d);
        assert.deepEqual(await W.data(), expected, `block ${i} part ${p}`);
        assert.deepEqual(await b!.data(), cAttnBias.subarray(p * d, (p + 1) * d), `block ${i} bias part ${p}`);
      }
    }
    tf.dispose(weights as unknown as tf.TensorContainer);
  } finally {
    await ckpt.close();
  }
  assert.equal(tf.memory().numTensors, start);
});
