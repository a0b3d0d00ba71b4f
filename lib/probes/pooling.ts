/**
 * Token pooling for sequence-level probes: one layer's states of one sequence `[T, d]` → one feature
 * vector `[d]`. Poolers: `mean`, `first`, `last`, `max`, `min` over the T positions, and per-dimension
 * quantiles `quantile:q[:method]` with numpy's `np.quantile` definitions (methods `linear` (default),
 * `lower`, `higher`, `nearest` (ties to the even index, as numpy) and `midpoint`).
 */
import { InvalidArgumentError } from '../errors.js';

/** Interpolation methods of `quantile:q:method` (numpy's names). */
export const QUANTILE_METHODS = ['linear', 'lower', 'higher', 'nearest', 'midpoint'] as const;
/** One quantile method. */
export type QuantileMethod = (typeof QUANTILE_METHODS)[number];

/** A parsed pooler. */
export type Pooler =
  | { kind: 'mean' | 'first' | 'last' | 'max' | 'min'; name: string }
  | { kind: 'quantile'; name: string; q: number; method: QuantileMethod };

const SIMPLE = ['mean', 'first', 'last', 'max', 'min'] as const;

/**
 * Parses a pooler name: `mean | first | last | max | min | quantile:q[:method]` (0 ≤ q ≤ 1).
 * @throws InvalidArgumentError naming the accepted forms.
 */
export function parsePooler(text: string): Pooler {
  const t = text.trim();
  if ((SIMPLE as readonly string[]).includes(t)) return { kind: t as (typeof SIMPLE)[number], name: t };
  const m = /^quantile:([^:]+)(?::([a-z]+))?$/.exec(t);
  if (m) {
    const q = Number(m[1]);
    const method = (m[2] ?? 'linear') as QuantileMethod;
    if (!Number.isFinite(q) || q < 0 || q > 1 || m[1]!.trim() === '') throw new InvalidArgumentError(`pooler '${t}': the quantile q must be a number in [0, 1]`, 'e.g. quantile:0.5 or quantile:0.9:nearest');
    if (!QUANTILE_METHODS.includes(method)) throw new InvalidArgumentError(`pooler '${t}': unknown quantile method '${method}'`, `use one of ${QUANTILE_METHODS.join(', ')}`);
    return { kind: 'quantile', name: m[2] ? `quantile:${q}:${method}` : `quantile:${q}`, q, method };
  }
  throw new InvalidArgumentError(`unknown pooler '${t}'`, `use mean, first, last, max, min or quantile:q[:${QUANTILE_METHODS.join('|')}]`);
}

/** numpy's quantile of sorted values `v` (length n ≥ 1) at q with `method`. */
export function quantileSorted(v: ArrayLike<number>, q: number, method: QuantileMethod): number {
  const n = v.length;
  const pos = q * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(n - 1, Math.ceil(pos));
  switch (method) {
    case 'lower':
      return v[lo]!;
    case 'higher':
      return v[hi]!;
    case 'midpoint':
      return (v[lo]! + v[hi]!) / 2;
    case 'nearest': {
      const frac = pos - lo;
      // numpy rounds half to even (np.around of the virtual index)
      const idx = frac > 0.5 || (frac === 0.5 && lo % 2 === 1) ? hi : lo;
      return v[idx]!;
    }
    default: {
      const frac = pos - lo;
      return frac === 0 ? v[lo]! : v[lo]! + (v[hi]! - v[lo]!) * frac;
    }
  }
}

/**
 * Pools one sequence's states.
 * @param states `[T, d]` row-major (T ≥ 1).
 * @param out `[d]` receives the pooled vector (float64 arithmetic, stored in out's type).
 */
export function poolTokens(pooler: Pooler, states: ArrayLike<number>, T: number, d: number, out: Float32Array | Float64Array): void {
  if (!Number.isInteger(T) || T < 1) throw new InvalidArgumentError(`poolTokens: a sequence needs at least one position, got T = ${T}`);
  if (states.length !== T * d || out.length !== d) throw new InvalidArgumentError(`poolTokens: states has ${states.length} values for [${T}, ${d}] and out ${out.length} for [${d}]`);
  switch (pooler.kind) {
    case 'first':
    case 'last': {
      const row = pooler.kind === 'first' ? 0 : T - 1;
      for (let c = 0; c < d; c++) out[c] = states[row * d + c]!;
      return;
    }
    case 'mean':
      for (let c = 0; c < d; c++) {
        let s = 0;
        for (let t = 0; t < T; t++) s += states[t * d + c]!;
        out[c] = s / T;
      }
      return;
    case 'max':
    case 'min': {
      const sign = pooler.kind === 'max' ? 1 : -1;
      for (let c = 0; c < d; c++) {
        let best = states[c]!;
        for (let t = 1; t < T; t++) {
          const v = states[t * d + c]!;
          if (sign * (v - best) > 0 || Number.isNaN(v)) best = v;
        }
        out[c] = best;
      }
      return;
    }
    case 'quantile': {
      const col = new Float64Array(T);
      for (let c = 0; c < d; c++) {
        for (let t = 0; t < T; t++) col[t] = states[t * d + c]!;
        col.sort();
        out[c] = quantileSorted(col, pooler.q, pooler.method);
      }
      return;
    }
  }
}
