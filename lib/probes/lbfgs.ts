/**
 * Compact L-BFGS minimiser (float64, host) for the smooth convex objectives of the probes (docs/methods.md
 * §3: L2 logistic regression). Two-loop recursion with `memory` correction pairs (scipy's L-BFGS-B
 * default 10), initial Hessian scaled by sᵀy/yᵀy, and a strong-Wolfe line search (Nocedal & Wright,
 * Numerical Optimization, Alg. 3.5/3.6: bracketing + zoom with safeguarded cubic interpolation; c1 = 1e-4,
 * c2 = 0.9, at most `maxLineSearch` evaluations per step, like scipy's `maxls` = 50).
 *
 * Stopping rules follow scipy's L-BFGS-B as sklearn's `lbfgs` solver calls it (problem unconstrained, so
 * the projected gradient is the gradient): stop when max|gᵢ| ≤ `gtol`, or when the relative decrease
 * (f_k − f_{k+1}) / max(|f_k|, |f_{k+1}|, 1) ≤ `ftol` (sklearn passes ftol = 64·ε), or after `maxIter`
 * iterations.
 *
 * Written here rather than taken from npm: `fmin`, the widely used npm minimiser, offers Nelder–Mead,
 * gradient descent and nonlinear conjugate gradients but no L-BFGS; this is ~200 lines of textbook numerics.
 */
import { InvalidArgumentError } from '../errors.js';

/**
 * Objective: writes ∇f(x) into `grad` (same length as x) and returns f(x). Must not keep `x`.
 */
export type ObjectiveWithGradient = (x: Float64Array, grad: Float64Array) => number;

/** Options of `minimizeLbfgs`. */
export interface LbfgsOptions {
  /** Maximum number of iterations (default 1000, sklearn's `max_iter`). */
  maxIter?: number;
  /** Stop when max|∇f| ≤ gtol (default 1e-4, sklearn's `tol`). */
  gtol?: number;
  /** Stop when the relative decrease of f is ≤ ftol (default 64·ε as in sklearn). */
  ftol?: number;
  /** Number of correction pairs kept (default 10). */
  memory?: number;
  /** Maximum function evaluations per line search (default 50). */
  maxLineSearch?: number;
}

/** Why `minimizeLbfgs` stopped. */
export type LbfgsStatus = 'gtol' | 'ftol' | 'maxIter' | 'lineSearchFailed';

