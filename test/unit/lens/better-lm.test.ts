import { test } from 'node:test';
import assert from 'node:assert/strict';
import { betterLmExample, betterLmGroups, type BetterLmExample } from '../../../lib/lens/better-lm.js';

test('groups A (s1 = L−1) and B (s1 ≤ L−7) with a pooled two-proportion z-test', () => {
  const L = 48;
  const ex: BetterLmExample[] = [];
  const push = (s1: number, count: number, correct: number) => {
    for (let i = 0; i < count; i++) ex.push({ s1, finalTop1Correct: false, rank2IsTarget: i < correct });
  };
  push(47, 40, 8); // group A: 8/40
  push(41, 60, 24); // group B (41 = L−7): 24/60
  push(10, 0, 0);
  push(42, 5, 5); // neither
  push(48, 3, 3); // top-k quirk value L: neither
  ex.push({ s1: 47, finalTop1Correct: true, rank2IsTarget: false });
  const res = betterLmGroups(ex, L);
  assert.deepEqual(res.groupA, { count: 40, rank2Correct: 8, percent: 20 });
  assert.deepEqual(res.groupB, { count: 60, rank2Correct: 24, percent: 40 });
  assert.equal(res.neither, 8);
  assert.equal(res.top1Correct, 1);
  // by hand: p̂ = 32/100, z = (0.2 − 0.4)/√(0.32·0.68·(1/40 + 1/60))
  const z = (0.2 - 0.4) / Math.sqrt(0.32 * 0.68 * (1 / 40 + 1 / 60));
  assert.ok(Math.abs(res.test!.statistic - z) < 1e-12);
  assert.ok(Math.abs(z - -2.1004) < 1e-4);
  assert.ok(Math.abs(res.test!.p - 0.03569) < 2e-5, `p ${res.test!.p}`); // 2·(1 − Φ(2.1004)); table Φ(2.10) = 0.98214
});

test('empty group → no test', () => {
  const res = betterLmGroups([{ s1: 11, finalTop1Correct: false, rank2IsTarget: true }], 12);
  assert.equal(res.groupB.count, 0);
  assert.ok(Number.isNaN(res.groupB.percent));
  assert.equal(res.test, null);
});

test('records from rank tables', () => {
  // L = 3 layers, ranks 0 and 1; target 7.
  const ranks = [
    [1, 7],
    [2, 7],
    [3, 7],
  ];
  assert.deepEqual(betterLmExample(ranks, 7), { s1: 0, finalTop1Correct: false, rank2IsTarget: true });
  assert.deepEqual(betterLmExample(ranks, 7, { quirkAllAgreeIsL: true }), { s1: 3, finalTop1Correct: false, rank2IsTarget: true });
  assert.deepEqual(betterLmExample([[1, 5, 0], [3, 6, 0], [3, 5, 0]], 3), { s1: 2, finalTop1Correct: true, rank2IsTarget: false });
});
