/**
 * Data of the task-transition probe (docs/methods.md §3): label each intermediate representation with the
 * "task" in progress — task t (0-based) = the phase in which the model is fixing the (t+1)-th ranked token.
 *
 * **Layer convention (beyond_top1)**: layer j = 0 … L−1 means the residual state h_{j+1}
 * (`blocks.{j}.hook_resid_post`); the embedding h_0 is never a probe layer. Saturation layers s_t use
 * the same j (see `lib/lens/saturation.ts`).
 *
 * Per kept example with saturation layers s_0 … s_{k−1} (K ≤ k tasks, minimum probe layer J0):
 * for t = 0 … K−1 with s_t > J0, the layers j ∈ [a_t, b_t] with a_0 = J0, a_t = max(J0, s_{t−1} + 1),
 * b_t = min(s_t, L−1) go to bucket (j, t) (tasks with s_t ≤ J0 are skipped, later ones still count;
 * out-of-order examples give empty ranges). Balancing: per layer j, m_j = min_t |bucket (j, t)|; layers
 * with m_j < 5 are dropped, the others keep the **first** m_j items of each bucket (insertion order =
 * example order). All kept layers are pooled (layer identity is not a feature).
 *
 * `constructProbeDataset` is the pure part (saturation table + feature getter); `buildProbeDataset` runs
 * a hooked model: pass 1 `topKPerLayer` → saturation layers → §1 filter → buckets; pass 2
 * `runWithCache` with only the needed residual states (`residNamesFilter`) to read the kept features,
 * batch by batch, so only the balanced dataset is ever held on the host.
 */
import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError } from '../errors.js';
import type { HostMatrix } from '../linreg/types.js';
import type { ActivationCache } from '../nn/activation-cache.js';
import { residName } from '../nn/lens-model.js';
import { residNamesFilter, type HookedLensModel } from '../lens/logit-lens.js';
import { topKPerLayer, batchChunks, rankTable, type InputChunks } from '../lens/topk.js';
import { filterBySaturation, saturationLayers } from '../lens/saturation.js';

/** Options of the §3 bucket construction. */
export interface ProbeDataOptions {
  /** Number of tasks K ≤ k (default 5). */
  K?: number;
  /** Minimum probe layer J0 (0-based j, default 5). */
  J0?: number;
  /** Drop a layer whose smallest bucket has fewer items than this (default 5). */
  minPerLayer?: number;
}

/** One inclusive layer range [from, to] of task t for one example. */
export interface TaskRange {
  task: number;
  from: number;
  to: number;
}

/** One probe sample before its feature is read. */
export interface ProbeItem {
  /** Row of the saturation table (example index). */
  example: number;
  /** Layer j (0-based, meaning h_{j+1}). */
  layer: number;
  /** Task label t. */
  task: number;
}

/** Bucket sizes and the balancing decision of one layer. */
export interface LayerBalance {
  /** Layer j (0-based, meaning h_{j+1}). */
  layer: number;
  /** `[K]` bucket sizes |bucket (j, t)| before balancing. */
  counts: number[];
  /** m_j = min over t of counts. */
  m: number;
  /** True when m_j ≥ minPerLayer (the layer contributes m_j items per task). */
  kept: boolean;
}

/** A pooled, balanced probe dataset. */
export interface ProbeDataset {
  /** Features `[n, d]` row-major (float32). */
  X: HostMatrix;
  /** Task labels `[n]` in 0 … K−1. */
  y: Int32Array;
  /** Layer j of each sample `[n]` (0-based, meaning h_{j+1}). */
  layers: Int32Array;
  /** Example (row of the saturation table) of each sample `[n]`. */
  examples: Int32Array;
  /** Number of tasks K. */
  nClasses: number;
  /** Number of blocks L. */
  L: number;
  /** Minimum probe layer J0. */
  J0: number;
  /** Balancing per layer j = J0 … L−1. */
  perLayer: LayerBalance[];
}

function resolveOptions(opts: ProbeDataOptions, L: number): { K: number; J0: number; minPerLayer: number } {
  const K = opts.K ?? 5;
  const J0 = opts.J0 ?? 5;
  const minPerLayer = opts.minPerLayer ?? 5;
  if (!Number.isInteger(L) || L < 1) throw new InvalidArgumentError(`probe data: L must be a positive integer, got ${L}`);
  if (!Number.isInteger(K) || K < 1) throw new InvalidArgumentError(`probe data: K must be a positive integer, got ${K}`);
  if (!Number.isInteger(J0) || J0 < 0 || J0 > L - 1) throw new InvalidArgumentError(`probe data: J0 = ${J0} must be an integer in 0..${L - 1} (0-based layer j meaning h_{j+1})`, 'the spec default J0 = 5 needs a model with at least 6 blocks');
  if (!Number.isInteger(minPerLayer) || minPerLayer < 1) throw new InvalidArgumentError(`probe data: minPerLayer must be a positive integer, got ${minPerLayer}`);
  return { K, J0, minPerLayer };
}

