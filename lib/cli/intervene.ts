/**
 * `tfjs-lens intervene`: the task-switch intervention of "Looking Beyond the Top-1" (docs/methods.md §4)
 * on decoder language models (GPT-2 and the rotary families: `CausalLmRoot`) and ViT. Language models: every line of the text file is an article; positions of one article with the same final
 * top-1 and top-1 saturation layers at least Δ apart form (early, late) pairs; the early position's
 * residual states around its saturation layer are implanted into the late position (`runIntervention`,
 * intended or original mode), and the success rate (final top-1 unchanged and the new saturation layer
 * where the implant sits) is reported per distance d with a figure. ViT (`--images`): every image is one
 * example at its CLS position (class lens); pairs are two different images with the same final top-1 class.
 *
 * Layer convention (beyond_top1): j = 0 … L−1 means h_{j+1}; the implant schedule uses block indices m.
 */
import type { Command } from 'commander';
import * as tf from '@tensorflow/tfjs-core';
import { join, resolve } from 'node:path';
import { CausalLmRoot } from '../nn/causal-lm.js';
import { HookedViT } from '../nn/vit.js';
import { batchChunks, rankTable, topKPerLayer } from '../lens/topk.js';
import { top1SaturationLayer } from '../lens/saturation.js';
import {
  INTERVENTION_DELTA, INTERVENTION_HALF_WIDTH, interventionSuccessByDistance, runIntervention, selectPairs,
  type InterventionExample, type InterventionRunResult, type SuccessByDistance,
} from '../lens/intervention.js';
import { barChartSpec, writeChart } from '../plot/index.js';
import { ensureOutputDir } from '../io/atomic-write.js';
import { InvalidArgumentError } from '../errors.js';
import { BACKEND_HELP, formatTable, setup, type CommonOptions } from './common.js';
import { intOption, readTokenSequences, datasetTexts } from './text-input.js';
import { lensRankTables } from './saturation.js';
import { withLocalData } from './hub-data.js';
import { imageExamples, type ExampleInput } from './image-examples.js';

interface InterveneOptions extends CommonOptions {
  textFile?: string;
  textField?: string;
  idsFile?: string;
  images?: string;
  synsets?: string;
  maxExamples?: string;
  nPairs: string;
  delta?: string;
  halfWidth?: string;
  minS: string;
  maxGap: string;
  mode: string;
  implantSpace: string;
  batch: string;
  out: string;
}

/** One run of one pair, as `--json` prints it. */
export interface InterveneRun {
  d: number;
  m: number;
  newSaturation: number;
  newTop1: number;
  unchanged: boolean;
  success: boolean;
  /** Lens top-1 of the late position at h_1 … h_L of the intervened run. */
  lensTop1: number[];
}

/** One pair and its runs. */
export interface IntervenePair {
  /** GPT-2: the article (0-based index of the sequence in the file) of both positions; ViT: −1. */
  article: number;
  /** Position (ViT: 0, the CLS position) and top-1 saturation layer; ViT: `image`, the image's index in the list and `name`, its file (or CIFAR `file#record`). */
  early: { position: number; s: number; image?: number; name?: string };
  late: { position: number; s: number; image?: number; name?: string };
  /** The shared final top-1 y. */
  y: number;
  runs: InterveneRun[];
  /** Distances of the schedule the model cannot host (m beyond the last block). */
  skipped: number[];
}

/** What `intervene --json` prints. */
export interface InterveneReport {
  model: string;
  backend: string;
  input: ExampleInput;
  L: number;
  mode: 'intended' | 'original';
  implantSpace: 'resid' | 'lnFinal';
  /** Selection rules used (Δ, half-width n, min(s), position window; min(s) and the window are GPT-2's only). */
  selection: { family: 'gpt2' | 'vit'; delta: number; n: number; minS: number; maxGap: number; nPairs: number };
  /** Positions considered (every position of every article) and pairs found. */
  examples: number;
  pairs: IntervenePair[];
  /** Success rate per distance d over all runs (`interventionSuccessByDistance`). */
  byDistance: SuccessByDistance;
  files: string[];
}

function stripRun(r: InterventionRunResult): InterveneRun {
  return { d: r.d, m: r.m, newSaturation: r.newSaturation, newTop1: r.newTop1, unchanged: r.unchanged, success: r.success, lensTop1: r.lensTop1 };
}

/** What `runIntervene` gathers per model family before the common report: pairs with their runs. */
interface IntervenePairs {
  input: ExampleInput;
  examples: number;
  pairs: IntervenePair[];
}

