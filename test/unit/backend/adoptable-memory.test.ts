/**
 * adoptableAllocator: on tensorflow, weights of 256 KiB or more are read into memory libtensorflow keeps as the
 * tensor's storage (no second copy, checked by writing the array after the tensor exists); everywhere else the
 * arrays are plain and the tensors own copies. The values are the same either way, every dtype included
 * (read through a safetensors file with the allocator), and the probes leave no tensor behind.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { setBackend } from '../../../lib/backend/index.js';
import { materialize } from '../../../lib/backend/materialize.js';
import { adoptableAllocator, ADOPT_MIN_BYTES } from '../../../lib/backend/adoptable-memory.js';
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

/** Makes a tensor from `values`, then writes the array: true when the tensor sees the write (shared memory). */
function sharesMemory(values: Float32Array): boolean {
  const t = materialize(tf.tensor1d(values, 'float32'));
  const before = values[0]!;
  values[0] = before + 1;
  const seen = t.dataSync()[0];
  values[0] = before;
  t.dispose();
  return seen === before + 1;
}

test(`large arrays are adopted by libtensorflow on tensorflow, plain elsewhere (${backend}); small ones are plain`, () => {
  const allocate = adoptableAllocator();
  const startTensors = tf.memory().numTensors;
  for (const bytes of [ADOPT_MIN_BYTES, 3 * ADOPT_MIN_BYTES + 4, 4 << 20]) {
    const mem = allocate(bytes);
    assert.equal(mem.byteLength, bytes);
    assert.ok(mem.every((b) => b === 0), 'zero-filled');
    if (backend === 'tensorflow') {
      assert.ok(sharesMemory(new Float32Array(mem.buffer, mem.byteOffset, bytes / 4)), `${bytes} bytes: libtensorflow keeps the memory`);
    } else {
      assert.equal(mem.byteOffset, 0, 'plain array');
      assert.equal(mem.buffer.byteLength, bytes, 'plain array');
    }
  }
  const small = allocate(1024);
  assert.equal(small.byteOffset, 0);
  assert.equal(small.buffer.byteLength, 1024);
  assert.equal(tf.memory().numTensors, startTensors, 'the probes leave no tensor');
});

test('safetensors read with the allocator: every float dtype lands in the allocated memory with the values of a plain read', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tfjs-lens-adopt-'));
  try {
    const path = join(dir, 'w.safetensors');
    const n = ADOPT_MIN_BYTES / 4 + 3; // past the threshold, odd length
    const values = Array.from({ length: n }, (_, i) => Math.sin(i) * 100);
    const dtypes: SafetensorsDtype[] = ['F32', 'F16', 'BF16', 'F64'];
    const tensors: Record<string, { shape: number[]; data: number[]; dtype: SafetensorsDtype }> = {};
    for (const dtype of dtypes) tensors[dtype] = { shape: [n], data: values, dtype };
    await saveSafetensors(path, tensors);
    await withSafetensors(path, async (file) => {
      for (const dtype of dtypes) {
        const given: ArrayBufferLike[] = [];
        const inner = adoptableAllocator();
        const plainRead = await file.read(dtype);
        const read = await file.read(dtype, { allocate: (bytes) => { const m = inner(bytes); given.push(m.buffer); return m; } });
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

test('the shipped tiny GPT-2 converted through adopted memory: weights (c_attn cut on the host) equal the checkpoint bytes, nothing left behind', async () => {
  const ckpt = await openCheckpoint(join(ROOT, 'weights', 'tiny-gpt2'));
  const start = tf.memory().numTensors;
  try {
    const cfg = parseGpt2Config(await readConfigJson(ckpt.dir), 'tiny-gpt2');
    const weights = await convertGpt2(ckpt, cfg);
    const raw = async (key: string): Promise<Float32Array> => (await ckpt.read(key)).data as Float32Array;
    // wte (2 MiB) and the MLP matrices (256 KiB each) are past the adoption threshold, biases are not.
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