/**
 * The non-empty task ranges of one example (§3).
 * @param s saturation layers `[≥K]` (s_0 first, 0-based j; L allowed for the all-agree quirk).
 * @param L number of blocks.
 */
export function taskRanges(s: readonly number[], L: number, opts: ProbeDataOptions = {}): TaskRange[] {
  const { K, J0 } = resolveOptions(opts, L);
  if (s.length < K) throw new InvalidArgumentError(`taskRanges: ${s.length} saturation layers for K = ${K} tasks`);
  const out: TaskRange[] = [];
  for (let t = 0; t < K; t++) {
    if (!(s[t]! > J0)) continue;
    const from = t === 0 ? J0 : Math.max(J0, s[t - 1]! + 1);
    const to = Math.min(s[t]!, L - 1);
    if (from <= to) out.push({ task: t, from, to });
  }
  return out;
}

/**
 * Buckets and balances the §3 items (no features yet).
 * @param S `[N][≥K]` saturation layers per (kept) example.
 * @param L number of blocks.
 * @returns items ordered by layer j, then task, then bucket (example) order; and the per-layer balance.
 */
export function balanceProbeItems(S: readonly (readonly number[])[], L: number, opts: ProbeDataOptions = {}): { items: ProbeItem[]; perLayer: LayerBalance[] } {
  const { K, J0, minPerLayer } = resolveOptions(opts, L);
  // buckets[j − J0][t] = example indices in insertion order.
  const buckets = Array.from({ length: L - J0 }, () => Array.from({ length: K }, () => [] as number[]));
  S.forEach((s, e) => {
    for (const r of taskRanges(s, L, { K, J0, minPerLayer })) {
      for (let j = r.from; j <= r.to; j++) buckets[j - J0]![r.task]!.push(e);
    }
  });
  const items: ProbeItem[] = [];
  const perLayer: LayerBalance[] = buckets.map((byTask, jj) => {
    const layer = jj + J0;
    const counts = byTask.map((b) => b.length);
    const m = Math.min(...counts);
    const kept = m >= minPerLayer;
    if (kept) {
      byTask.forEach((b, task) => {
        for (let i = 0; i < m; i++) items.push({ example: b[i]!, layer, task });
      });
    }
    return { layer, counts, m, kept };
  });
  return { items, perLayer };
}

/**
 * Feature of one example at one layer: `(example, layer j) → [d]` (j 0-based, meaning h_{j+1}).
 * Called only for the items that survive balancing.
 */
export type FeatureGetter = (example: number, layer: number) => ArrayLike<number>;

/**
 * Builds the pooled, balanced §3 dataset from a saturation table and a feature getter.
 * @param S `[N][≥K]` saturation layers per example (already filtered with `filterBySaturation`).
 * @param L number of blocks.
 * @param getFeature features `[d]` of (example, layer).
 */
export function constructProbeDataset(S: readonly (readonly number[])[], L: number, getFeature: FeatureGetter, opts: ProbeDataOptions = {}): ProbeDataset {
  const { K, J0 } = resolveOptions(opts, L);
  const { items, perLayer } = balanceProbeItems(S, L, opts);
  let d = 0;
  let data = new Float32Array(0);
  items.forEach((it, i) => {
    const f = getFeature(it.example, it.layer);
    if (i === 0) {
      d = f.length;
      if (d === 0) throw new InvalidArgumentError('constructProbeDataset: the feature getter returned an empty feature');
      data = new Float32Array(items.length * d);
    } else if (f.length !== d) {
      throw new InvalidArgumentError(`constructProbeDataset: feature of example ${it.example} at layer ${it.layer} has ${f.length} values, expected ${d}`);
    }
    for (let c = 0; c < d; c++) data[i * d + c] = f[c]!;
  });
  return assembleProbeDataset(items, data, d, { nClasses: K, L, J0, perLayer });
}

