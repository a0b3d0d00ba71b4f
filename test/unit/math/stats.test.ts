import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  erf, erfc, logGamma, normalCdf, normalTwoSidedP, pooledTTest, regularizedGammaP, regularizedIncompleteBeta,
  semDdof0, significanceStars, studentTTwoSidedP, twoProportionZTest, variance,
} from '../../../lib/math/stats.js';

const close = (a: number, b: number, tol: number, what = '') => assert.ok(Math.abs(a - b) <= tol, `${what} ${a} vs ${b}`);

test('logGamma matches factorials and Γ(1/2) = √π', () => {
  close(logGamma(10), Math.log(362880), 1e-12);
  close(logGamma(1), 0, 1e-14);
  close(logGamma(0.5), 0.5 * Math.log(Math.PI), 1e-14);
  close(logGamma(5.5), Math.log((3628800 / (1024 * 120)) * Math.sqrt(Math.PI)), 1e-13); // Γ(5.5) = 10!/(4⁵·5!)·√π
  close(logGamma(101), 363.73937555556347, 1e-10); // ln(100!)
});

test('regularized incomplete beta matches closed forms', () => {
  for (const x of [0.1, 0.37, 0.5, 0.93]) {
    close(regularizedIncompleteBeta(x, 1, 1), x, 1e-13, 'I_x(1,1)');
    close(regularizedIncompleteBeta(x, 3, 1), x ** 3, 1e-13, 'I_x(3,1)');
    close(regularizedIncompleteBeta(x, 1, 4), 1 - (1 - x) ** 4, 1e-13, 'I_x(1,4)');
    // I_x(2,2) = 3x² − 2x³
    close(regularizedIncompleteBeta(x, 2, 2), 3 * x * x - 2 * x ** 3, 1e-13, 'I_x(2,2)');
  }
  close(regularizedIncompleteBeta(0.5, 7.5, 7.5), 0.5, 1e-13);
  assert.equal(regularizedIncompleteBeta(0, 2, 3), 0);
  assert.equal(regularizedIncompleteBeta(1, 2, 3), 1);
});

test('Student t two-sided p-values: closed forms for df 1 and 2, and table values', () => {
  // df = 1 (Cauchy): p = 1 − 2·atan(|t|)/π; df = 2: p = 1 − |t|/√(t² + 2)
  for (const t of [0.3, 1, 2.5, 10]) {
    close(studentTTwoSidedP(t, 1), 1 - (2 * Math.atan(t)) / Math.PI, 1e-12, `df1 t=${t}`);
    close(studentTTwoSidedP(-t, 2), 1 - t / Math.sqrt(t * t + 2), 1e-12, `df2 t=${t}`);
  }
  close(studentTTwoSidedP(2.0, 10), 0.0734, 1e-4, 't=2 df=10');
  close(studentTTwoSidedP(2.228, 10), 0.05, 2e-4, 't=2.228 df=10');
  close(studentTTwoSidedP(3.169, 10), 0.01, 1e-4, 't=3.169 df=10');
  close(studentTTwoSidedP(1.96, 1e6), 0.05, 2e-4, 'large df → normal');
  assert.equal(studentTTwoSidedP(0, 5), 1);
  assert.equal(studentTTwoSidedP(Infinity, 5), 0);
});

test('erf, erfc and the normal CDF match known values', () => {
  close(erf(1), 0.8427007929497149, 1e-14);
  close(erf(0.5), 0.5204998778130465, 1e-14);
  close(erf(-2), -0.9953222650189527, 1e-14);
  close(erfc(3), 2.209049699858544e-5, 1e-18);
  close(normalCdf(1.959963984540054), 0.975, 1e-13);
  close(normalCdf(0), 0.5, 1e-15);
  close(normalTwoSidedP(-1.959963984540054), 0.05, 1e-13);
  close(regularizedGammaP(1, 2), 1 - Math.exp(-2), 1e-14);
});

test('pooled two-sample t-test equals the textbook formula', () => {
  const a = [1, 2, 3, 4];
  const b = [2, 4, 6, 8, 10];
  const res = pooledTTest(a, b)!;
  // by hand: means 2.5 and 6, sample variances 5/3 and 10, s_p² = (3·5/3 + 4·10)/7 = 45/7
  const t = (2.5 - 6) / Math.sqrt((45 / 7) * (1 / 4 + 1 / 5));
  close(res.statistic, t, 1e-12);
  assert.equal(res.df, 7);
  // |t| = 2.058 lies between the df-7 critical values 1.895 (p = 0.10) and 2.365 (p = 0.05)
  assert.ok(res.p > 0.05 && res.p < 0.1, `p ${res.p}`);
  close(res.p, studentTTwoSidedP(t, 7), 1e-15);
  assert.equal(pooledTTest([1], [1, 2]), null);
  assert.deepEqual(pooledTTest([1, 1], [1, 1]), { statistic: 0, df: 2, p: 1 });
  assert.equal(pooledTTest([1, 1], [2, 2])!.p, 0);
});

test('two-proportion z-test equals a hand computation', () => {
  const res = twoProportionZTest(30, 100, 45, 100)!;
  const pooled = 75 / 200;
  const z = (0.3 - 0.45) / Math.sqrt(pooled * (1 - pooled) * (2 / 100));
  close(res.statistic, z, 1e-12);
  close(z, -2.1908902300206643, 1e-12);
  close(res.p, 0.028459, 2e-6); // 2·(1 − Φ(2.19089))
  assert.equal(twoProportionZTest(0, 0, 1, 3), null);
  assert.equal(twoProportionZTest(0, 5, 0, 3), null);
});

test('variance, SEM (ddof 0) and stars', () => {
  close(variance([1, 2, 3, 4], 0), 1.25, 1e-15);
  close(variance([1, 2, 3, 4], 1), 5 / 3, 1e-15);
  close(semDdof0([1, 2, 3, 4]), Math.sqrt(1.25) / 2, 1e-15);
  assert.equal(significanceStars(0.0005), '***');
  assert.equal(significanceStars(0.005), '**');
  assert.equal(significanceStars(0.02), '');
});
