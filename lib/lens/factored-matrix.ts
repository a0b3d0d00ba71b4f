/**
 * `FactoredMatrix` (TransformerLens, ALGORITHMS.md §11d): the product `AB` of `A [..., m, k]` and
 * `B [..., k, n]` kept as its two factors, so that e.g. a `[dVocab, dVocab]` circuit or a `[d, d]` OV
 * matrix is never formed. Products with matrices or other factored matrices stay factored (choosing
 * the smaller inner dimension, as TL does); SVD uses the low-rank trick; the Frobenius norm uses Gram
 * matrices.
 *
 * Host linear algebra (float64): the SVD is QR(A) = Q_A R_A, QR(Bᵀ) = Q_B R_B (Householder), then the SVD
 * of the small `R_A R_Bᵀ` by one-sided Jacobi rotations, so `AB = (Q_A U_M) S (Q_B V_M)ᵀ`. Eigenvalues of
 * the square `BA [k, k]` use a Householder reduction to Hessenberg form and the Francis double-shift QR
 * iteration (the EISPACK `hqr` scheme). Written here because tfjs has neither an SVD nor a general
 * eigen-solver; cost is O((m + n)·k²) for the SVD and O(k³) for the eigenvalues, on the CPU.
 *
 * Ownership: the constructor copies its inputs (the caller keeps theirs). Getters and methods that
 * return tensors or factored matrices return new objects owned by the caller; call `dispose()` on
 * every `FactoredMatrix` you create.
 */
import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError, ShapeMismatchError } from '../errors.js';

/** `U [..., m, r]`, `S [..., r]`, `V [..., n, r]` with `AB = U diag(S) Vᵀ`, S descending. */
export interface FactoredSvd {
  U: tf.Tensor;
  S: tf.Tensor;
  V: tf.Tensor;
}

/** Eigenvalues `λ = real + i·imag`, `[..., k]`, sorted by descending |λ| (then real, then imag). */
export interface Eigenvalues {
  real: tf.Tensor;
  imag: tf.Tensor;
}

function broadcastShapes(a: readonly number[], b: readonly number[], what: string): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) throw new ShapeMismatchError(what, `leading axes broadcastable with [${a.join(',')}]`, [...b]);
    out.push(Math.max(x, y));
  }
  return out;
}

/** Swaps the last two axes. */
function transposeLast(t: tf.Tensor): tf.Tensor {
  const perm = t.shape.map((_, i) => i);
  perm[t.rank - 1] = t.rank - 2;
  perm[t.rank - 2] = t.rank - 1;
  return tf.transpose(t, perm);
}

/** The product `AB` of two factors, kept factored. */
export class FactoredMatrix {
  /** Left factor `[..., m, k]`. */
  readonly A: tf.Tensor;
  /** Right factor `[..., k, n]`. */
  readonly B: tf.Tensor;
  private svdCache?: { U: Float64Array; S: Float64Array; V: Float64Array; r: number };

  /**
   * @param A `[..., m, k]` @param B `[..., k, n]` (leading axes broadcast). Both are copied.
   */
  constructor(A: tf.Tensor, B: tf.Tensor) {
    const [a, b] = FactoredMatrix.check(A, B);
    this.A = a === A ? tf.clone(A) : a;
    this.B = b === B ? tf.clone(B) : b;
  }

  /** Wraps freshly made factors without copying (they become owned by the result). */
  static adopt(A: tf.Tensor, B: tf.Tensor): FactoredMatrix {
    const fm = Object.create(FactoredMatrix.prototype) as FactoredMatrix;
    const [a, b] = FactoredMatrix.check(A, B);
    if (a !== A) A.dispose();
    if (b !== B) B.dispose();
    Object.assign(fm, { A: a, B: b });
    return fm;
  }