/** The ProbeDataset of `items` whose features fill `data` (`[items.length, d]` row-major). */
function assembleProbeDataset(items: readonly ProbeItem[], data: Float32Array, d: number, meta: Pick<ProbeDataset, 'nClasses' | 'L' | 'J0' | 'perLayer'>): ProbeDataset {
  return {
    X: { data, shape: [items.length, d] },
    y: Int32Array.from(items, (it) => it.task),
    layers: Int32Array.from(items, (it) => it.layer),
    examples: Int32Array.from(items, (it) => it.example),
    ...meta,
  };
}

/** Which representation of h_{j+1} the probe reads (§3). */
export type FeatureSpace = 'resid' | 'lnFinal' | 'original';

/** Options of `buildProbeDataset`. */
export interface BuildProbeDatasetOptions extends ProbeDataOptions {
  /** Ranks whose saturation is computed (default 5); K ≤ k. */
  k?: number;
  /**
   * 'resid' (default): raw residual h_{j+1} at every layer. 'lnFinal': LN_f(h_{j+1}) (final layer norm
   * with gain and bias) at every layer. 'original': the original per-model choice — GPT-2 raw except
   * LN_f(h_L) at j = L−1; ViT LN_f except raw h_L at j = L−1; Whisper decoder LN_f everywhere.
   */
  featureSpace?: FeatureSpace;
  /** Positions to use (default all; CLS models always use position 0). */
  positions?: readonly number[];
  /** Run the inputs in chunks of this many examples (tensor or array inputs). Default: all at once. */
  batchSize?: number;
  /** Example filter of §1: keep iff s_0 ≤ floor(fraction·L). Default 0.85; null disables it. */
  filterFraction?: number | null;
  /** Saturation of all-agree ranks = L instead of 0 (the original top-k routine). Default false. */
  quirkAllAgreeIsL?: boolean;
}

/** `buildProbeDataset` output: the dataset plus where its examples came from. */
export interface ModelProbeDataset extends ProbeDataset {
  /** Saturation layers `[N][k]` of every example (before the filter); `examples` index these rows. */
  saturation: number[][];
  /** Input row (batch index over all chunks) of each example `[N]`. */
  exampleRow: Int32Array;
  /** Token position of each example `[N]` (0 for CLS models). */
  examplePosition: Int32Array;
  /** Examples kept by the §1 filter. */
  nKeptExamples: number;
  /** Feature space used. */
  featureSpace: FeatureSpace;
}

/** Whether layer j (0-based, h_{j+1}) is read through LN_f in this feature space. */
function lnAtLayer(model: HookedLensModel<unknown>, space: FeatureSpace, j: number): boolean {
  const last = j === model.nLayers - 1;
  if (space === 'resid') return false;
  if (space === 'lnFinal') return true;
  const original = model.originalProbeFeatures;
  if (!original) throw new InvalidArgumentError("buildProbeDataset: featureSpace 'original' has no preset for this model (no originalProbeFeatures)", "use featureSpace: 'resid' or 'lnFinal'");
  return (last ? original.last : original.below) === 'lnFinal';
}


/**
 * Runs a hooked model over `inputs` and builds the §3 probe dataset.
 *
 * Every (input row, position) is an example (CLS models: one per row). Pass 1 computes the top-k lens
 * ranking of layers j = 0 … L−1 (`topKPerLayer`), the saturation layers (§1) and the filter
 * s_0 ≤ floor(0.85·L); the buckets are balanced as in `constructProbeDataset`. Pass 2 reruns each chunk
 * that holds kept items with `runWithCache` restricted to the needed residual states and copies those
 * rows (through LN_f where the feature space says so) to the host.
 *
 * @param inputs token ids `[N, T]` (tensor or equal-length arrays), pixel values, … — what the model's
 *   `forward` accepts; with `batchSize`, a tensor or an array of examples; or `InputChunks` (one pass each).
 * @returns the dataset with features `[n, dModel]` float32 and the per-example saturation table.
 */
