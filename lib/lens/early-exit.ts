/**
 * Token-level early exit (docs/methods.md §5, "Looking Beyond the Top-1"): compare a task probe ("ours")
 * with a softmax-margin and a state-similarity (cosine) exit rule, a baseline (no exit) and an oracle
 * (exit at the top-1 saturation layer).
 *
 * Layer convention (beyond_top1): 0-based j = 0 … L−1 meaning h_{j+1} (`blocks.{j}.hook_resid_post`,
 * lensed); the embedding h_0 is never an exit point. A position that exits at j predicts the lens
 * top-1 of layer j and costs j (`costConvention: 'index'`, the original) or j + 1 (`'blocks'`, the
 * number of blocks actually run). A position that never exits predicts the final lens top-1 and costs L.
 *
 * Every method starts from a fresh copy of the final-layer predictions. The original code started every
 * method from one *view* of the final top-1 row and wrote into it in place, so later methods inherited
 * earlier methods' exits for positions where they themselves never exit; `quirkAliasedPredictions`
 * reproduces that.
 */
import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError, ShapeMismatchError } from '../errors.js';
import { residName } from '../nn/lens-model.js';
import { residNamesFilter, type HookedLensModel } from './logit-lens.js';
import { lensTopK } from './topk.js';

/** θ grid of the softmax-margin rule (exit at the first j with p_(1) − p_(2) ≥ θ). */
export const SOFTMAX_MARGIN_THRESHOLDS: readonly number[] = Object.freeze([0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.92, 0.94]);
/** θ grid of the state rule (exit at the first j ≥ 1 with cos(f_j, f_{j−1}) ≥ θ). */
export const COSINE_THRESHOLDS: readonly number[] = Object.freeze([0.986, 0.988, 0.989, 0.99, 0.991, 0.992, 0.993, 0.994, 0.995]);

/**
 * A probe: features of all N positions at layer j `[N, dModel]` row-major → predicted task per position
 * `[N]` (task 1 = "top-1 already fixed, now fixing rank 2" triggers the exit).
 */
export type ProbeFn = (features: Float32Array, layer: number) => ArrayLike<number>;

/** Per-article inputs of the early-exit comparison (one article, N positions, L layers). */
export interface EarlyExitData {
  /** Number of blocks L. */
  L: number;
  /** Number of positions N (an article of T tokens has N = T − 1: position t predicts token t + 1). */
  N: number;
  /** Lens top-1 ids `[L, N]` row-major, row j = h_{j+1}. */
  top1: Int32Array;
  /** Softmax margins p_(1) − p_(2) of the lens distribution `[L, N]`. */
  margin: Float32Array | Float64Array;
  /** `[L, N]`: row j ≥ 1 = cos(f_j, f_{j−1}) of the probe's features; row 0 is ignored. Needed for the state rule. */
  cosine?: Float32Array | Float64Array;
  /** True next tokens y_t `[N]`. */
  labels: Int32Array;
  /** Probe features `[L, N, dModel]` (row j = f_j); needed only when a `probe` function is given. */
  features?: Float32Array;
  /** Predicted task per layer and position `[L, N]` (alternative to `features` + `probe`). */
  probeTask?: Int32Array;
}

/** Options of `earlyExit`. */
export interface EarlyExitOptions {
  /** The probe ("ours"), applied to `data.features` at every j = 0 … L−1. */
  probe?: ProbeFn;
  /** Task whose prediction triggers the probe exit. Default 1. */
  exitTask?: number;
  /** θ of the softmax-margin curve. Default `SOFTMAX_MARGIN_THRESHOLDS`. */
  softmaxThresholds?: readonly number[];
  /** θ of the state (cosine) curve. Default `COSINE_THRESHOLDS`. */
  cosineThresholds?: readonly number[];
  /** Cost of an exit at j: 'index' = j (original, default) or 'blocks' = j + 1. Never exiting costs L. */
  costConvention?: 'index' | 'blocks';
  /**
   * Reproduce the original aliasing bug: all methods share one prediction buffer, a view of the final
   * row of the top-1 table, written in place in the order baseline, oracle, probe, softmax θ (listed
   * order), cosine θ (listed order). Default false (each method on a fresh copy).
   */
  quirkAliasedPredictions?: boolean;
}

/** One method's outcome on one article. */
export interface ExitMethodResult {
  /** Fraction of positions whose prediction equals y_t. */
  accuracy: number;
  /** L·N / Σ cost (Infinity when Σ cost = 0). */
  speedup: number;
  /** Σ cost over positions. */
  totalCost: number;
  /** Exit layer j per position `[N]`; L = never exited. */
  exitLayer: Int32Array;
  /** Prediction per position `[N]`. */
  predictions: Int32Array;
}

