/**
 * `tfjs-lens probe`: the task-transition probe of "Looking Beyond the Top-1" (docs/methods.md §3) with
 * `runProbeExperiment` — every position of every sentence is an example; its saturation layers label each
 * residual state h_{j+1} (j ≥ J0) with the task in progress (fixing rank 1, rank 2, …); a balanced,
 * pooled dataset trains a one-vs-rest logistic-regression probe with seeded F-fold cross-validation,
 * against the "random embeddings" and label-shuffle controls. Prints balanced accuracy ± SEM.
 */
import type { Command } from 'commander';
import * as tf from '@tensorflow/tfjs-core';
import { CausalLmRoot } from '../nn/causal-lm.js';
import { runProbeExperiment, type FeatureSpace, type ModelProbeReport } from '../probes/index.js';
import type { CrossValidationResult } from '../probes/kfold.js';
import { InvalidArgumentError } from '../errors.js';
import { BACKEND_HELP, formatTable, setup, type CommonOptions } from './common.js';
import { intOption, numberOption, readTokenSequences } from './text-input.js';

interface ProbeOptions extends CommonOptions {
  textFile?: string;
  idsFile?: string;
  maxExamples?: string;
  J0: string;
  K: string;
  probeK: string;
  k?: string;
  folds: string;
  minPerLayer: string;
  filter: string;
  featureSpace: string;
  quirkAllAgreeIsL?: boolean;
  seed: string;
}

/** A cross-validation summary (per-fold details left out). */
export interface CvSummary {
  meanBalancedAccuracy: number;
  semBalancedAccuracy: number;
  perClassRecall: number[];
  perClassAuc: number[];
  folds: number[];
}

/** What `probe --json` prints. */
export interface ProbeCliReport {
  model: string;
  backend: string;
  input: { file: string; source: 'text' | 'ids'; sequences: number; truncated: number; dropped: number };
  /** Examples (positions) seen and kept by the §1 filter. */
  examples: ModelProbeReport['examples'];
  featureSpace: string;
  data: ModelProbeReport['data'];
  chance: number;
  seed: number;
  folds: number;
  probe: CvSummary;
  controls: { randomEmbeddings?: CvSummary; labelShuffle?: CvSummary };
}

function summary(cv: CrossValidationResult): CvSummary {
  return { meanBalancedAccuracy: cv.meanBalancedAccuracy, semBalancedAccuracy: cv.semBalancedAccuracy, perClassRecall: cv.perClassRecall, perClassAuc: cv.perClassAuc, folds: cv.folds.map((f) => f.balancedAccuracy) };
}

async function runProbe(opts: ProbeOptions): Promise<ProbeCliReport> {
  const J0 = intOption(opts.J0, 'J0', { min: 0 });
  const K = intOption(opts.K, 'K', { min: 2 });
  const probeK = intOption(opts.probeK, 'probe-k', { min: 2, max: K });
  const k = opts.k === undefined ? Math.max(K, 5) : intOption(opts.k, 'k', { min: K });
  const folds = intOption(opts.folds, 'folds', { min: 2 });
  const minPerLayer = intOption(opts.minPerLayer, 'min-per-layer', { min: 1 });
  const filter = numberOption(opts.filter, 'filter', { min: 0, max: 1 });
  const seed = intOption(opts.seed, 'seed');
  const maxExamples = opts.maxExamples === undefined ? undefined : intOption(opts.maxExamples, 'max-examples', { min: 1 });
  if (!['resid', 'lnFinal', 'original'].includes(opts.featureSpace)) throw new InvalidArgumentError(`--feature-space '${opts.featureSpace}' must be resid, lnFinal or original`);
  const { model, dir, backend } = await setup(opts);
  try {
    if (!(model instanceof CausalLmRoot)) throw new InvalidArgumentError(`probe needs a decoder language model (GPT-2, Llama, Mistral, Qwen2, GPT-NeoX, Gemma), one example per token position; ${dir} is not one`);
    if (J0 > model.cfg.nLayers - 1) throw new InvalidArgumentError(`--J0 ${J0} must be at most L−1 = ${model.cfg.nLayers - 1} (j = 0 … L−1 means h_{j+1})`, `this model has ${model.cfg.nLayers} blocks; try --J0 ${Math.max(0, Math.floor(model.cfg.nLayers / 4))}`);
    const input = readTokenSequences({ textFile: opts.textFile, idsFile: opts.idsFile, tokenizer: model.tokenizer, vocabSize: model.cfg.dVocab, maxLength: model.cfg.nCtx, maxExamples, modelDir: dir });
    // One sentence per chunk: sentences differ in length, and a chunk must be one [batch, T] block.
    const report = await runProbeExperiment(model, input.sequences, {
      J0, K, probeK, k, folds, seed, minPerLayer, filterFraction: filter, featureSpace: opts.featureSpace as FeatureSpace, quirkAllAgreeIsL: !!opts.quirkAllAgreeIsL, batchSize: 1,
    });
    return {
      model: dir,
      backend,
      input: { file: input.file, source: input.source, sequences: input.sequences.length, truncated: input.truncated, dropped: input.dropped },
      examples: report.examples,
      featureSpace: report.featureSpace,
      data: report.data,
      chance: report.chance,
      seed: report.seed,
      folds,
      probe: summary(report.probe),
      controls: {
        ...(report.controls.randomEmbeddings ? { randomEmbeddings: summary(report.controls.randomEmbeddings) } : {}),
        ...(report.controls.labelShuffle ? { labelShuffle: summary(report.controls.labelShuffle) } : {}),
      },
    };
  } finally {
    model.dispose();
  }
}

