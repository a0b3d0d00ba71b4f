/**
 * The whole §3 probing experiment (docs/methods.md §3) in one call: dataset → F-fold CV of the probe →
 * the "random embeddings" and label-shuffle controls, returned as a plain report object.
 *
 * Seeds: the folds of the probe and of both controls use `seed` (identical splits, so the three
 * numbers are comparable); the random embeddings are drawn with `seed + 1`, the label permutation with
 * `seed + 2`.
 */
import { InvalidArgumentError } from '../errors.js';
import type { HostMatrix } from '../linreg/types.js';
import type { HookedLensModel } from '../lens/logit-lens.js';
import type { InputChunks } from '../lens/topk.js';
import { crossValidateProbe, randomEmbeddingControl, selectRows, shuffleLabels, type CrossValidationOptions, type CrossValidationResult } from './kfold.js';
import { buildProbeDataset, type BuildProbeDatasetOptions, type LayerBalance, type ProbeDataset } from './dataset.js';

/** Which controls to run. */
export type ProbeControl = 'randomEmbeddings' | 'labelShuffle';

/** Options of `probeDatasetExperiment`. */
export interface ProbeExperimentOptions extends CrossValidationOptions {
  /** Tasks the probe learns: only samples with label < probeK are used (default: all K of the data). */
  probeK?: number;
  /** Controls to run (default both). */
  controls?: readonly ProbeControl[];
}

/** Report of a probing experiment (all plain numbers and arrays). */
export interface ProbeReport {
  /** What the probe was trained on. */
  data: {
    /** Samples used (labels < probeK). */
    nSamples: number;
    nFeatures: number;
    /** Tasks in the data (K). */
    K: number;
    /** Tasks the probe learns. */
    probeK: number;
    /** `[probeK]` samples per task. */
    classCounts: number[];
    /** Number of blocks L and minimum layer J0 (0-based j meaning h_{j+1}). */
    L: number;
    J0: number;
    /** Per-layer balancing. */
    perLayer: LayerBalance[];
  };
  /** Chance level 1/probeK. */
  chance: number;
  /** Seed of the folds. */
  seed: number;
  /** CV of the probe on the real features. */
  probe: CrossValidationResult;
  /** CV on the controls (present when run). */
  controls: { randomEmbeddings?: CrossValidationResult; labelShuffle?: CrossValidationResult };
}

/**
 * Runs the probe and its controls on a prepared dataset (`constructProbeDataset` or `buildProbeDataset`).
 * @param dataset X `[n, d]`, y `[n]` labels 0 … K−1.
 */
export function probeDatasetExperiment(dataset: Pick<ProbeDataset, 'X' | 'y' | 'nClasses' | 'L' | 'J0' | 'perLayer'>, opts: ProbeExperimentOptions = {}): ProbeReport {
  const K = dataset.nClasses;
  const probeK = opts.probeK ?? K;
  if (!Number.isInteger(probeK) || probeK < 2 || probeK > K) throw new InvalidArgumentError(`probe experiment: probeK = ${probeK} must be an integer in 2..${K}`);
  const n = dataset.y.length;
  if (n === 0 || dataset.X.shape[1] === 0) {
    throw new InvalidArgumentError('probe experiment: the dataset is empty (every layer had fewer than minPerLayer items in some task bucket)', 'use more examples, a smaller J0 or minPerLayer, or fewer tasks K');
  }
  const rows: number[] = [];
  for (let i = 0; i < n; i++) if (dataset.y[i]! < probeK) rows.push(i);
  const X: HostMatrix = rows.length === n ? dataset.X : selectRows(dataset.X, rows);
  const y = Int32Array.from(rows, (i) => dataset.y[i]!);
  const seed = opts.seed ?? 0;
  const cvOpts: CrossValidationOptions = { ...opts, seed, nClasses: probeK };
  const probe = crossValidateProbe(X, y, cvOpts);
  const controls: ProbeReport['controls'] = {};
  const wanted = opts.controls ?? ['randomEmbeddings', 'labelShuffle'];
  if (wanted.includes('randomEmbeddings')) controls.randomEmbeddings = crossValidateProbe(randomEmbeddingControl(X, y, seed + 1), y, { ...cvOpts, keepBestProbe: false });
  if (wanted.includes('labelShuffle')) controls.labelShuffle = crossValidateProbe(X, shuffleLabels(y, seed + 2), { ...cvOpts, keepBestProbe: false });
  return {
    data: { nSamples: y.length, nFeatures: X.shape[1], K, probeK, classCounts: probe.classCounts, L: dataset.L, J0: dataset.J0, perLayer: dataset.perLayer },
    chance: 1 / probeK,
    seed,
    probe,
    controls,
  };
}

/** Options of `runProbeExperiment`. */
export interface RunProbeExperimentOptions extends BuildProbeDatasetOptions, ProbeExperimentOptions {}

/** `runProbeExperiment` result: the report plus dataset facts from the model run. */
export interface ModelProbeReport extends ProbeReport {
  /** Examples (positions) seen, and kept by the §1 filter. */
  examples: { total: number; kept: number };
  /** Feature space used. */
  featureSpace: string;
}

/**
 * The §3 experiment on a model: `buildProbeDataset(model, inputs, opts)` then `probeDatasetExperiment`.
 * README-style defaults: data with K = 5 tasks, `probeK: 4`, 5 folds.
 */
export async function runProbeExperiment<I>(model: HookedLensModel<I>, inputs: I | InputChunks<I>, opts: RunProbeExperimentOptions = {}): Promise<ModelProbeReport> {
  const dataset = await buildProbeDataset(model, inputs, opts);
  const report = probeDatasetExperiment(dataset, opts);
  return { ...report, examples: { total: dataset.saturation.length, kept: dataset.nKeptExamples }, featureSpace: dataset.featureSpace };
}
