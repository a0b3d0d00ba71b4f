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
import { ShortcutAccumulator } from './accumulate.js';
import { calmEarlyExitCurve, type CalmCurve } from './calm-curve.js';
import { collectStates } from './collect.js';
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

/** Runs the mat pipeline; see the module comment. */
export async function runMatPipeline(model: MatModel, sentences: readonly ArrayLike<number>[], opts: MatPipelineOptions): Promise<MatPipelineReport> {
  const info = matModelInfo(model);
  const { nTrain, nVal, seed } = opts;
  if (!Number.isInteger(nTrain) || nTrain < 2 || !Number.isInteger(nVal) || nVal < 2) throw new InvalidArgumentError(`runMatPipeline: nTrain and nVal must be integers ≥ 2, got ${nTrain}, ${nVal}`);
  if (sentences.length < nTrain + nVal) throw new InvalidArgumentError(`runMatPipeline: ${sentences.length} sentences, but nTrain + nVal = ${nTrain + nVal}`);
  const mappings = [...(opts.mappings ?? (info.kind === 'bert' ? ['id', 'mat'] : MAPPINGS))] as MappingName[];
  for (const m of ['id', 'mat'] as const) if (!mappings.includes(m)) mappings.unshift(m);
  const needRegistries = mappings.some((m) => m !== 'id' && m !== 'mat');
  const progress = opts.onProgress ?? (() => undefined);
  const batch = { batchSize: opts.batchSize ?? 16, maskTokenId: opts.maskTokenId };
  const clock = () => performance.now() / 1000;
  const t0 = clock();

  const positions = sampleShortcutPositions(sentences.slice(0, nTrain + nVal), { seed });
  const train = sentences.slice(0, nTrain);
  const val = sentences.slice(nTrain, nTrain + nVal);
  const posTrain = positions.subarray(0, nTrain);
  const posVal = positions.subarray(nTrain);

  progress('train states');
  const streaming = (opts.fit ?? 'stream') === 'stream';
  const acc = streaming ? new ShortcutAccumulator(info.nLayers, info.dModel, { submodules: needRegistries }) : undefined;
  let maps;
  let tTrain: number;
  let tFit: number;
  const mapsPath = opts.outDir ? join(opts.outDir, 'shortcuts.safetensors') : undefined;
  if (opts.outDir) await mkdir(opts.outDir, { recursive: true });
  const metadata = { model: info.kind, n_train: String(nTrain), seed: String(seed), positions: 'one uniform position per sentence (sampleShortcutPositions)' };
  try {
    const collected = await collectStates(model, train, posTrain, { ...batch, registries: needRegistries, keep: !streaming, onBatch: acc ? (b) => acc.add(b) : undefined });
    tTrain = clock();
    progress('fit');
    maps = await fitShortcutsFromStates(acc ?? collected, { threads: opts.threads, path: mapsPath, metadata });
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