  /** Validates shapes; broadcasts leading axes (returns new tensors only when broadcasting was needed). */
  private static check(A: tf.Tensor, B: tf.Tensor): [tf.Tensor, tf.Tensor] {
    if (A.rank < 2 || B.rank < 2) throw new ShapeMismatchError('FactoredMatrix factors', 'A [..., m, k] and B [..., k, n]', `A [${A.shape.join(',')}], B [${B.shape.join(',')}]`);
    if (A.shape[A.rank - 1] !== B.shape[B.rank - 2]) {
      throw new ShapeMismatchError('FactoredMatrix B', `[..., ${A.shape[A.rank - 1]}, n] (inner size of A)`, B.shape);
    }
    const lead = broadcastShapes(A.shape.slice(0, -2), B.shape.slice(0, -2), 'FactoredMatrix B');
    const fit = (t: tf.Tensor): tf.Tensor => {
      const target = [...lead, ...t.shape.slice(-2)];
      if (tf.util.arraysEqual(t.shape, target)) return t;
      return tf.tidy(() => tf.broadcastTo(tf.reshape(t, [...new Array<number>(lead.length - (t.rank - 2)).fill(1), ...t.shape]), target));
    };
    return [fit(A), fit(B)];
  }

  /** Leading (batch) axes. */
  get leadShape(): number[] {
    return this.A.shape.slice(0, -2);
  }
  /** Rows m. */
  get ldim(): number {
    return this.A.shape[this.A.rank - 2]!;
  }
  /** Inner size k. */
  get mdim(): number {
    return this.A.shape[this.A.rank - 1]!;
  }
  /** Columns n. */
  get rdim(): number {
    return this.B.shape[this.B.rank - 1]!;
  }
  /** `[..., m, n]`. */
  get shape(): number[] {
    return [...this.leadShape, this.ldim, this.rdim];
  }

  /** The explicit product `[..., m, n]` (new tensor). */
  get AB(): tf.Tensor {
    return tf.matMul(this.A, this.B);
  }

  /** `B·A [..., k, k]` (needs m = n; new tensor). Its nonzero eigenvalues are those of AB. */
  get BA(): tf.Tensor {
    if (this.ldim !== this.rdim) throw new ShapeMismatchError('FactoredMatrix.BA', `a square product (m = n)`, this.shape);
    return tf.matMul(this.B, this.A);
  }

  /** Transpose `(AB)ᵀ = Bᵀ Aᵀ`, factored (new). */
  get T(): FactoredMatrix {
    return FactoredMatrix.adopt(transposeLast(this.B), transposeLast(this.A));
  }

  /** Frobenius norm per leading index, via Gram matrices: ‖AB‖² = Σ (AᵀA) ⊙ (BBᵀ). Shape `[...]` (new). */
  norm(): tf.Tensor {
    return tf.tidy(() => {
      const gramA = tf.matMul(this.A, this.A, true, false); // [..., k, k]
      const gramB = tf.matMul(this.B, this.B, false, true); // [..., k, k]
      return tf.sqrt(tf.relu(tf.sum(tf.mul(gramA, gramB), [-2, -1])));
    });
  }