/** A method with a threshold. */
export interface ThresholdResult extends ExitMethodResult {
  theta: number;
}

/** All methods on one article. */
export interface EarlyExitResult {
  baseline: ExitMethodResult;
  oracle: ExitMethodResult;
  /** Present when a probe (or `probeTask`) was given. */
  probe?: ExitMethodResult;
  softmax: ThresholdResult[];
  /** Present when `cosine` was given. */
  cosine?: ThresholdResult[];
}

function checkLength(arr: { length: number } | undefined, n: number, what: string, shape: string): void {
  if (arr && arr.length !== n) throw new ShapeMismatchError(`earlyExit: ${what}`, `${shape} (${n} values)`, `${arr.length} values`);
}

function checkData(data: EarlyExitData): void {
  const { L, N } = data;
  if (!Number.isInteger(L) || L < 1) throw new InvalidArgumentError(`earlyExit: L must be a positive integer, got ${L}`);
  if (!Number.isInteger(N) || N < 0) throw new InvalidArgumentError(`earlyExit: N must be a non-negative integer, got ${N}`);
  checkLength(data.top1, L * N, 'top1', `[${L}, ${N}]`);
  checkLength(data.margin, L * N, 'margin', `[${L}, ${N}]`);
  checkLength(data.cosine, L * N, 'cosine', `[${L}, ${N}]`);
  checkLength(data.labels, N, 'labels', `[${N}]`);
  checkLength(data.probeTask, L * N, 'probeTask', `[${L}, ${N}]`);
  if (data.features && (N === 0 || data.features.length % (L * N) !== 0)) {
    throw new ShapeMismatchError('earlyExit: features', `[${L}, ${N}, dModel]`, `${data.features.length} values`);
  }
}

/** Predicted tasks `[L, N]` from `probeTask` or `probe(features_j, j)`. */
function probeTasks(data: EarlyExitData, probe: ProbeFn | undefined): Int32Array | undefined {
  if (data.probeTask) return data.probeTask;
  if (!probe) return undefined;
  const { L, N } = data;
  if (!data.features) throw new InvalidArgumentError('earlyExit: a probe was given but data.features is missing', 'compute the inputs with earlyExitInputs(model, ids, { probe }) or pass probeTask');
  const d = data.features.length / (L * N);
  const out = new Int32Array(L * N);
  for (let j = 0; j < L; j++) {
    const tasks = probe(data.features.subarray(j * N * d, (j + 1) * N * d), j);
    if (tasks.length !== N) throw new ShapeMismatchError(`earlyExit: probe output at layer ${j}`, `[${N}]`, `${tasks.length} values`);
    for (let t = 0; t < N; t++) out[j * N + t] = tasks[t]!;
  }
  return out;
}

/**
 * Evaluates one exit rule. `exitAt(t)` returns the exit layer j (or −1 for never). Predictions are
 * written into `preds` (a fresh copy of the final row, or the shared aliased buffer) reading `table`.
 */
function evaluate(data: EarlyExitData, table: Int32Array, preds: Int32Array, exitAt: (t: number) => number, costOf: (j: number) => number): ExitMethodResult {
  const { L, N } = data;
  const exitLayer = new Int32Array(N);
  let cost = 0;
  let hits = 0;
  for (let t = 0; t < N; t++) {
    const j = exitAt(t);
    if (j >= 0) {
      preds[t] = table[j * N + t]!;
      exitLayer[t] = j;
      cost += costOf(j);
    } else {
      exitLayer[t] = L;
      cost += L;
    }
  }
  for (let t = 0; t < N; t++) if (preds[t] === data.labels[t]) hits++;
  return { accuracy: N ? hits / N : NaN, speedup: cost > 0 ? (L * N) / cost : Infinity, totalCost: cost, exitLayer, predictions: Int32Array.from(preds) };
}

/**
 * Early exit on one article (§5): baseline, oracle, probe ("ours"), softmax-margin curve and state
 * (cosine) curve, each with accuracy vs the true next token and speedup L·N / Σ cost.
 *
 * - baseline: never exits (cost L), predicts the final lens top-1.
 * - oracle: exits at the top-1 saturation layer s_0 (first j from which the top-1 equals the final one;
 *   0 when all layers agree); its predictions equal the baseline's.
 * - probe: first j = 0 … L−1 whose predicted task == `exitTask` (1).
 * - softmax: first j = 0 … L−1 with margin ≥ θ.
 * - cosine: first j = 1 … L−1 with cos(f_j, f_{j−1}) ≥ θ.
 */