/** GPT-2: positions of one article pair up; the article is run again with the implant. */
async function gpt2Pairs(model: CausalLmRoot, dir: string, opts: InterveneOptions, rules: { nPairs: number; delta: number; n: number; minS: number; maxGap: number; batch: number; maxExamples?: number; mode: 'intended' | 'original'; implantSpace: 'resid' | 'lnFinal' }): Promise<IntervenePairs> {
  const L = model.cfg.nLayers;
  const input = readTokenSequences({ textFile: opts.textFile, texts: await datasetTexts(opts.textFile, opts.textField), idsFile: opts.idsFile, tokenizer: model.tokenizer, vocabSize: model.cfg.dVocab, maxLength: model.cfg.nCtx, maxExamples: rules.maxExamples, modelDir: dir });
  const tables = await lensRankTables(model, input.sequences, 1, rules.batch);
  const examples: (InterventionExample & { article: number })[] = [];
  input.sequences.forEach((seq, a) => {
    for (let p = 0; p < seq.length; p++) {
      const top1 = tables.ranks(a, p).map((row) => row[0]!);
      examples.push({ id: examples.length, group: a, article: a, position: p, s: top1SaturationLayer(top1), y: top1[L - 1]! });
    }
  });
  const selected = selectPairs(examples, { family: 'gpt2', nPairs: rules.nPairs, L, n: rules.n, delta: rules.delta, minSaturation: rules.minS, maxPositionGap: rules.maxGap });
  const pairs: IntervenePair[] = [];
  for (const pair of selected) {
    const ids = [input.sequences[pair.early.article]!];
    const out = await runIntervention(model, {
      earlyInput: ids, earlyPos: pair.early.position, lateInput: ids, latePos: pair.late.position, sEarly: pair.early.s, n: rules.n,
      mode: rules.mode, implantSpace: rules.implantSpace, y: pair.early.y, outOfRange: 'skip',
    });
    pairs.push({
      article: pair.early.article, early: { position: pair.early.position, s: pair.early.s }, late: { position: pair.late.position, s: pair.late.s },
      y: out.y, runs: out.runs.map(stripRun), skipped: out.skipped.map((s) => s.d),
    });
  }
  return { input: { file: input.file, source: input.source, sequences: input.sequences.length, truncated: input.truncated, dropped: input.dropped }, examples: examples.length, pairs };
}

/**
 * ViT (§4: Δ 5, n 3, different images, all i < j pairs in order): the class lens at the CLS position of
 * every image gives s and y; the early image's h_m at CLS is implanted into the late image's CLS position.
 */
async function vitPairs(model: HookedViT, dir: string, opts: InterveneOptions, rules: { nPairs: number; delta: number; n: number; batch: number; maxExamples?: number; mode: 'intended' | 'original'; implantSpace: 'resid' | 'lnFinal' }): Promise<IntervenePairs> {
  if (!opts.images) throw new InvalidArgumentError(`${dir} is a ViT model: pass --images PATH (a folder of images or class folders, or CIFAR batches)`);
  const L = model.nLayers;
  const batched = imageExamples(model, dir, opts.images, { maxExamples: rules.maxExamples, batch: rules.batch, synsets: opts.synsets });
  const examples: InterventionExample[] = [];
  for (const { chunk, owned } of batchChunks(batched.chunks, undefined)) {
    try {
      const top = await topKPerLayer(model, chunk, { k: 1 });
      for (let b = 0; b < top.shape[1]; b++) {
        const top1 = rankTable(top, b, 0).map((row) => row[0]!);
        examples.push({ id: examples.length, group: examples.length, position: 0, s: top1SaturationLayer(top1), y: top1[L - 1]! });
      }
    } finally {
      owned?.dispose();
    }
  }
  const selected = selectPairs(examples, { family: 'vit', nPairs: rules.nPairs, L, n: rules.n, delta: rules.delta });
  // One image per input: chunk i of a batch-1 listing is image i's pixels [1, 3, H, W].
  const single = imageExamples(model, dir, opts.images, { maxExamples: rules.maxExamples, batch: 1, synsets: opts.synsets });
  const pairs: IntervenePair[] = [];
  for (const pair of selected) {
    const early = single.chunks.make(Number(pair.early.id));
    const late = single.chunks.make(Number(pair.late.id));
    try {
      const out = await runIntervention(model, {
        earlyInput: early.chunk, earlyPos: 0, lateInput: late.chunk, latePos: 0, sEarly: pair.early.s, n: rules.n,
        mode: rules.mode, implantSpace: rules.implantSpace, y: pair.early.y, outOfRange: 'skip',
      });
      const image = (e: InterventionExample) => ({ position: 0, s: e.s, image: Number(e.id), name: batched.images[Number(e.id)]!.name });
      pairs.push({ article: -1, early: image(pair.early), late: image(pair.late), y: out.y, runs: out.runs.map(stripRun), skipped: out.skipped.map((s) => s.d) });
    } finally {
      early.owned?.dispose();
      late.owned?.dispose();
    }
  }
  return { input: batched.input, examples: examples.length, pairs };
}