  private hostSvd(): { U: Float64Array; S: Float64Array; V: Float64Array; r: number } {
    if (this.svdCache) return this.svdCache;
    const m = this.ldim;
    const k = this.mdim;
    const n = this.rdim;
    const count = this.leadShape.reduce((a, b) => a * b, 1);
    const aData = this.A.dataSync();
    const bData = this.B.dataSync();
    const r = Math.min(m, k, n);
    const U = new Float64Array(count * m * r);
    const S = new Float64Array(count * r);
    const V = new Float64Array(count * n * r);
    for (let c = 0; c < count; c++) {
      // Column-major copies: A [m, k]; Bᵀ [n, k].
      const aCols = new Float64Array(m * k);
      for (let i = 0; i < m; i++) for (let j = 0; j < k; j++) aCols[j * m + i] = aData[c * m * k + i * k + j]!;
      const btCols = new Float64Array(n * k);
      for (let j = 0; j < k; j++) for (let i = 0; i < n; i++) btCols[j * n + i] = bData[c * k * n + j * n + i]!;
      const qa = householderQr(aCols, m, k);
      const qb = householderQr(btCols, n, k);
      // M = R_A R_Bᵀ [ta, tb] (column-major).
      const M = new Float64Array(qa.t * qb.t);
      for (let i = 0; i < qa.t; i++) {
        for (let j = 0; j < qb.t; j++) {
          let s = 0;
          for (let x = 0; x < k; x++) s += qa.r[x * qa.t + i]! * qb.r[x * qb.t + j]!;
          M[j * qa.t + i] = s;
        }
      }
      const svd = jacobiSvd(M, qa.t, qb.t); // U_M [ta, r'], V_M [tb, r'], r' = min(ta, tb) = r
      for (let x = 0; x < r; x++) S[c * r + x] = svd.s[x]!;
      // U = Q_A U_M → row-major [m, r]; V = Q_B V_M → [n, r].
      for (let x = 0; x < r; x++) {
        for (let i = 0; i < m; i++) {
          let s = 0;
          for (let y = 0; y < qa.t; y++) s += qa.q[y * m + i]! * svd.u[x * qa.t + y]!;
          U[c * m * r + i * r + x] = s;
        }
        for (let i = 0; i < n; i++) {
          let s = 0;
          for (let y = 0; y < qb.t; y++) s += qb.q[y * n + i]! * svd.v[x * qb.t + y]!;
          V[c * n * r + i * r + x] = s;
        }
      }
    }
    this.svdCache = { U, S, V, r };
    return this.svdCache;
  }

  /**
   * Thin SVD by the low-rank trick: `U [..., m, r]`, `S [..., r]` (descending), `V [..., n, r]` with
   * `AB = U diag(S) Vᵀ`, r = min(m, k, n). New tensors (computed once on the host and remembered).
   */
  svd(): FactoredSvd {
    const { U, S, V, r } = this.hostSvd();
    const lead = this.leadShape;
    return {
      U: tf.tensor(Float32Array.from(U), [...lead, this.ldim, r]),
      S: tf.tensor(Float32Array.from(S), [...lead, r]),
      V: tf.tensor(Float32Array.from(V), [...lead, this.rdim, r]),
    };
  }

  /** Singular values on the host, `[count, r]` row-major float64 (count = product of leading axes). */
  singularValues(): Float64Array {
    return this.hostSvd().S.slice();
  }

  /** Eigenvalues of `BA [..., k, k]` (needs m = n): the nonzero eigenvalues of AB. New tensors. */
  eigenvalues(): Eigenvalues {
    const ba = this.BA;
    try {
      const k = this.mdim;
      const data = ba.dataSync();
      const count = data.length / (k * k);
      const real = new Float32Array(count * k);
      const imag = new Float32Array(count * k);
      for (let c = 0; c < count; c++) {
        const ev = eigenvaluesGeneral(Float64Array.from(data.subarray(c * k * k, (c + 1) * k * k)), k);
        real.set(ev.re, c * k);
        imag.set(ev.im, c * k);
      }
      return { real: tf.tensor(real, [...this.leadShape, k]), imag: tf.tensor(imag, [...this.leadShape, k]) };
    } finally {
      ba.dispose();
    }
  }

  /**
   * `this @ other`. A matrix `[..., n, p]` → factored (`(A, B·other)` when n > k, else `(AB, other)`);
   * a vector `[n]` → the vector `A(B·other)` `[..., m]`; a factored matrix → `(this @ other.A) @ other.B`.
   */
  matmul(other: tf.Tensor): FactoredMatrix | tf.Tensor;
  matmul(other: FactoredMatrix): FactoredMatrix;
  matmul(other: tf.Tensor | FactoredMatrix): FactoredMatrix | tf.Tensor {
    if (other instanceof FactoredMatrix) {
      const left = this.matmul(other.A) as FactoredMatrix;
      try {
        return left.matmul(other.B) as FactoredMatrix;
      } finally {
        left.dispose();
      }
    }
    if (other.rank === 1) {
      if (other.shape[0] !== this.rdim) throw new ShapeMismatchError('FactoredMatrix.matmul vector', `[${this.rdim}]`, other.shape);
      return tf.tidy(() => tf.squeeze(tf.matMul(this.A, tf.matMul(this.B, tf.reshape(other, [-1, 1]))), [-1]));
    }
    if (other.shape[other.rank - 2] !== this.rdim) throw new ShapeMismatchError('FactoredMatrix.matmul right operand', `[..., ${this.rdim}, p]`, other.shape);
    if (this.rdim > this.mdim) return FactoredMatrix.adopt(tf.clone(this.A), tf.matMul(this.B, other));
    return FactoredMatrix.adopt(this.AB, tf.clone(other));
  }

