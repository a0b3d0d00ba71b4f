/**
 * Activation patching (TransformerLens `patching` semantics, docs/methods.md §12): run the *corrupted*
 * input, replace one slice of one activation — a position, a head, or a head at a position — by its
 * value on the *clean* input, and record `metric(logits)`. One generic scan, `patchScan`, serves every
 * hook kind; the named wrappers (`patchResidPre`, `patchHeadZ`, …) only fix its options.
 *
 * Replacement is an exact select (`tf.where` with a broadcast mask), so patching a slice with the clean
 * value at every position reproduces the clean run bit for bit.
 *
 * Result shapes: by `'pos'` `[nLayers, T]`, by `'head'` `[nLayers, H]`, by `'head_pos'` `[nLayers, T, H]`
 * (T = query positions for `pattern`).
 */
import * as tf from '@tensorflow/tfjs-core';
import { ActivationCache } from '../nn/activation-cache.js';
import type { HookFn } from '../nn/hook-point.js';
import { InvalidArgumentError, ShapeMismatchError } from '../errors.js';
import type { HookedLensModel } from './logit-lens.js';

/** Hook kinds that can be scanned. */
export type ScanHook = 'resid_pre' | 'resid_mid' | 'resid_post' | 'attn_out' | 'mlp_out' | 'z' | 'q' | 'k' | 'v' | 'pattern' | 'result';
/** What one scan entry replaces: a position (all heads), a head (all positions), or a head at a position. */
export type ScanBy = 'pos' | 'head' | 'head_pos';
/** A scalar metric of the model output (e.g. mean log-prob, logit difference). May read the device. */
export type LogitsMetric = (logits: tf.Tensor) => number | Promise<number>;

const HEAD_HOOKS = new Set<ScanHook>(['z', 'q', 'k', 'v', 'pattern', 'result']);

/** Full hook name of a scan hook kind at block `layer` (with the model's residual prefix). */
export function scanHookName(model: { residPrefix: string }, hook: ScanHook, layer: number): string {
  const p = `${model.residPrefix}blocks.${layer}.`;
  switch (hook) {
    case 'resid_pre':
    case 'resid_mid':
    case 'resid_post':
    case 'attn_out':
    case 'mlp_out':
      return `${p}hook_${hook}`;
    case 'z':
    case 'q':
    case 'k':
    case 'v':
    case 'pattern':
    case 'result':
      return `${p}attn.hook_${hook}`;
    default:
      throw new InvalidArgumentError(`unknown scan hook '${String(hook)}'`, 'use resid_pre, resid_mid, resid_post, attn_out, mlp_out, z, q, k, v, pattern or result');
  }
}

/** Default `by` per hook kind: heads for per-head activations, positions otherwise. */
export function defaultScanBy(hook: ScanHook): ScanBy {
  return HEAD_HOOKS.has(hook) ? 'head' : 'pos';
}

/** Axes of an activation: the position axis and, for per-head activations, the head axis. */
export interface ActivationLayout {
  posAxis: number;
  headAxis?: number;
}

/**
 * Layout of the activation at hook `name`: `[batch, pos, …]` (pos axis 1); per-head `[batch, pos, head, x]`
 * (head axis 2); attention `hook_pattern`/`hook_attn_scores` `[batch, head, queryPos, keyPos]` (head axis 1,
 * query-position axis 2).
 */
export function activationLayout(name: string, rank: number): ActivationLayout {
  if (rank === 4 && /hook_(pattern|attn_scores)$/.test(name)) return { posAxis: 2, headAxis: 1 };
  if (rank === 4) return { posAxis: 1, headAxis: 2 };
  if (rank >= 2) return { posAxis: 1 };
  throw new ShapeMismatchError(`activation at '${name}'`, '[batch, pos, …]', `rank ${rank}`);
}

/** Which slice a hook touches: positions and/or heads (undefined = all). */
export interface SliceSelection {
  positions?: readonly number[];
  heads?: readonly number[];
}

/**
 * Boolean mask of `shape` that is true on the selected positions × heads (all batch items, all other
 * axes), shaped `[1, …]` with size 1 on every axis except the position and head axes. New tensor.
 */
