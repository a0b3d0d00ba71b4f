import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng, Rng } from '../../../lib/math/rng.js';
import { InvalidArgumentError } from '../../../lib/errors.js';

test('xoshiro128** matches the reference outputs for state [1, 2, 3, 4]', () => {
  // First outputs of the published algorithm, derived by hand: rotl(s1·5, 7)·9 with s1 = 2, 0, 1029.
  const rng = Rng.fromState([1, 2, 3, 4]);
  assert.equal(rng.nextUint32(), 11520);
  assert.equal(rng.nextUint32(), 0);
  assert.equal(rng.nextUint32(), 5927040);
});

test('same seed gives the same stream, different seeds differ', () => {
  const a = createRng(42);
  const b = createRng(42);
  const c = createRng(43);
  const sa = Array.from({ length: 20 }, () => a.nextUint32());
  const sb = Array.from({ length: 20 }, () => b.nextUint32());
  const sc = Array.from({ length: 20 }, () => c.nextUint32());
  assert.deepEqual(sa, sb);
  assert.notDeepEqual(sa, sc);
  assert.equal(a.seed, 42);
});

test('uniform() lies in [0, 1) with mean 1/2 and variance 1/12', () => {
  const rng = createRng(7);
  const n = 200_000;
  let s = 0;
  let s2 = 0;
  for (let i = 0; i < n; i++) {
    const u = rng.uniform();
    assert.ok(u >= 0 && u < 1);
    s += u;
    s2 += u * u;
  }
  const m = s / n;
  assert.ok(Math.abs(m - 0.5) < 0.005, `mean ${m}`);
  assert.ok(Math.abs(s2 / n - m * m - 1 / 12) < 0.002);
});

test('uniformInt(n) is unbiased over 0..n-1 (chi-square on 60 000 draws)', () => {
  const rng = createRng(1);
  const n = 6;
  const draws = 60_000;
  const counts = new Array<number>(n).fill(0);
  for (let i = 0; i < draws; i++) {
    const v = rng.uniformInt(n);
    assert.ok(Number.isInteger(v) && v >= 0 && v < n);
    counts[v]!++;
  }
  const expected = draws / n;
  const chi2 = counts.reduce((acc, c) => acc + (c - expected) ** 2 / expected, 0);
  assert.ok(chi2 < 20.5, `chi2 ${chi2} (df 5, p = 0.001 at 20.5)`);
  assert.equal(rng.uniformInt(1), 0);
  assert.throws(() => rng.uniformInt(0), InvalidArgumentError);
  assert.throws(() => rng.uniformInt(2.5), InvalidArgumentError);
});

test('normal() has mean 0 and variance 1', () => {
  const rng = createRng(3);
  const n = 200_000;
  let s = 0;
  let s2 = 0;
  for (let i = 0; i < n; i++) {
    const z = rng.normal();
    s += z;
    s2 += z * z;
  }
  assert.ok(Math.abs(s / n) < 0.01);
  assert.ok(Math.abs(s2 / n - 1) < 0.015);
});

test('shuffle and permutation return permutations; every order of 3 items appears evenly', () => {
  const rng = createRng(9);
  const arr = [1, 2, 3, 4, 5, 6, 7, 8];
  const out = rng.shuffle([...arr]);
  assert.deepEqual([...out].sort((a, b) => a - b), arr);
  const perm = rng.permutation(100);
  assert.deepEqual([...perm].sort((a, b) => a - b), Array.from({ length: 100 }, (_, i) => i));
  const counts = new Map<string, number>();
  for (let i = 0; i < 6000; i++) {
    const key = rng.shuffle(['a', 'b', 'c']).join('');
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  assert.equal(counts.size, 6);
  for (const c of counts.values()) assert.ok(Math.abs(c - 1000) < 150, `count ${c}`);
});

test('bad seeds are rejected', () => {
  assert.throws(() => createRng(NaN), InvalidArgumentError);
  assert.throws(() => Rng.fromState([0, 0, 0, 0]), InvalidArgumentError);
});
