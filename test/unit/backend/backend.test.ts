import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { setBackend, activeBackend } from '../../../lib/backend/index.js';
import { listCpuFallbacks } from '../../../lib/backend/wasm-fallback.js';
import { BackendUnavailableError, InvalidArgumentError } from '../../../lib/errors.js';

async function onBackend<T>(name: 'cpu' | 'wasm', fn: () => T | Promise<T>): Promise<T> {
  await setBackend(name);
  return fn();
}

test('unknown backend names raise InvalidArgumentError listing the choices', async () => {
  await assert.rejects(setBackend('tpu'), (err: unknown) => err instanceof InvalidArgumentError && /wasm/.test((err as Error).message));
});

test('absent backends raise BackendUnavailableError with an install hint', async () => {
  for (const name of ['cuda', 'tensorflow'] as const) {
    await assert.rejects(setBackend(name), (err: unknown) => err instanceof BackendUnavailableError && err.backend === name && err.hint.length > 0);
  }
});

test("'auto' falls back to the best backend present and says which", async () => {
  const chosen = await setBackend('auto', { verbose: false });
  assert.ok(['cuda', 'tensorflow', 'webgpu', 'wasm', 'cpu'].includes(chosen.name));
  assert.equal(tf.getBackend(), chosen.name);
  assert.equal(activeBackend()?.name, chosen.name);
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
