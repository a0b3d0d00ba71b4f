/**
 * Coefficient of determination with sklearn `r2_score` semantics (docs/methods.md §7), in float64.
 * For each output dimension k: r²_k = 1 − Σ_n (y_nk − ŷ_nk)² / Σ_n (y_nk − ȳ_k)²; a dimension with
 * zero variance scores 1 if predicted exactly, else 0 (sklearn's `force_finite=True`).
 * The default reduction is the plain mean over dimensions ('uniform_average').
 */
import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError, ShapeMismatchError } from '../errors.js';
import { toHostArray, type ArrayInput } from '../math/host-array.js';

/** Options of `r2Score`. */
export interface R2Options {
  /** 'uniform_average' (default): a number; 'raw_values': one score per dimension. */
  multioutput?: 'uniform_average' | 'raw_values';
}

/** Per-dimension r² values `[d]` (float64). */
export function r2ScoreRaw(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, shape: readonly [number, number]): Float64Array {
  const [n, d] = shape;
  if (!Number.isInteger(n) || !Number.isInteger(d) || n < 0 || d < 1) throw new InvalidArgumentError(`r2Score: bad shape [${shape.join(',')}]`);
  if (yTrue.length !== n * d) throw new ShapeMismatchError('r2Score: yTrue', `[${n},${d}]`, `${yTrue.length} values`);
  if (yPred.length !== n * d) throw new ShapeMismatchError('r2Score: yPred', `[${n},${d}]`, `${yPred.length} values`);
  const scores = new Float64Array(d);
  if (n < 2) return scores.fill(NaN); // sklearn: r² is not well-defined with fewer than two samples
  const meanTrue = new Float64Array(d);
  for (let r = 0; r < n; r++) for (let k = 0; k < d; k++) meanTrue[k] += yTrue[r * d + k]!;
  for (let k = 0; k < d; k++) meanTrue[k] /= n;
  const residual = new Float64Array(d);
  const total = new Float64Array(d);
  for (let r = 0; r < n; r++) {
    for (let k = 0; k < d; k++) {
      const y = yTrue[r * d + k]!;
      const e = y - yPred[r * d + k]!;
      const c = y - meanTrue[k]!;
      residual[k] += e * e;
      total[k] += c * c;
    }
  }
  for (let k = 0; k < d; k++) {
    const num = residual[k]!;
    const den = total[k]!;
    scores[k] = den !== 0 ? 1 - num / den : num === 0 ? 1 : 0;
  }
  return scores;
}

/**
 * r² of predictions `yPred` for targets `yTrue`, both `[N, d]`: two host arrays / tensors / nested arrays
 * (`r2Score(yTrue, yPred, opts?)`), or flat row-major values with their shape (`r2Score(yTrue, yPred, shape, opts?)`).
 * @returns the mean over the d dimensions (or per-dimension values with `multioutput: 'raw_values'`).
 */
export function r2Score(yTrue: ArrayInput, yPred: ArrayInput, opts?: { multioutput?: 'uniform_average' }): number;
export function r2Score(yTrue: ArrayInput, yPred: ArrayInput, opts: { multioutput: 'raw_values' }): Float64Array;
export function r2Score(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, shape: readonly [number, number]): number;
export function r2Score(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, shape: readonly [number, number], opts: { multioutput: 'raw_values' }): Float64Array;
export function r2Score(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, shape: readonly [number, number], opts: R2Options): number | Float64Array;
export function r2Score(yTrue: ArrayLike<number> | ArrayInput, yPred: ArrayLike<number> | ArrayInput, shapeOrOpts?: readonly [number, number] | R2Options, maybeOpts: R2Options = {}): number | Float64Array {
  let raw: Float64Array;
  let opts = maybeOpts;
  if (Array.isArray(shapeOrOpts)) {
    raw = r2ScoreRaw(yTrue as ArrayLike<number>, yPred as ArrayLike<number>, shapeOrOpts as readonly [number, number]);
  } else {
    opts = (shapeOrOpts as R2Options | undefined) ?? {};
    const t = toHostArray(yTrue as ArrayInput, { what: 'r2Score: yTrue', rank: 2 });
    const p = toHostArray(yPred as ArrayInput, { what: 'r2Score: yPred', rank: 2 });
    if (!tf.util.arraysEqual([...t.shape], [...p.shape])) throw new ShapeMismatchError('r2Score: yPred', `[${t.shape.join(',')}] like yTrue`, [...p.shape]);
    raw = r2ScoreRaw(t.data, p.data, [t.shape[0]!, t.shape[1]!]);
  }
  if (opts.multioutput === 'raw_values') return raw;
  let s = 0;
  for (let k = 0; k < raw.length; k++) s += raw[k]!;
  return s / raw.length;
}

/**
 * The `id` baseline of §7: r² of predicting h_j by h_i itself, i.e. `r2Score(hj, hi)`.
 * @param hj `[N, d]` target states. @param hi `[N, d]` source states.
 */
export function r2ScoreId(hj: ArrayLike<number>, hi: ArrayLike<number>, shape: readonly [number, number]): number {
  return r2Score(hj, hi, shape);
}
