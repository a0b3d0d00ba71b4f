/**
 * Order of saturation (docs/methods.md §2): do the top-k tokens get fixed in rank order (rank 0 first,
 * then rank 1, …)? Two analyses of the saturation layers s_0 … s_{k−1} (k = 5 in the paper):
 *
 * - `rankCorrespondence` (§2a): for each rank r, the mean position of s_r in the sorted vector
 *   (1-based), with SEM and Student t-tests between consecutive ranks; in-order saturation shows as a
 *   staircase 1, 2, 3, 4, 5.
 * - `kendallTauStrict` / `meanTauPermutationTest` (§2b): a strict Kendall τ per example (ties count as
 *   discordant) and a permutation test on its mean.
 *
 * Input layout: `S` is **one row per example**, `S[n] = [s_0, …, s_{k−1}]` (the output of
 * `saturationLayers`, after `filterBySaturation`). Layers use the beyond_top1 convention j = 0 … L−1
 * (j meaning h_{j+1}); s_r = L−1 means "fixed only at the last layer" and s_r = L is the value of the
 * `quirkAllAgreeIsL` option.
 */
import { InvalidArgumentError } from '../errors.js';
import { createRng } from '../math/rng.js';
import { mean, pooledTTest, semDdof0, significanceStars } from '../math/stats.js';

/** Per-rank summary of `rankCorrespondence`. */
export interface RankCorrespondenceRank {
  /** The rank r (0 = top-1). */
  rank: number;
  /** Number of examples with s_r < L−1 that contributed. */
  n: number;
  /** mean(q_r) + 1, where q_r is the 0-based position of s_r in the ascending sort (first occurrence). */
  meanPosition: number;
  /** std(q_r, ddof 0)/√n. */
  sem: number;
  /** The positions q_r + 1 that were averaged. */
  positions: number[];
}

/** Pooled-variance two-sample t-test between ranks r and r+1. */
export interface RankCorrespondenceTest {
  /** [r, r+1]. */
  ranks: [number, number];
  /** t statistic (positions of rank r minus positions of rank r+1). */
  t: number;
  /** n_r + n_{r+1} − 2. */
  df: number;
  /** Two-sided p-value. */
  p: number;
  /** '***' p < 0.001, '**' p < 0.01, '' otherwise. */
  stars: '***' | '**' | '';
}

/** Result of `rankCorrespondence`. */
export interface RankCorrespondenceResult {
  /** One entry per rank r = 0 … k−1. */
  perRank: RankCorrespondenceRank[];
  /** Tests between ranks (0,1), (1,2), …; null where a rank has fewer than 2 values. */
  tests: (RankCorrespondenceTest | null)[];
}

function checkRows(S: readonly (readonly number[])[], what: string): number {
  if (S.length === 0) return 0;
  const k = S[0]!.length;
  S.forEach((row, i) => {
    if (row.length !== k) throw new InvalidArgumentError(`${what}: example ${i} has ${row.length} saturation layers, example 0 has ${k}`);
  });
  return k;
}

/**
 * Rank correspondence (§2a). For every example and every rank r with s_r < L−1, q_r is the position of
 * s_r in the ascending sort of the example's k values, taking the first occurrence on ties.
 * @param S `[N][k]` saturation layers, one row per example.
 * @param L number of blocks.
 */
export function rankCorrespondence(S: readonly (readonly number[])[], L: number): RankCorrespondenceResult {
  const k = checkRows(S, 'rankCorrespondence');
  const positions: number[][] = Array.from({ length: k }, () => []);
  for (const row of S) {
    const sorted = [...row].sort((a, b) => a - b);
    for (let r = 0; r < k; r++) {
      const s = row[r]!;
      if (s < L - 1) positions[r]!.push(sorted.indexOf(s) + 1);
    }
  }
  const perRank = positions.map((pos, rank) => ({
    rank,
    n: pos.length,
    meanPosition: mean(pos),
    sem: pos.length ? semDdof0(pos) : NaN,
    positions: pos,
  }));
  const tests: (RankCorrespondenceTest | null)[] = [];
  for (let r = 0; r + 1 < k; r++) {
    const res = pooledTTest(positions[r]!, positions[r + 1]!);
    tests.push(res && { ranks: [r, r + 1], t: res.statistic, df: res.df, p: res.p, stars: significanceStars(res.p) });
  }
  return { perRank, tests };
}

/**
 * Prefix length n of the strict Kendall τ (§2b): n = m + 1 with m the last index r where s_r ≠ L−1;
 * null when every s_r equals L−1.
 */
export function kendallPrefixLength(s: readonly number[], L: number): number | null {
  for (let r = s.length - 1; r >= 0; r--) if (s[r] !== L - 1) return r + 1;
  return null;
}

