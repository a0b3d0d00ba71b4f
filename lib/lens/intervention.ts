/**
 * Intervention: forcing the switch to the next task (docs/methods.md §4, "Looking Beyond the Top-1").
 *
 * Implant into a "late" example (large top-1 saturation layer) the residual state of an "early" example
 * (same final prediction, small saturation layer) taken around the early example's saturation layer,
 * and see whether the late example now saturates right where the implant sits.
 *
 * Index conventions (checked against the spec text, and used consistently below):
 * - Saturation layers `s` use the beyond_top1 convention: 0-based j = 0 … L−1 meaning h_{j+1}
 *   (`blocks.{j}.hook_resid_post`); `top1SaturationLayer` of `saturation.ts`.
 * - Residual states h_0 … h_L: h_0 = `blocks.0.hook_resid_pre`, h_l = `blocks.{l−1}.hook_resid_post`.
 * - The block index m is 0-based (`blocks.{m}`); block m reads h_m and writes h_{m+1}.
 * - Schedule (§4): for i = 0 … 2n, m = s_early − n + i + 1 and v_i = the early example's state at
 *   beyond_top1 index m − 1, i.e. h_m (the output of block m − 1). Distance d = m − 1 − s_early = i − n.
 * - intended mode: v_i replaces position p of h_m at `blocks.{m}.hook_resid_pre` (for m = L, where no
 *   block m exists, at `blocks.{L−1}.hook_resid_post`, which is h_L); v_i then sits at beyond_top1 index
 *   m − 1, so success needs s' = m − 1. Valid m: 1 … L.
 * - original mode: block m is skipped for every position (its output h_{m+1} := its input h_m) and
 *   position p of h_{m+1} (`blocks.{m}.hook_resid_post`) := v_i; v_i sits at index m, success needs s' = m.
 *   Valid m: 1 … L − 1.
 *
 * The lens of the intervened run reads h_l at `blocks.{l}.hook_resid_pre` for l < L (after the
 * intervention hooks of that point) and at `blocks.{L−1}.hook_resid_post` for h_L, so an implant at
 * `blocks.{m}.hook_resid_pre` is what the lens sees as h_m (the spec's "it replaces h_m").
 */
import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError, ShapeMismatchError } from '../errors.js';
import type { HookFn } from '../nn/hook-point.js';
import type { NamesFilter } from '../nn/hooked-root.js';
import { residName } from '../nn/lens-model.js';
import type { HookedLensModel } from './logit-lens.js';
import { top1SaturationLayer } from './saturation.js';
import { topKTieSafe } from './topk.js';

/** Model family whose pair-selection rules apply (§4). */
export type InterventionFamily = 'gpt2' | 'vit' | 'whisper';

/** One candidate example for pair selection. */
export interface InterventionExample {
  /** Caller's id of the example (passed through to the pairs). */
  id: number | string;
  /** What the example belongs to: the article (GPT-2), the image (ViT) or the clip (Whisper). */
  group: number | string;
  /** Position of the example inside its group (token / decoder position; 0 for ViT CLS). */
  position: number;
  /** Top-1 saturation layer s (beyond_top1 index 0 … L−1, `top1SaturationLayer`). */
  s: number;
  /** Final top-1 prediction y = rank_0(L−1). */
  y: number;
}

/** Options of `selectPairs`. */
export interface SelectPairsOptions {
  /** Which family's rules (Δ, same/different group, position window, Whisper filters). */
  family: InterventionFamily;
  /** Keep the first `nPairs` pairs found. */
  nPairs: number;
  /** Number of blocks L of the lensed stack (Whisper: decoder blocks). */
  L: number;
  /** Implant half-width n (default 5 for GPT-2, 3 for ViT and Whisper); pairs need s_early ≥ n. */
  n?: number;
  /** Override the family's minimum saturation gap Δ (GPT-2 10, ViT 5, Whisper 5). */
  delta?: number;
  /** GPT-2: override the minimum of min(s_a, s_b) (default 10). */
  minSaturation?: number;
  /** GPT-2: override the largest position gap |pos_a − pos_b| inside an article (default 30). */
  maxPositionGap?: number;
}

