/**
 * Token pooling against numpy (`np.quantile` with its five methods, mean/max/…) and LDA against the
 * numpy write-out of scikit-learn's lsqr solver and an ml-matrix closed form
 * (test/fixtures/probes/*.json, scripts/fixtures/make_probe_refs.py).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Matrix, solve } from 'ml-matrix';
import { parsePooler, poolTokens } from '../../../lib/probes/pooling.js';
import { fitLda, ldaDecision, ldaProba, predictLda } from '../../../lib/probes/lda.js';
import { InvalidArgumentError } from '../../../lib/errors.js';
import { ROOT, relError } from '../../helpers/fixtures.js';

interface PoolCase { T: number; d: number; states: number[]; pooled: Record<string, number[]> }
interface LdaCase { n: number; d: number; K: number; shrinkage: number; X: number[]; y: number[]; coef: number[]; intercept: number[]; decision: number[]; predicted: number[] }
const fixture = <T>(name: string): { cases: T[] } => JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'probes', name), 'utf8')) as { cases: T[] };

test('poolTokens equals numpy for mean/first/last/max/min and np.quantile with every method (ties, T = 1 included)', () => {
  let checked = 0;
  for (const c of fixture<PoolCase>('pooling.json').cases) {
    for (const [name, expected] of Object.entries(c.pooled)) {
      const pooler = parsePooler(name);
      const out = new Float64Array(c.d);
      poolTokens(pooler, c.states, c.T, c.d, out);
      for (let i = 0; i < c.d; i++) assert.ok(Math.abs(out[i]! - expected[i]!) <= 1e-12, `${name} T=${c.T} dim ${i}: ${out[i]} vs ${expected[i]}`);
      checked++;
    }
  }
  assert.equal(checked, 4 * (5 + 6 * 5));
});

test('parsePooler: names, default method, and typed errors for bad q or method', () => {
  assert.deepEqual(parsePooler('quantile:0.5'), { kind: 'quantile', name: 'quantile:0.5', q: 0.5, method: 'linear' });
  assert.equal(parsePooler(' max ').name, 'max');
  assert.throws(() => parsePooler('quantile:1.5'), InvalidArgumentError);
  assert.throws(() => parsePooler('quantile:0.5:cubic'), /unknown quantile method 'cubic'/);
  assert.throws(() => parsePooler('median'), /unknown pooler 'median'/);
});

test('fitLda equals the numpy lsqr reference (coef, intercept, decision values, predictions)', () => {
  for (const c of fixture<LdaCase>('lda.json').cases) {
    const m = fitLda({ data: Float64Array.from(c.X), shape: [c.n, c.d] }, c.y, { shrinkage: c.shrinkage });
    assert.ok(relError(m.coef, c.coef) <= 1e-10, `coef n=${c.n}: ${relError(m.coef, c.coef)}`);
    assert.ok(relError(m.intercept, c.intercept) <= 1e-10, `intercept: ${relError(m.intercept, c.intercept)}`);
    const X = { data: Float64Array.from(c.X), shape: [c.n, c.d] as const };
    const decision = ldaDecision(m, X);
    assert.deepEqual(decision.shape, [c.n, c.K]);
    assert.ok(relError(decision.data, c.decision) <= 1e-10);
    assert.deepEqual([...predictLda(m, X)], c.predicted);
    const p = ldaProba(m, X).data;
    for (let i = 0; i < c.n; i++) {
      let s = 0;
      for (let k = 0; k < c.K; k++) s += p[i * c.K + k]!;
      assert.ok(Math.abs(s - 1) < 1e-12);
    }
  }
});

test('fitLda coef = Σ⁻¹ μ_k from an ml-matrix solve of the pooled covariance', () => {
  const c = fixture<LdaCase>('lda.json').cases[1]!;
  const rows = Array.from({ length: c.n }, (_, i) => c.X.slice(i * c.d, (i + 1) * c.d));
  const means = Array.from({ length: c.K }, (_, k) => {
    const members = rows.filter((_, i) => c.y[i] === k);
    return Array.from({ length: c.d }, (_, j) => members.reduce((s, r) => s + r[j]!, 0) / members.length);
  });
  const centred = new Matrix(rows.map((r, i) => r.map((v, j) => v - means[c.y[i]!]![j]!)));
  let cov = centred.transpose().mmul(centred).div(c.n);
  const tr = cov.trace();
  cov = cov.mul(1 - c.shrinkage).add(Matrix.eye(c.d).mul((c.shrinkage * tr) / c.d));
  const coef = solve(cov, new Matrix(means).transpose()).transpose().to1DArray();
  const m = fitLda({ data: Float64Array.from(c.X), shape: [c.n, c.d] }, c.y, { shrinkage: c.shrinkage });
  assert.ok(relError(m.coef, coef) <= 1e-10, `vs ml-matrix: ${relError(m.coef, coef)}`);
});

test('fitLda: an empty class, a bad label and a singular covariance without shrinkage are typed errors', () => {
  const X = { data: Float64Array.from([0, 0, 1, 1, 2, 2, 3, 3]), shape: [4, 2] as const };
  assert.throws(() => fitLda(X, [0, 0, 2, 2]), /class 1 has no sample/);
  assert.throws(() => fitLda(X, [0, 1, 0, -1]), /label -1/);
  assert.throws(() => fitLda(X, [0, 0, 1, 1], { shrinkage: 0 }), /singular/); // the two features are equal
  assert.equal(fitLda(X, [0, 0, 1, 1], { shrinkage: 0.1 }).nClasses, 2);
});
