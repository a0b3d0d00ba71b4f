/**
 * `r2Matrices`: the two (L+1)×(L+1) r² heatmaps of §7 on validation states — entry [i][j] (i < j) is the
 * r² (sklearn `r2_score`, uniform average over the d dimensions) of predicting h_j by A_{j,i}·h_i (`mat`)
 * or by h_i itself (`id`); the diagonal is 1 and the lower triangle NaN (JSON writes NaN as null).
 * Values are not clipped (id can be negative); clip to [0, 1] only for display.
 */
import { InvalidArgumentError, ShapeMismatchError } from '../errors.js';
import { applyLinearMap } from '../linreg/fit.js';
import { r2Score, r2ScoreId } from '../linreg/r2.js';
import type { CollectedStates } from './collect.js';
import { shortcutTo, type MatMaps } from './maps.js';

/** The r² heatmaps, `[L+1][L+1]` (row i = source layer, column j = target layer). */
export interface R2Matrices {
  mat: number[][];
  id: number[][];
}

/**
 * @param statesVal validation states (`collectStates` with `keep`), L+1 arrays `[N, d]`.
 * @param maps fitted shortcuts (every pair i < j).
 */
export function r2Matrices(statesVal: CollectedStates, maps: MatMaps): R2Matrices {
  const states = statesVal.states;
  if (!states) throw new InvalidArgumentError('r2Matrices: the validation states were not kept', 'collect them with { keep: true }');
  const { nLayers: L, dModel: d, nSamples: N } = statesVal;
  if (maps.nLayers !== L || maps.dModel !== d) throw new ShapeMismatchError('r2Matrices: maps', `L = ${L}, d = ${d} like the states`, `L = ${maps.nLayers}, d = ${maps.dModel}`);
  const mat = Array.from({ length: L + 1 }, (_, i) => Array.from({ length: L + 1 }, (_, j) => (i === j ? 1 : NaN)));
  const id = mat.map((row) => [...row]);
  for (let i = 0; i < L; i++) {
    const hi = { data: states[i]!, shape: [N, d] as [number, number] };
    for (let j = i + 1; j <= L; j++) {
      mat[i]![j] = r2Score(states[j]!, applyLinearMap(shortcutTo(maps, i, j), hi, { dtype: 'float64' }), [N, d]);
      id[i]![j] = r2ScoreId(states[j]!, states[i]!, [N, d]);
    }
  }
  return { mat, id };
}