/** A selected (early, late) pair. */
export interface InterventionPair<E extends InterventionExample = InterventionExample> {
  /** The example with the smaller saturation layer (its states are implanted). */
  early: E;
  /** The example with the larger saturation layer (it is run with the implant). */
  late: E;
  /** Indices of early/late in the input list. */
  earlyIndex: number;
  lateIndex: number;
}

/** Δ of §4 per family. */
export const INTERVENTION_DELTA: Readonly<Record<InterventionFamily, number>> = Object.freeze({ gpt2: 10, vit: 5, whisper: 5 });
/** Implant half-width n of §4 per family. */
export const INTERVENTION_HALF_WIDTH: Readonly<Record<InterventionFamily, number>> = Object.freeze({ gpt2: 5, vit: 3, whisper: 3 });
/** Whisper's `<|startoftranscript|>` id, never a pair's prediction (§4). */
export const WHISPER_SOT_ID = 50258;

/**
 * Pair selection of §4. Scans all pairs (a, b), a < b in input order, and keeps the first `nPairs`
 * that satisfy: y_a = y_b, |s_a − s_b| ≥ Δ, s_early = min(s_a, s_b) ≥ n, and per family
 * - gpt2: same group (article), |pos_a − pos_b| ≤ 30, min(s_a, s_b) ≥ 10 (`maxPositionGap`, `minSaturation`);
 * - vit: different groups (images);
 * - whisper: any two examples (pooled clips), y ≠ 50258, max(s_a, s_b) ≤ L − 5.
 * early = the example with the smaller s (late the larger; they differ since Δ ≥ 1).
 *
 * The original does not require s_early ≥ n (a negative start index silently slices wrong states);
 * here such pairs are skipped. Examples carry their (group, position) explicitly, so the original
 * Whisper pooled-index remapping (off by one at clip boundaries) has no counterpart.
 */
export function selectPairs<E extends InterventionExample>(examples: readonly E[], opts: SelectPairsOptions): InterventionPair<E>[] {
  const { family, nPairs, L } = opts;
  if (!(family in INTERVENTION_DELTA)) throw new InvalidArgumentError(`selectPairs: unknown family '${String(family)}'`, "use 'gpt2', 'vit' or 'whisper'");
  if (!Number.isInteger(nPairs) || nPairs < 0) throw new InvalidArgumentError(`selectPairs: nPairs must be a non-negative integer, got ${nPairs}`);
  if (!Number.isInteger(L) || L < 1) throw new InvalidArgumentError(`selectPairs: L must be a positive integer, got ${L}`);
  const delta = opts.delta ?? INTERVENTION_DELTA[family];
  const n = opts.n ?? INTERVENTION_HALF_WIDTH[family];
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`selectPairs: n must be a non-negative integer, got ${n}`);
  const minS = opts.minSaturation ?? 10;
  const maxGap = opts.maxPositionGap ?? 30;
  const pairs: InterventionPair<E>[] = [];
  if (nPairs === 0) return pairs;
  for (let a = 0; a < examples.length; a++) {
    const ea = examples[a]!;
    if (family === 'whisper' && (ea.y === WHISPER_SOT_ID || ea.s > L - 5)) continue;
    for (let b = a + 1; b < examples.length; b++) {
      const eb = examples[b]!;
      if (ea.y !== eb.y || Math.abs(ea.s - eb.s) < delta) continue;
      const sEarly = Math.min(ea.s, eb.s);
      if (sEarly < n) continue;
      if (family === 'gpt2') {
        if (ea.group !== eb.group || Math.abs(ea.position - eb.position) > maxGap || sEarly < minS) continue;
      } else if (family === 'vit') {
        if (ea.group === eb.group) continue;
      } else if (eb.s > L - 5) {
        continue; // whisper: y ≠ 50258 already holds for b since y_b = y_a
      }
      const aEarly = ea.s < eb.s;
      pairs.push(aEarly ? { early: ea, late: eb, earlyIndex: a, lateIndex: b } : { early: eb, late: ea, earlyIndex: b, lateIndex: a });
      if (pairs.length >= nPairs) return pairs;
    }
  }
  return pairs;
}

