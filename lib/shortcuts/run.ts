/**
 * `runMatPipeline`: the whole mat experiment (docs/methods.md §7–§10) on one model and a list of tokenised
 * sentences, returning a plain JSON-serialisable report:
 * 1. one position per sentence (`sampleShortcutPositions`, seeded); the first `nTrain` sentences train,
 *    the next `nVal` validate (as the original: 9000 / 3000);
 * 2. training states (and, for GPT-2 sub-module mappings, registries) streamed into a
 *    `ShortcutAccumulator` (memory independent of nTrain) — or kept on the host with `fit: 'host'`;
 * 3. A_{j,i} for all i < j and π_{b,a→a+1}, saved to `outDir/shortcuts.safetensors`;
 * 4. validation states → r² heatmaps (`r2Matrices`);
 * 5. fixed-exit metrics of every mapping (`evaluateMappings`) and the id / mat early-exit curves
 *    (`calmEarlyExitCurve`); the report is also written to `outDir/report.json`.
 */
import { mkdir } from 'node:fs/promises';
import { writeFileAtomic } from '../io/atomic-write.js';
import { join } from 'node:path';
import { InvalidArgumentError } from '../errors.js';
import { ShortcutAccumulator, type ShortcutStatistics } from './accumulate.js';
import { calmEarlyExitCurve, type CalmCurve } from './calm-curve.js';
import { collectStates, stateBatchCount } from './collect.js';
import { evaluateMappings, MAPPINGS, type MappingMetrics, type MappingName } from './evaluate.js';
import { fitShortcutsFromStates } from './fit.js';
import { matModelInfo, type MatModel, type MatModelInfo } from './model-adapter.js';
import { sampleShortcutPositions } from './positions.js';
import { r2Matrices, type R2Matrices } from './r2-matrices.js';
import { meanPrefixLength } from '../linreg/calm.js';

/** Options of `runMatPipeline`. */
export interface MatPipelineOptions {
  /** Training sentences (the first nTrain). */
  nTrain: number;
  /** Validation sentences (the next nVal). */
  nVal: number;
  /** Seed of the position sampling. */
  seed: number;
  /** Where to write `shortcuts.safetensors` and `report.json` (created; nothing written when omitted). */
  outDir?: string;
  /** Samples per forward pass (default 16). */
  batchSize?: number;
  /** Mappings to evaluate (default: all five for GPT-2, id and mat for BERT). */
  mappings?: readonly MappingName[];
  /** 'stream' (default): Gram matrices, memory independent of nTrain; 'host': keep states, fit with all threads. */
  fit?: 'stream' | 'host';
  /** Threads of the float64 kernel ('host' fit and r²; streaming accumulators default to 1). */
  threads?: number;
  /** BERT: [MASK] id (default 103). */
  maskTokenId?: number;
  /** BERT: the original's t = 3 in the early-exit threshold (default false). */
  bertFixedPos3?: boolean;
  /** λ grids (defaults `LAMBDA_GRID_ID`, `LAMBDA_GRID_MAT`). */
  lambdasId?: readonly number[];
  lambdasMat?: readonly number[];
  /** Progress messages (stage names). */
  onProgress?: (stage: string) => void;
  /** The training sums already collected (e.g. the shards of a sharded run, added): the training states are not run. */
  statistics?: ShortcutStatistics;
}

/** The report of `runMatPipeline` (plain numbers and arrays; NaN entries serialise as null). */
export interface MatPipelineReport {
  model: MatModelInfo;
  seed: number;
  nTrain: number;
  nVal: number;
  /** Mean (t + 1) over the validation samples (N of the early-exit threshold). */
  meanPrefixLengthVal: number;
  /** r² heatmaps `[L+1][L+1]` on the validation states (diagonal 1, lower triangle NaN). */
  r2: R2Matrices;
  /** Per mapping, per exit layer ℓ = 0 … L. */
  fixedExit: Partial<Record<MappingName, MappingMetrics>>;
  /** Early-exit curves of id and mat. */
  earlyExit: { id: CalmCurve; mat: CalmCurve };
  /** Files written. */
  files: { maps?: string; report?: string };
  /** Wall seconds per stage. */
  seconds: { trainStates: number; fit: number; valStates: number; r2: number; evaluate: number; total: number };
}

/** The options `collectMatStatistics` shares with `runMatPipeline`. */
export type MatStatisticsOptions = Pick<MatPipelineOptions, 'nTrain' | 'nVal' | 'seed' | 'batchSize' | 'mappings' | 'maskTokenId'> & {
  /** The training batches to run, given their number (default all): a shard of a sharded run. */
  batches?: (total: number) => { start: number; end: number };
};

/** The sampled positions, split and batching of a run (the same for the whole run and each shard). */
function matPlan(model: MatModel, sentences: readonly ArrayLike<number>[], opts: MatStatisticsOptions) {
  const info = matModelInfo(model);
  const { nTrain, nVal, seed } = opts;
  if (!Number.isInteger(nTrain) || nTrain < 2 || !Number.isInteger(nVal) || nVal < 2) throw new InvalidArgumentError(`runMatPipeline: nTrain and nVal must be integers ≥ 2, got ${nTrain}, ${nVal}`);
  if (sentences.length < nTrain + nVal) throw new InvalidArgumentError(`runMatPipeline: ${sentences.length} sentences, but nTrain + nVal = ${nTrain + nVal}`);
  const mappings = [...(opts.mappings ?? (info.kind === 'bert' ? ['id', 'mat'] : MAPPINGS))] as MappingName[];
  for (const m of ['id', 'mat'] as const) if (!mappings.includes(m)) mappings.unshift(m);
  const positions = sampleShortcutPositions(sentences.slice(0, nTrain + nVal), { seed });
  return {
    info,
    mappings,
    needRegistries: mappings.some((m) => m !== 'id' && m !== 'mat'),
    batch: { batchSize: opts.batchSize ?? 16, maskTokenId: opts.maskTokenId },
    train: sentences.slice(0, nTrain),
    val: sentences.slice(nTrain, nTrain + nVal),
    posTrain: positions.subarray(0, nTrain),
    posVal: positions.subarray(nTrain),
  };
}

