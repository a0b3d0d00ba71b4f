/**
 * Small statistics toolkit for the analyses of docs/methods.md §2 and §6: special functions (log-gamma,
 * regularized incomplete beta and gamma, erf/erfc, normal CDF), Student's t and normal p-values,
 * the pooled two-sample t-test and the pooled two-proportion z-test.
 *
 * Written here instead of taken from npm: the few statistics packages on npm either lack the
 * regularized incomplete beta (which the t-distribution needs) or pull in large dependency trees; these
 * are ~150 lines of textbook numerics. Methods: Lanczos log-gamma (g = 7, 9 terms, |rel err| < 1e-15),
 * the incomplete beta by its continued fraction evaluated with the modified Lentz method (as in
 * Numerical Recipes §6.4, `betacf`), the incomplete gamma by series / continued fraction (NR §6.2),
 * and erfc(x) = Q(1/2, x²). All in float64, accurate to ~1e-13 absolute on the p-values used here.
 */
import { InvalidArgumentError } from '../errors.js';

const LANCZOS_G = 7;
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];
const FPMIN = 1e-300;
const EPS = 1e-15;

/** ln Γ(x) for x > 0 (Lanczos approximation; reflection formula for x < 0.5). */
export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  const z = x - 1;
  let a = LANCZOS[0]!;
  const t = z + LANCZOS_G + 0.5;
  for (let i = 1; i < LANCZOS.length; i++) a += LANCZOS[i]! / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Continued fraction of the incomplete beta (modified Lentz), valid for x < (a+1)/(a+b+2). */
function betaContinuedFraction(a: number, b: number, x: number): number {
  const qab = a + b;
  const qap = a + 1;
  const qam = a - 1;
  let c = 1;
  let d = 1 - (qab * x) / qap;
  if (Math.abs(d) < FPMIN) d = FPMIN;
  d = 1 / d;
  let h = d;
  const maxIter = 10000 + Math.ceil(10 * Math.sqrt(Math.max(a, b)));
  for (let m = 1; m <= maxIter; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < FPMIN) d = FPMIN;
    c = 1 + aa / c;
    if (Math.abs(c) < FPMIN) c = FPMIN;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < FPMIN) d = FPMIN;
    c = 1 + aa / c;
    if (Math.abs(c) < FPMIN) c = FPMIN;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < EPS) return h;
  }
  return h; // converged to the attainable precision in practice; no throw for pathological (a, b)
}

/**
 * Regularized incomplete beta function I_x(a, b) = B(x; a, b) / B(a, b), for a, b > 0 and 0 ≤ x ≤ 1.
 * Uses the continued fraction directly or through the symmetry I_x(a,b) = 1 − I_{1−x}(b,a).
 */
export function regularizedIncompleteBeta(x: number, a: number, b: number): number {
  if (!(a > 0) || !(b > 0)) throw new InvalidArgumentError(`incomplete beta needs a, b > 0, got a=${a}, b=${b}`);
  if (Number.isNaN(x) || x < 0 || x > 1) throw new InvalidArgumentError(`incomplete beta needs 0 ≤ x ≤ 1, got ${x}`);
  if (x === 0) return 0;
  if (x === 1) return 1;
  const logFront = logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log1p(-x);
  const front = Math.exp(logFront);
  if (x < (a + 1) / (a + b + 2)) return (front * betaContinuedFraction(a, b, x)) / a;
  return 1 - (front * betaContinuedFraction(b, a, 1 - x)) / b;
}

/** Regularized lower incomplete gamma P(a, x) for a > 0, x ≥ 0 (series for x < a+1, else 1 − Q). */
export function regularizedGammaP(a: number, x: number): number {
  if (!(a > 0) || Number.isNaN(x) || x < 0) throw new InvalidArgumentError(`regularizedGammaP needs a > 0, x ≥ 0, got a=${a}, x=${x}`);
  if (x === 0) return 0;
  if (x < a + 1) return gammaSeries(a, x);
  return 1 - gammaContinuedFraction(a, x);
}

/** Regularized upper incomplete gamma Q(a, x) = 1 − P(a, x), computed without cancellation for large x. */
export function regularizedGammaQ(a: number, x: number): number {
  if (!(a > 0) || Number.isNaN(x) || x < 0) throw new InvalidArgumentError(`regularizedGammaQ needs a > 0, x ≥ 0, got a=${a}, x=${x}`);
  if (x === 0) return 1;
  if (x < a + 1) return 1 - gammaSeries(a, x);
  return gammaContinuedFraction(a, x);
}

function gammaSeries(a: number, x: number): number {
  let ap = a;
  let sum = 1 / a;
  let del = sum;
  for (let n = 0; n < 100000; n++) {
    ap += 1;
    del *= x / ap;
    sum += del;
    if (Math.abs(del) < Math.abs(sum) * EPS) break;
  }
  return sum * Math.exp(-x + a * Math.log(x) - logGamma(a));
}

function gammaContinuedFraction(a: number, x: number): number {
  let b = x + 1 - a;
  let c = 1 / FPMIN;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 100000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < FPMIN) d = FPMIN;
    c = b + an / c;
    if (Math.abs(c) < FPMIN) c = FPMIN;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < EPS) break;
  }
  return Math.exp(-x + a * Math.log(x) - logGamma(a)) * h;
}

/** Complementary error function erfc(x) = Q(1/2, x²) for x ≥ 0, 2 − erfc(−x) otherwise. */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x === Infinity) return 0;
  if (x === -Infinity) return 2;
  return x >= 0 ? regularizedGammaQ(0.5, x * x) : 2 - regularizedGammaQ(0.5, x * x);
}

