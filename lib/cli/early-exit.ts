/**
 * `tfjs-lens early-exit`: two early-exit comparisons on decoder language models (GPT-2 and the rotary families).
 *
 * - Token-level exits of "Looking Beyond the Top-1" (docs/methods.md §5, `earlyExit`): every line of the
 *   text file is an article; per article the baseline (never exit), the oracle (exit at the top-1
 *   saturation layer), the task probe of §3 ("ours": exit when it says task 1; trained on the first
 *   `--probe-articles` articles, evaluated on the others), the softmax-margin curve over θ and the state
 *   (cosine) curve over θ, each as accuracy against the true next token vs speedup L·N / Σ cost, averaged
 *   over articles. Layers j = 0 … L−1 mean h_{j+1}.
 * - CALM-style λ curves of "Jump to Conclusions" (§9) for the id and mat mappings, either read from a
 *   `tfjs-lens shortcuts` output folder (`--calm DIR`) or computed here with `runMatPipeline`, overlaid
 *   on the fixed-exit Precision@1 curves. Layers ℓ = 0 … L mean h_ℓ.
 */
import type { Command } from 'commander';
import * as tf from '@tensorflow/tfjs-core';
import { join, resolve } from 'node:path';
import { CausalLmRoot } from '../nn/causal-lm.js';
import { HookedBert } from '../nn/bert.js';
import {
  COSINE_THRESHOLDS, SOFTMAX_MARGIN_THRESHOLDS, earlyExit, earlyExitInputs, summarizeEarlyExit, type EarlyExitSummary, type ProbeFn,
} from '../lens/early-exit.js';
import { applyProbe, buildProbeDataset, trainProbe } from '../probes/index.js';
import { runMatPipeline, type MatPipelineReport } from '../shortcuts/index.js';
import type { CalmCurve } from '../shortcuts/calm-curve.js';
import { LAMBDA_GRID_ID, LAMBDA_GRID_MAT } from '../linreg/calm.js';
import { lineChartSpec, writeChart, type LineSeries } from '../plot/index.js';
import { ensureOutputDir } from '../io/atomic-write.js';
import { readTextFile } from './text-file.js';
import { InvalidArgumentError, InvalidInputError } from '../errors.js';
import { BACKEND_HELP, formatTable, setup, type CommonOptions } from './common.js';
import { intOption, numberListOption, readTokenSequences, datasetTexts } from './text-input.js';
import { withLocalData } from './hub-data.js';

interface EarlyExitCliOptions extends CommonOptions {
  textFile?: string;
  textField?: string;
  idsFile?: string;
  articles: string;
  probeArticles: string;
  probe: boolean;
  J0: string;
  K: string;
  softmaxThetas?: string;
  cosineThetas?: string;
  costConvention: string;
  featureSpace: string;
  quirkAliasedPredictions?: boolean;
  calm: string;
  nTrain?: string;
  nVal?: string;
  lambdasId?: string;
  lambdasMat?: string;
  bertFixedPos3?: boolean;
  seed: string;
  batch: string;
  out: string;
}

/** The CALM part of the report: the λ curves and the fixed-exit Precision@1 they are drawn against. */
export interface CalmPart {
  /** 'computed' here, or the `report.json` read. */
  source: string;
  nTrain: number;
  nVal: number;
  L: number;
  curves: { id: CalmCurve; mat: CalmCurve };
  /** Precision@1 per exit layer ℓ = 0 … L of id and mat (fixed exits). */
  fixedExit: { id: number[]; mat: number[] };
}

/** What `early-exit --json` prints. */
export interface EarlyExitReport {
  model: string;
  backend: string;
  input: { file: string; source: 'text' | 'ids'; sequences: number; truncated: number; dropped: number };
  L: number;
  /** §5; null when no article has two tokens. */
  tokens: (EarlyExitSummary & {
    costConvention: 'index' | 'blocks';
    featureSpace: 'resid' | 'original';
    quirkAliasedPredictions: boolean;
    /** Positions (N per article, summed) evaluated. */
    positions: number;
    /** The probe: samples and classes it was trained on, and the articles used (null with --no-probe). */
    probeTraining: { articles: number; samples: number; classes: number; J0: number } | null;
    /** Fraction of positions whose oracle prediction equals the baseline's (1 by definition). */
    oracleAgreement: number;
  }) | null;
  calm: CalmPart | null;
  files: string[];
}