  /**
   * `other @ this`. A matrix `[..., p, m]` → factored (`(other·A, B)` when m > k, else `(other, AB)`);
   * a vector `[m]` → `(other·A)·B` `[..., n]`; a factored matrix → `other.A @ (other.B @ this)`.
   */
  rmatmul(other: tf.Tensor): FactoredMatrix | tf.Tensor;
  rmatmul(other: FactoredMatrix): FactoredMatrix;
  rmatmul(other: tf.Tensor | FactoredMatrix): FactoredMatrix | tf.Tensor {
    if (other instanceof FactoredMatrix) return other.matmul(this);
    if (other.rank === 1) {
      if (other.shape[0] !== this.ldim) throw new ShapeMismatchError('FactoredMatrix.rmatmul vector', `[${this.ldim}]`, other.shape);
      return tf.tidy(() => tf.squeeze(tf.matMul(tf.matMul(tf.reshape(other, [1, -1]), this.A), this.B), [-2]));
    }
    if (other.shape[other.rank - 1] !== this.ldim) throw new ShapeMismatchError('FactoredMatrix.rmatmul left operand', `[..., p, ${this.ldim}]`, other.shape);
    if (this.ldim > this.mdim) return FactoredMatrix.adopt(tf.matMul(other, this.A), tf.clone(this.B));
    return FactoredMatrix.adopt(tf.clone(other), this.AB);
  }

  /** `diag(S)·Vᵀ` `[..., r, n]`: the product with the left orthogonal factor U removed (new). */
  collapseL(): tf.Tensor {
    const { U, S, V } = this.svd();
    try {
      return tf.tidy(() => tf.mul(tf.expandDims(S, -1), transposeLast(V)));
    } finally {
      tf.dispose([U, S, V]);
    }
  }

  /** `U·diag(S)` `[..., m, r]`: the product with the right orthogonal factor Vᵀ removed (new). */
  collapseR(): tf.Tensor {
    const { U, S, V } = this.svd();
    try {
      return tf.tidy(() => tf.mul(U, tf.expandDims(S, -2)));
    } finally {
      tf.dispose([U, S, V]);
    }
  }

  /** The same product with balanced factors `(U√S, √S·Vᵀ)` (new). */
  makeEven(): FactoredMatrix {
    const { U, S, V } = this.svd();
    try {
      const [a, b] = tf.tidy(() => {
        const root = tf.sqrt(S);
        return [tf.mul(U, tf.expandDims(root, -2)), tf.mul(tf.expandDims(root, -1), transposeLast(V))];
      });
      return FactoredMatrix.adopt(a!, b!);
    } finally {
      tf.dispose([U, S, V]);
    }
  }

  /** The top-left `k × k` corner of AB, computed from `A[..., :k, :]` and `B[..., :, :k]` (new). */
  getCorner(k = 3): tf.Tensor {
    return tf.tidy(() => {
      const rows = Math.min(k, this.ldim);
      const cols = Math.min(k, this.rdim);
      const a = tf.slice(this.A, [...this.leadShape.map(() => 0), 0, 0], [...this.leadShape, rows, this.mdim]);
      const b = tf.slice(this.B, [...this.leadShape.map(() => 0), 0, 0], [...this.leadShape, this.mdim, cols]);
      return tf.matMul(a, b);
    });
  }

