import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kendallPrefixLength, kendallTauStrict, meanTauPermutationTest, rankCorrespondence } from '../../../lib/lens/order.js';
import { createRng } from '../../../lib/math/rng.js';

const close = (a: number, b: number, tol: number) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

test('strict Kendall τ counts ties and inversions as discordant (hand-computed)', () => {
  const L = 10;
  // s = [1,2,2,5,9]: s_4 = L−1, so m = 3, n = 4; pairs of [1,2,2,5]:
  // (0,1) C, (0,2) C, (0,3) C, (1,2) tie → D, (1,3) C, (2,3) C → (5 − 1)/6
  close(kendallTauStrict([1, 2, 2, 5, 9], L)!, 4 / 6, 1e-15);
  assert.equal(kendallPrefixLength([1, 2, 2, 5, 9], L), 4);
  // fully ordered → 1, fully reversed → −1, all tied → −1
  assert.equal(kendallTauStrict([0, 1, 2, 3, 4], L), 1);
  assert.equal(kendallTauStrict([4, 3, 2, 1, 0], L), -1);
  assert.equal(kendallTauStrict([3, 3, 3, 3, 3], L), -1);
  // the quirk value L inside the prefix: [10, 2, 5, 9, 9] → n = 3: (0,1) D, (0,2) D, (1,2) C → −1/3
  close(kendallTauStrict([10, 2, 5, 9, 9], L)!, -1 / 3, 1e-15);
  // L−1 inside the prefix counts as a value: [9, 1, 2, 9, 9] → n = 3: D, D, C
  close(kendallTauStrict([9, 1, 2, 9, 9], L)!, -1 / 3, 1e-15);
  // skipped: n < 3, or every s_r = L−1
  assert.equal(kendallTauStrict([3, 1, 9, 9, 9], L), null);
  assert.equal(kendallTauStrict([9, 9, 9, 9, 9], L), null);
  assert.equal(kendallPrefixLength([9, 9, 9, 9, 9], L), null);
});

test('rank correspondence: positions, SEM (ddof 0) and consecutive t-tests by hand', () => {
  const L = 10;
  // row 1: in order → positions 1..5.
  // row 2: [2,2,1,9,3], sorted [1,2,2,3,9]: r0 → 2 (first occurrence), r1 → 2, r2 → 1, r3 excluded (L−1), r4 → 4
  const res = rankCorrespondence([[1, 2, 3, 4, 5], [2, 2, 1, 9, 3]], L);
  assert.deepEqual(res.perRank.map((r) => r.positions), [[1, 2], [2, 2], [3, 1], [4], [5, 4]]);
  assert.deepEqual(res.perRank.map((r) => r.n), [2, 2, 2, 1, 2]);
  assert.deepEqual(res.perRank.map((r) => r.meanPosition), [1.5, 2, 2, 4, 4.5]);
  close(res.perRank[0]!.sem, 0.5 / Math.SQRT2, 1e-15);
  assert.equal(res.perRank[1]!.sem, 0);
  close(res.perRank[2]!.sem, 1 / Math.SQRT2, 1e-15);
  // test (0,1): [1,2] vs [2,2]: s_p² = (0.5 + 0)/2, t = −0.5/√(0.25·(1/2+1/2)) = −1
  const t01 = res.tests[0]!;
  close(t01.t, -1, 1e-12);
  assert.equal(t01.df, 2);
  close(t01.p, 1 - 1 / Math.sqrt(3), 1e-12); // df 2: p = 1 − |t|/√(t²+2) = 1 − 1/√3
  assert.equal(t01.stars, '');
  assert.equal(res.tests[2], null); // rank 3 has a single value
  assert.equal(res.tests.length, 4);
});

test('rank correspondence of a large in-order sample is a significant staircase', () => {
  const rng = createRng(5);
  const S: number[][] = [];
  for (let i = 0; i < 300; i++) {
    const base = rng.uniformInt(10);
    S.push([base, base + 1 + rng.uniformInt(2), base + 4, base + 6 + rng.uniformInt(2), base + 9]);
  }
  const res = rankCorrespondence(S, 48);
  assert.deepEqual(res.perRank.map((r) => r.meanPosition), [1, 2, 3, 4, 5]);
  // zero variance in both groups with different means → p = 0
  for (const t of res.tests) assert.equal(t!.stars, '***');
});

test('permutation test: ordered data gives p < 0.001, random data does not', () => {
  const L = 24;
  const rng = createRng(11);
  const ordered: number[][] = [];
  for (let i = 0; i < 200; i++) {
    const base = rng.uniformInt(8);
    ordered.push([base, base + 1 + rng.uniformInt(3), base + 5, base + 7 + rng.uniformInt(3), base + 12]);
  }
  const res = meanTauPermutationTest(ordered, L, { reps: 1000, seed: 1 });
  assert.equal(res.meanTau, 1);
  assert.equal(res.p, 0);
  assert.equal(res.pLabel, 'p < 0.001');
  assert.equal(res.nUsed, 200);
  assert.equal(res.nSkipped, 0);
  assert.equal(res.permutedMeans.length, 1000);

  const random: number[][] = Array.from({ length: 200 }, () => Array.from({ length: 5 }, () => rng.uniformInt(L - 1)));
  random.push([23, 23, 23, 23, 23], [1, 0, 23, 23, 23]); // skipped: no s_r ≠ L−1; n = 2
  const r2 = meanTauPermutationTest(random, L, { reps: 1000, seed: 2 });
  assert.equal(r2.nSkipped, 2);
  assert.equal(r2.nUsed, 200);
  assert.ok(r2.p > 0.01, `p ${r2.p} should not be small for random data`);
  assert.ok(Math.abs(r2.meanTau) < 0.15);
  assert.match(r2.pLabel, /^p = 0\.\d{3}$/);
  // same seed → same result
  assert.deepEqual(meanTauPermutationTest(random, L, { reps: 200, seed: 7 }).p, meanTauPermutationTest(random, L, { reps: 200, seed: 7 }).p);
});

test('permutation keeps the unpermuted prefix length', () => {
  // n = 3 from [0, 1, 2, 23, 23]; permuting all five values puts L−1 values into the prefix,
  // which then count (as ties/inversions), so permuted means are well below 1.
  const res = meanTauPermutationTest(Array.from({ length: 50 }, () => [0, 1, 2, 23, 23]), 24, { reps: 300, seed: 3 });
  assert.equal(res.meanTau, 1);
  assert.ok(Math.max(...res.permutedMeans) < 0.5);
});
