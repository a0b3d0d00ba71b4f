/**
 * Symmetric eigendecomposition in float64, used by `linreg/` for the minimum-norm (pseudo-inverse)
 * solution when the Gram matrix is singular. Householder reduction to tridiagonal form followed by the
 * implicit QL algorithm — a port of `tred2`/`tql2` from JAMA (public domain; after the EISPACK
 * routines of Bowdler, Martin, Reinsch and Wilkinson, Handbook for Automatic Computation Vol. II).
 * O(d³); a few seconds at d = 768. Written here because ml-matrix is a test-only dependency.
 */

/** Eigenvalues (ascending) and eigenvectors of a symmetric matrix. */
export interface SymmetricEigen {
  /** `[d]` eigenvalues, ascending. */
  values: Float64Array;
  /** `[d, d]` row-major; row k is the unit eigenvector of `values[k]`. */
  vectorsRows: Float64Array;
}

/**
 * Eigendecomposition G = Σ_k λ_k v_k v_kᵀ of a symmetric row-major `[d, d]` matrix (the lower
 * triangle is used as given; G is not modified).
 */
export function symmetricEigen(G: Float64Array, d: number): SymmetricEigen {
  // V is kept row-major as in JAMA (V[i][j] = V[i*d+j]); eigenvectors end up in its columns.
  const V = Float64Array.from(G);
  for (let i = 0; i < d; i++) for (let j = i + 1; j < d; j++) V[i * d + j] = V[j * d + i]!; // symmetrise from lower
  const dd = new Float64Array(d);
  const e = new Float64Array(d);
  if (d === 0) return { values: dd, vectorsRows: new Float64Array(0) };
  tred2(V, dd, e, d);
  const VT = transpose(V, d); // rows of VT = columns of V: QL rotations then touch contiguous rows
  tql2(VT, dd, e, d);
  return { values: dd, vectorsRows: VT };
}

function transpose(M: Float64Array, d: number): Float64Array {
  const T = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) T[j * d + i] = M[i * d + j]!;
  return T;
}

/** Householder tridiagonalisation (JAMA tred2). On return d = diagonal, e = sub-diagonal (e[0] = 0). */
function tred2(V: Float64Array, dd: Float64Array, e: Float64Array, n: number): void {
  for (let j = 0; j < n; j++) dd[j] = V[(n - 1) * n + j]!;
  for (let i = n - 1; i > 0; i--) {
    let scale = 0;
    let h = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(dd[k]!);
    if (scale === 0) {
      e[i] = dd[i - 1]!;
      for (let j = 0; j < i; j++) {
        dd[j] = V[(i - 1) * n + j]!;
        V[i * n + j] = 0;
        V[j * n + i] = 0;
      }
    } else {
      for (let k = 0; k < i; k++) {
        dd[k] = dd[k]! / scale;
        h += dd[k]! * dd[k]!;
      }
      let f = dd[i - 1]!;
      let g = Math.sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h -= f * g;
      dd[i - 1] = f - g;
      for (let j = 0; j < i; j++) e[j] = 0;
      for (let j = 0; j < i; j++) {
        f = dd[j]!;
        V[j * n + i] = f;
        g = e[j]! + V[j * n + j]! * f;
        for (let k = j + 1; k <= i - 1; k++) {
          g += V[k * n + j]! * dd[k]!;
          e[k] = e[k]! + V[k * n + j]! * f;
        }
        e[j] = g;
      }
      f = 0;
      for (let j = 0; j < i; j++) {
        e[j] = e[j]! / h;
        f += e[j]! * dd[j]!;
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j] = e[j]! - hh * dd[j]!;
      for (let j = 0; j < i; j++) {
        f = dd[j]!;
        g = e[j]!;
        for (let k = j; k <= i - 1; k++) V[k * n + j] = V[k * n + j]! - (f * e[k]! + g * dd[k]!);
        dd[j] = V[(i - 1) * n + j]!;
        V[i * n + j] = 0;
      }
    }
    dd[i] = h;
  }
  for (let i = 0; i < n - 1; i++) {
    V[(n - 1) * n + i] = V[i * n + i]!;
    V[i * n + i] = 1;
    const h = dd[i + 1]!;
    if (h !== 0) {
      for (let k = 0; k <= i; k++) dd[k] = V[k * n + i + 1]! / h;
      for (let j = 0; j <= i; j++) {
        let g = 0;
        for (let k = 0; k <= i; k++) g += V[k * n + i + 1]! * V[k * n + j]!;
        for (let k = 0; k <= i; k++) V[k * n + j] = V[k * n + j]! - g * dd[k]!;
      }
    }
    for (let k = 0; k <= i; k++) V[k * n + i + 1] = 0;
  }
  for (let j = 0; j < n; j++) {
    dd[j] = V[(n - 1) * n + j]!;
    V[(n - 1) * n + j] = 0;
  }
  V[(n - 1) * n + n - 1] = 1;
  e[0] = 0;
}

