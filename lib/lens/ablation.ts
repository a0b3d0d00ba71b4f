/**
 * Ablation: replace a slice of an activation (a head, positions, or both) by zero, by a mean, or by
 * the activation on other inputs (resampling), and scan the effect on a metric. `ablationHook` returns a
 * `HookFn` for any `fwdHooks` list; `ablateScan` is the analogue of `patchScan` with one input.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ActivationCache } from '../nn/activation-cache.js';
import type { HookFn } from '../nn/hook-point.js';
import { InvalidArgumentError, ShapeMismatchError } from '../errors.js';
import { createRng } from '../math/rng.js';
import type { HookedLensModel } from './logit-lens.js';
import { activationLayout, defaultScanBy, evalMetric, scanHookName, scanLayers, scanUnits, sliceMask, type LogitsMetric, type ScanBy, type ScanHook, type ScanResult, type SliceSelection } from './patching.js';

/** How the ablated slice is replaced. */
export type AblationKind = 'zero' | 'mean' | 'resample';

/** Options of `ablationHook`. */
export interface AblationOptions {
  /** One head to ablate (shorthand for `heads: [head]`); per-head activations only. */
  head?: number;
  /** Heads to ablate (default all, or all of the activation when it has no head axis). */
  heads?: readonly number[];
  /** Positions to ablate (default all). For `hook_pattern` these are query positions. */
  positions?: readonly number[];
  /**
   * Mean ablation: average over the batch (default; ARENA convention, per position — with batch 1 this
   * changes nothing), over positions, or over both.
   */
  meanOver?: 'batch' | 'pos' | 'both';
  /**
   * Where mean/resample values come from: a tensor broadcastable to the activation, or a cache read at
   * the hook's name (e.g. a run on reference inputs). Default: the activation itself (mean) / the other
   * batch items (resample).
   */
  source?: tf.Tensor | ActivationCache;
  /** Resampling without a source: seed of the batch permutation (default: roll the batch by one). */
  seed?: number;
}

function selection(opts: AblationOptions): SliceSelection {
  if (opts.head !== undefined && opts.heads) throw new InvalidArgumentError('ablation: pass head or heads, not both');
  return { positions: opts.positions, heads: opts.head !== undefined ? [opts.head] : opts.heads };
}

function sourceValue(source: tf.Tensor | ActivationCache | undefined, name: string): tf.Tensor | undefined {
  if (!source) return undefined;
  return source instanceof ActivationCache ? source.get(name) : source;
}

/** Batch permutation used by resampling without a source. */
function resampleOrder(batch: number, seed: number | undefined): number[] {
  if (batch < 2) throw new InvalidArgumentError('resample ablation without a source needs a batch of at least 2 inputs', 'pass source: (a tensor or cache from other inputs)');
  if (seed === undefined) return Array.from({ length: batch }, (_, b) => (b + 1) % batch);
  return [...createRng(seed).permutation(batch)];
}

/**
 * A hook that ablates the selected slice of its activation (exact select with a broadcast mask).
 * Layouts: `[batch, pos, …]`, per-head `[batch, pos, head, x]`, attention `[batch, head, q, k]`.
 */
export function ablationHook(kind: AblationKind, opts: AblationOptions = {}): HookFn {
  if (!['zero', 'mean', 'resample'].includes(kind)) throw new InvalidArgumentError(`unknown ablation kind '${String(kind)}'`, "use 'zero', 'mean' or 'resample'");
  const sel = selection(opts);
  return (act, info) => {
    const layout = activationLayout(info.name, act.rank);
    let replacement: tf.Tensor;
    if (kind === 'zero') {
      replacement = tf.zerosLike(act);
    } else if (kind === 'mean') {
      const base = sourceValue(opts.source, info.name) ?? act;
      const over = opts.meanOver ?? 'batch';
      const axes = over === 'batch' ? [0] : over === 'pos' ? [layout.posAxis] : [0, layout.posAxis];
      const mean = tf.mean(base, axes, true);
      try {
        replacement = tf.broadcastTo(mean, act.shape);
      } catch {
        throw new ShapeMismatchError(`mean-ablation source at '${info.name}'`, `broadcastable to [${act.shape.join(',')}]`, mean.shape);
      }
    } else {
      const src = sourceValue(opts.source, info.name);
      if (src) {
        try {
          replacement = tf.broadcastTo(src, act.shape);
        } catch {
          throw new ShapeMismatchError(`resample-ablation source at '${info.name}'`, `broadcastable to [${act.shape.join(',')}]`, src.shape);
        }
      } else {
        replacement = tf.gather(act, tf.tensor1d(resampleOrder(act.shape[0]!, opts.seed), 'int32'), 0);
      }
    }
    const mask = tf.broadcastTo(sliceMask(info.name, act.shape, sel), act.shape);
    return tf.where(mask, replacement, act);
  };
}

/** Options of `ablateScan`. */
export interface AblateScanOptions extends Omit<AblationOptions, 'head' | 'heads' | 'positions'> {
  /** Which activation to ablate. */
  hook: ScanHook;
  /** How to ablate (default 'zero'). */
  kind?: AblationKind;
  /** Scan unit (default: 'head' for per-head activations, 'pos' otherwise). */
  by?: ScanBy;
  /** Metric of the ablated run's logits. */
  metric: LogitsMetric;
  /** Blocks to scan (default all). */
  layers?: readonly number[];
  /** Positions to scan (default all). */
  positions?: readonly number[];
  /** Heads to scan (default all). */
  heads?: readonly number[];
}

/**
 * Ablation scan: for every scanned layer and unit (position, head, head at position) runs `input` with
 * that slice of `hook` ablated and records `metric(logits)`. `baselineMetric` is the unablated run.
 * @returns values `[nLayers, T]`, `[nLayers, H]` or `[nLayers, T, H]`.
 */
export async function ablateScan<I>(model: HookedLensModel<I>, input: I, opts: AblateScanOptions): Promise<ScanResult> {
  const by = opts.by ?? defaultScanBy(opts.hook);
  const kind = opts.kind ?? 'zero';
  const layers = scanLayers(model, opts.layers);
  const names = layers.map((l) => scanHookName(model, opts.hook, l));
  // One plain cached run gives the baseline metric and each activation's shape.
  const probe = await model.runWithCache(input, { namesFilter: names });
  let baselineMetric: number;
  const shapes = names.map((n) => probe.cache.get(n).shape);
  try {
    baselineMetric = await evalMetric(opts.metric, probe.output);
  } finally {
    probe.cache.dispose();
  }
  const rows: number[] = [];
  let info: ReturnType<typeof scanUnits> | undefined;
  for (const [i, name] of names.entries()) {
    info = scanUnits(name, shapes[i]!, by, opts.positions, opts.heads);
    for (const unit of info.units) {
      const hook = ablationHook(kind, { ...opts, positions: unit.positions, heads: unit.heads });
      const logits = await model.runWithHooks(input, { fwdHooks: [[name, hook]] });
      rows.push(await evalMetric(opts.metric, logits));
    }
  }
  return { values: Float32Array.from(rows), shape: [layers.length, ...info!.inner], layers, positions: info!.positions, heads: info!.heads, baselineMetric };
}