  /** Rows `start … end−1` of the product, factored (`A[..., start:end, :]`, B) (new). */
  rows(start: number, end: number): FactoredMatrix {
    if (!(Number.isInteger(start) && Number.isInteger(end) && start >= 0 && end <= this.ldim && start < end)) throw new InvalidArgumentError(`FactoredMatrix.rows(${start}, ${end}) is outside 0..${this.ldim}`);
    const a = tf.slice(this.A, [...this.leadShape.map(() => 0), start, 0], [...this.leadShape, end - start, this.mdim]);
    return FactoredMatrix.adopt(a, tf.clone(this.B));
  }

  /** Columns `start … end−1` of the product, factored (A, `B[..., :, start:end]`) (new). */
  cols(start: number, end: number): FactoredMatrix {
    if (!(Number.isInteger(start) && Number.isInteger(end) && start >= 0 && end <= this.rdim && start < end)) throw new InvalidArgumentError(`FactoredMatrix.cols(${start}, ${end}) is outside 0..${this.rdim}`);
    const b = tf.slice(this.B, [...this.leadShape.map(() => 0), 0, start], [...this.leadShape, this.mdim, end - start]);
    return FactoredMatrix.adopt(tf.clone(this.A), b);
  }

  /** The factored matrix at leading indices `idx` (e.g. `at(layer, head)` of `[L, H, m, n]`) (new). */
  at(...idx: number[]): FactoredMatrix {
    const lead = this.leadShape;
    if (idx.length > lead.length) throw new InvalidArgumentError(`FactoredMatrix.at: ${idx.length} indices for ${lead.length} leading axes`);
    idx.forEach((v, i) => {
      if (!Number.isInteger(v) || v < 0 || v >= lead[i]!) throw new InvalidArgumentError(`FactoredMatrix.at: index ${v} of axis ${i} is outside 0..${lead[i]! - 1}`);
    });
    const pick = (t: tf.Tensor) =>
      tf.tidy(() => {
        const begin = t.shape.map((_, i) => (i < idx.length ? idx[i]! : 0));
        const size = t.shape.map((s, i) => (i < idx.length ? 1 : s));
        return tf.reshape(tf.slice(t, begin, size), t.shape.slice(idx.length));
      });
    return FactoredMatrix.adopt(pick(this.A), pick(this.B));
  }

  /** Frees both factors. */
  dispose(): void {
    this.A.dispose();
    this.B.dispose();
  }
}

// ---------------------------------------------------------------------------------------------------
// Host linear algebra (float64, column-major).

/**
 * Thin Householder QR of `x [m, p]` (column-major): `Q [m, t]`, `R [t, p]` (column-major), t = min(m, p).
 */
export function householderQr(x: Float64Array, m: number, p: number): { q: Float64Array; r: Float64Array; t: number } {
  const t = Math.min(m, p);
  const a = Float64Array.from(x);
  const vs: (Float64Array | null)[] = [];
  for (let k = 0; k < t; k++) {
    const col = k * m;
    let norm = 0;
    for (let i = k; i < m; i++) norm += a[col + i]! * a[col + i]!;
    norm = Math.sqrt(norm);
    if (norm === 0) {
      vs.push(null);
      continue;
    }
    const alpha = a[col + k]! > 0 ? -norm : norm;
    const v = new Float64Array(m - k);
    for (let i = k; i < m; i++) v[i - k] = a[col + i]!;
    v[0]! -= alpha;
    let vn = 0;
    for (let i = 0; i < v.length; i++) vn += v[i]! * v[i]!;
    if (vn === 0) {
      vs.push(null);
      continue;
    }
    for (let i = 0; i < v.length; i++) v[i]! /= Math.sqrt(vn);
    for (let j = k; j < p; j++) {
      const c = j * m;
      let s = 0;
      for (let i = 0; i < v.length; i++) s += v[i]! * a[c + k + i]!;
      s *= 2;
      for (let i = 0; i < v.length; i++) a[c + k + i]! -= s * v[i]!;
    }
    vs.push(v);
  }
  const r = new Float64Array(t * p);
  for (let j = 0; j < p; j++) for (let i = 0; i <= Math.min(j, t - 1); i++) r[j * t + i] = a[j * m + i]!;
  const q = new Float64Array(m * t);
  for (let j = 0; j < t; j++) q[j * m + j] = 1;
  for (let k = t - 1; k >= 0; k--) {
    const v = vs[k];
    if (!v) continue;
    for (let j = 0; j < t; j++) {
      const c = j * m;
      let s = 0;
      for (let i = 0; i < v.length; i++) s += v[i]! * q[c + k + i]!;
      s *= 2;
      for (let i = 0; i < v.length; i++) q[c + k + i]! -= s * v[i]!;
    }
  }
  return { q, r, t };
}