/** Result of `minimizeLbfgs`. */
export interface LbfgsResult {
  /** The minimiser found `[n]`. */
  x: Float64Array;
  /** f(x). */
  f: number;
  /** max|∇f(x)|. */
  gradMax: number;
  /** Iterations taken (accepted steps). */
  iterations: number;
  /** Objective evaluations. */
  evaluations: number;
  /** Stopping reason; `converged` is true for 'gtol' and 'ftol'. */
  status: LbfgsStatus;
  /** True when a convergence criterion (not the iteration limit or a line-search failure) stopped it. */
  converged: boolean;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

function maxAbs(a: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}

/** Minimiser of the cubic interpolating (a, fa, da) and (b, fb, db), or NaN when it has none. */
function cubicMin(a: number, fa: number, da: number, b: number, fb: number, db: number): number {
  const d1 = da + db - (3 * (fa - fb)) / (a - b);
  const disc = d1 * d1 - da * db;
  if (!(disc >= 0)) return NaN;
  const d2 = Math.sign(b - a) * Math.sqrt(disc);
  return b - ((b - a) * (db + d2 - d1)) / (db - da + 2 * d2);
}

/**
 * Minimises a smooth function with L-BFGS.
 * @param fg objective and gradient (see `ObjectiveWithGradient`).
 * @param x0 starting point `[n]` (not modified).
 */
export function minimizeLbfgs(fg: ObjectiveWithGradient, x0: Float64Array, opts: LbfgsOptions = {}): LbfgsResult {
  const maxIter = opts.maxIter ?? 1000;
  const gtol = opts.gtol ?? 1e-4;
  const ftol = opts.ftol ?? 64 * Number.EPSILON;
  const memory = opts.memory ?? 10;
  const maxLs = opts.maxLineSearch ?? 50;
  if (!Number.isInteger(maxIter) || maxIter < 0) throw new InvalidArgumentError(`L-BFGS: maxIter must be a non-negative integer, got ${maxIter}`);
  if (!(gtol >= 0) || !(ftol >= 0)) throw new InvalidArgumentError(`L-BFGS: gtol and ftol must be ≥ 0, got ${gtol}, ${ftol}`);
  if (!Number.isInteger(memory) || memory < 1) throw new InvalidArgumentError(`L-BFGS: memory must be a positive integer, got ${memory}`);
  const n = x0.length;
  let x = Float64Array.from(x0);
  let g = new Float64Array(n);
  let evaluations = 1;
  let f = fg(x, g);
  if (!Number.isFinite(f)) throw new InvalidArgumentError(`L-BFGS: the objective is not finite at the starting point (f = ${f})`);
  const S: Float64Array[] = [];
  const Y: Float64Array[] = [];
  const rho: number[] = [];
  const d = new Float64Array(n);
  const alpha = new Float64Array(memory);
  let xTrial = new Float64Array(n);
  let gTrial = new Float64Array(n);
  let status: LbfgsStatus = 'maxIter';
  let iterations = 0;

  if (maxAbs(g) <= gtol) return { x, f, gradMax: maxAbs(g), iterations: 0, evaluations, status: 'gtol', converged: true };

  /** φ(a) = f(x + a·d) with φ'(a) = ∇f·d; leaves the point in xTrial/gTrial. */
  const phi = (a: number): { f: number; dg: number } => {
    for (let i = 0; i < n; i++) xTrial[i] = x[i]! + a * d[i]!;
    evaluations++;
    const fa = fg(xTrial, gTrial);
    return { f: fa, dg: dot(gTrial, d) };
  };

  /** Strong-Wolfe line search; returns the accepted step (its point is in xTrial/gTrial) or null. */
  const lineSearch = (f0: number, dg0: number, a1: number): { a: number; f: number } | null => {
    const c1 = 1e-4;
    const c2 = 0.9;
    let evals = 0;
    let aPrev = 0;
    let fPrev = f0;
    let dgPrev = dg0;
    let a = a1;
    let bestA = 0;
    let bestF = f0;
    const zoom = (lo: number, fLo: number, dgLo: number, hi: number, fHi: number, dgHi: number): { a: number; f: number } | null => {
      while (evals < maxLs) {
        const width = Math.abs(hi - lo);
        if (width <= 1e-16 * Math.max(1, Math.abs(lo))) break;
        let aj = cubicMin(lo, fLo, dgLo, hi, fHi, dgHi);
        const lower = Math.min(lo, hi) + 0.1 * width;
        const upper = Math.max(lo, hi) - 0.1 * width;
        if (!Number.isFinite(aj) || aj < lower || aj > upper) aj = 0.5 * (lo + hi);
        const p = phi(aj);
        evals++;
        if (p.f < bestF) [bestA, bestF] = [aj, p.f];
        if (!Number.isFinite(p.f) || p.f > f0 + c1 * aj * dg0 || p.f >= fLo) {
          [hi, fHi, dgHi] = [aj, p.f, p.dg];
        } else {
          if (Math.abs(p.dg) <= -c2 * dg0) return { a: aj, f: p.f };
          if (p.dg * (hi - lo) >= 0) [hi, fHi, dgHi] = [lo, fLo, dgLo];
          [lo, fLo, dgLo] = [aj, p.f, p.dg];
        }
      }
      return null;
    };
    let found: { a: number; f: number } | null = null;
    for (;;) {
      if (evals >= maxLs) break;
      const p = phi(a);
      evals++;
      if (Number.isFinite(p.f) && p.f < bestF) [bestA, bestF] = [a, p.f];
      if (!Number.isFinite(p.f) || p.f > f0 + c1 * a * dg0 || (evals > 1 && p.f >= fPrev)) {
        found = zoom(aPrev, fPrev, dgPrev, a, Number.isFinite(p.f) ? p.f : Number.MAX_VALUE, Number.isFinite(p.dg) ? p.dg : 0);
        break;
      }
      if (Math.abs(p.dg) <= -c2 * dg0) {
        found = { a, f: p.f };
        break;
      }
      if (p.dg >= 0) {
        found = zoom(a, p.f, p.dg, aPrev, fPrev, dgPrev);
        break;
      }
      [aPrev, fPrev, dgPrev] = [a, p.f, p.dg];
      a *= 2;
      if (a > 1e10) break;
    }
    if (found) return found;
    // No Wolfe point (round-off near the optimum): accept the best decrease seen, if any.
    if (bestA > 0 && bestF < f0) {
      const p = phi(bestA);
      return { a: bestA, f: p.f };
    }
    return null;
  };

  while (iterations < maxIter) {
    // Two-loop recursion: d = −H·g.
    for (let i = 0; i < n; i++) d[i] = -g[i]!;
    const m = S.length;
    for (let i = m - 1; i >= 0; i--) {
      alpha[i] = rho[i]! * dot(S[i]!, d);
      const yi = Y[i]!;
      for (let t = 0; t < n; t++) d[t] = d[t]! - alpha[i]! * yi[t]!;
    }
    if (m > 0) {
      const gamma = dot(S[m - 1]!, Y[m - 1]!) / dot(Y[m - 1]!, Y[m - 1]!);
      for (let t = 0; t < n; t++) d[t] = d[t]! * gamma;
    }
    for (let i = 0; i < m; i++) {
      const beta = rho[i]! * dot(Y[i]!, d);
      const si = S[i]!;
      for (let t = 0; t < n; t++) d[t] = d[t]! + (alpha[i]! - beta) * si[t]!;
    }
    let dg0 = dot(g, d);
    if (!(dg0 < 0)) {
      // Not a descent direction (numerical trouble): restart from steepest descent.
      S.length = Y.length = rho.length = 0;
      for (let i = 0; i < n; i++) d[i] = -g[i]!;
      dg0 = dot(g, d);
    }
    const a1 = S.length ? 1 : Math.min(1, 1 / Math.sqrt(-dg0));
    let step = lineSearch(f, dg0, a1);
    if (!step && S.length) {
      S.length = Y.length = rho.length = 0;
      for (let i = 0; i < n; i++) d[i] = -g[i]!;
      dg0 = dot(g, d);
      step = lineSearch(f, dg0, Math.min(1, 1 / Math.sqrt(-dg0)));
    }
    if (!step) {
      status = 'lineSearchFailed';
      break;
    }
    iterations++;
    const s = new Float64Array(n);
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      s[i] = xTrial[i]! - x[i]!;
      y[i] = gTrial[i]! - g[i]!;
    }
    const sy = dot(s, y);
    if (sy > Number.EPSILON * dot(y, y)) {
      if (S.length === memory) {
        S.shift();
        Y.shift();
        rho.shift();
      }
      S.push(s);
      Y.push(y);
      rho.push(1 / sy);
    }
    const fOld = f;
    [x, xTrial] = [xTrial, x];
    [g, gTrial] = [gTrial, g];
    f = step.f;
    if (maxAbs(g) <= gtol) {
      status = 'gtol';
      break;
    }
    if ((fOld - f) / Math.max(Math.abs(fOld), Math.abs(f), 1) <= ftol) {
      status = 'ftol';
      break;
    }
  }
  return { x, f, gradMax: maxAbs(g), iterations, evaluations, status, converged: status === 'gtol' || status === 'ftol' };
}