/** One implant of the schedule. */
export interface ImplantStep {
  /** i = 0 … 2n. */
  i: number;
  /** 0-based block index m = s_early − n + i + 1; v_i = the early example's h_m (beyond_top1 index m − 1). */
  m: number;
  /** Distance d = m − 1 − s_early = i − n ∈ [−n, n]. */
  d: number;
}

/**
 * Implant schedule of §4: for i = 0 … 2n, m = s_early − n + i + 1 (a 0-based block index; the implanted
 * vector is h_m, the output of block m − 1, i.e. beyond_top1 index m − 1) and d = i − n.
 * @throws InvalidArgumentError unless s_early ≥ n (then m ≥ 1 and h_m is a block output).
 */
export function implantSchedule(sEarly: number, n: number): ImplantStep[] {
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`implantSchedule: n must be a non-negative integer, got ${n}`);
  if (!Number.isInteger(sEarly) || sEarly < n) {
    throw new InvalidArgumentError(`implantSchedule: s_early = ${sEarly} must be an integer ≥ n = ${n}`, 'the original silently slices wrong states for s_early < n; select pairs with selectPairs, which skips them');
  }
  return Array.from({ length: 2 * n + 1 }, (_, i) => ({ i, m: sEarly - n + i + 1, d: i - n }));
}

/** Options of `runIntervention`. */
export interface RunInterventionOptions<I> {
  /** Input of the early example (batch 1): token ids, pixels, Whisper features + decoder ids. */
  earlyInput: I;
  /** Position of the early example in its input (CLS models: 0). */
  earlyPos: number;
  /** Input of the late example (batch 1). GPT-2 original: the full article again. */
  lateInput: I;
  /** Position p of the late example (CLS models: 0). */
  latePos: number;
  /** Top-1 saturation layer of the early example (beyond_top1 index). */
  sEarly: number;
  /** Half-width n of the schedule (GPT-2 5, ViT/Whisper 3). */
  n: number;
  /** 'intended' (default): replace h_m[p] at `blocks.{m}.hook_resid_pre`. 'original': skip block m, then set h_{m+1}[p]. */
  mode?: 'intended' | 'original';
  /**
   * Space of the implanted vector: 'resid' (default; raw h_m) or 'lnFinal' (LN_f(h_m), what the original
   * GPT-2 script implants because its flag is inverted for GPT-2).
   */
  implantSpace?: 'resid' | 'lnFinal';
  /** The pair's final top-1 y (default: the late example's clean final lens top-1, computed here). */
  y?: number;
  /**
   * The final layer norm for `implantSpace: 'lnFinal'` (`[..., d]` → `[..., d]`). Default: the model's
   * `lensNorm(L)` (GPT-2, ViT: `ln_final`; Whisper: `decoder.ln_final`).
   */
  lnFinal?: (resid: tf.Tensor) => tf.Tensor;
  /**
   * What to do with schedule steps whose m the model cannot host (m > L in intended mode, m > L − 1 in
   * original mode): 'throw' (default) or 'skip' (they are listed in `skipped` and not run).
   */
  outOfRange?: 'throw' | 'skip';
}

/** Outcome of one implant (one d). */
export interface InterventionRunResult extends ImplantStep {
  /** New top-1 saturation layer s' of position p (beyond_top1 index, top-1 routine). */
  newSaturation: number;
  /** New final top-1 (lens at h_L) of position p. */
  newTop1: number;
  /** newTop1 == y. */
  unchanged: boolean;
  /** unchanged and s' == m (original mode) or m − 1 (intended mode). */
  success: boolean;
  /** Lens top-1 id of position p at h_1 … h_L of the intervened run `[L]` (row j = h_{j+1}). */
  lensTop1: number[];
  /** The lens logit of that top-1 id `[L]`. */
  lensTop1Logit: number[];
}

