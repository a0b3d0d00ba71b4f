import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { setBackend, activeBackend } from '../../../lib/backend/index.js';
import { listCpuFallbacks } from '../../../lib/backend/kernel-patches/cpu-bridge.js';
import { findTfjsNode, nvidiaGpuVisible, TFJS_NODE_PACKAGES } from '../../../lib/backend/tensorflow.js';
import { isSoftwareAdapter } from '../../../lib/backend/webgpu.js';
import { BackendUnavailableError, InvalidArgumentError } from '../../../lib/errors.js';

async function onBackend<T>(name: 'cpu' | 'wasm', fn: () => T | Promise<T>): Promise<T> {
  await setBackend(name);
  return fn();
}

const tfjsNodeInstalled = TFJS_NODE_PACKAGES.some((p) => findTfjsNode(p) !== undefined);

test('unknown backend names and devices raise InvalidArgumentError listing the choices', async () => {
  await assert.rejects(setBackend('tpu'), (err: unknown) => err instanceof InvalidArgumentError && /wasm/.test((err as Error).message));
  await assert.rejects(setBackend('tensorflow', { device: 'tpu' as 'cpu' }), (err: unknown) => err instanceof InvalidArgumentError && /cpu, gpu/.test((err as Error).message));
  await assert.rejects(setBackend('cuda', { device: 'cpu' }), InvalidArgumentError);
});

test("'cuda' without a visible NVIDIA GPU or CUDA TensorFlow raises BackendUnavailableError with a hint", { skip: nvidiaGpuVisible() && 'an NVIDIA GPU is visible here' }, async () => {
  await assert.rejects(setBackend('cuda'), (err: unknown) => err instanceof BackendUnavailableError && err.backend === 'cuda' && err.hint.length > 0);
});

test('tensorflow: absent → BackendUnavailableError naming the setup command; present → reports libtensorflow and matches cpu', async (t) => {
  if (!tfjsNodeInstalled) {
    await assert.rejects(setBackend('tensorflow'), (err: unknown) => err instanceof BackendUnavailableError && err.backend === 'tensorflow' && /tfjs-lens setup tensorflow/.test(err.hint));
    t.diagnostic('tfjs-node is not installed: checked the error path');
    return;
  }
  const a = [[1.5, -2, 3], [4, 0.25, -6]];
  const b = [[1, 0], [0, 1], [2, -1]];
  const expected = await onBackend('cpu', () => tf.tidy(() => tf.softmax(tf.matMul(tf.tensor2d(a), tf.tensor2d(b))).arraySync() as number[][]));
  const active = await setBackend('tensorflow');
  t.diagnostic(active.detail);
  assert.equal(active.name, 'tensorflow');
  assert.equal(tf.getBackend(), 'tensorflow');
  assert.match(active.versions.tensorflow ?? '', /^2\.\d+\.\d+/);
  assert.ok(['cpu', 'gpu'].includes(active.device));
  const got = tf.tidy(() => tf.softmax(tf.matMul(tf.tensor2d(a), tf.tensor2d(b))).arraySync() as number[][]);
  for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) assert.ok(Math.abs(got[i]![j]! - expected[i]![j]!) < 1e-6);
  // The device is fixed once libtensorflow is loaded.
  const other = active.device === 'cpu' ? 'gpu' : 'cpu';
  await assert.rejects(setBackend('tensorflow', { device: other }), BackendUnavailableError);
});

test("'auto' picks the best backend present, never a software WebGPU adapter, and says which", async () => {
  const chosen = await setBackend('auto', { verbose: false });
  assert.ok(['tensorflow', 'webgpu', 'wasm', 'cpu'].includes(chosen.name));
  assert.equal(tf.getBackend(), chosen.name);
  assert.equal(activeBackend()?.name, chosen.name);
  assert.ok(!/software adapter/.test(chosen.detail), chosen.detail);
  if (tfjsNodeInstalled && chosen.name !== 'webgpu') assert.equal(chosen.name, 'tensorflow', 'tensorflow on the CPU beats wasm');
  if (!tfjsNodeInstalled && chosen.name !== 'webgpu') assert.equal(chosen.name, 'wasm');
});