/**
 * The training half of the mat pipeline alone: the float64 Gram sums of the training states (and
 * registries) — of all training batches, or of `batches(total)` only (one shard). The sums of every
 * shard added up (`addShortcutStatistics`) and passed to `runMatPipeline({ statistics })` give the run's
 * result: each sample is computed in the same batch as in the whole run.
 */
export async function collectMatStatistics(model: MatModel, sentences: readonly ArrayLike<number>[], opts: MatStatisticsOptions): Promise<{ statistics: ShortcutStatistics; batches: { start: number; end: number; total: number } }> {
  const plan = matPlan(model, sentences, opts);
  const total = stateBatchCount(model, plan.train, plan.posTrain, plan.batch);
  const range = opts.batches?.(total) ?? { start: 0, end: total };
  const acc = new ShortcutAccumulator(plan.info.nLayers, plan.info.dModel, { submodules: plan.needRegistries });
  try {
    await collectStates(model, plan.train, plan.posTrain, { ...plan.batch, registries: plan.needRegistries, keep: false, batches: range, onBatch: (b) => acc.add(b) });
    return { statistics: acc.statistics(), batches: { ...range, total } };
  } finally {
    acc.dispose();
  }
}

/** Runs the mat pipeline; see the module comment. */
export async function runMatPipeline(model: MatModel, sentences: readonly ArrayLike<number>[], opts: MatPipelineOptions): Promise<MatPipelineReport> {
  const { info, mappings, needRegistries, batch, train, val, posTrain, posVal } = matPlan(model, sentences, opts);
  const { nTrain, nVal, seed } = opts;
  const progress = opts.onProgress ?? (() => undefined);
  const clock = () => performance.now() / 1000;
  const t0 = clock();

  const given = opts.statistics;
  if (given && (given.nLayers !== info.nLayers || given.dModel !== info.dModel || given.submodules !== needRegistries || given.count !== nTrain)) {
    throw new InvalidArgumentError(`runMatPipeline: the statistics (L = ${given.nLayers}, d = ${given.dModel}, sub-module sums ${given.submodules}, ${given.count} samples) do not fit this run (L = ${info.nLayers}, d = ${info.dModel}, sub-module sums ${needRegistries}, nTrain = ${nTrain})`);
  }
  progress(given ? 'fit from the given statistics' : 'train states');
  const streaming = (opts.fit ?? 'stream') === 'stream';
  const acc = streaming && !given ? new ShortcutAccumulator(info.nLayers, info.dModel, { submodules: needRegistries }) : undefined;
  let maps;
  let tTrain: number;
  let tFit: number;
  const mapsPath = opts.outDir ? join(opts.outDir, 'shortcuts.safetensors') : undefined;
  if (opts.outDir) await mkdir(opts.outDir, { recursive: true });
  const metadata = { model: info.kind, n_train: String(nTrain), seed: String(seed), positions: 'one uniform position per sentence (sampleShortcutPositions)' };
  try {
    let source: Parameters<typeof fitShortcutsFromStates>[0];
    if (given) source = given;
    else {
      const collected = await collectStates(model, train, posTrain, { ...batch, registries: needRegistries, keep: !streaming, onBatch: acc ? (b) => acc.add(b) : undefined });
      source = acc ?? collected;
    }
    tTrain = clock();
    progress('fit');
    maps = await fitShortcutsFromStates(source, { threads: opts.threads, path: mapsPath, metadata });
    tFit = clock();
  } finally {
    acc?.dispose();
  }

  progress('validation states');
  const valStates = await collectStates(model, val, posVal, { ...batch, keep: true });
  const tVal = clock();
  progress('r2');
  const r2 = r2Matrices(valStates, maps);
  const tR2 = clock();
  progress('evaluate');
  const evaluation = await evaluateMappings(model, val, posVal, maps, { ...batch, mappings });
  const earlyExit = {
    id: calmEarlyExitCurve(evaluation, { mapping: 'id', lambdas: opts.lambdasId, bertFixedPos3: opts.bertFixedPos3 }),
    mat: calmEarlyExitCurve(evaluation, { mapping: 'mat', lambdas: opts.lambdasMat, bertFixedPos3: opts.bertFixedPos3 }),
  };
  const tEval = clock();

  const report: MatPipelineReport = {
    model: info,
    seed,
    nTrain,
    nVal,
    meanPrefixLengthVal: meanPrefixLength(posVal),
    r2,
    fixedExit: evaluation.metrics,
    earlyExit,
    files: { maps: mapsPath, report: opts.outDir ? join(opts.outDir, 'report.json') : undefined },
    seconds: { trainStates: tTrain - t0, fit: tFit - tTrain, valStates: tVal - tFit, r2: tR2 - tVal, evaluate: tEval - tR2, total: tEval - t0 },
  };
  if (opts.outDir) writeFileAtomic(join(opts.outDir, 'report.json'), `${JSON.stringify(report, null, 1)}\n`);
  return report;
}