/** Result of `runIntervention`. */
export interface InterventionOutcome {
  /** The pair's final prediction y used for `unchanged`. */
  y: number;
  /** Top-1 saturation layer of the late example without intervention (only when y was computed here). */
  sLateClean?: number;
  /** One entry per implant that was run, in schedule order (d = −n … n). */
  runs: InterventionRunResult[];
  /** Steps not run because the model has no block m for them (`outOfRange: 'skip'`). */
  skipped: ImplantStep[];
}

/**
 * `act [B, T, d]` with position p replaced by `v [1, 1, d]` (broadcast over the batch); exact copy of
 * v (no arithmetic), new tensor.
 */
function replacePosition(act: tf.Tensor, p: number, v: tf.Tensor): tf.Tensor {
  const [B, T, d] = act.shape as [number, number, number];
  const parts: tf.Tensor[] = [];
  if (p > 0) parts.push(tf.slice(act, [0, 0, 0], [B, p, d]));
  parts.push(tf.broadcastTo(v, [B, 1, d]));
  if (p < T - 1) parts.push(tf.slice(act, [0, p + 1, 0], [B, T - p - 1, d]));
  return parts.length === 1 ? parts[0]! : tf.concat(parts, 1);
}

/** Hook names where the lens reads h_l of this module (see the module comment). */
function lensReadName(prefix: string, L: number, l: number): string {
  return l < L ? `${prefix}blocks.${l}.hook_resid_pre` : `${prefix}blocks.${L - 1}.hook_resid_post`;
}

/** Checks a position against a residual `[batch, pos, d]` of batch 1. */
function checkResidPos(resid: tf.Tensor, p: number, what: string): void {
  if (resid.rank !== 3) throw new ShapeMismatchError(`${what}: residual state`, '[1, pos, dModel]', resid.shape);
  if (resid.shape[0] !== 1) throw new ShapeMismatchError(`${what}: intervention runs one example at a time`, '[1, pos, dModel]', resid.shape);
  if (!Number.isInteger(p) || p < 0 || p >= resid.shape[1]!) throw new InvalidArgumentError(`${what}: position ${p} is outside 0..${resid.shape[1]! - 1}`);
}

/**
 * Runs `input` with `extraHooks` (registered first) and reads the lens top-1 of position p at h_1 … h_L.
 * @returns `[L]` top-1 ids, row j = h_{j+1}.
 */
async function lensTop1Run<I>(model: HookedLensModel<I>, input: I, p: number, extraHooks: (readonly [NamesFilter, HookFn])[]): Promise<{ ids: number[]; logits: number[] }> {
  const L = model.nLayers;
  const prefix = model.residPrefix;
  const perLayer: (tf.Tensor | undefined)[] = new Array(L).fill(undefined);
  const lensHooks = Array.from({ length: L }, (_, j) => {
    const fn: HookFn = (resid) => {
      checkResidPos(resid, p, `lens read at h_${j + 1}`);
      const logits = tf.tidy(() => {
        const row = tf.reshape(tf.slice(resid, [0, p, 0], [1, 1, resid.shape[2]!]), [1, resid.shape[2]!]);
        return tf.reshape(model.lensLogits(row), [1, -1]);
      });
      perLayer[j] = tf.keep(logits);
      return undefined;
    };
    return [lensReadName(prefix, L, j + 1), fn] as const;
  });
  try {
    const out = await model.runWithHooks(input, { fwdHooks: [...extraHooks, ...lensHooks] });
    out.dispose();
    if (perLayer.some((t) => !t)) throw new InvalidArgumentError('intervention: a residual hook did not run (does the model stop early?)');
    const stacked = tf.concat(perLayer as tf.Tensor[], 0);
    try {
      const top = await topKTieSafe(stacked, 1);
      return { ids: Array.from(top.ids), logits: Array.from(top.logits) };
    } finally {
      stacked.dispose();
    }
  } finally {
    for (const t of perLayer) t?.dispose();
  }
}

