/**
 * The probe grid: datasets × layers × poolers × classifiers × seeded folds. Every cell fits one classifier on
 * one fold's training rows of one (dataset, layer, pooler) feature matrix and scores it on the fold's test
 * rows; `runProbeGrid` appends one JSON line per cell to a log (sizes, parameters, timings, scores), skips
 * the cells the log already holds (resume after a crash) and can run one contiguous shard of the cells.
 *
 * Classifiers (all on standardised features, scaler fitted on the training rows):
 * - `logistic`: one-vs-rest L2 logistic regression, L-BFGS (`fitLogisticOvR`, C);
 * - `lda`: linear discriminant analysis, closed form with shrinkage (`fitLda`);
 * - `linear`, `mlp`: softmax-regression and one-hidden-layer probes trained in tfjs with Adam and early
 *   stopping on a validation split of the training rows (`trainNeuralProbe`).
 */
import { InvalidArgumentError } from '../errors.js';
import type { HostMatrix } from '../linreg/types.js';
import { shardRange, type Shard } from '../io/shard.js';
import type { JsonlLog } from '../io/jsonl-log.js';
import { fitStandardScaler, transformStandard } from './scaler.js';
import { fitLogisticOvR, predictLogistic } from './logistic.js';
import { fitLda, predictLda } from './lda.js';
import { predictNeuralProbe, trainNeuralProbe, type NeuralProbeOptions } from './neural.js';
import { kFoldSplits, selectRows } from './kfold.js';
import { balancedAccuracy, confusionMatrix, perClassRecall } from './metrics.js';

/** Classifier names of the grid. */
export const GRID_CLASSIFIERS = ['logistic', 'lda', 'linear', 'mlp'] as const;
/** One classifier name. */
export type GridClassifier = (typeof GRID_CLASSIFIERS)[number];

/** Hyper-parameters of the classifiers (recorded in every log line). */
export interface GridClassifierParams {
  /** logistic: inverse L2 strength (default 1). */
  C?: number;
  /** lda: shrinkage α (default 0.001). */
  shrinkage?: number;
  /** linear / mlp: the `trainNeuralProbe` options except kind, seed and nClasses. */
  neural?: Omit<NeuralProbeOptions, 'kind' | 'seed' | 'nClasses'>;
}

/** One cell of the grid. */
export interface GridCell {
  dataset: string;
  /** Residual state index ℓ = 0 … L (h_ℓ). */
  layer: number;
  pooler: string;
  classifier: GridClassifier;
  fold: number;
}

/** The grid's axes. */
export interface GridAxes {
  datasets: readonly string[];
  layers: readonly number[];
  poolers: readonly string[];
  classifiers: readonly GridClassifier[];
  folds: number;
}

/** A cell's identity as one string (the resume key). */
export function gridCellKey(c: GridCell): string {
  return JSON.stringify([c.dataset, c.layer, c.pooler, c.classifier, c.fold]);
}

/** All cells in a fixed order: dataset, layer, pooler, classifier, fold (the last varies fastest). */
export function enumerateGridCells(axes: GridAxes): GridCell[] {
  if (!Number.isInteger(axes.folds) || axes.folds < 2) throw new InvalidArgumentError(`probe grid: folds must be an integer ≥ 2, got ${axes.folds}`);
  const cells: GridCell[] = [];
  for (const dataset of axes.datasets) {
    for (const layer of axes.layers) {
      for (const pooler of axes.poolers) {
        for (const classifier of axes.classifiers) {
          for (let fold = 0; fold < axes.folds; fold++) cells.push({ dataset, layer, pooler, classifier, fold });
        }
      }
    }
  }
  return cells;
}