export function sliceMask(name: string, shape: readonly number[], sel: SliceSelection): tf.Tensor {
  const layout = activationLayout(name, shape.length);
  if (sel.heads && layout.headAxis === undefined) throw new InvalidArgumentError(`'${name}' has no head axis; heads cannot be selected`);
  const maskShape = shape.map(() => 1);
  const T = shape[layout.posAxis]!;
  maskShape[layout.posAxis] = T;
  const H = layout.headAxis !== undefined ? shape[layout.headAxis]! : 1;
  if (layout.headAxis !== undefined) maskShape[layout.headAxis] = H;
  const posOk = new Uint8Array(T);
  for (const p of sel.positions ?? Array.from({ length: T }, (_, i) => i)) {
    if (!Number.isInteger(p) || p < 0 || p >= T) throw new InvalidArgumentError(`position ${p} is outside 0..${T - 1} at '${name}'`);
    posOk[p] = 1;
  }
  const headOk = new Uint8Array(H);
  for (const h of sel.heads ?? Array.from({ length: H }, (_, i) => i)) {
    if (!Number.isInteger(h) || h < 0 || h >= H) throw new InvalidArgumentError(`head ${h} is outside 0..${H - 1} at '${name}'`);
    headOk[h] = 1;
  }
  // Row-major fill over (pos, head) in axis order.
  const data = new Uint8Array(T * H);
  const posFirst = layout.headAxis === undefined || layout.posAxis < layout.headAxis;
  for (let p = 0; p < T; p++) {
    for (let h = 0; h < H; h++) data[posFirst ? p * H + h : h * T + p] = posOk[p]! & headOk[h]!;
  }
  return tf.tensor(data, maskShape, 'bool');
}

/**
 * A hook that replaces the selected slice of the activation by `source`'s value there: `source` is a
 * same-shape tensor, or an `ActivationCache` read at the hook's own name (e.g. the clean run's cache).
 * Usable in any `fwdHooks` list.
 */
export function patchHook(source: tf.Tensor | ActivationCache, sel: SliceSelection = {}): HookFn {
  return (act, info) => {
    const value = source instanceof ActivationCache ? source.get(info.name) : source;
    if (!tf.util.arraysEqual(value.shape, act.shape)) {
      throw new ShapeMismatchError(`patch source for '${info.name}'`, `[${act.shape.join(',')}] (the run's activation)`, value.shape);
    }
    const mask = tf.broadcastTo(sliceMask(info.name, act.shape, sel), act.shape);
    return tf.where(mask, value, act);
  };
}

/** Options of `patchScan`. */
export interface PatchScanOptions {
  /** Which activation to patch. */
  hook: ScanHook;
  /** Scan unit (default: 'head' for z/q/k/v/pattern/result, 'pos' otherwise). */
  by?: ScanBy;
  /** Metric of the patched run's logits. */
  metric: LogitsMetric;
  /** The clean run's cache (must hold the patched hook at every scanned layer); computed when absent. */
  cleanCache?: ActivationCache;
  /** Blocks to scan (default all). */
  layers?: readonly number[];
  /** Positions to scan (default all). */
  positions?: readonly number[];
  /** Heads to scan (default all). */
  heads?: readonly number[];
}

/** Result of a scan. */
export interface ScanResult {
  /** Metric per scan entry, row-major in `shape`. */
  values: Float32Array;
  /** `[nLayers, T]` (pos), `[nLayers, H]` (head) or `[nLayers, T, H]` (head_pos), T/H = scanned count. */
  shape: number[];
  /** The blocks of the rows. */
  layers: number[];
  /** The scanned positions (pos/head_pos) and heads (head/head_pos). */
  positions?: number[];
  heads?: number[];
  /** Metric of the unpatched corrupted run (patchScan) or the unablated run (ablateScan). */
  baselineMetric: number;
  /** Metric of the clean run (patchScan only). */
  cleanMetric?: number;
}

