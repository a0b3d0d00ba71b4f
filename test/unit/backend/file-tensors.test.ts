/**
 * Weights that map the checkpoint file (backend/file-tensors.ts, binding patch level 3), on the tensorflow tier: the
 * aligned copy of the shipped tiny-gpt2-deep (`alignCheckpoint`) loads with its float32 weights of 64 KiB and more
 * mapped from the file (read from /proc/self/maps: the mapped bytes cover exactly those tensors), gives logits and
 * cached activations bit-equal to the read path (TFJS_LENS_MMAP=0, and the unaligned original), and unmaps every
 * region when the model is disposed. The mapping is private: replacing the file by a rename does not change the
 * loaded model. A sharded checkpoint (two shards written by saveSafetensors, which aligns) maps from both shards.
 * Skipped with the reason on other backends (they copy values into their own memory).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync, openSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { setBackend } from '../../../lib/backend/index.js';
import { fileTensorsAvailable, mappedFileBytes, tensorFromFile, MAPPED_MIN_BYTES } from '../../../lib/backend/file-tensors.js';
import { alignCheckpoint } from '../../../lib/io/checkpoint-align.js';
import { readAllSafetensors, withSafetensors } from '../../../lib/io/safetensors.js';
import { saveSafetensors } from '../../../lib/io/safetensors-writer.js';
import { loadModel } from '../../../lib/nn/load.js';
import type { HookedGPT2 } from '../../../lib/nn/gpt2.js';
import { CheckpointError } from '../../../lib/errors.js';
import { testBackend } from '../../helpers/backend.js';
import { ROOT } from '../../helpers/fixtures.js';

const DEEP = join(ROOT, 'weights', 'tiny-gpt2-deep');
const backend = testBackend('wasm');
const skip = backend !== 'tensorflow' ? `file-mapped weights are a tensorflow-backend feature (this tier runs ${backend}; the tensorflow tier runs it)` : undefined;
const IDS = [[5, 17, 203, 96, 411, 8, 62, 300, 1, 45, 128, 7]];

/** Bytes of `path` mapped into this process now. */
const mappedBytes = (path: string): number => mappedFileBytes((p) => p === path);

/** Logits and two cached activations of `dir`'s model on IDS, as host arrays; the model is disposed. */
async function outputs(dir: string, during?: () => void): Promise<Float32Array[]> {
  const model = (await loadModel(dir)) as HookedGPT2;
  try {
    during?.();
    const { output, cache } = await model.runWithCache(IDS, { namesFilter: (n: string) => n === 'blocks.7.hook_resid_post' || n === 'blocks.15.mlp.hook_post' });
    const result = [await output.data(), await cache.get('blocks.7.hook_resid_post').data(), await cache.get('blocks.15.mlp.hook_post').data()] as Float32Array[];
    output.dispose();
    cache.dispose();
    return result;
  } finally {
    model.dispose();
  }
}