function calmFromReport(report: Pick<MatPipelineReport, 'nTrain' | 'nVal' | 'model' | 'earlyExit' | 'fixedExit'>, source: string): CalmPart {
  const id = report.fixedExit.id?.precisionAt1;
  const mat = report.fixedExit.mat?.precisionAt1;
  if (!id || !mat || !report.earlyExit?.id || !report.earlyExit?.mat) throw new InvalidInputError(source, 'has no id/mat early-exit curves or fixed-exit Precision@1', 'point --calm at the folder a `tfjs-lens shortcuts` run wrote (its report.json)');
  const nan = (xs: (number | null)[]) => xs.map((x) => (x === null ? NaN : x));
  const curve = (c: CalmCurve): CalmCurve => ({ ...c, meanLayers: nan(c.meanLayers), precisionAt1: nan(c.precisionAt1), exitRate: nan(c.exitRate) });
  return { source, nTrain: report.nTrain, nVal: report.nVal, L: report.model.nLayers, curves: { id: curve(report.earlyExit.id), mat: curve(report.earlyExit.mat) }, fixedExit: { id: nan(id), mat: nan(mat) } };
}

async function runEarlyExitCli(opts: EarlyExitCliOptions): Promise<EarlyExitReport> {
  const costConvention = opts.costConvention;
  if (costConvention !== 'index' && costConvention !== 'blocks') throw new InvalidArgumentError(`--cost-convention '${costConvention}' must be index or blocks`);
  const featureSpace = opts.featureSpace;
  if (featureSpace !== 'resid' && featureSpace !== 'original') throw new InvalidArgumentError(`--feature-space '${featureSpace}' must be resid or original`);
  const articles = intOption(opts.articles, 'articles', { min: 0 });
  const probeArticles = intOption(opts.probeArticles, 'probe-articles', { min: 1 });
  const J0 = intOption(opts.J0, 'J0', { min: 0 });
  const K = intOption(opts.K, 'K', { min: 2 });
  const seed = intOption(opts.seed, 'seed');
  const batch = intOption(opts.batch, 'batch', { min: 1 });
  const softmaxThresholds = opts.softmaxThetas ? numberListOption(opts.softmaxThetas, 'softmax-thetas') : [...SOFTMAX_MARGIN_THRESHOLDS];
  const cosineThresholds = opts.cosineThetas ? numberListOption(opts.cosineThetas, 'cosine-thetas') : [...COSINE_THRESHOLDS];
  const lambdasId = opts.lambdasId ? numberListOption(opts.lambdasId, 'lambdas-id') : [...LAMBDA_GRID_ID];
  const lambdasMat = opts.lambdasMat ? numberListOption(opts.lambdasMat, 'lambdas-mat') : [...LAMBDA_GRID_MAT];
  const { model, dir, backend } = await setup(opts);
  try {
    const bert = model instanceof HookedBert;
    if (!(model instanceof CausalLmRoot) && !(bert && articles === 0)) {
      throw new InvalidArgumentError(`early-exit needs a decoder language model (GPT-2, Llama, Mistral, Qwen2, GPT-NeoX, Gemma; BERT: the CALM curves only, with --articles 0); ${dir} is ${bert ? 'a BERT model' : 'neither'}`, bert ? 'add --articles 0' : undefined);
    }
    const L = model.cfg.nLayers;
    if (opts.probe && articles > 0 && J0 > L - 1) throw new InvalidArgumentError(`--J0 ${J0} must be at most L−1 = ${L - 1} (j = 0 … L−1 means h_{j+1})`, `this model has ${L} blocks; try --J0 0, or --no-probe`);
    const input = readTokenSequences({ textFile: opts.textFile, texts: await datasetTexts(opts.textFile, opts.textField), idsFile: opts.idsFile, tokenizer: model.tokenizer, vocabSize: model.cfg.dVocab, maxLength: model.cfg.nCtx, modelDir: dir });
    const all = input.sequences;
    const outDir = resolve(opts.out);
    ensureOutputDir(outDir);
    const files: string[] = [];

    // ---- §5 token-level exits
    let tokens: EarlyExitReport['tokens'] = null;
    if (articles > 0 && model instanceof CausalLmRoot) {
      const usedForProbe = opts.probe ? probeArticles : 0;
      const evalArticles = all.slice(usedForProbe).filter((s) => s.length >= 2).slice(0, articles);
      if (opts.probe && all.length <= probeArticles) throw new InvalidArgumentError(`${input.file} has ${all.length} sequences; --probe-articles ${probeArticles} leaves none to evaluate`, 'use a smaller --probe-articles or --no-probe');
      let probe: ProbeFn | undefined;
      let probeTraining: NonNullable<EarlyExitReport['tokens']>['probeTraining'] = null;
      if (opts.probe) {
        const data = await buildProbeDataset(model, all.slice(0, probeArticles), { J0, K, k: Math.max(K, 5), featureSpace, batchSize: 1 });
        if (data.nClasses < 2 || data.y.length === 0) throw new InvalidArgumentError(`the probe's training data has ${data.y.length} samples in ${data.nClasses} tasks`, 'use more --probe-articles, a smaller --J0, or --no-probe');
        const trained = trainProbe(data.X, data.y);
        const d = model.cfg.dModel;
        probe = (features) => applyProbe(trained, { data: features, shape: [features.length / d, d] }).predicted;
        probeTraining = { articles: probeArticles, samples: data.y.length, classes: data.nClasses, J0 };
      }
      if (!evalArticles.length) throw new InvalidArgumentError(`${input.file} has no article of at least 2 tokens to evaluate`);
      const results = [];
      let positions = 0;
      let agree = 0;
      for (const ids of evalArticles) {
        const data = await earlyExitInputs(model, ids, { probe, featureSpace });
        const r = earlyExit(data, { softmaxThresholds, cosineThresholds, costConvention, quirkAliasedPredictions: !!opts.quirkAliasedPredictions });
        positions += data.N;
        for (let t = 0; t < data.N; t++) if (r.oracle.predictions[t] === r.baseline.predictions[t]) agree++;
        results.push(r);
      }
      tokens = { ...summarizeEarlyExit(results), costConvention, featureSpace, quirkAliasedPredictions: !!opts.quirkAliasedPredictions, positions, probeTraining, oracleAgreement: agree / positions };
      const s = tokens;
      const series: LineSeries[] = [
        { name: 'softmax margin (θ)', x: s.softmax.map((p) => p.speedup), y: s.softmax.map((p) => p.accuracy) },
        ...(s.cosine ? [{ name: 'state cosine (θ)', x: s.cosine.map((p) => p.speedup), y: s.cosine.map((p) => p.accuracy) }] : []),
        { name: 'baseline', x: [s.baseline.speedup], y: [s.baseline.accuracy] },
        { name: 'oracle', x: [s.oracle.speedup], y: [s.oracle.accuracy] },
        ...(s.probe ? [{ name: 'probe (ours)', x: [s.probe.speedup], y: [s.probe.accuracy] }] : []),
      ];
      const figure = join(outDir, 'early-exit-tokens.png');
      await writeChart(figure, lineChartSpec(series, { title: `Token-level early exit, mean over ${s.articles} articles`, xTitle: 'speedup L·N / Σ cost', yTitle: 'accuracy (next token)', points: true }));
      files.push(figure);
    }

    // ---- §9 CALM λ curves
    let calm: CalmPart | null = null;
    if (opts.calm !== 'none') {
      if (opts.calm === 'compute') {
        const n = all.length;
        const nTrain = opts.nTrain === undefined ? Math.min(9000, Math.floor(0.75 * n)) : intOption(opts.nTrain, 'n-train', { min: 2 });
        const nVal = opts.nVal === undefined ? Math.min(3000, n - nTrain) : intOption(opts.nVal, 'n-val', { min: 2 });
        if (nTrain < 2 || nVal < 2 || nTrain + nVal > n) throw new InvalidArgumentError(`${input.file} has ${n} usable sequences, but --n-train ${nTrain} + --n-val ${nVal} need ${nTrain + nVal} (each ≥ 2)`, 'use a larger file or smaller --n-train / --n-val');
        const report = await runMatPipeline(model, all, { nTrain, nVal, seed, batchSize: batch, mappings: ['id', 'mat'], lambdasId, lambdasMat, bertFixedPos3: !!opts.bertFixedPos3 });
        calm = calmFromReport(report, 'computed');
      } else {
        const path = opts.calm.endsWith('.json') ? resolve(opts.calm) : join(resolve(opts.calm), 'report.json');
        let parsed: unknown;
        try {
          parsed = JSON.parse(readTextFile(path, '--calm'));
        } catch (err) {
          if (err instanceof SyntaxError) throw new InvalidInputError(path, `is not JSON (${err.message})`, 'point --calm at the folder a `tfjs-lens shortcuts` run wrote');
          throw err;
        }
        calm = calmFromReport(parsed as MatPipelineReport, path);
        if (calm.L !== L) throw new InvalidInputError(path, `was computed on a model with L = ${calm.L} blocks, this one has ${L}`, 'use the same --model as the shortcuts run');
      }
      const c = calm;
      const fixedX = Array.from({ length: c.L + 1 }, (_, l) => l);
      const figure = join(outDir, 'early-exit-calm.png');
      await writeChart(figure, lineChartSpec([
        { name: 'mat early exit (λ)', x: c.curves.mat.meanLayers, y: c.curves.mat.precisionAt1 },
        { name: 'id early exit (λ)', x: c.curves.id.meanLayers, y: c.curves.id.precisionAt1 },
        { name: 'mat fixed exit', x: fixedX, y: c.fixedExit.mat },
        { name: 'id fixed exit', x: fixedX, y: c.fixedExit.id },
      ], { title: `CALM-style early exit vs fixed exit (${c.nVal} validation samples)`, xTitle: 'layers processed', yTitle: 'Precision@1 vs the final output', yDomain: [0, 1], points: true }));
      files.push(figure);
    }
    return { model: dir, backend, input: { file: input.file, source: input.source, sequences: all.length, truncated: input.truncated, dropped: input.dropped }, L, tokens, calm, files };
  } finally {
    model.dispose();
  }
}