/** Error function erf(x) = 1 − erfc(x) (computed as ±P(1/2, x²) to keep precision near 0). */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x === 0) return 0;
  if (!Number.isFinite(x)) return Math.sign(x);
  const p = regularizedGammaP(0.5, x * x);
  return x > 0 ? p : -p;
}

/** Standard normal CDF Φ(z) = erfc(−z/√2)/2. */
export function normalCdf(z: number): number {
  return 0.5 * erfc(-z / Math.SQRT2);
}

/** Two-sided normal p-value P(|Z| ≥ |z|) = erfc(|z|/√2). */
export function normalTwoSidedP(z: number): number {
  if (Number.isNaN(z)) return NaN;
  return erfc(Math.abs(z) / Math.SQRT2);
}

/**
 * Two-sided Student-t p-value P(|T_df| ≥ |t|) = I_{df/(df+t²)}(df/2, 1/2).
 * Example: t = 2, df = 10 → 0.07339.
 */
export function studentTTwoSidedP(t: number, df: number): number {
  if (!(df > 0)) throw new InvalidArgumentError(`Student t needs df > 0, got ${df}`);
  if (Number.isNaN(t)) return NaN;
  if (!Number.isFinite(t)) return 0;
  return regularizedIncompleteBeta(df / (df + t * t), df / 2, 0.5);
}

/** Arithmetic mean (NaN for an empty list). */
export function mean(values: ArrayLike<number>): number {
  if (values.length === 0) return NaN;
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i]!;
  return s / values.length;
}

/** Variance with `ddof` delta degrees of freedom: Σ(x − x̄)² / (n − ddof). NaN when n ≤ ddof. */
export function variance(values: ArrayLike<number>, ddof = 0): number {
  const n = values.length;
  if (n - ddof <= 0) return NaN;
  const m = mean(values);
  let s = 0;
  for (let i = 0; i < n; i++) {
    const d = values[i]! - m;
    s += d * d;
  }
  return s / (n - ddof);
}

/** Standard error of the mean as in the original plots: std(ddof = 0)/√n. */
export function semDdof0(values: ArrayLike<number>): number {
  return Math.sqrt(variance(values, 0)) / Math.sqrt(values.length);
}

/** Result of a two-sample test. */
export interface TestResult {
  /** Test statistic (t or z). */
  statistic: number;
  /** Degrees of freedom (t-test only; Infinity for the z-test). */
  df: number;
  /** Two-sided p-value. */
  p: number;
}

/**
 * Two-sample Student t-test with pooled variance (scipy `ttest_ind(equal_var=True)`):
 * s_p² = ((n1−1)s1² + (n2−1)s2²)/(n1+n2−2), t = (x̄1 − x̄2)/(s_p √(1/n1 + 1/n2)), df = n1+n2−2.
 * Returns null when a sample has fewer than 2 values. When both samples have zero variance, t is ±∞
 * (p = 0) if the means differ and 0 (p = 1) if they are equal.
 */
export function pooledTTest(sample1: ArrayLike<number>, sample2: ArrayLike<number>): TestResult | null {
  const n1 = sample1.length;
  const n2 = sample2.length;
  if (n1 < 2 || n2 < 2) return null;
  const m1 = mean(sample1);
  const m2 = mean(sample2);
  const df = n1 + n2 - 2;
  const pooled = ((n1 - 1) * variance(sample1, 1) + (n2 - 1) * variance(sample2, 1)) / df;
  const se = Math.sqrt(pooled * (1 / n1 + 1 / n2));
  if (se === 0) {
    if (m1 === m2) return { statistic: 0, df, p: 1 };
    return { statistic: m1 > m2 ? Infinity : -Infinity, df, p: 0 };
  }
  const t = (m1 - m2) / se;
  return { statistic: t, df, p: studentTTwoSidedP(t, df) };
}

/** Result of the pooled two-proportion z-test. */
export interface TwoProportionResult extends TestResult {
  /** x1/n1. */
  p1: number;
  /** x2/n2. */
  p2: number;
  /** Pooled proportion (x1+x2)/(n1+n2). */
  pooled: number;
}

/**
 * Pooled two-proportion z-test (docs/methods.md §6): p̂ = (x1+x2)/(n1+n2),
 * z = (x1/n1 − x2/n2)/√(p̂(1−p̂)(1/n1+1/n2)), two-sided p = erfc(|z|/√2).
 * Returns null when n1 or n2 is 0 or p̂ is 0 or 1 (z undefined).
 */
export function twoProportionZTest(x1: number, n1: number, x2: number, n2: number): TwoProportionResult | null {
  for (const [name, v] of [['x1', x1], ['n1', n1], ['x2', x2], ['n2', n2]] as const) {
    if (!Number.isInteger(v) || v < 0) throw new InvalidArgumentError(`twoProportionZTest: ${name} must be a non-negative integer, got ${v}`);
  }
  if (x1 > n1 || x2 > n2) throw new InvalidArgumentError(`twoProportionZTest: successes exceed trials (${x1}/${n1}, ${x2}/${n2})`);
  if (n1 === 0 || n2 === 0) return null;
  const p1 = x1 / n1;
  const p2 = x2 / n2;
  const pooled = (x1 + x2) / (n1 + n2);
  if (pooled === 0 || pooled === 1) return null;
  const z = (p1 - p2) / Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  return { statistic: z, df: Infinity, p: normalTwoSidedP(z), p1, p2, pooled };
}

/** Significance stars of the original plots: '***' for p < 0.001, '**' for p < 0.01, '' otherwise. */
export function significanceStars(p: number): '***' | '**' | '' {
  if (p < 0.001) return '***';
  if (p < 0.01) return '**';
  return '';
}
