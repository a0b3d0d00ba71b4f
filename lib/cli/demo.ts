/**
 * `tfjs-lens demo`: the offline end-to-end tour on the shipped tiny GPT-2 — a logit-lens table for a
 * sentence, induction and previous-token heads on repeated random tokens (tables + attention-pattern
 * PNG), where the lens's top-1 settles on held-out text, and an HTML report with the figures.
 */
import type { Command } from 'commander';
import * as tf from '@tensorflow/tfjs-core';
import { readFile } from 'node:fs/promises';
import { ensureOutputDir, writeFileAtomic } from '../io/atomic-write.js';
import { join, resolve } from 'node:path';
import { CausalLmRoot } from '../nn/causal-lm.js';
import { tokenString } from '../data/token-string.js';
import { topKPerLayer } from '../lens/topk.js';
import { inductionScores, previousTokenScores, repeatedRandomTokens, repeatedSequenceStats, type HeadScores as AttentionHeadScores, type RepeatedSequenceStats } from '../lens/attention.js';
import { top1SaturationLayer } from '../lens/saturation.js';
import { heatmapSpec, renderSvg, svgToPng } from '../plot/index.js';
import { snapshotData, snapshotHtml } from '../explore/snapshot.js';
import { repeatedTokensLength } from '../explore/api-attention.js';
import { InvalidArgumentError } from '../errors.js';
import { BACKEND_HELP, formatTable, PACKAGE_ROOT, setup, showToken, type CommonOptions } from './common.js';
import { intOption, promptIds } from './text-input.js';

interface DemoOptions extends CommonOptions {
  text: string;
  out: string;
  seed: string;
  nTokens?: string;
  batch?: string;
  heldoutTokens: string;
}

/** A head and its score. */
export interface HeadScore {
  layer: number;
  head: number;
  score: number;
}

/** Everything the demo computes (what `--json` prints and the report shows). */
export interface DemoResult {
  model: string;
  backend: string;
  lens: { tokens: string[]; rows: { layer: string; top: { token: string; prob: number }[] }[] };
  induction: HeadScore[];
  previousToken: HeadScore[];
  repeated: RepeatedSequenceStats & { nTokens: number; batch: number; seed: number };
  settling: { positions: number; decidedBeforeLastLayer: number; meanSaturationLayer: number; nLayers: number };
  files: string[];
}

function ranked(scores: AttentionHeadScores): HeadScore[] {
  const nHeads = scores.shape[1];
  return Array.from(scores.data, (score, i) => ({ layer: Math.floor(i / nHeads), head: i % nHeads, score })).sort((a, b) => b.score - a.score);
}

/**
 * Fraction of held-out positions whose lens top-1 is fixed before the last block (top-1 saturation < L−1),
 * over `ids` cut into consecutive windows of at most nCtx tokens (each window is its own sequence).
 */
async function settling(model: CausalLmRoot, ids: number[]): Promise<DemoResult['settling']> {
  let decided = 0;
  let total = 0;
  let positions = 0;
  let L = model.cfg.nLayers;
  for (let start = 0; start < ids.length; start += model.cfg.nCtx) {
    const result = await topKPerLayer(model, [ids.slice(start, start + model.cfg.nCtx)], { k: 1 });
    const nPos = result.shape[2];
    L = result.shape[0];
    for (let p = 0; p < nPos; p++) {
      const column = Array.from({ length: L }, (_, j) => [result.ids[j * nPos + p]!]);
      const s = top1SaturationLayer(column);
      total += s;
      if (s < L - 1) decided++;
    }
    positions += nPos;
  }
  return { positions, decidedBeforeLastLayer: decided / positions, meanSaturationLayer: total / positions, nLayers: L };
}