function f3(x: number): string {
  return Number.isFinite(x) ? x.toFixed(3) : 'n/a';
}

/** λ at which the curve keeps at least `retention` of the full model's Precision@1 with the fewest layers. */
function layersAtRetention(c: CalmCurve, retention: number): number {
  let best = NaN;
  c.precisionAt1.forEach((p, i) => {
    if (p >= retention && !(c.meanLayers[i]! >= best)) best = c.meanLayers[i]!;
  });
  return best;
}

/** The plain-text report of `early-exit`. */
export function printEarlyExit(r: EarlyExitReport): string {
  const out: string[] = [];
  out.push(`model ${r.model} on ${r.backend}`);
  if (r.tokens) {
    const t = r.tokens;
    out.push('');
    out.push(`§5 token-level exit: ${t.articles} articles from ${r.input.file}, ${t.positions} positions, L = ${r.L}, cost of an exit at j = ${t.costConvention === 'index' ? 'j' : 'j + 1'}`);
    if (t.probeTraining) out.push(`probe: trained on the first ${t.probeTraining.articles} articles (${t.probeTraining.samples} samples, ${t.probeTraining.classes} tasks, J0 = ${t.probeTraining.J0}); exits at its first "task 1"`);
    const rows: string[][] = [
      ['baseline', '', f3(t.baseline.accuracy), f3(t.baseline.speedup)],
      ['oracle', '', f3(t.oracle.accuracy), f3(t.oracle.speedup)],
      ...(t.probe ? [['probe (ours)', '', f3(t.probe.accuracy), f3(t.probe.speedup)]] : []),
      ...t.softmax.map((p) => ['softmax margin', String(p.theta), f3(p.accuracy), f3(p.speedup)]),
      ...(t.cosine ?? []).map((p) => ['state cosine', String(p.theta), f3(p.accuracy), f3(p.speedup)]),
    ];
    out.push(formatTable(['method', 'θ', 'accuracy', 'speedup'], rows));
    out.push(`oracle predictions = baseline predictions at ${(100 * t.oracleAgreement).toFixed(1)} % of positions`);
  }
  if (r.calm) {
    const c = r.calm;
    out.push('');
    out.push(`§9 CALM-style exit (${c.source === 'computed' ? `computed: ${c.nTrain} train, ${c.nVal} validation sentences` : c.source}); ℓ = 0 … L means h_ℓ`);
    const lam = (curve: CalmCurve) => curve.lambdas.map((l, i) => [curve.mapping, String(l), f3(curve.meanLayers[i]!), f3(curve.precisionAt1[i]!), f3(curve.exitRate[i]!)]);
    out.push(formatTable(['mapping', 'λ', 'mean layers', 'Precision@1', 'exit rate'], [...lam(c.curves.id), ...lam(c.curves.mat)]));
    const idL = layersAtRetention(c.curves.id, 0.95);
    const matL = layersAtRetention(c.curves.mat, 0.95);
    out.push(`fewest mean layers at Precision@1 ≥ 0.95: id ${f3(idL)}, mat ${f3(matL)}${Number.isFinite(idL) && Number.isFinite(matL) ? ` (mat saves ${(100 * (idL - matL) / c.L).toFixed(1)} % of the ${c.L} layers more than id)` : ''}`);
  }
  if (r.files.length) out.push(`\nwrote ${r.files.join(', ')}`);
  return out.join('\n');
}

