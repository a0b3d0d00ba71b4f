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
import { intOption, numberOption, readTokenSequences, datasetTexts } from './text-input.js';
import { HookedViT } from '../nn/vit.js';
import { HookedWhisper } from '../nn/whisper.js';
import type { HookedLensModel } from '../lens/logit-lens.js';
import { addCollectInputOptions, checkCollectFlags, chunkedExamples, type CollectInputOptions } from './model-examples.js';
import { describeInput, type ExampleInput } from './image-examples.js';
import { addShardOptions, isShardDone, printShardDone, recordedOptions, shardItems, shardRunFromOptions, type ShardCliOptions, type ShardDone } from './shard.js';
import { mergedProbeReport, writeProbeShard, type MergeProbeData } from './probe-shard.js';
import { withLocalData } from './hub-data.js';

/** The options of `probe` as commander gives them (also rebuilt by `merge` from a shard manifest). */
export interface ProbeOptions extends CommonOptions, CollectInputOptions, ShardCliOptions {
  batch: string;
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
  /** Where the examples came from (`sequences`: text/id sequences, images or clips). */
  input: ExampleInput;
  /** Examples (positions, images) seen and kept by the §1 filter. */
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

/** Runs `probe`; with a shard only that shard's rows (returns what was written); `given`: reads the shards' data (merge). */
export async function runProbe(opts: ProbeOptions, given?: MergeProbeData): Promise<ProbeCliReport | ShardDone> {
  const J0 = intOption(opts.J0, 'J0', { min: 0 });
  const K = intOption(opts.K, 'K', { min: 2 });
  const probeK = intOption(opts.probeK, 'probe-k', { min: 2, max: K });
  const k = opts.k === undefined ? Math.max(K, 5) : intOption(opts.k, 'k', { min: K });
  const folds = intOption(opts.folds, 'folds', { min: 2 });
  const minPerLayer = intOption(opts.minPerLayer, 'min-per-layer', { min: 1 });
  const filter = numberOption(opts.filter, 'filter', { min: 0, max: 1 });
  const seed = intOption(opts.seed, 'seed');
  const maxExamples = opts.maxExamples === undefined ? undefined : intOption(opts.maxExamples, 'max-examples', { min: 1 });
  const batch = intOption(opts.batch, 'batch', { min: 1 });
  if (!['resid', 'lnFinal', 'original'].includes(opts.featureSpace)) throw new InvalidArgumentError(`--feature-space '${opts.featureSpace}' must be resid, lnFinal or original`);
  const { model, dir, backend } = await setup(opts);
  try {
    checkCollectFlags(model, opts, dir);
    const lensModel = model as unknown as HookedLensModel<unknown>;
    if (!(model instanceof CausalLmRoot) && !(model instanceof HookedViT) && !(model instanceof HookedWhisper)) throw new InvalidArgumentError(`probe needs a decoder language model (GPT-2, Llama, Mistral, Qwen2, GPT-NeoX, Gemma), ViT or Whisper checkpoint (a next-token or class lens); ${dir} is not one`);
    const L = lensModel.nLayers;
    if (J0 > L - 1) throw new InvalidArgumentError(`--J0 ${J0} must be at most L−1 = ${L - 1} (j = 0 … L−1 means h_{j+1})`, `this model has ${L} blocks; try --J0 ${Math.max(0, Math.floor(L / 4))}`);
    const experiment = { J0, K, probeK, k, folds, seed, minPerLayer, filterFraction: filter, featureSpace: opts.featureSpace as FeatureSpace, quirkAllAgreeIsL: !!opts.quirkAllAgreeIsL };
    const shard = given ? undefined : shardRunFromOptions(opts);
    // A shard makes only its block of chunks; merge (given data) makes none.
    const range = given ? () => ({ start: 0, end: 0 }) : shard ? (total: number) => shardItems(shard, total) : undefined;
    const chunked = await chunkedExamples(model, dir, { ...opts, maxExamples, batch, range });
    let input: ExampleInput;
    let report: ModelProbeReport;
    if (chunked) {
      if (shard) return await writeProbeShard(shard, lensModel, { part: chunked.chunks, total: chunked.total, inputFiles: chunked.files }, experiment, { options: recordedOptions(opts, dir), backend });
      input = chunked.input;
      report = given ? mergedProbeReport(await given({ ...experiment, L }), experiment) : await runProbeExperiment(lensModel, chunked.chunks, experiment);
    } else {
      const gpt2 = model as CausalLmRoot;
      const tokens = readTokenSequences({ textFile: opts.textFile, texts: await datasetTexts(opts.textFile, opts.textField), idsFile: opts.idsFile, tokenizer: gpt2.tokenizer, vocabSize: gpt2.cfg.dVocab, maxLength: gpt2.cfg.nCtx, maxExamples, modelDir: dir });
      input = { file: tokens.file, source: tokens.source, sequences: tokens.sequences.length, truncated: tokens.truncated, dropped: tokens.dropped };
      // One sentence per chunk: sentences differ in length, and a chunk must be one [batch, T] block.
      const textExperiment = { ...experiment, batchSize: 1 };
      if (shard) {
        const { start, end } = shardItems(shard, tokens.sequences.length);
        return await writeProbeShard(shard, gpt2, { part: tokens.sequences.slice(start, end), total: tokens.sequences.length, inputFiles: [tokens.file] }, textExperiment, { options: recordedOptions(opts, dir), backend });
      }
      report = given ? mergedProbeReport(await given({ ...textExperiment, L }), textExperiment) : await runProbeExperiment(gpt2, tokens.sequences, textExperiment);
    }
    return {
      model: dir,
      backend,
      input,
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
  const source = r.input.source === 'images' || r.input.source === 'audio' ? describeInput(r.input, r.examples.total) : `${r.input.sequences} sequences from ${r.input.file}: ${r.examples.total} positions`;
  out.push(`${source}, ${r.examples.kept} kept by the s_0 filter`);
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
  const command = addCollectInputOptions(
    program
      .command('probe')
      .description('task-transition probe: can a linear probe tell which rank a layer is fixing? (vs random-embedding and shuffled-label controls)')
      .option('-m, --model <dir|hubId>', 'a decoder language model (GPT-2, Llama, Mistral, Qwen2, GPT-NeoX, Gemma), ViT or Whisper checkpoint (default: the shipped tiny GPT-2)'),
  )
    .option('--batch <n>', 'ViT: images per forward pass', '16')
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
    .option('--json', 'print JSON instead of a table');
  addShardOptions(command).action(async (opts: ProbeOptions) => {
    const report = await runProbe(await withLocalData(opts, ['textFile', 'idsFile', 'images', 'audio']));
    process.stdout.write(isShardDone(report) ? `${printShardDone(report, opts.json)}\n` : opts.json ? `${JSON.stringify(report, null, 2)}\n` : `${printProbe(report)}\n`);
    tf.disposeVariables();
  });
}