/**
 * Thin SVD of `x [m, n]` (column-major) by one-sided Jacobi (Hestenes) rotations:
 * `u [m, r]`, `s [r]` descending, `v [n, r]` (column-major), r = min(m, n); `x = u diag(s) vᵀ`.
 */
export function jacobiSvd(x: Float64Array, m: number, n: number): { u: Float64Array; s: Float64Array; v: Float64Array } {
  if (m < n) {
    const xt = new Float64Array(n * m);
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) xt[i * n + j] = x[j * m + i]!;
    const t = jacobiSvd(xt, n, m);
    return { u: t.v, s: t.s, v: t.u };
  }
  const u = Float64Array.from(x);
  const v = new Float64Array(n * n);
  for (let j = 0; j < n; j++) v[j * n + j] = 1;
  const eps = 1e-15;
  for (let sweep = 0; sweep < 60; sweep++) {
    let rotated = false;
    for (let i = 0; i < n - 1; i++) {
      for (let j = i + 1; j < n; j++) {
        let alpha = 0;
        let beta = 0;
        let gamma = 0;
        const ci = i * m;
        const cj = j * m;
        for (let k = 0; k < m; k++) {
          const a = u[ci + k]!;
          const b = u[cj + k]!;
          alpha += a * a;
          beta += b * b;
          gamma += a * b;
        }
        if (gamma === 0 || Math.abs(gamma) <= eps * Math.sqrt(alpha * beta)) continue;
        rotated = true;
        const zeta = (beta - alpha) / (2 * gamma);
        const t = (zeta >= 0 ? 1 : -1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = c * t;
        for (let k = 0; k < m; k++) {
          const a = u[ci + k]!;
          const b = u[cj + k]!;
          u[ci + k] = c * a - s * b;
          u[cj + k] = s * a + c * b;
        }
        const vi = i * n;
        const vj = j * n;
        for (let k = 0; k < n; k++) {
          const a = v[vi + k]!;
          const b = v[vj + k]!;
          v[vi + k] = c * a - s * b;
          v[vj + k] = s * a + c * b;
        }
      }
    }
    if (!rotated) break;
  }
  const sv = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    let s = 0;
    for (let k = 0; k < m; k++) s += u[j * m + k]! * u[j * m + k]!;
    sv[j] = Math.sqrt(s);
  }
  const order = Array.from({ length: n }, (_, j) => j).sort((a, b) => sv[b]! - sv[a]! || a - b);
  const uo = new Float64Array(m * n);
  const vo = new Float64Array(n * n);
  const so = new Float64Array(n);
  const tiny = (sv[order[0]!] ?? 0) * 1e-13;
  order.forEach((j, x) => {
    so[x] = sv[j]!;
    for (let k = 0; k < n; k++) vo[x * n + k] = v[j * n + k]!;
    if (sv[j]! > tiny && sv[j]! > 0) for (let k = 0; k < m; k++) uo[x * m + k] = u[j * m + k]! / sv[j]!;
  });
  completeOrthonormal(uo, m, n, so, tiny);
  return { u: uo, s: so, v: vo };
}

