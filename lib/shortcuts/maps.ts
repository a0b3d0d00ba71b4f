/**
 * The fitted maps of the mat pipeline and their file format (docs/methods.md §7, §8):
 * - shortcuts A_{j,i}, 0 ≤ i < j ≤ L, keyed `'i_j'` (h_j ≈ A·h_i);
 * - sub-module maps π_{b,a→a+1}, a ∈ {0, 1, 3, 4}, keyed `'pi_b_a'` (registry a+1 ≈ π·registry a of block b).
 * All are least squares without intercept, `[dOut, dIn]` row-major, applied as `W·x`.
 */
import { InvalidArgumentError } from '../errors.js';
import { readAllSafetensors } from '../io/safetensors.js';
import { saveSafetensors, type HostValues } from '../io/safetensors-writer.js';
import { shortcutKey, type ShortcutMap } from '../linreg/shortcuts.js';
import type { LinearMap } from '../linreg/types.js';

/** Registries a whose map π_{b,a→a+1} the mappings use (§8). */
export const SUBMODULE_SOURCES: readonly number[] = Object.freeze([0, 1, 3, 4]);

/** A fitted π_{b,a→a+1}. */
export interface SubmoduleMap extends LinearMap {
  /** Block b. */
  block: number;
  /** Source registry a. */
  from: number;
  /** Target registry a + 1. */
  to: number;
  /** `'pi_b_a'`. */
  key: string;
}

/** All maps of a mat run. */
export interface MatMaps {
  nLayers: number;
  dModel: number;
  /** `'i_j'` → A_{j,i}. */
  shortcuts: Map<string, ShortcutMap>;
  /** `'pi_b_a'` → π_{b,a→a+1} (empty when no registries were collected). */
  submodules: Map<string, SubmoduleMap>;
}

/** Key of π_{b,a→a+1}: `'pi_b_a'`. */
export function submoduleKey(block: number, from: number): string {
  return `pi_${block}_${from}`;
}

/** A_{L,ℓ} of `maps`, or throws naming the missing key. */
export function shortcutTo(maps: MatMaps, from: number, to: number): ShortcutMap {
  const map = maps.shortcuts.get(shortcutKey(from, to));
  if (!map) throw new InvalidArgumentError(`mat maps: no shortcut '${shortcutKey(from, to)}' (A_{${to},${from}})`, 'fit all pairs with fitShortcutsFromStates');
  return map;
}

/** π_{b,a→a+1} of `maps`, or throws naming the missing key. */
export function submoduleMap(maps: MatMaps, block: number, from: number): SubmoduleMap {
  const map = maps.submodules.get(submoduleKey(block, from));
  if (!map) throw new InvalidArgumentError(`mat maps: no sub-module map '${submoduleKey(block, from)}'`, 'collect the training states with { registries: true } and fit with submodules');
  return map;
}

/**
 * Saves every map in one safetensors file: `'i_j'` and `'pi_b_a'` tensors `[dOut, dIn]` (float64 when the
 * maps are), with string metadata (`nLayers`, `dModel`, layouts, and `metadata`).
 */
export async function saveMatMaps(path: string, maps: MatMaps, metadata: Record<string, string> = {}): Promise<void> {
  await saveShortcuts(path, [...maps.shortcuts.values(), ...maps.submodules.values()], {
    submodule_layout: "key 'pi_b_a' maps registry a to registry a+1 of block b as W·x (0 block input, 1 ln_1 output with gain/bias, 2 attention output, 3 = 0 + 2, 4 ln_2 output with gain/bias, 5 MLP output)",
    intercept: 'none',
    n_layers: String(maps.nLayers),
    d_model: String(maps.dModel),
    ...metadata,
  });
}

/** Reads a file written by `saveMatMaps` (weights come back as float32; method/rank are not stored). */
export async function loadMatMaps(path: string): Promise<MatMaps> {
  const tensors = await readAllSafetensors(path);
  const shortcuts = new Map<string, ShortcutMap>();
  const submodules = new Map<string, SubmoduleMap>();
  let nLayers = 0;
  let dModel = 0;
  for (const [key, t] of tensors) {
    if (t.shape.length !== 2) continue;
    const base = { weight: Float32Array.from(t.data as ArrayLike<number>), bias: null, shape: [t.shape[0]!, t.shape[1]!] as [number, number], method: 'cholesky' as const, rank: t.shape[1]!, samples: 0, ridge: 0 };
    dModel = t.shape[1]!;
    let m: RegExpExecArray | null;
    if ((m = /^(\d+)_(\d+)$/.exec(key))) {
      const [from, to] = [Number(m[1]), Number(m[2])];
      nLayers = Math.max(nLayers, to);
      shortcuts.set(key, { ...base, from, to, key });
    } else if ((m = /^pi_(\d+)_(\d+)$/.exec(key))) {
      const [block, from] = [Number(m[1]), Number(m[2])];
      nLayers = Math.max(nLayers, block + 1);
      submodules.set(key, { ...base, block, from, to: from + 1, key });
    }
  }
  if (!shortcuts.size && !submodules.size) throw new InvalidArgumentError(`${path} holds no 'i_j' or 'pi_b_a' maps`);
  return { nLayers, dModel, shortcuts, submodules };
}

/**
 * Saves shortcut maps as safetensors: one `[d_out, d_in]` tensor per key `'i_j'` (applied as A·h), plus
 * `'i_j.bias'` where a map has a bias. Metadata values must be strings; a description of the layout
 * and the sample count are added.
 */
export async function saveShortcuts(path: string, maps: Iterable<LinearMap & { key: string }> | Map<string, LinearMap>, metadata: Record<string, string> = {}): Promise<void> {
  const entries: [string, LinearMap][] = maps instanceof Map ? [...maps.entries()] : [...maps].map((m) => [m.key, m]);
  const tensors: Record<string, HostValues> = {};
  let samples = '';
  for (const [key, map] of entries) {
    tensors[key] = { shape: map.shape, data: map.weight };
    if (map.bias) tensors[`${key}.bias`] = { shape: [map.shape[0]], data: map.bias };
    samples ||= String(map.samples);
  }
  await saveSafetensors(path, tensors, {
    format: 'tfjs-lens linear shortcuts',
    layout: "key 'i_j' maps h_i to h_j as A·h; A is [d_out, d_in], rows are outputs",
    samples,
    ...metadata,
  });
}
