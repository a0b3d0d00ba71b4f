/**
 * `FactoredMatrix` (TransformerLens, docs/methods.md §11d): the product `AB` of `A [..., m, k]` and
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
import { eigenvaluesGeneral, householderQr, jacobiSvd } from '../math/dense.js';

export { eigenvaluesGeneral, householderQr, jacobiSvd } from '../math/dense.js';

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

  private async hostSvd(): Promise<{ U: Float64Array; S: Float64Array; V: Float64Array; r: number }> {
    if (this.svdCache) return this.svdCache;
    const m = this.ldim;
    const k = this.mdim;
    const n = this.rdim;
    const count = this.leadShape.reduce((a, b) => a * b, 1);
    const aData = await this.A.data();
    const bData = await this.B.data();
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
   * `AB = U diag(S) Vᵀ`, r = min(m, k, n). New tensors (computed once on the host and remembered; the
   * factors are read from the device asynchronously, so it works on every backend, webgpu in Node included).
   */
  async svd(): Promise<FactoredSvd> {
    const { U, S, V, r } = await this.hostSvd();
    const lead = this.leadShape;
    return {
      U: tf.tensor(Float32Array.from(U), [...lead, this.ldim, r]),
      S: tf.tensor(Float32Array.from(S), [...lead, r]),
      V: tf.tensor(Float32Array.from(V), [...lead, this.rdim, r]),
    };
  }

  /** Singular values on the host, `[count, r]` row-major float64 (count = product of leading axes). */
  async singularValues(): Promise<Float64Array> {
    return (await this.hostSvd()).S.slice();
  }

  /** Eigenvalues of `BA [..., k, k]` (needs m = n): the nonzero eigenvalues of AB. New tensors (BA is read asynchronously). */
  async eigenvalues(): Promise<Eigenvalues> {
    const ba = this.BA;
    try {
      const k = this.mdim;
      const data = await ba.data();
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
  async collapseL(): Promise<tf.Tensor> {
    const { U, S, V } = await this.svd();
    try {
      return tf.tidy(() => tf.mul(tf.expandDims(S, -1), transposeLast(V)));
    } finally {
      tf.dispose([U, S, V]);
    }
  }

  /** `U·diag(S)` `[..., m, r]`: the product with the right orthogonal factor Vᵀ removed (new). */
  async collapseR(): Promise<tf.Tensor> {
    const { U, S, V } = await this.svd();
    try {
      return tf.tidy(() => tf.mul(U, tf.expandDims(S, -2)));
    } finally {
      tf.dispose([U, S, V]);
    }
  }

  /** The same product with balanced factors `(U√S, √S·Vᵀ)` (new). */
  async makeEven(): Promise<FactoredMatrix> {
    const { U, S, V } = await this.svd();
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