/** One JSON line of the log. */
export interface GridRecord extends GridCell {
  folds: number;
  seed: number;
  /** Sizes: rows of the fold's training and test parts, features, classes. */
  nTrain: number;
  nTest: number;
  nFeatures: number;
  nClasses: number;
  /** The classifier's parameters (and, for the neural probes, the epochs run and the epoch kept). */
  params: Record<string, number | string | boolean>;
  /** Milliseconds: fit (scaler included) and predict. */
  timings: { fitMs: number; predictMs: number };
  scores: { accuracy: number; balancedAccuracy: number; trainAccuracy: number; perClassRecall: number[] };
}

/** Features and labels of one (dataset, layer, pooler). */
export interface GridFeatures {
  X: HostMatrix;
  /** `[n]` labels 0 … K−1. */
  y: Int32Array;
  nClasses: number;
}

/** The parameters a classifier runs with (defaults filled in), as recorded in `GridRecord.params`. */
export function requestedParams(classifier: GridClassifier, params: GridClassifierParams): Record<string, number | boolean> {
  const n = params.neural ?? {};
  switch (classifier) {
    case 'logistic':
      return { C: params.C ?? 1, tol: 1e-4, maxIter: 1000, standardize: true };
    case 'lda':
      return { shrinkage: params.shrinkage ?? 1e-3, standardize: true };
    default:
      return {
        ...(classifier === 'mlp' ? { hidden: n.hidden ?? 64 } : {}),
        learningRate: n.learningRate ?? 0.01, l2: n.l2 ?? 1e-4, batchSize: n.batchSize ?? 64, maxEpochs: n.epochs ?? 200, patience: n.patience ?? 10, valFraction: n.valFraction ?? 0.2, standardize: true,
      };
  }
}

function accuracy(y: ArrayLike<number>, p: ArrayLike<number>): number {
  let hits = 0;
  for (let i = 0; i < y.length; i++) if (y[i] === p[i]) hits++;
  return y.length ? hits / y.length : NaN;
}

/**
 * Fits and scores one classifier on one fold.
 * @param split the fold's training and test row indices into `features.X`.
 */
export async function evaluateGridCell(
  features: GridFeatures, split: { train: Int32Array; test: Int32Array }, classifier: GridClassifier, params: GridClassifierParams, seed: number,
): Promise<Pick<GridRecord, 'nTrain' | 'nTest' | 'nFeatures' | 'nClasses' | 'params' | 'timings' | 'scores'>> {
  const K = features.nClasses;
  const trainX = selectRows(features.X, split.train);
  const testX = selectRows(features.X, split.test);
  const yTrain = Int32Array.from(split.train, (r) => features.y[r]!);
  const yTest = Int32Array.from(split.test, (r) => features.y[r]!);
  const t0 = performance.now();
  let predict: (X: HostMatrix) => Int32Array | Promise<Int32Array>;
  let used: Record<string, number | string | boolean>;
  if (classifier === 'logistic' || classifier === 'lda') {
    const scaler = fitStandardScaler(trainX);
    const xs = transformStandard(scaler, trainX);
    if (classifier === 'logistic') {
      const model = fitLogisticOvR(xs, yTrain, { C: params.C ?? 1, nClasses: K });
      predict = (X) => predictLogistic(model, transformStandard(scaler, X));
      used = requestedParams(classifier, params);
    } else {
      const model = fitLda(xs, yTrain, { shrinkage: params.shrinkage ?? 1e-3, nClasses: K });
      predict = (X) => predictLda(model, transformStandard(scaler, X));
      used = requestedParams(classifier, params);
    }
  } else if (classifier === 'linear' || classifier === 'mlp') {
    const probe = await trainNeuralProbe(trainX, yTrain, { ...params.neural, kind: classifier, seed, nClasses: K });
    predict = (X) => predictNeuralProbe(probe, X);
    used = { ...requestedParams(classifier, params), epochs: probe.epochs, bestEpoch: probe.bestEpoch, nVal: probe.nVal };
  } else {
    throw new InvalidArgumentError(`probe grid: unknown classifier '${String(classifier)}'`, `use ${GRID_CLASSIFIERS.join(', ')}`);
  }
  const fitMs = performance.now() - t0;
  const t1 = performance.now();
  const pred = await predict(testX);
  const predictMs = performance.now() - t1;
  const trainPred = await predict(trainX);
  return {
    nTrain: split.train.length, nTest: split.test.length, nFeatures: features.X.shape[1], nClasses: K, params: used,
    timings: { fitMs, predictMs },
    scores: { accuracy: accuracy(yTest, pred), balancedAccuracy: balancedAccuracy(yTest, pred, K), trainAccuracy: accuracy(yTrain, trainPred), perClassRecall: perClassRecall(confusionMatrix(yTest, pred, K)) },
  };
}