export function earlyExit(data: EarlyExitData, opts: EarlyExitOptions = {}): EarlyExitResult {
  checkData(data);
  const { L, N } = data;
  const convention = opts.costConvention ?? 'index';
  if (convention !== 'index' && convention !== 'blocks') throw new InvalidArgumentError(`earlyExit: costConvention must be 'index' or 'blocks', got '${String(convention)}'`);
  const costOf = convention === 'index' ? (j: number) => j : (j: number) => j + 1;
  const exitTask = opts.exitTask ?? 1;
  const tasks = probeTasks(data, opts.probe);

  // Original: one buffer, a view of the final row of the table, written by every method in turn.
  const aliased = opts.quirkAliasedPredictions ?? false;
  const table = aliased ? Int32Array.from(data.top1) : data.top1;
  const shared = table.subarray((L - 1) * N, L * N);
  const fresh = (): Int32Array => (aliased ? shared : Int32Array.from(data.top1.subarray((L - 1) * N, L * N)));
  const run = (exitAt: (t: number) => number): ExitMethodResult => evaluate(data, table, fresh(), exitAt, costOf);

  const baseline = run(() => -1);
  const oracle = run((t) => {
    const finalId = data.top1[(L - 1) * N + t];
    for (let j = L - 2; j >= 0; j--) if (data.top1[j * N + t] !== finalId) return j + 1;
    return 0;
  });
  const probe = tasks
    ? run((t) => {
        for (let j = 0; j < L; j++) if (tasks[j * N + t] === exitTask) return j;
        return -1;
      })
    : undefined;
  const softmax = (opts.softmaxThresholds ?? SOFTMAX_MARGIN_THRESHOLDS).map((theta) => ({
    theta,
    ...run((t) => {
      for (let j = 0; j < L; j++) if (data.margin[j * N + t]! >= theta) return j;
      return -1;
    }),
  }));
  const cos = data.cosine;
  const cosine = cos
    ? (opts.cosineThresholds ?? COSINE_THRESHOLDS).map((theta) => ({
        theta,
        ...run((t) => {
          for (let j = 1; j < L; j++) if (cos[j * N + t]! >= theta) return j;
          return -1;
        }),
      }))
    : undefined;
  return { baseline, oracle, probe, softmax, cosine };
}

/** Mean accuracy and speedup of one method over articles. */
export interface MeanPoint {
  accuracy: number;
  speedup: number;
}

/** Means over articles of every method (the plotted points and curves). */
export interface EarlyExitSummary {
  baseline: MeanPoint;
  oracle: MeanPoint;
  probe?: MeanPoint;
  softmax: (MeanPoint & { theta: number })[];
  cosine?: (MeanPoint & { theta: number })[];
  /** Number of articles. */
  articles: number;
}

function meanOf(items: readonly ExitMethodResult[]): MeanPoint {
  const n = items.length;
  return { accuracy: items.reduce((s, r) => s + r.accuracy, 0) / n, speedup: items.reduce((s, r) => s + r.speedup, 0) / n };
}

/** Means over articles (§5 "plot means over articles"): accuracy and speedup per method and θ. */
export function summarizeEarlyExit(results: readonly EarlyExitResult[]): EarlyExitSummary {
  if (!results.length) throw new InvalidArgumentError('summarizeEarlyExit: no articles');
  const first = results[0]!;
  const curve = (pick: (r: EarlyExitResult) => ThresholdResult[] | undefined): (MeanPoint & { theta: number })[] | undefined => {
    const lists = results.map(pick);
    if (lists.some((l) => !l)) return undefined;
    return lists[0]!.map((pt, i) => ({ theta: pt.theta, ...meanOf(lists.map((l) => l![i]!)) }));
  };
  return {
    baseline: meanOf(results.map((r) => r.baseline)),
    oracle: meanOf(results.map((r) => r.oracle)),
    probe: first.probe && results.every((r) => r.probe) ? meanOf(results.map((r) => r.probe!)) : undefined,
    softmax: curve((r) => r.softmax)!,
    cosine: curve((r) => r.cosine),
    articles: results.length,
  };
}

/** Options of `earlyExitInputs`. */
export interface EarlyExitInputsOptions {
  /** Probe applied to the features of every layer; fills `probeTask`. */
  probe?: ProbeFn;
  /**
   * Feature space f_j of the probe and the cosine rule: 'resid' (default, raw h_{j+1} at every j) or
   * 'original' (raw h_{j+1} for j < L−1 but LN_f(h_L) at j = L−1, as the Hugging Face `hidden_states`
   * the original reads; needs the model's final norm, `lensNorm(L)`).
   */
  featureSpace?: 'resid' | 'original';
  /** Return the features `[L, N, dModel]` in the result (default false; large for big models). */
  keepFeatures?: boolean;
}