/** The scan units of one layer and the result shape, given the activation's shape. */
export function scanUnits(name: string, shape: readonly number[], by: ScanBy, positions?: readonly number[], heads?: readonly number[]): { units: SliceSelection[]; positions?: number[]; heads?: number[]; inner: number[] } {
  const layout = activationLayout(name, shape.length);
  if (by !== 'pos' && layout.headAxis === undefined) throw new InvalidArgumentError(`by '${by}' needs a per-head activation; '${name}' has no head axis`, "use by: 'pos'");
  const T = shape[layout.posAxis]!;
  const ps = positions ? [...positions] : Array.from({ length: T }, (_, i) => i);
  const H = layout.headAxis !== undefined ? shape[layout.headAxis]! : 0;
  const hs = heads ? [...heads] : Array.from({ length: H }, (_, i) => i);
  if (by === 'pos') return { units: ps.map((p) => ({ positions: [p] })), positions: ps, inner: [ps.length] };
  if (by === 'head') return { units: hs.map((h) => ({ heads: [h] })), heads: hs, inner: [hs.length] };
  const units: SliceSelection[] = [];
  for (const p of ps) for (const h of hs) units.push({ positions: [p], heads: [h] });
  return { units, positions: ps, heads: hs, inner: [ps.length, hs.length] };
}

/** Evaluates the metric and frees the logits. */
export async function evalMetric(metric: LogitsMetric, logits: tf.Tensor): Promise<number> {
  try {
    return await metric(logits);
  } finally {
    logits.dispose();
  }
}

/** Resolves and checks the scanned layers. */
export function scanLayers(model: { nLayers: number }, layers?: readonly number[]): number[] {
  const ls = layers ? [...layers] : Array.from({ length: model.nLayers }, (_, i) => i);
  for (const l of ls) if (!Number.isInteger(l) || l < 0 || l >= model.nLayers) throw new InvalidArgumentError(`block ${l} is outside 0..${model.nLayers - 1}`);
  return ls;
}

/**
 * Activation patching scan: for every scanned layer and unit, runs `corrupted` with that slice of
 * `hook` replaced by the clean value and records `metric(logits)`.
 * @param clean the clean input (run once with a cache unless `cleanCache` is given).
 * @param corrupted the corrupted input (same shape as clean).
 */
export async function patchScan<I>(model: HookedLensModel<I>, clean: I, corrupted: I, opts: PatchScanOptions): Promise<ScanResult> {
  const by = opts.by ?? defaultScanBy(opts.hook);
  const layers = scanLayers(model, opts.layers);
  const names = layers.map((l) => scanHookName(model, opts.hook, l));
  let cache = opts.cleanCache;
  let cleanMetric: number;
  if (cache) {
    for (const n of names) if (!cache.has(n)) throw new InvalidArgumentError(`patchScan: cleanCache has no '${n}'`, 'cache that hook on the clean input, or leave cleanCache out');
    cleanMetric = await evalMetric(opts.metric, await model.forward(clean));
  } else {
    const run = await model.runWithCache(clean, { namesFilter: names });
    cache = run.cache;
    cleanMetric = await evalMetric(opts.metric, run.output);
  }
  try {
    const baselineMetric = await evalMetric(opts.metric, await model.forward(corrupted));
    const rows: number[] = [];
    let info: ReturnType<typeof scanUnits> | undefined;
    for (const name of names) {
      const shape = cache.get(name).shape;
      info = scanUnits(name, shape, by, opts.positions, opts.heads);
      for (const unit of info.units) {
        const logits = await model.runWithHooks(corrupted, { fwdHooks: [[name, patchHook(cache, unit)]] });
        rows.push(await evalMetric(opts.metric, logits));
      }
    }
    return { values: Float32Array.from(rows), shape: [layers.length, ...info!.inner], layers, positions: info!.positions, heads: info!.heads, baselineMetric, cleanMetric };
  } finally {
    if (!opts.cleanCache) cache.dispose();
  }
}

/** Options of the named patching wrappers. */
export type PatchWrapperOptions = Omit<PatchScanOptions, 'hook' | 'metric'>;