/** Strict τ of the first n values against the order 0, 1, …: concordant iff s_a < s_b (a < b). */
function tauOfPrefix(s: ArrayLike<number>, n: number): number {
  let concordant = 0;
  let discordant = 0;
  for (let a = 0; a < n; a++) {
    const sa = s[a]!;
    for (let b = a + 1; b < n; b++) {
      if (sa < s[b]!) concordant++;
      else discordant++; // ties and inversions
    }
  }
  return (concordant - discordant) / (concordant + discordant);
}

/**
 * Strict Kendall τ of one example (§2b): compares the reference order 0 … m with (s_0 … s_m) over all
 * pairs; s_a < s_b is concordant, **ties and inversions are discordant**; τ = (C − D)/(C + D).
 * The prefix length n = m + 1 (m = last r with s_r ≠ L−1) may include L−1 or L values before m.
 * @returns τ, or null when the example is skipped (no s_r ≠ L−1, or n < 3).
 */
export function kendallTauStrict(s: readonly number[], L: number): number | null {
  const n = kendallPrefixLength(s, L);
  if (n === null || n < 3) return null;
  return tauOfPrefix(s, n);
}

/** Options of `meanTauPermutationTest`. */
export interface PermutationTestOptions {
  /** Number of permutations. Default 1000. */
  reps?: number;
  /** RNG seed (xoshiro128**, `createRng`). Required for reproducibility; default 0. */
  seed?: number;
}

/** Result of `meanTauPermutationTest`. */
export interface PermutationTestResult {
  /** Mean strict τ over the examples used. */
  meanTau: number;
  /** Fraction of permuted means ≥ the observed mean. */
  p: number;
  /** 'p < 0.001' (for 1000 reps) when no permuted mean reached the observed one, else 'p = 0.123'. */
  pLabel: string;
  /** Examples that contributed (n ≥ 3). */
  nUsed: number;
  /** Examples skipped (all s_r = L−1, or n < 3). */
  nSkipped: number;
  /** Permutations run. */
  reps: number;
  /** Seed used. */
  seed: number;
  /** The permuted means, in draw order. */
  permutedMeans: Float64Array;
}

/**
 * Mean strict τ and its permutation test (§2b). In each repetition every used example's full k-vector
 * is permuted independently (Fisher–Yates with the seeded RNG), **while its prefix length n stays the
 * one computed from the unpermuted vector**, and the mean τ is recomputed. p = fraction of permuted
 * means ≥ the observed mean (compared with a 1e-12 tolerance, since the same τ values summed in a
 * different order may differ in the last bit).
 * @param S `[N][k]` saturation layers, one row per example.
 */
export function meanTauPermutationTest(S: readonly (readonly number[])[], L: number, opts: PermutationTestOptions = {}): PermutationTestResult {
  checkRows(S, 'meanTauPermutationTest');
  const reps = opts.reps ?? 1000;
  const seed = opts.seed ?? 0;
  if (!Number.isInteger(reps) || reps < 1) throw new InvalidArgumentError(`meanTauPermutationTest: reps must be a positive integer, got ${reps}`);
  const used: { values: Float64Array; n: number }[] = [];
  let observedSum = 0;
  for (const row of S) {
    const n = kendallPrefixLength(row, L);
    if (n === null || n < 3) continue;
    used.push({ values: Float64Array.from(row), n });
    observedSum += tauOfPrefix(row, n);
  }
  const nUsed = used.length;
  const nSkipped = S.length - nUsed;
  const meanTau = nUsed ? observedSum / nUsed : NaN;
  const rng = createRng(seed);
  const permutedMeans = new Float64Array(reps);
  let atLeast = 0;
  if (nUsed) {
    const scratch = new Float64Array(used.reduce((m, u) => Math.max(m, u.values.length), 0));
    for (let rep = 0; rep < reps; rep++) {
      let sum = 0;
      for (const u of used) {
        const perm = scratch.subarray(0, u.values.length);
        perm.set(u.values);
        rng.shuffle(perm);
        sum += tauOfPrefix(perm, u.n);
      }
      const m = sum / nUsed;
      permutedMeans[rep] = m;
      if (m >= meanTau - 1e-12) atLeast++;
    }
  }
  const p = nUsed ? atLeast / reps : NaN;
  const pLabel = !nUsed ? 'p = n/a' : atLeast === 0 ? `p < ${formatBound(1 / reps)}` : `p = ${p.toFixed(3)}`;
  return { meanTau, p, pLabel, nUsed, nSkipped, reps, seed, permutedMeans };
}

function formatBound(x: number): string {
  return Number(x.toPrecision(3)).toString();
}