/**
 * Implicit QL iterations on the tridiagonal matrix (JAMA tql2), accumulating rotations into VT
 * (transposed: row k of VT is column k of JAMA's V). Sorts eigenvalues ascending with their vectors.
 */
function tql2(VT: Float64Array, dd: Float64Array, e: Float64Array, n: number): void {
  for (let i = 1; i < n; i++) e[i - 1] = e[i]!;
  e[n - 1] = 0;
  let f = 0;
  let tst1 = 0;
  const eps = 2 ** -52;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(dd[l]!) + Math.abs(e[l]!));
    let m = l;
    while (m < n) {
      if (Math.abs(e[m]!) <= eps * tst1) break;
      m++;
    }
    if (m > l) {
      let iter = 0;
      do {
        iter++;
        let g = dd[l]!;
        let p = (dd[l + 1]! - g) / (2 * e[l]!);
        let r = Math.hypot(p, 1);
        if (p < 0) r = -r;
        dd[l] = e[l]! / (p + r);
        dd[l + 1] = e[l]! * (p + r);
        const dl1 = dd[l + 1]!;
        let h = g - dd[l]!;
        for (let i = l + 2; i < n; i++) dd[i] = dd[i]! - h;
        f += h;
        p = dd[m]!;
        let c = 1;
        let c2 = c;
        let c3 = c;
        const el1 = e[l + 1]!;
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i]!;
          h = c * p;
          r = Math.hypot(p, e[i]!);
          e[i + 1] = s * r;
          s = e[i]! / r;
          c = p / r;
          p = c * dd[i]! - s * g;
          dd[i + 1] = h + s * (c * g + s * dd[i]!);
          const ra = i * n;
          const rb = (i + 1) * n;
          for (let k = 0; k < n; k++) {
            const hk = VT[rb + k]!;
            const vk = VT[ra + k]!;
            VT[rb + k] = s * vk + c * hk;
            VT[ra + k] = c * vk - s * hk;
          }
        }
        p = (-s * s2 * c3 * el1 * e[l]!) / dl1;
        e[l] = s * p;
        dd[l] = c * p;
        if (iter > 1000) break; // does not happen for symmetric input; guards against NaN loops
      } while (Math.abs(e[l]!) > eps * tst1);
    }
    dd[l] = dd[l]! + f;
    e[l] = 0;
  }
  // selection sort, ascending (swaps whole rows of VT)
  for (let i = 0; i < n - 1; i++) {
    let k = i;
    let p = dd[i]!;
    for (let j = i + 1; j < n; j++) {
      if (dd[j]! < p) {
        k = j;
        p = dd[j]!;
      }
    }
    if (k !== i) {
      dd[k] = dd[i]!;
      dd[i] = p;
      const tmp = VT.slice(i * n, (i + 1) * n);
      VT.copyWithin(i * n, k * n, (k + 1) * n);
      VT.set(tmp, k * n);
    }
  }
}
