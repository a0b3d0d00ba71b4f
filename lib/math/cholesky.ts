/**
 * Float64 Cholesky factorisation and triangular inverse for the normal equations of `linreg/`.
 * Row-major `[d, d]` Float64Arrays throughout. Written here because no maintained npm package offers
 * a float64 Cholesky that is fast at d = 768…1600 without pulling in a whole matrix library
 * (ml-matrix is a test-only oracle in this repository).
 */

/**
 * Lower Cholesky factor L of a symmetric positive definite matrix G = L·Lᵀ (Cholesky–Banachiewicz,
 * row by row; only the lower triangle of G is read).
 * @param G row-major `[d, d]`.
 * @param minPivot a pivot (the value under the square root) ≤ `minPivot` counts as a failure.
 * @returns L (row-major `[d, d]`, zeros above the diagonal), or null when a pivot is ≤ `minPivot`
 *   (G singular or not positive definite to that tolerance).
 */
export function choleskyLower(G: Float64Array, d: number, minPivot: number): Float64Array | null {
  const L = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    const ri = i * d;
    for (let j = 0; j <= i; j++) {
      const rj = j * d;
      let s = G[ri + j]!;
      let k = 0;
      let s1 = 0, s2 = 0, s3 = 0;
      for (; k + 4 <= j; k += 4) {
        s -= L[ri + k]! * L[rj + k]!;
        s1 += L[ri + k + 1]! * L[rj + k + 1]!;
        s2 += L[ri + k + 2]! * L[rj + k + 2]!;
        s3 += L[ri + k + 3]! * L[rj + k + 3]!;
      }
      for (; k < j; k++) s -= L[ri + k]! * L[rj + k]!;
      s -= s1 + s2 + s3;
      if (i === j) {
        if (!(s > minPivot)) return null;
        L[ri + i] = Math.sqrt(s);
      } else {
        L[ri + j] = s / L[rj + j]!;
      }
    }
  }
  return L;
}

/**
 * Inverse M = L⁻¹ of a lower-triangular L with non-zero diagonal (row by row:
 * M[i,·] = (e_i − Σ_{k<i} L[i,k]·M[k,·]) / L[i,i]). Returns row-major `[d, d]`, lower triangular.
 */
export function lowerTriangularInverse(L: Float64Array, d: number): Float64Array {
  const M = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    const ri = i * d;
    M[ri + i] = 1;
    for (let k = 0; k < i; k++) {
      const lik = L[ri + k]!;
      if (lik === 0) continue;
      const rk = k * d;
      for (let c = 0; c <= k; c++) M[ri + c] -= lik * M[rk + c]!;
    }
    const inv = 1 / L[ri + i]!;
    for (let c = 0; c <= i; c++) M[ri + c] *= inv;
  }
  return M;
}