/** The plain-text report of `probe`. */
export function printProbe(r: ProbeCliReport): string {
  const out: string[] = [];
  const d = r.data;
  out.push(`model ${r.model} on ${r.backend}`);
  out.push(`${r.input.sequences} sequences from ${r.input.file}: ${r.examples.total} positions, ${r.examples.kept} kept by the s_0 filter`);
  out.push(`dataset: ${d.nSamples} samples × ${d.nFeatures} features (${r.featureSpace}), tasks 0…${d.probeK - 1} of K = ${d.K}, ${d.classCounts.join('/')} per task; layers j ≥ J0 = ${d.J0} of L = ${d.L}, kept: ${d.perLayer.filter((p) => p.kept).map((p) => p.layer).join(', ') || 'none'}`);
  out.push('');
  const row = (name: string, cv: CvSummary | undefined) => (cv ? [name, `${cv.meanBalancedAccuracy.toFixed(3)} ± ${cv.semBalancedAccuracy.toFixed(3)}`, cv.perClassRecall.map((v) => (Number.isFinite(v) ? v.toFixed(2) : 'n/a')).join(' ')] : [name, 'not run', '']);
  out.push(`balanced accuracy, ${r.folds}-fold CV (seed ${r.seed}), mean ± SEM over folds:`);
  out.push(formatTable(['features', 'balanced accuracy', 'recall per task'], [
    row('probe', r.probe),
    row('random embeddings', r.controls.randomEmbeddings),
    row('shuffled labels', r.controls.labelShuffle),
    ['chance', r.chance.toFixed(3), ''],
  ]));
  return out.join('\n');
}

/** Registers `probe`. */
export function registerProbe(program: Command): void {
  program
    .command('probe')
    .description('task-transition probe: can a linear probe tell which rank a layer is fixing? (vs random-embedding and shuffled-label controls)')
    .option('-m, --model <dir|hubId>', 'a GPT-2, Llama, Mistral or Qwen2 checkpoint (default: the shipped tiny GPT-2)')
    .option('--text-file <file>', 'text, one sentence per line (tokenised with the model\'s tokenizer)')
    .option('--ids-file <file>', 'token ids instead of text: one comma-separated sequence per line')
    .option('--max-examples <n>', 'use only the first n sequences')
    .option('--J0 <j>', 'first probe layer j (0-based, j means h_{j+1})', '5')
    .option('--K <n>', 'number of tasks (ranks) in the data', '5')
    .option('--probe-k <n>', 'tasks the probe learns (labels < probe-k)', '4')
    .option('--k <n>', 'ranks whose saturation is computed (default max(K, 5))')
    .option('--folds <n>', 'cross-validation folds', '5')
    .option('--min-per-layer <n>', 'drop layers whose smallest task bucket is smaller', '5')
    .option('--filter <fraction>', 'keep positions with s_0 ≤ floor(fraction·L)', '0.85')
    .option('--feature-space <space>', 'resid | lnFinal | original', 'resid')
    .option('--quirk-all-agree-is-l', 'a rank that agrees at every layer gets s = L (the original top-k routine)')
    .option('--seed <n>', 'seed of the folds (controls: seed+1, seed+2)', '0')
    .option('-b, --backend <name>', BACKEND_HELP)
    .option('--json', 'print JSON instead of a table')
    .action(async (opts: ProbeOptions) => {
      const report = await runProbe(opts);
      process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : `${printProbe(report)}\n`);
      tf.disposeVariables();
    });
}