/**
 * One intervention pair (§4): for every step of `implantSchedule(sEarly, n)` run the late input with the
 * implant at position `latePos`, recompute the lens of that position at h_1 … h_L and report the new
 * top-1 saturation s', whether the final top-1 is unchanged, and success (unchanged and s' = m in
 * 'original' mode, m − 1 in 'intended' mode; see the module comment for why).
 *
 * Implemented with `runWithHooks`:
 * - intended: `blocks.{m}.hook_resid_pre` (m = L: `blocks.{L−1}.hook_resid_post`) returns h_m with
 *   position p := v_i;
 * - original: `blocks.{m}.hook_resid_pre` stores h_m in the run's hook ctx, `blocks.{m}.hook_resid_post`
 *   returns that stored h_m (block m skipped for all positions) with position p := v_i.
 * The early example's states h_m are taken from one `runWithCache` of `earlyInput` (residuals only).
 *
 * @param model a hooked lens model (a causal LM: GPT-2 or a rotary family; ViT with CLS position 0; the Whisper decoder).
 * @returns y, the clean late saturation (when y was computed), and one result per implant.
 */
export async function runIntervention<I>(model: HookedLensModel<I>, opts: RunInterventionOptions<I>): Promise<InterventionOutcome> {
  const L = model.nLayers;
  const mode = opts.mode ?? 'intended';
  const space = opts.implantSpace ?? 'resid';
  if (mode !== 'intended' && mode !== 'original') throw new InvalidArgumentError(`runIntervention: mode must be 'intended' or 'original', got '${String(mode)}'`);
  if (space !== 'resid' && space !== 'lnFinal') throw new InvalidArgumentError(`runIntervention: implantSpace must be 'resid' or 'lnFinal', got '${String(space)}'`);
  if (model.lensPositions === 'cls' && (opts.earlyPos !== 0 || opts.latePos !== 0)) {
    throw new InvalidArgumentError('runIntervention: this model is lensed at the CLS position only; earlyPos and latePos must be 0');
  }
  const maxM = mode === 'original' ? L - 1 : L;
  const full = implantSchedule(opts.sEarly, opts.n);
  const schedule = full.filter((s) => s.m <= maxM);
  const skipped = full.filter((s) => s.m > maxM);
  if (skipped.length && (opts.outOfRange ?? 'throw') !== 'skip') {
    throw new InvalidArgumentError(
      `runIntervention: the schedule needs m up to ${full[full.length - 1]!.m} but ${mode} mode allows m ≤ ${maxM} for L = ${L} blocks (s_early = ${opts.sEarly}, n = ${opts.n})`,
      `pairs must satisfy s_early + n + 1 ≤ ${maxM}, or pass outOfRange: 'skip'`,
    );
  }
  const lnFinal = space === 'lnFinal' ? (opts.lnFinal ?? model.lensNorm?.(L)) : undefined;
  if (space === 'lnFinal' && !lnFinal) throw new InvalidArgumentError("runIntervention: implantSpace 'lnFinal' needs the final layer norm", 'pass opts.lnFinal');

  const prefix = model.residPrefix;
  const implants = new Map<number, tf.Tensor>();
  try {
    // v_i = early h_m at earlyPos, shape [1, 1, d].
    const { output, cache } = await model.runWithCache(opts.earlyInput, { namesFilter: schedule.map((s) => residName(model, s.m)) });
    output.dispose();
    try {
      for (const { m } of schedule) {
        const h = cache.get(residName(model, m));
        checkResidPos(h, opts.earlyPos, `early example h_${m}`);
        const v = tf.tidy(() => {
          const row = tf.slice(h, [0, opts.earlyPos, 0], [1, 1, h.shape[2]!]);
          return lnFinal ? lnFinal(row) : row;
        });
        implants.set(m, v);
      }
    } finally {
      cache.dispose();
    }

    let y = opts.y;
    let sLateClean: number | undefined;
    if (y === undefined) {
      const clean = (await lensTop1Run(model, opts.lateInput, opts.latePos, [])).ids;
      y = clean[L - 1]!;
      sLateClean = top1SaturationLayer(clean);
    }

    const p = opts.latePos;
    const runs: InterventionRunResult[] = [];
    const ctxKey = '__intervention_resid_pre';
    for (const step of schedule) {
      const v = implants.get(step.m)!;
      const hooks: (readonly [NamesFilter, HookFn])[] =
        mode === 'intended'
          ? [
              [lensReadName(prefix, L, step.m), (act) => {
                checkResidPos(act, p, `h_${step.m} (${lensReadName(prefix, L, step.m)})`);
                return replacePosition(act, p, v);
              }],
            ]
          : [
              [`${prefix}blocks.${step.m}.hook_resid_pre`, (act, hook) => {
                checkResidPos(act, p, `blocks.${step.m}.hook_resid_pre`);
                hook.ctx[ctxKey] = act;
                return undefined;
              }],
              [`${prefix}blocks.${step.m}.hook_resid_post`, (_act, hook) => {
                const residPre = hook.ctx[ctxKey] as tf.Tensor | undefined;
                if (!residPre) throw new InvalidArgumentError(`intervention: blocks.${step.m}.hook_resid_pre did not run before its resid_post`);
                return replacePosition(residPre, p, v);
              }],
            ];
      const lens = await lensTop1Run(model, opts.lateInput, p, hooks);
      const newSaturation = top1SaturationLayer(lens.ids);
      const newTop1 = lens.ids[L - 1]!;
      const unchanged = newTop1 === y;
      const target = mode === 'original' ? step.m : step.m - 1;
      runs.push({ ...step, newSaturation, newTop1, unchanged, success: unchanged && newSaturation === target, lensTop1: lens.ids, lensTop1Logit: lens.logits });
    }
    return { y, sLateClean, runs, skipped };
  } finally {
    for (const t of implants.values()) t.dispose();
  }
}