export async function buildProbeDataset<I>(model: HookedLensModel<I>, inputs: I | InputChunks<I>, opts: BuildProbeDatasetOptions = {}): Promise<ModelProbeDataset> {
  const L = model.nLayers;
  const k = opts.k ?? 5;
  const K = opts.K ?? 5;
  if (!Number.isInteger(k) || k < 1) throw new InvalidArgumentError(`buildProbeDataset: k must be a positive integer, got ${k}`);
  if (K > k) throw new InvalidArgumentError(`buildProbeDataset: K = ${K} tasks need at least K ranks, but k = ${k}`);
  const dataOpts: ProbeDataOptions = { K, J0: opts.J0 ?? 5, minPerLayer: opts.minPerLayer ?? 5 };
  resolveOptions(dataOpts, L);
  const space = opts.featureSpace ?? 'resid';
  if (space !== 'resid' && space !== 'lnFinal' && space !== 'original') throw new InvalidArgumentError(`buildProbeDataset: unknown featureSpace '${String(space)}'`, "use 'resid', 'lnFinal' or 'original'");
  const ln = model.lensNorm?.(model.nLayers);
  const needsLn = Array.from({ length: L }, (_, j) => lnAtLayer(model as HookedLensModel<unknown>, space, j));
  if (needsLn.some(Boolean) && !ln) throw new InvalidArgumentError(`buildProbeDataset: featureSpace '${space}' needs a final layer norm, and this model has none`, "use featureSpace: 'resid'");

  // Pass 1: saturation layers of every example.
  const saturation: number[][] = [];
  const rowOf: number[] = [];
  const posOf: number[] = [];
  const chunkOf: number[] = [];
  const chunkStart: number[] = [];
  let rowBase = 0;
  let chunkIndex = 0;
  for (const { chunk, owned } of batchChunks(inputs, opts.batchSize)) {
    try {
      const top = await topKPerLayer(model, chunk, { k, positions: opts.positions });
      const [, batch, nPos] = top.shape;
      chunkStart.push(rowBase);
      for (let b = 0; b < batch; b++) {
        for (let p = 0; p < nPos; p++) {
          saturation.push(saturationLayers(rankTable(top, b, p), { quirkAllAgreeIsL: opts.quirkAllAgreeIsL }));
          rowOf.push(rowBase + b);
          posOf.push(model.lensPositions === 'cls' ? 0 : (opts.positions?.[p] ?? p));
          chunkOf.push(chunkIndex);
        }
      }
      rowBase += batch;
      chunkIndex++;
    } finally {
      owned?.dispose();
    }
  }

  // Filter (§1) and balance (§3).
  const fraction = opts.filterFraction === undefined ? 0.85 : opts.filterFraction;
  const keptIdx = fraction === null ? saturation.map((_, i) => i) : filterBySaturation(saturation, L, { fraction }).indices;
  const { items, perLayer } = balanceProbeItems(keptIdx.map((i) => saturation[i]!), L, dataOpts);
  for (const it of items) it.example = keptIdx[it.example]!;

  // Pass 2: read the kept features chunk by chunk.
  const byChunk = new Map<number, number[]>();
  items.forEach((it, i) => {
    const c = chunkOf[it.example]!;
    if (!byChunk.has(c)) byChunk.set(c, []);
    byChunk.get(c)!.push(i);
  });
  let d = 0;
  let data = new Float32Array(0);
  chunkIndex = 0;
  for (const { chunk, owned } of batchChunks(inputs, opts.batchSize)) {
    const c = chunkIndex++;
    const mine = byChunk.get(c);
    if (!mine) {
      owned?.dispose();
      continue;
    }
    const layers = [...new Set(mine.map((i) => items[i]!.layer))].sort((a, b) => a - b);
    let cache: ActivationCache | undefined;
    try {
      const run = await model.runWithCache(chunk, { namesFilter: residNamesFilter(model, layers.map((j) => j + 1)) });
      run.output.dispose();
      cache = run.cache;
      for (const j of layers) {
        const atLayer = mine.filter((i) => items[i]!.layer === j);
        const resid = cache.get(residName(model, j + 1));
        const [, T, dModel] = resid.shape as [number, number, number];
        if (d === 0) {
          d = dModel;
          data = new Float32Array(items.length * d);
        }
        const flatRows = atLayer.map((i) => (rowOf[items[i]!.example]! - chunkStart[c]!) * T + posOf[items[i]!.example]!);
        const rows = tf.tidy(() => {
          const picked = tf.gather(tf.reshape(resid, [-1, dModel]), tf.tensor1d(flatRows, 'int32'));
          return needsLn[j] ? ln!(picked) : picked;
        });
        let values: Float32Array;
        try {
          values = (await rows.data()) as Float32Array;
        } finally {
          rows.dispose();
        }
        atLayer.forEach((i, r) => data.set(values.subarray(r * d, (r + 1) * d), i * d));
      }
    } finally {
      cache?.dispose();
      owned?.dispose();
    }
  }

  return {
    ...assembleProbeDataset(items, data, d, { nClasses: K, L, J0: dataOpts.J0!, perLayer }),
    saturation,
    exampleRow: Int32Array.from(rowOf),
    examplePosition: Int32Array.from(posOf),
    nKeptExamples: keptIdx.length,
    featureSpace: space,
  };
}