/** Patches `blocks.{l}.hook_resid_pre` per position → `[L, T]`. */
export function patchResidPre<I>(model: HookedLensModel<I>, clean: I, corrupted: I, metric: LogitsMetric, opts: PatchWrapperOptions = {}): Promise<ScanResult> {
  return patchScan(model, clean, corrupted, { ...opts, hook: 'resid_pre', metric });
}
/** Patches `blocks.{l}.hook_resid_mid` per position → `[L, T]`. */
export function patchResidMid<I>(model: HookedLensModel<I>, clean: I, corrupted: I, metric: LogitsMetric, opts: PatchWrapperOptions = {}): Promise<ScanResult> {
  return patchScan(model, clean, corrupted, { ...opts, hook: 'resid_mid', metric });
}
/** Patches `blocks.{l}.hook_resid_post` per position → `[L, T]`. */
export function patchResidPost<I>(model: HookedLensModel<I>, clean: I, corrupted: I, metric: LogitsMetric, opts: PatchWrapperOptions = {}): Promise<ScanResult> {
  return patchScan(model, clean, corrupted, { ...opts, hook: 'resid_post', metric });
}
/** Patches `blocks.{l}.hook_attn_out` per position → `[L, T]`. */
export function patchAttnOut<I>(model: HookedLensModel<I>, clean: I, corrupted: I, metric: LogitsMetric, opts: PatchWrapperOptions = {}): Promise<ScanResult> {
  return patchScan(model, clean, corrupted, { ...opts, hook: 'attn_out', metric });
}
/** Patches `blocks.{l}.hook_mlp_out` per position → `[L, T]` (TL `get_act_patch_mlp_out`). */
export function patchMlpOut<I>(model: HookedLensModel<I>, clean: I, corrupted: I, metric: LogitsMetric, opts: PatchWrapperOptions = {}): Promise<ScanResult> {
  return patchScan(model, clean, corrupted, { ...opts, hook: 'mlp_out', metric });
}
/** Patches each head's `attn.hook_z` at all positions → `[L, H]` (`by: 'head_pos'` → `[L, T, H]`). */
export function patchHeadZ<I>(model: HookedLensModel<I>, clean: I, corrupted: I, metric: LogitsMetric, opts: PatchWrapperOptions = {}): Promise<ScanResult> {
  return patchScan(model, clean, corrupted, { ...opts, hook: 'z', metric });
}
/** Patches each head's `attn.hook_q` → `[L, H]`. */
export function patchHeadQ<I>(model: HookedLensModel<I>, clean: I, corrupted: I, metric: LogitsMetric, opts: PatchWrapperOptions = {}): Promise<ScanResult> {
  return patchScan(model, clean, corrupted, { ...opts, hook: 'q', metric });
}
/** Patches each head's `attn.hook_k` → `[L, H]`. */
export function patchHeadK<I>(model: HookedLensModel<I>, clean: I, corrupted: I, metric: LogitsMetric, opts: PatchWrapperOptions = {}): Promise<ScanResult> {
  return patchScan(model, clean, corrupted, { ...opts, hook: 'k', metric });
}
/** Patches each head's `attn.hook_v` → `[L, H]`. */
export function patchHeadV<I>(model: HookedLensModel<I>, clean: I, corrupted: I, metric: LogitsMetric, opts: PatchWrapperOptions = {}): Promise<ScanResult> {
  return patchScan(model, clean, corrupted, { ...opts, hook: 'v', metric });
}
/** Patches each head's `attn.hook_pattern` (all query rows) → `[L, H]` (`head_pos`: per query row). */
export function patchHeadPattern<I>(model: HookedLensModel<I>, clean: I, corrupted: I, metric: LogitsMetric, opts: PatchWrapperOptions = {}): Promise<ScanResult> {
  return patchScan(model, clean, corrupted, { ...opts, hook: 'pattern', metric });
}
/** Patches each head's `attn.hook_result` → `[L, H]`. */
export function patchHeadResult<I>(model: HookedLensModel<I>, clean: I, corrupted: I, metric: LogitsMetric, opts: PatchWrapperOptions = {}): Promise<ScanResult> {
  return patchScan(model, clean, corrupted, { ...opts, hook: 'result', metric });
}

/**
 * Normalised patching metric `(m − mCorrupt) / (mClean − mCorrupt)`: 0 = as corrupted, 1 = fully
 * restored. Works on one value or element-wise on a scan's `values`.
 */
export function normalizedMetric(m: number, mClean: number, mCorrupt: number): number;
export function normalizedMetric(m: Float32Array, mClean: number, mCorrupt: number): Float32Array;
export function normalizedMetric(m: number | Float32Array, mClean: number, mCorrupt: number): number | Float32Array {
  const denom = mClean - mCorrupt;
  if (denom === 0) throw new InvalidArgumentError('normalizedMetric: the clean and corrupted metrics are equal, so nothing can be normalised');
  if (typeof m === 'number') return (m - mCorrupt) / denom;
  return m.map((v) => (v - mCorrupt) / denom);
}