/** Success rate per distance. */
export interface SuccessByDistance {
  /** Distances present, ascending. */
  d: number[];
  /** Fraction (0 … 1) of successful runs at each d (×100 for the paper's percentages). */
  rate: number[];
  /** Number of runs at each d. */
  count: number[];
  /** Max rate over d < 0 and over d ≥ 0 (the original plot's dashed step); NaN when a side is empty. */
  maxBelow: number;
  maxAtOrAbove: number;
}

/**
 * Aggregates runs (of any number of pairs) into the success rate per distance d.
 * @param results `InterventionOutcome`s, their `runs`, or a flat list of run results.
 */
export function interventionSuccessByDistance(results: readonly (InterventionOutcome | InterventionRunResult | readonly InterventionRunResult[])[]): SuccessByDistance {
  const tally = new Map<number, { ok: number; n: number }>();
  const add = (r: InterventionRunResult): void => {
    const t = tally.get(r.d) ?? { ok: 0, n: 0 };
    t.n++;
    if (r.success) t.ok++;
    tally.set(r.d, t);
  };
  for (const item of results) {
    if (Array.isArray(item)) (item as readonly InterventionRunResult[]).forEach(add);
    else if ('runs' in (item as object)) (item as InterventionOutcome).runs.forEach(add);
    else add(item as InterventionRunResult);
  }
  const d = [...tally.keys()].sort((a, b) => a - b);
  const rate = d.map((k) => tally.get(k)!.ok / tally.get(k)!.n);
  const count = d.map((k) => tally.get(k)!.n);
  const side = (pred: (x: number) => boolean): number => {
    const vals = rate.filter((_, i) => pred(d[i]!));
    return vals.length ? Math.max(...vals) : NaN;
  };
  return { d, rate, count, maxBelow: side((x) => x < 0), maxAtOrAbove: side((x) => x >= 0) };
}