function withAlignedCopy<T>(fn: (dir: string, file: string) => Promise<T>): Promise<T> {
  const root = mkdtempSync(join(tmpdir(), 'tfjs-lens-mapped-'));
  return (async () => {
    try {
      const dir = join(root, 'deep');
      await alignCheckpoint(DEEP, dir);
      return await fn(dir, join(dir, 'model.safetensors'));
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  })();
}

test('an aligned checkpoint loads with its large float32 weights mapped, equal to reading them, and unmapped on dispose', { skip }, async () => {
  await setBackend('tensorflow');
  assert.ok(fileTensorsAvailable(), 'the tensorflow binding has createTensorFromFile (built by `tfjs-lens setup tensorflow`, patch level 3)');
  await withAlignedCopy(async (dir, file) => {
    // What is mapped: the float32 tensors read whole (wte, wpe, c_proj, c_fc, mlp.c_proj) of 64 KiB and more;
    // c_attn is cut into W_Q/W_K/W_V on the host (read).
    const expected = await withSafetensors(file, async (f) => f.header.tensors.filter((t) => t.byteLength >= MAPPED_MIN_BYTES && !t.name.includes('c_attn')));
    const expectedBytes = expected.reduce((s, t) => s + t.byteLength, 0);
    assert.equal(expected.length, 2 + 16 * 3);
    const before = tf.memory().numTensors;
    let mappedDuring = 0;
    const mapped = await outputs(dir, () => (mappedDuring = mappedBytes(file)));
    assert.ok(mappedDuring >= expectedBytes && mappedDuring <= expectedBytes + expected.length * 2 * 4096, `mapped ${mappedDuring} bytes for ${expectedBytes} bytes of mappable tensors`);
    assert.equal(mappedBytes(file), 0, 'every region is unmapped once the model is disposed');
    assert.equal(tf.memory().numTensors, before, 'no tensor left');
    process.env.TFJS_LENS_MMAP = '0';
    try {
      let readDuring = -1;
      const read = await outputs(dir, () => (readDuring = mappedBytes(file)));
      assert.equal(readDuring, 0, 'TFJS_LENS_MMAP=0 reads');
      for (let i = 0; i < read.length; i++) assert.deepEqual(mapped[i], read[i], `output ${i}: mapped = read, bit for bit`);
    } finally {
      delete process.env.TFJS_LENS_MMAP;
    }
    const original = await outputs(DEEP, () => assert.equal(mappedBytes(join(DEEP, 'model.safetensors')), 0, 'the unaligned original is read'));
    for (let i = 0; i < original.length; i++) assert.deepEqual(mapped[i], original[i], `output ${i}: aligned copy = original`);
  });
});

test('a mapped model keeps its weights when the file is replaced by a rename; the file is never written', { skip }, async () => {
  await setBackend('tensorflow');
  await withAlignedCopy(async (dir, file) => {
    const bytes = readFileSync(file);
    const model = (await loadModel(dir)) as HookedGPT2;
    try {
      assert.ok(mappedBytes(file) > 0, 'the weights map the file');
      const first = await (await model.forward(IDS)).data();
      const replacement = `${file}.new`;
      writeFileSync(replacement, Buffer.alloc(bytes.byteLength)); // zeros: a model reading these would change
      renameSync(replacement, file);
      const logits = await model.forward(IDS);
      assert.deepEqual(await logits.data(), first);
      logits.dispose();
    } finally {
      model.dispose();
    }
    assert.ok(readFileSync(file).every((b) => b === 0), 'the replacement is untouched');
  });
});

test('tensorFromFile maps only 64-byte aligned regions of 64 KiB or more; the binding refuses an unaligned one; a failed mapping is a CheckpointError', { skip }, async () => {
  await setBackend('tensorflow');
  await withAlignedCopy(async (_dir, file) => {
    const info = await withSafetensors(file, async (f) => f.info('wte.weight'));
    const fd = openSync(file, 'r');
    try {
      assert.equal(tensorFromFile(fd, info.start + 4, info.byteLength - 4, [info.byteLength / 4 - 1]), undefined, 'unaligned: read instead');
      assert.equal(tensorFromFile(fd, info.start, 1024, [256]), undefined, 'small: read instead');
      const t = tensorFromFile(fd, info.start, info.byteLength, info.shape)!;
      const expected = new Float32Array(readFileSync(file).buffer.slice(info.start, info.start + info.byteLength));
      assert.deepEqual(await t.data(), expected);
      t.dispose();
      const binding = (tf.backend() as unknown as { binding: { createTensorFromFile(...a: unknown[]): number; TF_FLOAT: number } }).binding;
      assert.throws(() => binding.createTensorFromFile([16], binding.TF_FLOAT, fd, info.start + 32, 64), /not a 64-byte aligned region/);
      const before = tf.memory().numTensors;
      assert.throws(() => tensorFromFile(-1, info.start, info.byteLength, info.shape, 'the test file'), (err: unknown) => err instanceof CheckpointError && /cannot map .* of the test file: .*Bad file descriptor/.test(err.message) && /TFJS_LENS_MMAP=0/.test(err.hint ?? ''));
      assert.equal(tf.memory().numTensors, before, 'no tensor from a failed mapping');
    } finally {
      closeSync(fd);
    }
  });
});

test('a sharded checkpoint written by saveSafetensors maps weights from both shards, equal to the single file', { skip }, async () => {
  await setBackend('tensorflow');
  const root = mkdtempSync(join(tmpdir(), 'tfjs-lens-mapped-shards-'));
  try {
    const tensors = await readAllSafetensors(join(DEEP, 'model.safetensors'));
    const names = [...tensors.keys()];
    const shards = ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors'];
    const weightMap: Record<string, string> = {};
    for (const [i, part] of [names.slice(0, names.length / 2), names.slice(names.length / 2)].entries()) {
      // saveSafetensors starts the data at a multiple of 64 and these tensors are 64-byte multiples: all aligned
      await saveSafetensors(join(root, shards[i]!), new Map(part.map((n) => [n, { shape: tensors.get(n)!.shape, data: tensors.get(n)!.data as Float32Array }])));
      for (const n of part) weightMap[n] = shards[i]!;
    }
    writeFileSync(join(root, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
    for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'vocab.json', 'merges.txt']) writeFileSync(join(root, f), readFileSync(join(DEEP, f)));
    const mapped: number[] = [];
    const sharded = await outputs(root, () => mapped.push(...shards.map((s) => mappedBytes(join(root, s)))));
    assert.ok(mapped.every((b) => b > 1 << 20), `both shards mapped: ${mapped.join(', ')} bytes`);
    assert.deepEqual(shards.map((s) => mappedBytes(join(root, s))), [0, 0], 'unmapped after dispose');
    const original = await outputs(DEEP);
    for (let i = 0; i < original.length; i++) assert.deepEqual(sharded[i], original[i], `output ${i}: sharded + mapped = single file + read`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