/** Runs the demo analyses; writes figures and the report into `outDir`. */
export async function runDemo(opts: DemoOptions): Promise<DemoResult> {
  const heldoutTokens = intOption(opts.heldoutTokens, 'heldout-tokens', { min: 1 });
  const seed = intOption(opts.seed, 'seed');
  // the explorer's head-score request, which the report's views reuse, takes 1…64 sequences of N ≥ 2 tokens
  const batch = intOption(opts.batch ?? '10', 'batch', { min: 1, max: 64 });
  const nTokensOpt = opts.nTokens === undefined ? undefined : intOption(opts.nTokens, 'n-tokens', { min: 2 });
  const { model, dir, backend } = await setup(opts);
  if (!(model instanceof CausalLmRoot) || !model.tokenizer) throw new InvalidArgumentError(`the demo needs a decoder language model with a tokenizer (GPT-2, Llama, Mistral, Qwen2, GPT-NeoX, Gemma); ${dir} is not one`);
  const tokenizer = model.tokenizer;
  const outDir = resolve(opts.out);
  ensureOutputDir(outDir);
  try {
    // 1. logit lens on a sentence
    const ids = promptIds({ text: opts.text, tokenizer, vocabSize: model.cfg.dVocab, modelDir: dir });
    const lensTop = await topKPerLayer(model, [ids], { k: 3, includeEmbedding: true, positions: [ids.length - 1] });
    const k = lensTop.shape[3];
    const lens = {
      tokens: ids.map((id) => tokenString(tokenizer, id)),
      rows: lensTop.layers.map((l, row) => ({
        layer: l === 0 ? 'embed' : `L${l}`,
        top: Array.from({ length: k }, (_, r) => ({ token: tokenString(tokenizer, lensTop.ids[row * k + r]!), prob: lensTop.probs[row * k + r]! })),
      })),
    };
    // 2. induction and previous-token heads on repeated random tokens with BOS
    const nTokens = repeatedTokensLength(model.cfg.nCtx, nTokensOpt, '--n-tokens');
    const tokens = repeatedRandomTokens({ nTokens, batch, vocab: model.cfg.dVocab, bos: model.cfg.bosTokenId ?? 0, seed });
    let induction: HeadScore[];
    let previousToken: HeadScore[];
    let repeated: RepeatedSequenceStats;
    let bestPattern: number[][];
    try {
      induction = ranked(await inductionScores(model, tokens));
      previousToken = ranked(await previousTokenScores(model, tokens));
      repeated = await repeatedSequenceStats(model, tokens);
      const best = induction[0]!;
      const first = tf.slice(tokens, [0, 0], [1, tokens.shape[1]]);
      const { output, cache } = await model.runWithCache(first, { namesFilter: [`blocks.${best.layer}.attn.hook_pattern`] });
      // read asynchronously: synchronous reads need a browser canvas on the webgpu backend in Node
      const head = tf.tidy(() => tf.squeeze(tf.slice(cache.get(`blocks.${best.layer}.attn.hook_pattern`), [0, best.head, 0, 0], [1, 1, -1, -1])));
      bestPattern = (await head.array()) as number[][];
      tf.dispose([first, output, head]);
      cache.dispose();
    } finally {
      tokens.dispose();
    }
    // 3. where the lens settles on held-out text
    const heldout = await readFile(join(PACKAGE_ROOT, 'data', 'text', 'heldout.txt'), 'utf8');
    const heldIds = tokenizer.encode(heldout).slice(0, heldoutTokens);
    const settled = await settling(model, heldIds);
    // 4. figures and report
    const best = induction[0]!;
    const patternSvg = await renderSvg(heatmapSpec(bestPattern, { title: `attention pattern of induction head L${best.layer}H${best.head} (repeated random tokens)`, domain: [0, 1], xTitle: 'key position', yTitle: 'query position', cellSize: 4, showValues: false }));
    const grid = (scores: HeadScore[]) => Array.from({ length: model.cfg.nLayers }, (_, l) => Array.from({ length: model.cfg.nHeads }, (_, h) => scores.find((s) => s.layer === l && s.head === h)!.score));
    const headLabels = Array.from({ length: model.cfg.nHeads }, (_, h) => `H${h}`);
    const layerLabels = Array.from({ length: model.cfg.nLayers }, (_, l) => `L${l}`);
    const inductionSvg = await renderSvg(heatmapSpec(grid(induction), { title: 'induction score per head', domain: [0, 1], xLabels: headLabels, yLabels: layerLabels }));
    const prevSvg = await renderSvg(heatmapSpec(grid(previousToken), { title: 'previous-token score per head', domain: [0, 1], xLabels: headLabels, yLabels: layerLabels }));
    const files = [join(outDir, 'induction-head-pattern.png'), join(outDir, 'induction-scores.png'), join(outDir, 'previous-token-scores.png'), join(outDir, 'report.html')];
    writeFileAtomic(files[0]!, svgToPng(patternSvg));
    writeFileAtomic(files[1]!, svgToPng(inductionSvg));
    writeFileAtomic(files[2]!, svgToPng(prevSvg));
    const result: DemoResult = { model: dir, backend, lens, induction, previousToken, repeated: { ...repeated, nTokens, batch, seed }, settling: settled, files };
    const snapshot = await snapshotData({ model, tokenizer, dir, backend }, { text: opts.text, k: 3, batch, nTokens, seed, title: 'tfjs-lens demo', notes: reportNotes(result) });
    writeFileAtomic(files[3]!, snapshotHtml(snapshot));
    return result;
  } finally {
    model.dispose();
  }
}

