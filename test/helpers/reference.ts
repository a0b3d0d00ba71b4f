/**
 * Independent reference implementations for tests, written from the published definitions and deliberately
 * not sharing code with lib/: the seeded generator in BigInt arithmetic, a Newton (IRLS) solver for the L2
 * logistic regression, a standard scaler, balanced accuracy.
 */

const M32 = 0xffffffffn;

/** splitmix32-seeded xoshiro128** (Blackman & Vigna 2018), in BigInt arithmetic. */
export class ReferenceXoshiro {
  private s: bigint[];

  constructor(seed: number) {
    let x = BigInt(seed >>> 0);
    const split = () => {
      x = (x + 0x9e3779b9n) & M32;
      let z = x;
      z = ((z ^ (z >> 16n)) * 0x85ebca6bn) & M32;
      z = ((z ^ (z >> 13n)) * 0xc2b2ae35n) & M32;
      return (z ^ (z >> 16n)) & M32;
    };
    this.s = [split(), split(), split(), split()];
  }

  /** Next 32-bit output. */
  next(): bigint {
    const s = this.s;
    const rotl = (v: bigint, k: bigint) => ((v << k) | (v >> (32n - k))) & M32;
    const r = (rotl((s[1]! * 5n) & M32, 7n) * 9n) & M32;
    const t = (s[1]! << 9n) & M32;
    s[2] = s[2]! ^ s[0]!;
    s[3] = s[3]! ^ s[1]!;
    s[1] = s[1]! ^ s[2]!;
    s[0] = s[0]! ^ s[3]!;
    s[2] = s[2]! ^ t;
    s[3] = rotl(s[3]!, 11n);
    return r;
  }

  /** Uniform integer in 0 … n−1 by rejection of the top partial block. */
  below(n: number): number {
    const m = BigInt(n);
    const limit = (1n << 32n) - ((1n << 32n) % m);
    for (;;) {
      const r = this.next();
      if (r < limit) return Number(r % m);
    }
  }

  /** Fisher–Yates from the last element down, in place. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.below(i + 1);
      [items[i], items[j]] = [items[j]!, items[i]!];
    }
    return items;
  }
}

/** The seeded permutation of 0 … n−1. */
export function referencePermutation(seed: number, n: number): number[] {
  return new ReferenceXoshiro(seed).shuffle(Array.from({ length: n }, (_, i) => i));
}

/** Standardises columns with the training mean and population std (std 0 → 1). Row-major float64. */
export function standardize(train: number[][], apply: number[][]): number[][] {
  const d = train[0]!.length;
  const mean = Array.from({ length: d }, (_, c) => train.reduce((s, r) => s + r[c]!, 0) / train.length);
  const std = Array.from({ length: d }, (_, c) => Math.sqrt(train.reduce((s, r) => s + (r[c]! - mean[c]!) ** 2, 0) / train.length) || 1);
  return apply.map((r) => r.map((v, c) => (v - mean[c]!) / std[c]!));
}

/** Solves A x = b (A symmetric positive definite) by Gaussian elimination with partial pivoting. */
function solve(A: number[][], b: number[]): number[] {
  const n = b.length;
  const a = A.map((row, i) => [...row, b[i]!]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(a[r]![c]!) > Math.abs(a[p]![c]!)) p = r;
    [a[c], a[p]] = [a[p]!, a[c]!];
    for (let r = c + 1; r < n; r++) {
      const f = a[r]![c]! / a[c]![c]!;
      for (let k = c; k <= n; k++) a[r]![k]! -= f * a[c]![k]!;
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = a[r]![n]!;
    for (let k = r + 1; k < n; k++) s -= a[r]![k]! * x[k]!;
    x[r] = s / a[r]![r]!;
  }
  return x;
}

/**
 * Binary L2 logistic regression by damped Newton: minimises ½‖w‖² + C Σ log(1 + exp(−yᵢ(w·xᵢ + b))) (labels ±1,
 * intercept not penalised) to a gradient norm below 1e-10.
 */
export function newtonLogistic(X: number[][], y: number[], C = 1): { w: number[]; b: number } {
  const d = X[0]!.length;
  let theta = new Array<number>(d + 1).fill(0);
  const softplus = (u: number) => (u > 0 ? u + Math.log1p(Math.exp(-u)) : Math.log1p(Math.exp(u)));
  const objective = (t: number[]) => {
    let f = 0;
    for (let c = 0; c < d; c++) f += 0.5 * t[c]! ** 2;
    X.forEach((x, i) => {
      let z = t[d]!;
      for (let c = 0; c < d; c++) z += x[c]! * t[c]!;
      f += C * softplus(-y[i]! * z);
    });
    return f;
  };
  for (let iter = 0; iter < 100; iter++) {
    const g = theta.map((v, c) => (c < d ? v : 0));
    const H = Array.from({ length: d + 1 }, (_, r) => Array.from({ length: d + 1 }, (_, c) => (r === c && r < d ? 1 : 0)));
    X.forEach((x, i) => {
      let z = theta[d]!;
      for (let c = 0; c < d; c++) z += x[c]! * theta[c]!;
      const p = 1 / (1 + Math.exp(-z));
      const coef = C * ((y[i]! > 0 ? p - 1 : p));
      const wgt = C * p * (1 - p);
      const xa = [...x, 1];
      for (let r = 0; r <= d; r++) {
        g[r]! += coef * xa[r]!;
        for (let c = 0; c <= d; c++) H[r]![c]! += wgt * xa[r]! * xa[c]!;
      }
    });
    const gnorm = Math.sqrt(g.reduce((s, v) => s + v * v, 0));
    if (gnorm < 1e-10) break;
    const step = solve(H, g);
    const f0 = objective(theta);
    let alpha = 1;
    let next = theta.map((v, c) => v - alpha * step[c]!);
    while (objective(next) > f0 && alpha > 1e-8) {
      alpha /= 2;
      next = theta.map((v, c) => v - alpha * step[c]!);
    }
    theta = next;
  }
  return { w: theta.slice(0, d), b: theta[d]! };
}

/** One-vs-rest fit (a single class-1-vs-0 problem when K = 2), returning the decision function. */
export function newtonOvR(X: number[][], y: number[], K: number, C = 1): (x: number[]) => number[] {
  const problems = K === 2 ? [1] : Array.from({ length: K }, (_, c) => c);
  const fits = problems.map((cls) => newtonLogistic(X, y.map((v) => (v === cls ? 1 : -1)), C));
  return (x) => {
    const z = fits.map((f) => f.b + f.w.reduce((s, w, c) => s + w * x[c]!, 0));
    return K === 2 ? [-z[0]!, z[0]!] : z;
  };
}

/** Mean recall over the classes present in yTrue. */
export function referenceBalancedAccuracy(yTrue: number[], yPred: number[]): number {
  const classes = [...new Set(yTrue)];
  return classes.reduce((s, c) => {
    const idx = yTrue.map((v, i) => (v === c ? i : -1)).filter((i) => i >= 0);
    return s + idx.filter((i) => yPred[i] === c).length / idx.length;
  }, 0) / classes.length;
}