/** Options of `runProbeGrid`. */
export interface RunProbeGridOptions {
  axes: GridAxes;
  /** Seed of the folds and of the neural probes. */
  seed: number;
  params: GridClassifierParams;
  /** The features of one (dataset, layer, pooler); called once per combination that has cells to run. */
  features: (dataset: string, layer: number, pooler: string) => Promise<GridFeatures> | GridFeatures;
  /** The log: cells whose key it already holds are skipped; new records are appended. */
  log: JsonlLog<GridRecord>;
  /** Run only this shard's contiguous block of the enumerated cells. */
  shard?: Shard;
  /** Called after each new record. */
  onRecord?: (record: GridRecord, done: number, total: number) => void;
}

/** What `runProbeGrid` did. */
export interface ProbeGridRun {
  /** Cells of this process (the shard's block, or all). */
  cells: number;
  /** Cells skipped because the log had them. */
  skipped: number;
  /** Records appended now. */
  added: GridRecord[];
  /** `[start, end)` of this process's block among all cells. */
  range: { start: number; end: number; total: number };
}

/** Runs (or resumes) the grid; see the module comment. */
export async function runProbeGrid(opts: RunProbeGridOptions): Promise<ProbeGridRun> {
  const all = enumerateGridCells(opts.axes);
  const range = opts.shard ? shardRange(all.length, opts.shard) : { start: 0, end: all.length };
  const mine = all.slice(range.start, range.end);
  const wanted = new Set(all.map(gridCellKey));
  for (const r of opts.log.records) {
    if (!wanted.has(gridCellKey(r))) continue;
    const expected = requestedParams(r.classifier, opts.params);
    const differs = r.seed !== opts.seed || r.folds !== opts.axes.folds || Object.entries(expected).some(([k, v]) => r.params[k] !== v);
    if (differs) {
      throw new InvalidArgumentError(
        `the log ${opts.log.path} already holds cell ${gridCellKey(r)} computed with other settings (seed ${r.seed}, ${r.folds} folds, ${JSON.stringify(r.params)})`,
        'resume with the same options, or start a new log (--log FILE or another --out)',
      );
    }
  }
  const done = new Set(opts.log.records.map((r) => gridCellKey(r)));
  const todo = mine.filter((c) => !done.has(gridCellKey(c)));
  const added: GridRecord[] = [];
  const splitCache = new Map<number, { train: Int32Array; test: Int32Array }[]>();
  let current: { key: string; features: GridFeatures } | undefined;
  for (const cell of todo) {
    const fkey = JSON.stringify([cell.dataset, cell.layer, cell.pooler]);
    if (current?.key !== fkey) current = { key: fkey, features: await opts.features(cell.dataset, cell.layer, cell.pooler) };
    const f = current.features;
    const n = f.y.length;
    if (!splitCache.has(n)) splitCache.set(n, kFoldSplits(n, opts.axes.folds, opts.seed));
    const split = splitCache.get(n)![cell.fold]!;
    const result = await evaluateGridCell(f, split, cell.classifier, opts.params, opts.seed + cell.fold);
    const record: GridRecord = { ...cell, folds: opts.axes.folds, seed: opts.seed, ...result };
    opts.log.append(record);
    added.push(record);
    opts.onRecord?.(record, added.length, todo.length);
  }
  return { cells: mine.length, skipped: mine.length - todo.length, added, range: { ...range, total: all.length } };
}
