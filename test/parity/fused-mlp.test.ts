/**
 * The fused linear kernel (tensorflow backend, oneDNN): every linear layer adds its bias inside the matmul, and an
 * MLP whose `hook_pre` nothing reads runs x·W + b + GELU as one kernel — the tanh form for GPT-2, the exact (erf)
 * form for ViT and Whisper. A plain forward must still match Hugging Face's logits, and equal the unfused run
 * (hook_pre cached, fusion of the MLP off) to float rounding. On the tensorflow tier on x86-64 with the setup's
 * binding the kernel must be present and used, so the fusion cannot disappear unnoticed; elsewhere the test checks
 * the composite path.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { setBackend } from '../../lib/backend/index.js';
import { tensorflowInfo } from '../../lib/backend/tensorflow.js';
import { FUSED_LINEAR } from '../../lib/backend/kernel-patches/fused-linear.js';
import { loadModel } from '../../lib/nn/load.js';
import { fixtureDir, readFixture, relError } from '../helpers/fixtures.js';
import { testBackend } from '../helpers/backend.js';

interface Case {
  fixture: string;
  /** Model input built from the fixture's inputs (tensors are disposed by the test). */
  input(inputs: Map<string, { data: ArrayLike<number>; shape: number[] }>): { run: unknown; tensors: tf.Tensor[] };
  /** The composite GELU's own kernel. */
  geluKernel: 'Tanh' | 'Erf';
}

const CASES: Case[] = [
  {
    fixture: 'gpt2-tiny',
    input: (inputs) => {
      const ids = tf.tensor(inputs.get('input_ids')!.data as Int32Array, inputs.get('input_ids')!.shape, 'int32');
      return { run: ids, tensors: [ids] };
    },
    geluKernel: 'Tanh',
  },
  {
    fixture: 'vit-tiny',
    input: (inputs) => {
      const px = tf.tensor(inputs.get('pixel_values')!.data as Float32Array, inputs.get('pixel_values')!.shape, 'float32');
      return { run: px, tensors: [px] };
    },
    geluKernel: 'Erf',
  },
  {
    fixture: 'whisper-tiny',
    input: (inputs) => {
      const feats = tf.tensor(inputs.get('input_features')!.data as Float32Array, inputs.get('input_features')!.shape, 'float32');
      const ids = tf.tensor(inputs.get('decoder_input_ids')!.data as Int32Array, inputs.get('decoder_input_ids')!.shape, 'int32');
      return { run: { inputFeatures: feats, decoderInputIds: ids }, tensors: [feats, ids] };
    },
    geluKernel: 'Erf',
  },
];

/** How many times `kernel` ran in `fn`. */
async function kernelCount(kernel: string, fn: () => Promise<tf.Tensor>): Promise<number> {
  const info = await tf.profile(async () => {
    (await fn()).dispose();
  });
  return info.kernels.filter((k) => k.name === kernel).length;
}

for (const c of CASES) {
  test(`${c.fixture}: fused linear (+ GELU) forward = HF logits and = the unfused run`, async (t) => {
    const backend = testBackend('wasm');
    await setBackend(backend);
    const fused = tf.getKernel(FUSED_LINEAR, tf.getBackend()) !== undefined;
    const info = tensorflowInfo();
    const mustFuse = backend === 'tensorflow' && process.arch === 'x64' && (info?.manifest?.tfjsNode.bindingPatch ?? 0) >= 1;
    if (mustFuse) assert.ok(fused, 'the fused kernel is registered on tensorflow (x86-64, patched binding)');
    t.diagnostic(`${backend}: fused linear ${fused ? 'on' : 'off'}`);
    const { inputs, expected } = await readFixture(c.fixture);
    const model = await loadModel(fixtureDir(c.fixture));
    const { run, tensors } = c.input(inputs);
    const lm = model as unknown as { forward(i: unknown): Promise<tf.Tensor>; runWithCache(i: unknown, o: object): Promise<{ output: tf.Tensor; cache: { dispose(): void } }> };
    const before = tf.memory().numTensors;
    const plain = await lm.forward(run);
    const { output: unfused, cache } = await lm.runWithCache(run, { namesFilter: (n: string) => n.endsWith('mlp.hook_pre') });
    const ref = expected.get('logits')!.data as Float32Array;
    const errPlain = relError(await plain.data(), ref);
    const errBetween = relError(await plain.data(), await unfused.data());
    t.diagnostic(`rel err vs HF ${errPlain.toExponential(2)}; fused vs unfused ${errBetween.toExponential(2)}`);
    assert.ok(errPlain < 1e-5, `plain forward vs HF: ${errPlain}`);
    assert.ok(errBetween < 1e-6, `fused vs unfused: ${errBetween}`);
    tf.dispose([plain, unfused]);
    cache.dispose();
    if (mustFuse) {
      // Every linear with a bias goes through the kernel (4 per attention, 2 per MLP at least); reading hook_pre
      // takes the MLPs' GELU out of the kernel, so the composite GELU then runs once more per MLP (Whisper's
      // convolution stem has its own, unfused GELUs in both runs).
      const mlps = (model as unknown as { hookNames(): string[] }).hookNames().filter((n) => n.endsWith('mlp.hook_pre')).length;
      const fusedCount = await kernelCount(FUSED_LINEAR, () => lm.forward(run));
      assert.ok(fusedCount >= 6 * mlps, `${fusedCount} fused linear kernels in a forward with ${mlps} blocks`);
      const geluPlain = await kernelCount(c.geluKernel, () => lm.forward(run));
      const geluUnfused = await kernelCount(c.geluKernel, async () => {
        const r = await lm.runWithCache(run, { namesFilter: (n: string) => n.endsWith('mlp.hook_pre') });
        r.cache.dispose();
        return r.output;
      });
      assert.equal(geluUnfused - geluPlain, mlps, `${c.geluKernel}: ${geluPlain} in a plain forward, ${geluUnfused} with hook_pre read (${mlps} MLPs)`);
    }
    assert.equal(tf.memory().numTensors, before);
    tf.dispose(tensors);
    model.dispose();
  });
}
