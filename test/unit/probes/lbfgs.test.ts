import { test } from 'node:test';
import assert from 'node:assert/strict';
import { minimizeLbfgs } from '../../../lib/probes/lbfgs.js';
import { InvalidArgumentError } from '../../../lib/errors.js';

test('L-BFGS finds the minimum (1, 1) of the Rosenbrock function', () => {
  const fg = (x: Float64Array, g: Float64Array): number => {
    const [a, b] = [x[0]!, x[1]!];
    g[0] = -2 * (1 - a) - 400 * a * (b - a * a);
    g[1] = 200 * (b - a * a);
    return (1 - a) ** 2 + 100 * (b - a * a) ** 2;
  };
  const res = minimizeLbfgs(fg, Float64Array.from([-1.2, 1]), { gtol: 1e-10, ftol: 0 });
  assert.equal(res.status, 'gtol');
  assert.ok(res.converged);
  assert.ok(Math.abs(res.x[0]! - 1) < 1e-8 && Math.abs(res.x[1]! - 1) < 1e-8, `x = ${res.x}`);
  assert.ok(res.f < 1e-16);
});

test('L-BFGS on a quadratic with condition number ~1e3 matches the closed-form solution A⁻¹b', () => {
  // f(x) = ½ xᵀAx − bᵀx with A = diag(1 … 1e3) plus a rank-1 coupling term.
  const n = 10;
  const diag = Float64Array.from({ length: n }, (_, i) => 10 ** ((3 * i) / (n - 1)));
  const b = Float64Array.from({ length: n }, (_, i) => Math.sin(i + 1));
  // A = D + u uᵀ, u = 1 / √n · ones; A⁻¹b by Sherman–Morrison.
  const u = 1 / Math.sqrt(n);
  const fg = (x: Float64Array, g: Float64Array): number => {
    let ux = 0;
    for (let i = 0; i < n; i++) ux += u * x[i]!;
    let f = 0;
    for (let i = 0; i < n; i++) {
      g[i] = diag[i]! * x[i]! + u * ux - b[i]!;
      f += 0.5 * diag[i]! * x[i]! ** 2 - b[i]! * x[i]!;
    }
    return f + 0.5 * ux * ux;
  };
  const dinvB = b.map((v, i) => v / diag[i]!);
  let uDinvB = 0;
  let uDinvU = 0;
  for (let i = 0; i < n; i++) {
    uDinvB += (u * b[i]!) / diag[i]!;
    uDinvU += (u * u) / diag[i]!;
  }
  const want = dinvB.map((v, i) => v - ((u / diag[i]!) * uDinvB) / (1 + uDinvU));
  // Round-off stalls f near max|g| ≈ 6e-8 here (scipy's L-BFGS-B stops at the same point), so gtol 1e-7.
  const res = minimizeLbfgs(fg, new Float64Array(n), { gtol: 1e-7, ftol: 0 });
  assert.equal(res.status, 'gtol');
  // |x − x*| ≤ |g| / λ_min(A) with λ_min ≥ 1.
  for (let i = 0; i < n; i++) assert.ok(Math.abs(res.x[i]! - want[i]!) < 2e-7 * Math.max(1, Math.abs(want[i]!)), `x[${i}] = ${res.x[i]} want ${want[i]}`);
});

test('L-BFGS: a starting point that is already optimal stops at once; bad options throw', () => {
  const fg = (x: Float64Array, g: Float64Array): number => {
    g[0] = 2 * x[0]!;
    return x[0]! ** 2;
  };
  const res = minimizeLbfgs(fg, Float64Array.from([0]));
  assert.equal(res.iterations, 0);
  assert.equal(res.status, 'gtol');
  assert.throws(() => minimizeLbfgs(fg, Float64Array.from([1]), { memory: 0 }), InvalidArgumentError);
  assert.throws(() => minimizeLbfgs(() => NaN, Float64Array.from([1])), InvalidArgumentError);
  const capped = minimizeLbfgs(
    (x, g) => {
      g[0] = 4 * x[0]! ** 3;
      return x[0]! ** 4;
    },
    Float64Array.from([3]),
    { maxIter: 2, gtol: 0, ftol: 0 },
  );
  assert.equal(capped.status, 'maxIter');
  assert.equal(capped.iterations, 2);
  assert.equal(capped.converged, false);
});
