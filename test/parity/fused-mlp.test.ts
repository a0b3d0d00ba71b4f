/**
 * The fused linear + GELU kernel (tensorflow backend, oneDNN): the MLP uses it when nothing reads `hook_pre`.
 * A plain forward must still match Hugging Face's logits, and equal the unfused run (hook_pre cached) to float
 * rounding. On the tensorflow tier on x86-64 with the setup's binding the kernel must be present, so the
 * fusion cannot disappear unnoticed; elsewhere the test checks the composite path.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { setBackend } from '../../lib/backend/index.js';
import { tensorflowInfo } from '../../lib/backend/tensorflow.js';
import { FUSED_LINEAR_GELU } from '../../lib/backend/kernel-patches/fused-linear-gelu.js';
import { loadModel } from '../../lib/nn/load.js';
import { fixtureDir, readFixture, relError } from '../helpers/fixtures.js';
import { testBackend } from '../helpers/backend.js';

test('GPT-2 MLP: fused linear + GELU forward = HF logits and = the unfused run', async (t) => {
  const backend = testBackend('wasm');
  await setBackend(backend);
  const fused = tf.getKernel(FUSED_LINEAR_GELU, tf.getBackend()) !== undefined;
  const info = tensorflowInfo();
  if (backend === 'tensorflow' && process.arch === 'x64' && (info?.manifest?.tfjsNode.bindingPatch ?? 0) >= 1) assert.ok(fused, 'the fused kernel is registered on tensorflow (x86-64, patched binding)');
  t.diagnostic(`${backend}: fused linear+GELU ${fused ? 'on' : 'off'}`);
  const { inputs, expected } = await readFixture('gpt2-tiny');
  const model = await loadModel(fixtureDir('gpt2-tiny'), { modelType: 'gpt2' });
  const ids = tf.tensor(inputs.get('input_ids')!.data as Int32Array, inputs.get('input_ids')!.shape, 'int32');
  const before = tf.memory().numTensors;
  const plain = await model.forward(ids);
  const { output: unfused, cache } = await model.runWithCache(ids, { namesFilter: (n) => n.endsWith('mlp.hook_pre') });
  const ref = expected.get('logits')!.data as Float32Array;
  const errPlain = relError(await plain.data(), ref);
  const errBetween = relError(await plain.data(), await unfused.data());
  t.diagnostic(`rel err vs HF ${errPlain.toExponential(2)}; fused vs unfused ${errBetween.toExponential(2)}`);
  assert.ok(errPlain < 1e-5, `plain forward vs HF: ${errPlain}`);
  assert.ok(errBetween < 1e-6, `fused vs unfused: ${errBetween}`);
  tf.dispose([plain, unfused]);
  cache.dispose();
  assert.equal(tf.memory().numTensors, before);
  ids.dispose();
  model.dispose();
});