function lensRows(r: DemoResult): string[][] {
  return r.lens.rows.map((row) => [row.layer, ...row.top.map((t) => `${showToken(t.token)} ${(100 * t.prob).toFixed(1)}%`)]);
}

function headRows(scores: HeadScore[], n = 5): string[][] {
  return scores.slice(0, n).map((s) => [`L${s.layer}H${s.head}`, s.score.toFixed(3)]);
}

/** The report's paragraphs above the views (the snapshot draws the lens grid, head tables and pattern). */
function reportNotes(r: DemoResult): string[] {
  const rep = r.repeated;
  return [
    `Induction and previous-token heads: ${rep.batch} sequences of BOS + ${rep.nTokens} random tokens repeated twice (seed ${rep.seed}). Mean log-prob of the next token: first half ${rep.logProbFirstHalf.toFixed(2)}, second half ${rep.logProbSecondHalf.toFixed(2)}; top-1 accuracy ${rep.accFirstHalf.toFixed(2)} vs ${rep.accSecondHalf.toFixed(2)}.`,
    verdict(r),
    `Where the lens settles: on ${r.settling.positions} held-out positions, the lens's top-1 was final before the last block at ${(100 * r.settling.decidedBeforeLastLayer).toFixed(0)}% of positions (mean top-1 saturation layer ${r.settling.meanSaturationLayer.toFixed(2)} of 0…${r.settling.nLayers - 1}).`,
  ];
}

/** One line saying whether any head qualifies as an induction head (score ≥ 0.5, the usual threshold). */
function verdict(r: DemoResult): string {
  const best = r.induction[0]!;
  return best.score >= 0.5
    ? `→ L${best.layer}H${best.head} is an induction head (score ${best.score.toFixed(2)} ≥ 0.5)`
    : `→ no head reaches an induction score of 0.5: this model has no induction head (best L${best.layer}H${best.head} ${best.score.toFixed(3)})`;
}

function printDemo(r: DemoResult): string {
  const rep = r.repeated;
  return [
    `model ${r.model} on ${r.backend}`,
    '',
    `Logit lens for ${r.lens.tokens.map((t) => `'${showToken(t)}'`).join(' ')} → next token:`,
    formatTable(['layer', 'top-1', 'top-2', 'top-3'], lensRows(r)),
    '',
    `Repeated random tokens (${rep.batch} × BOS + 2×${rep.nTokens}): log-prob first half ${rep.logProbFirstHalf.toFixed(2)}, second half ${rep.logProbSecondHalf.toFixed(2)}; accuracy ${rep.accFirstHalf.toFixed(2)} → ${rep.accSecondHalf.toFixed(2)}`,
    formatTable(['induction head', 'score'], headRows(r.induction)),
    verdict(r),
    '',
    formatTable(['previous-token head', 'score'], headRows(r.previousToken)),
    '',
    `Held-out text: top-1 fixed before the last block at ${(100 * r.settling.decidedBeforeLastLayer).toFixed(0)}% of ${r.settling.positions} positions (mean saturation layer ${r.settling.meanSaturationLayer.toFixed(2)})`,
    '',
    `wrote ${r.files.join(', ')}`,
  ].join('\n');
}

/** Registers `demo`. */
export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('offline tour on the shipped tiny GPT-2: logit lens, induction/previous-token heads, HTML report')
    .option('-m, --model <dir|hubId>', 'a decoder language model with a tokenizer: GPT-2, Llama, Mistral, Qwen2, GPT-NeoX, Gemma (default: the shipped tiny GPT-2)')
    .option('-t, --text <text>', 'sentence for the logit-lens table', 'The capital city of France is')
    .option('-o, --out <dir>', 'where the PNGs and report.html go', 'tfjs-lens-report')
    .option('--seed <n>', 'seed of the random tokens', '0')
    .option('--n-tokens <n>', 'length N of the repeated random sequence of the head scores (default 50, or what fits the context: BOS + 2N ≤ n_ctx)')
    .option('--batch <n>', 'number of repeated random sequences', '10')
    .option('--heldout-tokens <n>', 'held-out tokens for the settling statistic (windows of the context length)', '1024')
    .option('-b, --backend <name>', BACKEND_HELP)
    .option('--json', 'print JSON instead of tables')
    .action(async (opts: DemoOptions) => {
      const result = await runDemo(opts);
      process.stdout.write(opts.json ? `${JSON.stringify(result, null, 2)}\n` : `${printDemo(result)}\n`);
    });
}
