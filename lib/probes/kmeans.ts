/**
 * Seeded k-means for clustering probe features: k-means++ initialisation (Arthur & Vassilvitskii 2007:
 * first centre uniform, each next one drawn with probability ∝ squared distance to the nearest chosen
 * centre), then Lloyd iterations until the total squared centre shift is ≤ tol · (mean per-feature
 * variance of X) — sklearn's criterion — or `maxIter`. An empty cluster takes the point farthest from its
 * centre. With `nInit` > 1 the run with the lowest inertia wins. Float64 on the host.
 *
 * Written here rather than taken from npm (`ml-kmeans` would also do): ~150 lines, no new dependency,
 * and the draws come from the project's own seeded xoshiro128** (`createRng`), so a seed means the same
 * here as everywhere else in tfjs-lens.
 */
import { InvalidArgumentError } from '../errors.js';
import { toHostMatrixSync, type MatrixInput } from '../linreg/types.js';
import { createRng, type Rng } from '../math/rng.js';

/** Options of `kMeans`. */
export interface KMeansOptions {
  /** Seed (default 0). */
  seed?: number;
  /** Lloyd iteration limit per run (default 300). */
  maxIter?: number;
  /** Relative tolerance on the centre shift (default 1e-4). */
  tol?: number;
  /** Independent k-means++ starts; the lowest inertia wins (default 1). */
  nInit?: number;
}

/** Result of `kMeans`. */
export interface KMeansResult {
  /** Centres `[k, d]` row-major. */
  centers: Float64Array;
  /** Cluster of each sample `[n]`. */
  labels: Int32Array;
  /** Sum of squared distances of the samples to their centres. */
  inertia: number;
  /** Lloyd iterations of the winning run. */
  iterations: number;
  /** Seed used. */
  seed: number;
}

function sqDist(X: ArrayLike<number>, row: number, C: Float64Array, c: number, d: number): number {
  let s = 0;
  for (let t = 0; t < d; t++) {
    const diff = X[row * d + t]! - C[c * d + t]!;
    s += diff * diff;
  }
  return s;
}

function initPlusPlus(X: ArrayLike<number>, n: number, d: number, k: number, rng: Rng): Float64Array {
  const centers = new Float64Array(k * d);
  const first = rng.uniformInt(n);
  for (let t = 0; t < d; t++) centers[t] = X[first * d + t]!;
  const closest = new Float64Array(n);
  for (let i = 0; i < n; i++) closest[i] = sqDist(X, i, centers, 0, d);
  for (let c = 1; c < k; c++) {
    let total = 0;
    for (let i = 0; i < n; i++) total += closest[i]!;
    let pick = n - 1;
    if (total > 0) {
      let u = rng.uniform() * total;
      for (let i = 0; i < n; i++) {
        u -= closest[i]!;
        if (u < 0) {
          pick = i;
          break;
        }
      }
    } else {
      pick = rng.uniformInt(n); // all points coincide with chosen centres
    }
    for (let t = 0; t < d; t++) centers[c * d + t] = X[pick * d + t]!;
    for (let i = 0; i < n; i++) closest[i] = Math.min(closest[i]!, sqDist(X, i, centers, c, d));
  }
  return centers;
}

/** Assigns each sample to its nearest centre (lowest index on ties); returns the inertia. */
function assign(X: ArrayLike<number>, n: number, d: number, k: number, centers: Float64Array, labels: Int32Array, dist: Float64Array): number {
  let inertia = 0;
  for (let i = 0; i < n; i++) {
    let best = 0;
    let bestD = sqDist(X, i, centers, 0, d);
    for (let c = 1; c < k; c++) {
      const dd = sqDist(X, i, centers, c, d);
      if (dd < bestD) [best, bestD] = [c, dd];
    }
    labels[i] = best;
    dist[i] = bestD;
    inertia += bestD;
  }
  return inertia;
}

function lloyd(X: ArrayLike<number>, n: number, d: number, k: number, centers: Float64Array, maxIter: number, tolAbs: number): { labels: Int32Array; inertia: number; iterations: number } {
  const labels = new Int32Array(n);
  const dist = new Float64Array(n);
  const sums = new Float64Array(k * d);
  const counts = new Int32Array(k);
  let iterations = 0;
  for (let it = 0; it < maxIter; it++) {
    assign(X, n, d, k, centers, labels, dist);
    sums.fill(0);
    counts.fill(0);
    for (let i = 0; i < n; i++) {
      const c = labels[i]!;
      counts[c]!++;
      for (let t = 0; t < d; t++) sums[c * d + t] = sums[c * d + t]! + X[i * d + t]!;
    }
    for (let c = 0; c < k; c++) {
      if (counts[c] === 0) {
        // Empty cluster: move it to the point farthest from its centre.
        let far = 0;
        for (let i = 1; i < n; i++) if (dist[i]! > dist[far]!) far = i;
        dist[far] = 0;
        for (let t = 0; t < d; t++) sums[c * d + t] = X[far * d + t]!;
        counts[c] = 1;
      }
    }
    let shift = 0;
    for (let c = 0; c < k; c++) {
      for (let t = 0; t < d; t++) {
        const v = sums[c * d + t]! / counts[c]!;
        const diff = v - centers[c * d + t]!;
        shift += diff * diff;
        centers[c * d + t] = v;
      }
    }
    iterations = it + 1;
    if (shift <= tolAbs) break;
  }
  const inertia = assign(X, n, d, k, centers, labels, dist);
  return { labels, inertia, iterations };
}

/**
 * k-means clustering.
 * @param X samples `[n, d]` row-major.
 * @param k number of clusters, 1 ≤ k ≤ n.
 */
export function kMeans(X: MatrixInput, k: number, opts: KMeansOptions = {}): KMeansResult {
  X = toHostMatrixSync(X, 'kMeans: X');
  const [n, d] = X.shape;
  if (!Number.isInteger(k) || k < 1 || k > n) throw new InvalidArgumentError(`kMeans: k = ${k} must be an integer in 1..${n} (the number of samples)`);
  const seed = opts.seed ?? 0;
  const maxIter = opts.maxIter ?? 300;
  const tol = opts.tol ?? 1e-4;
  const nInit = opts.nInit ?? 1;
  if (!Number.isInteger(maxIter) || maxIter < 1) throw new InvalidArgumentError(`kMeans: maxIter must be a positive integer, got ${maxIter}`);
  if (!Number.isInteger(nInit) || nInit < 1) throw new InvalidArgumentError(`kMeans: nInit must be a positive integer, got ${nInit}`);
  if (!(tol >= 0)) throw new InvalidArgumentError(`kMeans: tol must be ≥ 0, got ${tol}`);
  // sklearn: tol is relative to the mean per-feature variance of X.
  let meanVar = 0;
  for (let t = 0; t < d; t++) {
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < n; i++) s += X.data[i * d + t]!;
    const m = s / n;
    for (let i = 0; i < n; i++) s2 += (X.data[i * d + t]! - m) ** 2;
    meanVar += s2 / n;
  }
  const tolAbs = tol * (meanVar / d);
  const rng = createRng(seed);
  let best: KMeansResult | undefined;
  for (let run = 0; run < nInit; run++) {
    const centers = initPlusPlus(X.data, n, d, k, rng);
    const res = lloyd(X.data, n, d, k, centers, maxIter, tolAbs);
    if (!best || res.inertia < best.inertia) best = { centers, labels: res.labels, inertia: res.inertia, iterations: res.iterations, seed };
  }
  return best!;
}
