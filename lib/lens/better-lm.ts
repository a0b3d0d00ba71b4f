/**
 * "Better language modelling" from rank-2 saturation (docs/methods.md §6): when the model's final top-1
 * is wrong, is its final rank-2 token right more often if that rank-2 token saturated early?
 *
 * Inputs are one record per position t ≤ T−2 (positions that have a next token y_t), built from the
 * lens rank table of ranks 0 and 1 (beyond_top1 layer convention j = 0 … L−1 meaning h_{j+1}):
 * - `s1`: saturation layer of rank 1 (`saturationLayers(ranks)[1]`; the original uses the top-k routine,
 *   i.e. `quirkAllAgreeIsL: true`, whose all-agree value L falls in neither group),
 * - `finalTop1Correct`: rank_0 at the last layer == y_t,
 * - `rank2IsTarget`: rank_1 at the last layer == y_t.
 * Only records with `finalTop1Correct === false` are counted. No 0.85 filter applies here.
 */
import { InvalidArgumentError } from '../errors.js';
import { saturationLayers, type SaturationOptions } from './saturation.js';
import { twoProportionZTest, type TwoProportionResult } from '../math/stats.js';

/** One position of the better-LM analysis (see the module comment). */
export interface BetterLmExample {
  /** Saturation layer of rank 1 (0 … L−1, or L with the top-k quirk). */
  s1: number;
  /** Whether the final (layer L−1) top-1 token equals the true next token. */
  finalTop1Correct: boolean;
  /** Whether the final rank-2 token (rank index 1) equals the true next token. */
  rank2IsTarget: boolean;
}

/** Counts of one group. */
export interface BetterLmGroup {
  /** Positions in the group (final top-1 wrong). */
  count: number;
  /** Of those, how many have the final rank-2 token equal to the target. */
  rank2Correct: number;
  /** 100·rank2Correct/count (NaN when count = 0). */
  percent: number;
}

/** Result of `betterLmGroups`. */
export interface BetterLmResult {
  /** Group A: s1 == L−1 (rank-2 token fixed only at the last layer). */
  groupA: BetterLmGroup;
  /** Group B: s1 ≤ L−7 (rank-2 token fixed early). */
  groupB: BetterLmGroup;
  /** Records with a wrong final top-1 that fell in neither group. */
  neither: number;
  /** Records skipped because the final top-1 was correct. */
  top1Correct: number;
  /**
   * Pooled two-proportion z-test of A against B: z = (pA − pB)/√(p̂(1−p̂)(1/nA+1/nB)), two-sided p
   * (negative z means rank-2 is right more often when it saturates early). null if a group is empty
   * or the pooled proportion is 0 or 1.
   */
  test: TwoProportionResult | null;
}

/**
 * Groups the records of §6 and tests the difference (counts summed over all articles passed in).
 * @param examples one record per position t ≤ T−2.
 * @param L number of blocks (GPT2-XL: 48).
 */
export function betterLmGroups(examples: Iterable<BetterLmExample>, L: number): BetterLmResult {
  if (!Number.isInteger(L) || L < 1) throw new InvalidArgumentError(`betterLmGroups: L must be a positive integer, got ${L}`);
  const a = { count: 0, rank2Correct: 0 };
  const b = { count: 0, rank2Correct: 0 };
  let neither = 0;
  let top1Correct = 0;
  for (const ex of examples) {
    if (ex.finalTop1Correct) {
      top1Correct++;
      continue;
    }
    const group = ex.s1 === L - 1 ? a : ex.s1 <= L - 7 ? b : undefined;
    if (!group) {
      neither++;
      continue;
    }
    group.count++;
    if (ex.rank2IsTarget) group.rank2Correct++;
  }
  const finish = (g: { count: number; rank2Correct: number }): BetterLmGroup => ({ ...g, percent: g.count ? (100 * g.rank2Correct) / g.count : NaN });
  return {
    groupA: finish(a),
    groupB: finish(b),
    neither,
    top1Correct,
    test: twoProportionZTest(a.rank2Correct, a.count, b.rank2Correct, b.count),
  };
}

/**
 * Builds the record of one position from its lens rank table.
 * @param ranks `[L][k]` ids, k ≥ 2 (`ranks[j][r]`, j = 0 … L−1 meaning h_{j+1}).
 * @param target the true next token y_t.
 * @param opts saturation options; pass `{ quirkAllAgreeIsL: true }` to match the original (default here
 *   is the library default, 0 for all-agree — which then counts in group B).
 */
export function betterLmExample(ranks: readonly (readonly number[])[], target: number, opts: SaturationOptions = {}): BetterLmExample {
  if (!ranks.length || ranks[0]!.length < 2) throw new InvalidArgumentError('betterLmExample: the rank table needs k ≥ 2 ranks per layer');
  const [, s1] = saturationLayers(ranks.map((row) => row.slice(0, 2)), opts);
  const last = ranks[ranks.length - 1]!;
  return { s1: s1!, finalTop1Correct: last[0] === target, rank2IsTarget: last[1] === target };
}