test('software WebGPU adapters are recognised (SwiftShader, llvmpipe, fallback), hardware ones are not', () => {
  assert.equal(isSoftwareAdapter({ vendor: 'google', architecture: 'swiftshader', description: 'SwiftShader Device (Subzero)' }), true);
  assert.equal(isSoftwareAdapter({ vendor: 'mesa', description: 'llvmpipe (LLVM 15.0.6, 256 bits)' }), true);
  assert.equal(isSoftwareAdapter({ vendor: 'nvidia', description: 'NVIDIA H100 80GB HBM3', isFallbackAdapter: true }), true);
  assert.equal(isSoftwareAdapter({ vendor: 'nvidia', architecture: 'hopper', description: 'NVIDIA H100 80GB HBM3' }), false);
  assert.equal(isSoftwareAdapter({ vendor: 'apple', architecture: 'metal-3' }), false);
});

test('kernels missing on wasm run through the CPU fallback and match the cpu backend', async () => {
  const a = [[1, 2, 3], [4, 5, 6]];
  const b = [[1, 0], [0, 1], [2, -1]];
  const expected = await onBackend('cpu', () => tf.tidy(() => tf.einsum('ij,jk->ik', tf.tensor2d(a), tf.tensor2d(b)).arraySync()));
  await setBackend('wasm');
  assert.ok(listCpuFallbacks().includes('Einsum'), 'Einsum is bridged');
  const before = tf.memory().numTensors;
  const got = tf.tidy(() => tf.einsum('ij,jk->ik', tf.tensor2d(a), tf.tensor2d(b)).arraySync());
  assert.deepEqual(got, expected);
  assert.deepEqual(expected, [[7, -1], [16, -1]]);
  assert.equal(tf.memory().numTensors, before);
});

test('UnsortedSegmentSum (embedding gradient) matches a direct scatter-add on cpu and wasm', async () => {
  const values = [[1, 2], [3, 4], [5, 6], [7, 8]];
  const segments = [2, 0, 2, -1];
  for (const name of ['cpu', 'wasm'] as const) {
    const got = await onBackend(name, () => tf.tidy(() => tf.unsortedSegmentSum(tf.tensor2d(values), tf.tensor1d(segments, 'int32'), 3).arraySync()));
    assert.deepEqual(got, [[3, 4], [0, 0], [6, 8]], name);
  }
});

test('transposed matmuls on wasm equal the cpu backend', async () => {
  const a = tf.tidy(() => tf.keep(tf.randomNormal([2, 5, 7], 0, 1, 'float32', 1)));
  const b = tf.tidy(() => tf.keep(tf.randomNormal([2, 5, 3], 0, 1, 'float32', 2)));
  const c = tf.tidy(() => tf.keep(tf.randomNormal([2, 3, 7], 0, 1, 'float32', 3)));
  const cases = (): number[][] => [
    tf.matMul(a, b, true, false).dataSync() as unknown as number[],
    tf.matMul(b, c, false, false).dataSync() as unknown as number[],
    tf.matMul(a, c, false, true).dataSync() as unknown as number[],
    tf.matMul(c, b, true, true).dataSync() as unknown as number[],
  ].map((x) => Array.from(x));
  const cpuValues = await onBackend('cpu', () => tf.tidy(cases));
  const wasmValues = await onBackend('wasm', () => tf.tidy(cases));
  for (let i = 0; i < cpuValues.length; i++) {
    const diff = Math.max(...cpuValues[i]!.map((v, j) => Math.abs(v - wasmValues[i]![j]!)));
    assert.ok(diff < 1e-5, `case ${i}: max diff ${diff}`);
  }
  tf.dispose([a, b, c]);
});