async function runIntervene(opts: InterveneOptions): Promise<InterveneReport> {
  const mode = opts.mode;
  if (mode !== 'intended' && mode !== 'original') throw new InvalidArgumentError(`--mode '${mode}' must be intended or original`);
  const implantSpace = opts.implantSpace;
  if (implantSpace !== 'resid' && implantSpace !== 'lnFinal') throw new InvalidArgumentError(`--implant-space '${implantSpace}' must be resid or lnFinal`);
  const nPairs = intOption(opts.nPairs, 'n-pairs', { min: 1 });
  const minS = intOption(opts.minS, 'min-s', { min: 0 });
  const maxGap = intOption(opts.maxGap, 'max-gap', { min: 1 });
  const batch = intOption(opts.batch, 'batch', { min: 1 });
  const maxExamples = opts.maxExamples === undefined ? undefined : intOption(opts.maxExamples, 'max-examples', { min: 1 });
  const { model, dir, backend } = await setup(opts);
  try {
    if (!(model instanceof CausalLmRoot) && !(model instanceof HookedViT)) throw new InvalidArgumentError(`intervene runs on decoder language models (GPT-2, Llama, Mistral, Qwen2, GPT-NeoX, Gemma: token positions of an article) and ViT (the CLS position of images); ${dir} is neither`);
    const family = model instanceof HookedViT ? 'vit' : 'gpt2';
    if (family === 'vit' && (opts.textFile || opts.idsFile)) throw new InvalidArgumentError(`${dir} is a ViT model, which takes --images PATH, not --text-file / --ids-file`);
    if (family === 'gpt2' && (opts.images || opts.synsets)) throw new InvalidArgumentError(`--images is for ViT models (images); ${dir} is a language model, which takes --text-file FILE or --ids-file FILE`);
    const delta = opts.delta === undefined ? INTERVENTION_DELTA[family] : intOption(opts.delta, 'delta', { min: 1 });
    const n = opts.halfWidth === undefined ? INTERVENTION_HALF_WIDTH[family] : intOption(opts.halfWidth, 'half-width', { min: 0 });
    const L = model instanceof HookedViT ? model.nLayers : model.cfg.nLayers;
    const floor = family === 'gpt2' ? Math.max(n, minS) : n;
    if (floor + delta > L - 1) {
      const gpt2 = family === 'gpt2';
      throw new InvalidArgumentError(
        `Δ = ${delta}, half-width n = ${n}${gpt2 ? ` and min(s) = ${minS}` : ''} leave no pair on a model with L = ${L} blocks (s = 0 … ${L - 1}; pairs need s_late − s_early ≥ Δ and s_early ≥ ${gpt2 ? 'max(n, min(s))' : 'n'})`,
        gpt2
          ? `the paper's values (Δ 10, n 5, min(s) 10) are for GPT-2 XL (48 blocks); for ${L} blocks try --delta ${Math.max(1, Math.floor(L / 2))} --half-width 1 --min-s 1`
          : `the paper's values (Δ 5, n 3) are for ViT-L (24 blocks); for ${L} blocks try --delta ${Math.max(1, Math.floor(L / 2))} --half-width ${Math.max(0, Math.min(1, L - 1 - Math.max(1, Math.floor(L / 2))))}`,
      );
    }
    const rules = { nPairs, delta, n, minS, maxGap, batch, maxExamples, mode: mode as 'intended' | 'original', implantSpace: implantSpace as 'resid' | 'lnFinal' };
    const found = model instanceof HookedViT ? await vitPairs(model, dir, opts, rules) : await gpt2Pairs(model, dir, opts, rules);
    const pairs = found.pairs;
    const byDistance = interventionSuccessByDistance(pairs.map((p) => p.runs as InterventionRunResult[]));
    const outDir = resolve(opts.out);
    const files: string[] = [];
    if (byDistance.d.length) {
      ensureOutputDir(outDir);
      const figure = join(outDir, `intervene-${mode}.png`);
      await writeChart(figure, barChartSpec(byDistance.d.map((d, i) => ({ category: String(d), value: 100 * byDistance.rate[i]! })), {
        title: `Implanting a saturated state (${mode} mode, ${pairs.length} pairs): success per distance`, xTitle: 'distance d = m − 1 − s_early', yTitle: 'successful runs (%)',
      }));
      files.push(figure);
    }
    return {
      model: dir, backend, input: found.input,
      L, mode, implantSpace, selection: { family, delta, n, minS, maxGap, nPairs }, examples: found.examples, pairs, byDistance, files,
    };
  } finally {
    model.dispose();
  }
}

function pct(x: number): string {
  return Number.isFinite(x) ? `${(100 * x).toFixed(1)}` : 'n/a';
}

