/**
 * `calmEarlyExitCurve`: CALM-style early exit with the id or mat mapping (docs/methods.md §9, BERT §10),
 * from the per-layer confidences and top-1 ids that `evaluateMappings` records.
 *
 * The exit rule itself is `calmEarlyExit` of `lib/lens/calm-exit.ts` (exit at the first ℓ = 1 … L−1 with
 * p₍₁₎ − p₍₂₎ > λ_{ℓ,t}, `calmThreshold`; otherwise the model's final output and L layers). The original
 * processes one block at a time with batch 1 and stops at the exit; the mapping at ℓ only reads h_ℓ,
 * which does not depend on whether later blocks run, so scoring every ℓ once and sweeping λ afterwards
 * gives the same decisions (the original BERT code also works on cached states). `bertFixedPos3`
 * reproduces the BERT code's bug of always passing t = 3 to the threshold.
 */
import { InvalidArgumentError } from '../errors.js';
import { calmEarlyExit, type CalmScores } from '../lens/calm-exit.js';
import { LAMBDA_GRID_ID, LAMBDA_GRID_MAT, meanPrefixLength } from '../linreg/calm.js';
import { FINAL_TOP_K, type MappingEvaluation } from './evaluate.js';

/** Options of `calmEarlyExitCurve`. */
export interface CalmCurveOptions {
  /** 'id' (logit lens) or 'mat' (A_{L,ℓ} then the lens). */
  mapping: 'id' | 'mat';
  /** λ values (default `LAMBDA_GRID_MAT` for mat, `LAMBDA_GRID_ID` for id). */
  lambdas?: readonly number[];
  /** Decay τ of the threshold (default 4). */
  tau?: number;
  /** Use t = 3 for every sample in the threshold (the original BERT code, §10). Default false. */
  bertFixedPos3?: boolean;
}

/** One early-exit curve (plain numbers, JSON-serialisable). */
export interface CalmCurve {
  mapping: 'id' | 'mat';
  lambdas: number[];
  /** Per λ: mean number of layers processed (x). */
  meanLayers: number[];
  /** Per λ: mean Precision@1 of the output against the model's final top-1 (y). */
  precisionAt1: number[];
  /** Per λ: fraction of samples that exited before layer L. */
  exitRate: number[];
  /** N of the threshold: mean (t + 1) over the samples. */
  meanPrefixLength: number;
}

/** The λ-independent scores of one mapping in the layout of `calm-exit.ts` (K = 1: top-1 only). */
export function calmScoresFromEvaluation(evaluation: MappingEvaluation, mapping: 'id' | 'mat'): CalmScores {
  const top1 = evaluation.top1[mapping];
  const conf = evaluation.confidence[mapping];
  if (!top1 || !conf) throw new InvalidArgumentError(`calmEarlyExitCurve: the evaluation has no '${mapping}' mapping`, `evaluate with mappings including '${mapping}'`);
  const { nLayers: L, nSamples: S, finalTop } = evaluation;
  const confidence = new Float64Array(S * (L + 1)).fill(NaN);
  const topK = new Int32Array(S * (L + 1));
  for (let s = 0; s < S; s++) {
    for (let l = 0; l < L; l++) {
      if (l >= 1) confidence[s * (L + 1) + l] = conf[l * S + s]!;
      topK[s * (L + 1) + l] = top1[l * S + s]!;
    }
    topK[s * (L + 1) + L] = finalTop[s * FINAL_TOP_K]!; // the real final output
  }
  return { S, L, K: 1, confidence, topK, t: Int32Array.from(evaluation.positions) };
}

/** The early-exit curve of one mapping from an `evaluateMappings` result (which must include it). */
export function calmEarlyExitCurve(evaluation: MappingEvaluation, opts: CalmCurveOptions): CalmCurve {
  if (evaluation.nSamples === 0) throw new InvalidArgumentError('calmEarlyExitCurve: no samples');
  const scores = calmScoresFromEvaluation(evaluation, opts.mapping);
  const lambdas = [...(opts.lambdas ?? (opts.mapping === 'mat' ? LAMBDA_GRID_MAT : LAMBDA_GRID_ID))];
  const results = calmEarlyExit(scores, { lambdas, mapping: opts.mapping, tau: opts.tau, bertFixedPos3: opts.bertFixedPos3 });
  const L = evaluation.nLayers;
  return {
    mapping: opts.mapping,
    lambdas,
    meanLayers: results.map((r) => r.meanLayers),
    precisionAt1: results.map((r) => r.precisionAt1),
    exitRate: results.map((r) => r.exitLayer.reduce((n, l) => n + (l < L ? 1 : 0), 0) / r.exitLayer.length),
    meanPrefixLength: meanPrefixLength(evaluation.positions),
  };
}