/** Replaces the columns of `u` whose singular value is (near) zero by unit vectors orthogonal to the rest. */
function completeOrthonormal(u: Float64Array, m: number, n: number, s: Float64Array, tiny: number): void {
  let candidate = 0;
  for (let x = 0; x < n; x++) {
    if (s[x]! > tiny && s[x]! > 0) continue;
    for (; candidate < m; candidate++) {
      const w = new Float64Array(m);
      w[candidate] = 1;
      for (let pass = 0; pass < 2; pass++) {
        for (let y = 0; y < n; y++) {
          if (y === x || (s[y]! <= tiny && y > x)) continue;
          let d = 0;
          for (let k = 0; k < m; k++) d += u[y * m + k]! * w[k]!;
          for (let k = 0; k < m; k++) w[k]! -= d * u[y * m + k]!;
        }
      }
      let nrm = 0;
      for (let k = 0; k < m; k++) nrm += w[k]! * w[k]!;
      nrm = Math.sqrt(nrm);
      if (nrm > 0.5) {
        for (let k = 0; k < m; k++) u[x * m + k] = w[k]! / nrm;
        candidate++;
        break;
      }
    }
    s[x] = Math.max(s[x]!, 0);
  }
}

/**
 * Eigenvalues of a real square matrix `a [n, n]` (row-major; overwritten copy): Householder reduction to
 * upper Hessenberg form, then the Francis double-shift QR iteration with deflation (EISPACK `hqr`).
 * Sorted by descending modulus, then real part, then imaginary part.
 */