/** The plain-text report of `intervene`. */
export function printIntervene(r: InterveneReport): string {
  const s = r.selection;
  const out: string[] = [];
  out.push(`model ${r.model} on ${r.backend}`);
  if (s.family === 'vit') {
    out.push(`${r.input.sequences} images from ${r.input.file}: ${r.examples} examples (the CLS position), L = ${r.L} blocks`);
    out.push(`pairs: different images, same final top-1 class, |s_late − s_early| ≥ Δ = ${s.delta}, s_early ≥ n = ${s.n}: ${r.pairs.length} of at most ${s.nPairs}`);
  } else {
    out.push(`${r.input.sequences} articles from ${r.input.file}: ${r.examples} positions, L = ${r.L} blocks`);
    out.push(`pairs: same article, same final top-1, |s_late − s_early| ≥ Δ = ${s.delta}, s_early ≥ max(n = ${s.n}, ${s.minS}), positions ≤ ${s.maxGap} apart: ${r.pairs.length} of at most ${s.nPairs}`);
  }
  out.push(`implant: the early position's h_m (${r.implantSpace}) into the late position, ${r.mode} mode, m = s_early − n + i + 1, d = m − 1 − s_early`);
  if (!r.pairs.length) {
    out.push('no pair found: try a larger file (--max-examples), a smaller --delta or --min-s');
    return out.join('\n');
  }
  out.push('');
  const b = r.byDistance;
  out.push(formatTable(['d', 'runs', 'success %'], b.d.map((d, i) => [String(d), String(b.count[i]), pct(b.rate[i]!)])));
  out.push(`max success: d < 0 ${pct(b.maxBelow)} %, d ≥ 0 ${pct(b.maxAtOrAbove)} %`);
  const skipped = r.pairs.reduce((acc, p) => acc + p.skipped.length, 0);
  if (skipped) out.push(`${skipped} implants skipped: their block m lies beyond the last block of this ${r.L}-block model`);
  if (r.files.length) out.push(`\nwrote ${r.files.join(', ')}`);
  return out.join('\n');
}

/** Registers `intervene`. */
export function registerIntervene(program: Command): void {
  program
    .command('intervene')
    .description('task-switch intervention: implant a state that has passed its top-1 saturation into a later-saturating position (success per distance)')
    .option('-m, --model <dir|hubId>', 'a decoder language model (GPT-2, Llama, Mistral, Qwen2, GPT-NeoX, Gemma) or a ViT checkpoint (default: the shipped tiny GPT-2)')
    .option('--text-file <file>', 'articles, one per line (tokenised with the model\'s tokenizer); or hf://datasets/OWNER/NAME[@REV]/FILE')
    .option('--text-field <name>', 'the text column of a JSONL/CSV/TSV/parquet --text-file (one sentence per record)', 'text')
    .option('--ids-file <file>', 'token ids instead of text: one comma-separated sequence per line; or hf://datasets/OWNER/NAME[@REV]/FILE')
    .option('--images <path>', 'ViT: a folder of images or of class folders, a CIFAR batch (.bin) or a folder of CIFAR batches; or hf://datasets/OWNER/NAME[@REV]/FOLDER')
    .option('--synsets <file>', 'ViT class folders: a synset list (label = line index)')
    .option('--max-examples <n>', 'use only the first n articles (ViT: images)')
    .option('--n-pairs <n>', 'keep the first n pairs found', '100')
    .option('--delta <n>', `minimum saturation gap Δ between the two examples (default GPT-2 ${INTERVENTION_DELTA.gpt2}, ViT ${INTERVENTION_DELTA.vit})`)
    .option('--half-width <n>', `implant half-width n: d = −n … n (default GPT-2 ${INTERVENTION_HALF_WIDTH.gpt2}, ViT ${INTERVENTION_HALF_WIDTH.vit})`)
    .option('--min-s <n>', 'GPT-2: minimum top-1 saturation layer of the early position', '10')
    .option('--max-gap <n>', 'GPT-2: maximum distance between the two positions in the article', '30')
    .option('--mode <mode>', 'intended (replace h_m at blocks.m.hook_resid_pre) | original (skip block m, then set h_{m+1})', 'intended')
    .option('--implant-space <space>', 'resid (raw h_m) | lnFinal (LN_f(h_m), what the original GPT-2 script implants)', 'resid')
    .option('--batch <n>', 'sequences of equal length (ViT: images) per forward pass for the saturation layers', '16')
    .option('-o, --out <dir>', 'where the figure goes', 'tfjs-lens-intervene')
    .option('-b, --backend <name>', BACKEND_HELP)
    .option('--json', 'print JSON instead of a table')
    .action(async (opts: InterveneOptions) => {
      const report = await runIntervene(await withLocalData(opts, ['textFile', 'idsFile', 'images']));
      process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : `${printIntervene(report)}\n`);
      tf.disposeVariables();
    });
}
