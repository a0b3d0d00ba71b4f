/**
 * (Pseudo-)inverse of a Gram matrix G = XᵀX for the normal equations of `linreg/`:
 * Cholesky when G is positive definite to working precision, otherwise the eigen-based Moore–Penrose
 * pseudo-inverse, which gives lstsq's minimum-norm solution: Aᵀ = G⁺·XᵀY = X⁺·Y.
 *
 * Cut-off `rcond` (relative to the largest diagonal entry for the Cholesky pivots, to the largest
 * eigenvalue for the eigen path): default 2⁻⁴⁶ ≈ 1.42e-14 = (float32 ε)². On the Gram matrix this
 * corresponds to scipy `lstsq`'s default cut-off for float32 input (singular values of X below
 * ε_f32·σ_max are dropped, and λ = σ²), which is what sklearn `LinearRegression` applied to the
 * float32 hidden states of the original code. (lstsq on float64 X cuts at ε_f64·σ_max, which the Gram
 * approach cannot resolve: directions with σ/σ_max < ~1e-7 are treated as null directions here.)
 */
import { choleskyLower, lowerTriangularInverse } from '../math/cholesky.js';
import { symmetricEigen } from '../math/eigen.js';
import type { GemmEngine } from './gemm-engine.js';

/** Default relative cut-off (2⁻⁴⁶), see the module comment. */
export const DEFAULT_RCOND = 2 ** -46;

/** Result of `invertGram`. */
export interface GramInverse {
  /** `[d, d]` row-major, symmetric: G⁻¹ or G⁺. */
  inverse: Float64Array;
  /** Which path was taken. */
  method: 'cholesky' | 'pseudo-inverse';
  /** d for Cholesky; number of kept eigenvalues for the pseudo-inverse. */
  rank: number;
}

/**
 * Inverts a symmetric positive semi-definite `[d, d]` matrix (row-major, float64).
 * Cholesky G = LLᵀ → G⁻¹ = L⁻ᵀL⁻¹, if every pivot exceeds `rcond`·max diag(G); otherwise
 * G⁺ = Σ_{λ_k > rcond·λ_max} v_k v_kᵀ / λ_k. The final products run on `engine` (float64 kernel).
 */
export function invertGram(G: Float64Array, d: number, engine: GemmEngine, rcond = DEFAULT_RCOND): GramInverse {
  let maxDiag = 0;
  for (let i = 0; i < d; i++) maxDiag = Math.max(maxDiag, G[i * d + i]!);
  if (!(maxDiag > 0)) return { inverse: new Float64Array(d * d), method: 'pseudo-inverse', rank: 0 };
  const L = choleskyLower(G, d, rcond * maxDiag);
  const mark = engine.mark();
  try {
    if (L) {
      const M = lowerTriangularInverse(L, d); // G⁻¹ = Mᵀ·M
      const packed = engine.pack(M, d, d);
      return { inverse: engine.productTNSync(packed, packed, true), method: 'cholesky', rank: d };
    }
    const { values, vectorsRows } = symmetricEigen(G, d);
    const lambdaMax = values[d - 1]!;
    const kept: number[] = [];
    for (let k = 0; k < d; k++) if (values[k]! > rcond * lambdaMax) kept.push(k);
    // G⁺ = Wᵀ·W with W[r, ·] = v_k / √λ_k over the kept k
    const W = new Float64Array(Math.max(kept.length, 1) * d);
    kept.forEach((k, r) => {
      const scale = 1 / Math.sqrt(values[k]!);
      for (let c = 0; c < d; c++) W[r * d + c] = vectorsRows[k * d + c]! * scale;
    });
    const packed = engine.pack(W, Math.max(kept.length, 1), d);
    return { inverse: engine.productTNSync(packed, packed, true), method: 'pseudo-inverse', rank: kept.length };
  } finally {
    engine.release(mark);
  }
}
