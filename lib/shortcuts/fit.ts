/**
 * `fitShortcutsFromStates`: every A_{j,i} (0 ≤ i < j ≤ L) and, when registries are present, every
 * π_{b,a→a+1} (a ∈ {0, 1, 3, 4}) — least squares without intercept in float64 (docs/methods.md §7, §8) —
 * from host states (`collectStates` with `keep`) or from a `ShortcutAccumulator` fed batch by batch;
 * optionally saved as one safetensors file (`saveMatMaps`).
 */
import { InvalidArgumentError } from '../errors.js';
import { fitLinearMap } from '../linreg/fit.js';
import { fitAllShortcuts } from '../linreg/shortcuts.js';
import { ShortcutAccumulator, solveShortcutStatistics, type MatSolveOptions, type ShortcutStatistics } from './accumulate.js';
import type { CollectedStates } from './collect.js';
import { saveMatMaps, submoduleKey, SUBMODULE_SOURCES, type MatMaps, type SubmoduleMap } from './maps.js';

/** Options of `fitShortcutsFromStates`. */
export interface FitShortcutsOptions extends MatSolveOptions {
  /** Fit π maps when the states carry registries (default true). */
  submodules?: boolean;
  /** Host states: threads of the float64 kernel (default: all cores). */
  threads?: number;
  /** Save the maps here (safetensors, keys `'i_j'` and `'pi_b_a'`). */
  path?: string;
  /** String metadata stored in the file. */
  metadata?: Record<string, string>;
}

/**
 * Fits the shortcuts and sub-module maps.
 * @param source host states `[N, d]` per layer (and registries), a filled `ShortcutAccumulator`, or its
 *   `ShortcutStatistics` (e.g. the shards of a run added up).
 */
export async function fitShortcutsFromStates(source: CollectedStates | ShortcutAccumulator | ShortcutStatistics, opts: FitShortcutsOptions = {}): Promise<MatMaps> {
  let maps: MatMaps;
  if (source instanceof ShortcutAccumulator || 'fromLayer' in source) {
    maps = source instanceof ShortcutAccumulator ? source.solve(opts) : solveShortcutStatistics(source, opts);
    if (opts.submodules === false) maps.submodules.clear();
  } else {
    if (!source.states) throw new InvalidArgumentError('fitShortcutsFromStates: the collected states were not kept', 'collect with { keep: true } or stream into a ShortcutAccumulator');
    const { nLayers: L, dModel: d, nSamples: N } = source;
    const states = source.states;
    const dtype = opts.dtype ?? 'float64';
    const shortcuts = await fitAllShortcuts((l) => states[l]!, L, d, { dtype, threads: opts.threads, rcond: opts.rcond, ridge: opts.ridge });
    const submodules = new Map<string, SubmoduleMap>();
    if (source.registries && opts.submodules !== false) {
      for (let b = 0; b < L; b++) {
        for (const a of SUBMODULE_SOURCES) {
          const reg = source.registries[b]!;
          const fit = await fitLinearMap({ data: reg[a]!, shape: [N, d] }, { data: reg[a + 1]!, shape: [N, d] }, { dtype, threads: opts.threads, rcond: opts.rcond, ridge: opts.ridge });
          submodules.set(submoduleKey(b, a), { ...fit, block: b, from: a, to: a + 1, key: submoduleKey(b, a) });
        }
      }
    }
    maps = { nLayers: L, dModel: d, shortcuts, submodules };
  }
  if (opts.path) await saveMatMaps(opts.path, maps, opts.metadata);
  return maps;
}
