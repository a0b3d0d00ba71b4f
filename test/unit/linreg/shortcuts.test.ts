import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { Matrix, solve } from 'ml-matrix';
import { fitAllShortcuts, shortcutKey, type ShortcutMap } from '../../../lib/linreg/index.js';
import { saveShortcuts } from '../../../lib/shortcuts/index.js';
import { readAllSafetensors } from '../../../lib/io/safetensors.js';
import { createRng } from '../../../lib/math/rng.js';
import { setBackend } from '../../../lib/backend/index.js';
import { InvalidArgumentError, ShapeMismatchError } from '../../../lib/errors.js';
import { testBackend } from '../../helpers/backend.js';

const toMl = (data: ArrayLike<number>, rows: number, cols: number) => new Matrix(Array.from({ length: rows }, (_, r) => Array.from({ length: cols }, (_, c) => data[r * cols + c]!)));

/** L+1 correlated layers [n, d] (a random-walk "residual stream"). */
function makeStates(seed: number, L: number, n: number, d: number): Float32Array[] {
  const rng = createRng(seed);
  const states = [Float32Array.from({ length: n * d }, () => rng.normal())];
  for (let l = 1; l <= L; l++) states.push(states[l - 1]!.map((v) => v + 0.3 * rng.normal()));
  return states;
}

function maxDiffTransposed(weight: ArrayLike<number>, ref: Matrix, d: number): number {
  let m = 0;
  for (let o = 0; o < d; o++) for (let a = 0; a < d; a++) m = Math.max(m, Math.abs(weight[o * d + a]! - ref.get(a, o)));
  return m;
}

test('all pairs i < j, each equal to its own least-squares fit (ml-matrix)', async () => {
  const [L, n, d] = [3, 120, 6];
  const states = makeStates(1, L, n, d);
  const order: string[] = [];
  const maps = await fitAllShortcuts((l) => states[l]!, L, d, { threads: 2, dtype: 'float64', onMap: (m) => void order.push(m.key) });
  assert.deepEqual([...maps.keys()], ['0_1', '0_2', '0_3', '1_2', '1_3', '2_3']);
  assert.deepEqual(order, [...maps.keys()]);
  for (const map of maps.values()) {
    const ref = solve(toMl(states[map.from]!, n, d), toMl(states[map.to]!, n, d));
    assert.ok(maxDiffTransposed(map.weight, ref, d) < 1e-10, map.key);
    assert.equal(map.key, shortcutKey(map.from, map.to));
    assert.deepEqual(map.shape, [d, d]);
    assert.equal(map.samples, n);
    assert.equal(map.method, 'cholesky');
  }
});

test('layer subset, float32 output, keep: false, rows packed in several passes', async () => {
  const [L, n, d] = [4, 90, 5];
  const states = makeStates(2, L, n, d);
  const seen: ShortcutMap[] = [];
  const maps = await fitAllShortcuts(async (l) => states[l]!, L, d, { layers: [0, 2, 4], keep: false, maxPackedRows: 32, threads: 1, onMap: (m) => void seen.push(m) });
  assert.equal(maps.size, 0);
  assert.deepEqual(seen.map((m) => m.key), ['0_2', '0_4', '2_4']);
  for (const map of seen) {
    assert.ok(map.weight instanceof Float32Array);
    const ref = solve(toMl(states[map.from]!, n, d), toMl(states[map.to]!, n, d));
    assert.ok(maxDiffTransposed(map.weight, ref, d) < 1e-5, map.key);
  }
});

test("device 'tfjs' gives the same maps to float32 accuracy, without leaking tensors", async () => {
  await setBackend(testBackend('cpu'));
  const [L, n, d] = [2, 200, 4];
  const states = makeStates(3, L, n, d);
  const before = tf.memory().numTensors;
  const maps = await fitAllShortcuts((l) => states[l]!, L, d, { device: 'tfjs', tfjsSliceRows: 50, dtype: 'float64' });
  assert.equal(tf.memory().numTensors, before);
  for (const map of maps.values()) {
    const ref = solve(toMl(states[map.from]!, n, d), toMl(states[map.to]!, n, d));
    assert.ok(maxDiffTransposed(map.weight, ref, d) < 1e-3, map.key);
  }
});

test('saved maps read back with the safetensors reader', async () => {
  const [L, n, d] = [2, 60, 3];
  const states = makeStates(4, L, n, d);
  const maps = await fitAllShortcuts((l) => states[l]!, L, d, { threads: 1 });
  const dir = await mkdtemp(join(tmpdir(), 'tfjs-lens-shortcuts-'));
  try {
    const path = join(dir, 'shortcuts.safetensors');
    await saveShortcuts(path, maps, { model: 'test' });
    const back = await readAllSafetensors(path);
    assert.deepEqual([...back.keys()].sort(), ['0_1', '0_2', '1_2']);
    for (const [key, map] of maps) {
      const t = back.get(key)!;
      assert.deepEqual(t.shape, [d, d]);
      assert.deepEqual([...t.data], [...map.weight]);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('bad state sources raise typed errors', async () => {
  const good = new Float32Array(20);
  await assert.rejects(fitAllShortcuts((l) => (l === 0 ? good : new Float32Array(24)), 1, 4, { threads: 1 }), ShapeMismatchError);
  await assert.rejects(fitAllShortcuts(() => new Float32Array(21), 1, 4, { threads: 1 }), ShapeMismatchError);
  await assert.rejects(fitAllShortcuts(() => good, 2, 4, { layers: [1, 0] }), InvalidArgumentError);
});