/** Registers `early-exit`. */
export function registerEarlyExit(program: Command): void {
  program
    .command('early-exit')
    .description('early exit: probe / softmax-margin / state / oracle exits per token (Looking Beyond the Top-1) and CALM-style λ curves of id and mat (Jump to Conclusions)')
    .option('-m, --model <dir|hubId>', 'a decoder language model (GPT-2, Llama, Mistral, Qwen2, GPT-NeoX, Gemma), or BERT with --articles 0 (default: the shipped tiny GPT-2)')
    .option('--text-file <file>', 'text, one article (token exits) or sentence (CALM) per line; or hf://datasets/OWNER/NAME[@REV]/FILE')
    .option('--text-field <name>', 'the text column of a JSONL/CSV/TSV/parquet --text-file (one sentence per record)', 'text')
    .option('--ids-file <file>', 'token ids instead of text: one comma-separated sequence per line; or hf://datasets/OWNER/NAME[@REV]/FILE')
    .option('--articles <n>', 'articles evaluated by the token-level exits (after the probe\'s; 0 skips them)', '20')
    .option('--probe-articles <n>', 'first articles of the file that train the probe', '100')
    .option('--no-probe', 'leave out the probe ("ours")')
    .option('--J0 <j>', 'first layer of the probe\'s training data (j means h_{j+1})', '5')
    .option('--K <n>', 'tasks of the probe (5 in the original)', '5')
    .option('--softmax-thetas <list>', `θ of the softmax-margin rule (default ${SOFTMAX_MARGIN_THRESHOLDS.join(',')})`)
    .option('--cosine-thetas <list>', `θ of the state rule (default ${COSINE_THRESHOLDS.join(',')})`)
    .option('--cost-convention <c>', 'cost of an exit at j: index (j, the original) | blocks (j + 1)', 'index')
    .option('--feature-space <space>', 'probe and cosine features: resid (raw h_{j+1}) | original (LN_f(h_L) at the last layer, as HF hidden_states)', 'resid')
    .option('--quirk-aliased-predictions', 'reproduce the original bug: all methods write into one shared prediction buffer')
    .option('--calm <source>', 'CALM curves: compute | none | DIR (a `tfjs-lens shortcuts` output folder or its report.json)', 'compute')
    .option('--n-train <n>', 'CALM compute: training sentences, the first ones of the file (default 3/4, at most 9000)')
    .option('--n-val <n>', 'CALM compute: validation sentences, the next ones (default the rest, at most 3000)')
    .option('--lambdas-id <list>', 'CALM compute: λ grid of id (default the original 22 values)')
    .option('--lambdas-mat <list>', 'CALM compute: λ grid of mat (default the original 13 values)')
    .option('--bert-fixed-pos3', 'CALM compute on BERT: t = 3 in every threshold (the original BERT code)')
    .option('--seed <n>', 'seed of the CALM position sampling', '0')
    .option('--batch <n>', 'samples per forward pass (CALM compute)', '16')
    .option('-o, --out <dir>', 'where the figures go', 'tfjs-lens-early-exit')
    .option('-b, --backend <name>', BACKEND_HELP)
    .option('--json', 'print JSON instead of tables')
    .action(async (opts: EarlyExitCliOptions) => {
      const report = await runEarlyExitCli(await withLocalData(opts, ['textFile', 'idsFile']));
      process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : `${printEarlyExit(report)}\n`);
      tf.disposeVariables();
    });
}