export function eigenvaluesGeneral(input: Float64Array, n: number): { re: Float64Array; im: Float64Array } {
  const a = Float64Array.from(input);
  const at = (i: number, j: number) => a[i * n + j]!;
  const set = (i: number, j: number, v: number) => {
    a[i * n + j] = v;
  };
  // Hessenberg reduction with Householder reflectors (similarity transforms).
  for (let k = 0; k < n - 2; k++) {
    let norm = 0;
    for (let i = k + 1; i < n; i++) norm += at(i, k) ** 2;
    norm = Math.sqrt(norm);
    if (norm === 0) continue;
    const alpha = at(k + 1, k) > 0 ? -norm : norm;
    const v = new Float64Array(n - k - 1);
    for (let i = k + 1; i < n; i++) v[i - k - 1] = at(i, k);
    v[0]! -= alpha;
    let vn = 0;
    for (const x of v) vn += x * x;
    if (vn === 0) continue;
    vn = Math.sqrt(vn);
    for (let i = 0; i < v.length; i++) v[i]! /= vn;
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let i = 0; i < v.length; i++) s += v[i]! * at(k + 1 + i, j);
      for (let i = 0; i < v.length; i++) set(k + 1 + i, j, at(k + 1 + i, j) - 2 * s * v[i]!);
    }
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < v.length; j++) s += at(i, k + 1 + j) * v[j]!;
      for (let j = 0; j < v.length; j++) set(i, k + 1 + j, at(i, k + 1 + j) - 2 * s * v[j]!);
    }
    for (let i = k + 2; i < n; i++) set(i, k, 0);
  }
  const wr = new Float64Array(n);
  const wi = new Float64Array(n);
  let anorm = 0;
  for (let i = 0; i < n; i++) for (let j = Math.max(i - 1, 0); j < n; j++) anorm += Math.abs(at(i, j));
  const sign = (x: number, y: number) => (y >= 0 ? Math.abs(x) : -Math.abs(x));
  let nn = n - 1;
  let t = 0;
  let p = 0;
  let q = 0;
  let r = 0;
  let s = 0;
  let w = 0;
  let x = 0;
  let y = 0;
  let z = 0;
  while (nn >= 0) {
    let its = 0;
    let l: number;
    do {
      for (l = nn; l >= 1; l--) {
        s = Math.abs(at(l - 1, l - 1)) + Math.abs(at(l, l));
        if (s === 0) s = anorm;
        if (Math.abs(at(l, l - 1)) + s === s) {
          set(l, l - 1, 0);
          break;
        }
      }
      x = at(nn, nn);
      if (l === nn) {
        wr[nn] = x + t;
        wi[nn] = 0;
        nn--;
      } else {
        y = at(nn - 1, nn - 1);
        w = at(nn, nn - 1) * at(nn - 1, nn);
        if (l === nn - 1) {
          p = 0.5 * (y - x);
          q = p * p + w;
          z = Math.sqrt(Math.abs(q));
          x += t;
          if (q >= 0) {
            z = p + sign(z, p);
            wr[nn - 1] = wr[nn] = x + z;
            if (z !== 0) wr[nn] = x - w / z;
            wi[nn - 1] = wi[nn] = 0;
          } else {
            wr[nn - 1] = wr[nn] = x + p;
            wi[nn] = z;
            wi[nn - 1] = -z;
          }
          nn -= 2;
        } else {
          if (its === 60) throw new InvalidArgumentError('eigenvalues: the QR iteration did not converge');
          if (its === 10 || its === 20 || its === 40) {
            t += x;
            for (let i = 0; i <= nn; i++) set(i, i, at(i, i) - x);
            s = Math.abs(at(nn, nn - 1)) + Math.abs(at(nn - 1, nn - 2));
            y = x = 0.75 * s;
            w = -0.4375 * s * s;
          }
          its++;
          let m: number;
          for (m = nn - 2; m >= l; m--) {
            z = at(m, m);
            r = x - z;
            s = y - z;
            p = (r * s - w) / at(m + 1, m) + at(m, m + 1);
            q = at(m + 1, m + 1) - z - r - s;
            r = at(m + 2, m + 1);
            s = Math.abs(p) + Math.abs(q) + Math.abs(r);
            p /= s;
            q /= s;
            r /= s;
            if (m === l) break;
            const u = Math.abs(at(m, m - 1)) * (Math.abs(q) + Math.abs(r));
            const v = Math.abs(p) * (Math.abs(at(m - 1, m - 1)) + Math.abs(z) + Math.abs(at(m + 1, m + 1)));
            if (u + v === v) break;
          }
          for (let i = m + 2; i <= nn; i++) {
            set(i, i - 2, 0);
            if (i !== m + 2) set(i, i - 3, 0);
          }
          for (let k = m; k <= nn - 1; k++) {
            if (k !== m) {
              p = at(k, k - 1);
              q = at(k + 1, k - 1);
              r = 0;
              if (k !== nn - 1) r = at(k + 2, k - 1);
              x = Math.abs(p) + Math.abs(q) + Math.abs(r);
              if (x !== 0) {
                p /= x;
                q /= x;
                r /= x;
              }
            }
            s = sign(Math.sqrt(p * p + q * q + r * r), p);
            if (s !== 0) {
              if (k === m) {
                if (l !== m) set(k, k - 1, -at(k, k - 1));
              } else {
                set(k, k - 1, -s * x);
              }
              p += s;
              x = p / s;
              y = q / s;
              z = r / s;
              q /= p;
              r /= p;
              for (let j = k; j <= nn; j++) {
                p = at(k, j) + q * at(k + 1, j);
                if (k !== nn - 1) {
                  p += r * at(k + 2, j);
                  set(k + 2, j, at(k + 2, j) - p * z);
                }
                set(k + 1, j, at(k + 1, j) - p * y);
                set(k, j, at(k, j) - p * x);
              }
              const mmin = nn < k + 3 ? nn : k + 3;
              for (let i = l; i <= mmin; i++) {
                p = x * at(i, k) + y * at(i, k + 1);
                if (k !== nn - 1) {
                  p += z * at(i, k + 2);
                  set(i, k + 2, at(i, k + 2) - p * r);
                }
                set(i, k + 1, at(i, k + 1) - p * q);
                set(i, k, at(i, k) - p);
              }
            }
          }
        }
      }
    } while (l < nn - 1);
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => Math.hypot(wr[j]!, wi[j]!) - Math.hypot(wr[i]!, wi[i]!) || wr[j]! - wr[i]! || wi[j]! - wi[i]!);
  return { re: Float64Array.from(order.map((i) => wr[i]!)), im: Float64Array.from(order.map((i) => wi[i]!)) };
}
