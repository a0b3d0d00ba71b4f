import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kMeans } from '../../../lib/probes/kmeans.js';
import { createRng } from '../../../lib/math/rng.js';
import { InvalidArgumentError } from '../../../lib/errors.js';

function blobs(seed: number, centers: number[][], perBlob: number, sd: number): { data: Float64Array; shape: [number, number]; truth: number[] } {
  const rng = createRng(seed);
  const d = centers[0]!.length;
  const rows: number[] = [];
  const truth: number[] = [];
  for (let i = 0; i < perBlob * centers.length; i++) {
    const c = i % centers.length;
    for (let t = 0; t < d; t++) rows.push(centers[c]![t]! + sd * rng.normal());
    truth.push(c);
  }
  return { data: Float64Array.from(rows), shape: [truth.length, d], truth };
}

test('k-means recovers well separated blobs; centres are the blob means; inertia is the sum of squares', () => {
  const centers = [[0, 0, 0], [10, 0, 0], [0, 10, 0], [0, 0, 10]];
  const X = blobs(1, centers, 25, 0.5);
  const res = kMeans(X, 4, { seed: 3, nInit: 3 });
  // Each found cluster holds exactly one true blob.
  const map = new Map<number, number>();
  X.truth.forEach((t, i) => {
    const l = res.labels[i]!;
    if (!map.has(l)) map.set(l, t);
    assert.equal(map.get(l), t, `sample ${i}`);
  });
  assert.equal(map.size, 4);
  // Centres = means of their members; inertia recomputed independently.
  let inertia = 0;
  for (let c = 0; c < 4; c++) {
    const members = X.truth.map((_, i) => i).filter((i) => res.labels[i] === c);
    for (let t = 0; t < 3; t++) {
      const m = members.reduce((s, i) => s + X.data[i * 3 + t]!, 0) / members.length;
      assert.ok(Math.abs(res.centers[c * 3 + t]! - m) < 1e-9);
    }
    for (const i of members) for (let t = 0; t < 3; t++) inertia += (X.data[i * 3 + t]! - res.centers[c * 3 + t]!) ** 2;
  }
  assert.ok(Math.abs(res.inertia - inertia) < 1e-9 * inertia);
  // ≈ n·d·sd² for correct clusters.
  assert.ok(res.inertia < 1.5 * 100 * 3 * 0.25);
});

test('k-means is deterministic for a seed; k = 1 gives the global mean; k = n gives zero inertia', () => {
  const X = blobs(2, [[0, 0], [5, 5]], 10, 1);
  const a = kMeans(X, 2, { seed: 9 });
  const b = kMeans(X, 2, { seed: 9 });
  assert.deepEqual(Array.from(a.labels), Array.from(b.labels));
  assert.deepEqual(Array.from(a.centers), Array.from(b.centers));
  const one = kMeans(X, 1);
  const mean0 = X.truth.reduce((s, _, i) => s + X.data[i * 2]!, 0) / 20;
  assert.ok(Math.abs(one.centers[0]! - mean0) < 1e-12);
  assert.ok(kMeans(X, 20).inertia < 1e-20);
  assert.throws(() => kMeans(X, 21), InvalidArgumentError);
  assert.throws(() => kMeans(X, 0), InvalidArgumentError);
});

test('one k-means++ start finds the blobs of 10 clusters in 64-d (inertia of the true partition, not a merged pair)', () => {
  const rng = createRng(5);
  const k = 10;
  const d = 64;
  const centers = Array.from({ length: k }, () => Array.from({ length: d }, () => 10 * rng.normal()));
  const X = blobs(1, centers, 60, 3);
  // Inertia of the true partition around its own means: the optimum for blobs this well separated.
  let truthInertia = 0;
  for (let c = 0; c < k; c++) {
    const members = X.truth.map((_, i) => i).filter((i) => X.truth[i] === c);
    for (let t = 0; t < d; t++) {
      const m = members.reduce((s, i) => s + X.data[i * d + t]!, 0) / members.length;
      for (const i of members) truthInertia += (X.data[i * d + t]! - m) ** 2;
    }
  }
  for (const seed of [0, 1, 2]) {
    const res = kMeans(X, k, { seed });
    assert.ok(res.inertia <= truthInertia * (1 + 1e-9), `seed ${seed}: inertia ${res.inertia} vs the true partition's ${truthInertia}`);
  }
});