/**
 * Computes the inputs of `earlyExit` for one article with a causal language model in one forward pass:
 * `runWithCache` of the residual states h_1 … h_L only, lens top-2 (tie-safe `lensTopK`, k = 2) at
 * positions t = 0 … T−2 (margins from its full-softmax probabilities), cosine between consecutive
 * layers' features, and the probe's task predictions when a probe is given.
 *
 * @param model a hooked causal language model (GPT-2, the rotary families) whose input accepts token ids `[1, T]`.
 * @param tokenIds the article's T ≥ 2 token ids; labels are y_t = tokenIds[t + 1], N = T − 1.
 */
export async function earlyExitInputs(model: HookedLensModel<readonly (readonly number[])[]>, tokenIds: readonly number[], opts: EarlyExitInputsOptions = {}): Promise<EarlyExitData> {
  const L = model.nLayers;
  const T = tokenIds.length;
  if (T < 2) throw new InvalidArgumentError(`earlyExitInputs: an article needs at least 2 tokens, got ${T}`);
  if (model.lensPositions !== 'all') throw new InvalidArgumentError('earlyExitInputs: needs a language model lensed at every position (a causal LM)');
  const space = opts.featureSpace ?? 'resid';
  let lnFinal: ((x: tf.Tensor) => tf.Tensor) | undefined;
  if (space === 'original') {
    lnFinal = model.lensNorm?.(L);
    if (!lnFinal) throw new InvalidArgumentError("earlyExitInputs: featureSpace 'original' needs the model's final layer norm (lensNorm)");
  } else if (space !== 'resid') {
    throw new InvalidArgumentError(`earlyExitInputs: featureSpace must be 'resid' or 'original', got '${String(space)}'`);
  }
  const N = T - 1;
  const positions = Array.from({ length: N }, (_, t) => t);
  const layers = Array.from({ length: L }, (_, j) => j + 1);
  const { output, cache } = await model.runWithCache([tokenIds], { namesFilter: residNamesFilter(model, layers) });
  output.dispose();
  try {
    const topk = await lensTopK(model, cache, { k: 2, layers, positions });
    const top1 = new Int32Array(L * N);
    const margin = new Float32Array(L * N);
    for (let i = 0; i < L * N; i++) {
      top1[i] = topk.ids[2 * i]!;
      margin[i] = topk.probs[2 * i]! - topk.probs[2 * i + 1]!;
    }
    const first = cache.get(residName(model, 1));
    if (first.shape[0] !== 1) throw new ShapeMismatchError('earlyExitInputs: residual state', '[1, T, dModel]', first.shape);
    const d = first.shape[2]!;
    // f_j [N, d] for j = 0 … L−1 (kept on device until the cosines are done).
    const feats = tf.tidy(() =>
      layers.map((l, j) => {
        const h = tf.reshape(tf.slice(cache.get(residName(model, l)), [0, 0, 0], [1, N, d]), [N, d]);
        return lnFinal && j === L - 1 ? lnFinal(h) : h;
      }),
    );
    try {
      const cosT = tf.tidy(() => {
        const rows = [tf.fill([N], NaN)];
        for (let j = 1; j < L; j++) {
          const a = feats[j]!;
          const b = feats[j - 1]!;
          const dot = tf.sum(tf.mul(a, b), 1);
          const norms = tf.sqrt(tf.mul(tf.sum(tf.square(a), 1), tf.sum(tf.square(b), 1)));
          rows.push(tf.div(dot, norms));
        }
        return tf.stack(rows);
      });
      const cosine = (await cosT.data()) as Float32Array;
      cosT.dispose();
      const labels = Int32Array.from(tokenIds.slice(1));
      const result: EarlyExitData = { L, N, top1, margin, cosine, labels };
      if (opts.probe || opts.keepFeatures) {
        const features = new Float32Array(L * N * d);
        for (let j = 0; j < L; j++) features.set((await feats[j]!.data()) as Float32Array, j * N * d);
        if (opts.probe) result.probeTask = probeTasks({ ...result, features }, opts.probe);
        if (opts.keepFeatures) result.features = features;
      }
      return result;
    } finally {
      for (const f of feats) f.dispose();
    }
  } finally {
    cache.dispose();
  }
}
