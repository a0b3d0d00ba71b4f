/**
 * `tfjs-lens heads`: attention-head scores on repeated random tokens (docs/methods.md §12, the ARENA
 * induction-head protocol) — induction and previous-token scores, the TransformerLens head detector
 * (previous / duplicate / induction patterns), each an `[L × H]` grid (table + heatmap PNG), and the
 * per-half log-prob / accuracy of the repeated sequence.
 */
import type { Command } from 'commander';
import * as tf from '@tensorflow/tfjs-core';
import { join, resolve } from 'node:path';
import { CausalLmRoot } from '../nn/causal-lm.js';
import { headDetector, inductionScores, previousTokenScores, repeatedRandomTokens, repeatedSequenceStats, type HeadScores, type RepeatedSequenceStats } from '../lens/attention.js';
import { heatmapSpec, writeChart } from '../plot/index.js';
import { InvalidArgumentError } from '../errors.js';
import { BACKEND_HELP, formatTable, setup, type CommonOptions } from './common.js';
import { intOption } from './text-input.js';
import { ensureOutputDir } from '../io/atomic-write.js';

interface HeadsOptions extends CommonOptions {
  nTokens?: string;
  batch: string;
  seed: string;
  bos?: string;
  top: string;
  out: string;
}

/** Score kinds of `heads`, in print order. */
export const HEAD_SCORE_KINDS = ['induction', 'previousToken', 'detectorPrevious', 'detectorDuplicate', 'detectorInduction'] as const;
/** One score kind. */
export type HeadScoreKind = (typeof HEAD_SCORE_KINDS)[number];

const TITLES: Record<HeadScoreKind, string> = {
  induction: 'induction score (attention to the token after the earlier copy)',
  previousToken: 'previous-token score (attention to position q−1)',
  detectorPrevious: "head detector 'previous' (TransformerLens detect_head, mul)",
  detectorDuplicate: "head detector 'duplicate' (attention to earlier copies of the same token)",
  detectorInduction: "head detector 'induction' (attention to tokens after earlier copies)",
};

const FILES: Record<HeadScoreKind, string> = {
  induction: 'heads-induction.png',
  previousToken: 'heads-previous-token.png',
  detectorPrevious: 'heads-detector-previous.png',
  detectorDuplicate: 'heads-detector-duplicate.png',
  detectorInduction: 'heads-detector-induction.png',
};

/** What `heads --json` prints. */
export interface HeadsReport {
  model: string;
  backend: string;
  /** The token batch: `batch` rows of `[BOS, r_1 … r_N, r_1 … r_N]`, r uniform on 0 … vocab−1. */
  tokens: { nTokens: number; batch: number; seed: number; bos: number; vocab: number };
  nLayers: number;
  nHeads: number;
  /** Scores `[L][H]` per kind. */
  scores: Record<HeadScoreKind, number[][]>;
  /** The `top` best heads of each kind, best first. */
  topHeads: Record<HeadScoreKind, { layer: number; head: number; score: number }[]>;
  repeated: RepeatedSequenceStats;
  files: string[];
}

function grid(scores: HeadScores): number[][] {
  const [L, H] = scores.shape;
  return Array.from({ length: L }, (_, l) => Array.from(scores.data.subarray(l * H, (l + 1) * H)));
}

function ranked(scores: number[][], n: number): { layer: number; head: number; score: number }[] {
  return scores.flatMap((row, layer) => row.map((score, head) => ({ layer, head, score }))).sort((a, b) => b.score - a.score || a.layer - b.layer || a.head - b.head).slice(0, n);
}

/** The BOS id: `--bos`, else the config's bos_token_id when it is inside the vocabulary, else vocab−1. */
function bosOption(value: string | undefined, model: CausalLmRoot): number {
  const vocab = model.cfg.dVocab;
  if (value !== undefined) return intOption(value, 'bos', { min: 0, max: vocab - 1 });
  const bos = model.cfg.bosTokenId;
  return bos !== undefined && bos >= 0 && bos < vocab ? bos : vocab - 1;
}

async function runHeads(opts: HeadsOptions): Promise<HeadsReport> {
  const batch = intOption(opts.batch, 'batch', { min: 1 });
  const seed = intOption(opts.seed, 'seed');
  const top = intOption(opts.top, 'top', { min: 1 });
  const outDir = resolve(opts.out);
  ensureOutputDir(outDir);
  const { model, dir, backend } = await setup(opts);
  try {
    if (!(model instanceof CausalLmRoot)) throw new InvalidArgumentError(`heads needs a decoder language model (GPT-2, Llama, Mistral, Qwen2, GPT-NeoX, Gemma); ${dir} is not one`);
    const bos = bosOption(opts.bos, model);
    const fits = Math.floor((model.cfg.nCtx - 1) / 2);
    const nTokens = opts.nTokens === undefined ? Math.min(50, fits) : intOption(opts.nTokens, 'n-tokens', { min: 2 });
    if (nTokens > fits) throw new InvalidArgumentError(`--n-tokens ${nTokens}: BOS + 2×${nTokens} tokens exceed the model's n_ctx ${model.cfg.nCtx}`, `use --n-tokens ${fits} or less`);
    const L = model.cfg.nLayers;
    const H = model.cfg.nHeads;
    const tokens = repeatedRandomTokens({ nTokens, batch, vocab: model.cfg.dVocab, bos, seed });
    let raw: Record<HeadScoreKind, HeadScores>;
    let repeated: RepeatedSequenceStats;
    try {
      raw = {
        induction: await inductionScores(model, tokens),
        previousToken: await previousTokenScores(model, tokens),
        detectorPrevious: await headDetector(model, tokens, { pattern: 'previous' }),
        detectorDuplicate: await headDetector(model, tokens, { pattern: 'duplicate' }),
        detectorInduction: await headDetector(model, tokens, { pattern: 'induction' }),
      };
      repeated = await repeatedSequenceStats(model, tokens);
    } finally {
      tokens.dispose();
    }
    const scores = Object.fromEntries(HEAD_SCORE_KINDS.map((kind) => [kind, grid(raw[kind])])) as Record<HeadScoreKind, number[][]>;
    const topHeads = Object.fromEntries(HEAD_SCORE_KINDS.map((kind) => [kind, ranked(scores[kind], top)])) as HeadsReport['topHeads'];
    const files: string[] = [];
    const xLabels = Array.from({ length: H }, (_, h) => `H${h}`);
    const yLabels = Array.from({ length: L }, (_, l) => `L${l}`);
    for (const kind of HEAD_SCORE_KINDS) {
      const file = join(outDir, FILES[kind]);
      await writeChart(file, heatmapSpec(scores[kind], { title: TITLES[kind], domain: [0, 1], xLabels, yLabels, xTitle: 'head', yTitle: 'layer' }));
      files.push(file);
    }
    return { model: dir, backend, tokens: { nTokens, batch, seed, bos, vocab: model.cfg.dVocab }, nLayers: L, nHeads: H, scores, topHeads, repeated, files };
  } finally {
    model.dispose();
  }
}

/** The plain-text report of `heads`. */
export function printHeads(r: HeadsReport): string {
  const out: string[] = [];
  const t = r.tokens;
  out.push(`model ${r.model} on ${r.backend}`);
  out.push(`${t.batch} sequences of BOS (${t.bos}) + ${t.nTokens} random tokens repeated twice (seed ${t.seed})`);
  const rep = r.repeated;
  out.push(`next-token log-prob: first half ${rep.logProbFirstHalf.toFixed(2)}, second half ${rep.logProbSecondHalf.toFixed(2)}; top-1 accuracy ${rep.accFirstHalf.toFixed(2)} → ${rep.accSecondHalf.toFixed(2)}`);
  const header = ['layer', ...Array.from({ length: r.nHeads }, (_, h) => `H${h}`)];
  for (const kind of HEAD_SCORE_KINDS) {
    out.push('');
    out.push(`${TITLES[kind]}`);
    out.push(formatTable(header, r.scores[kind].map((row, l) => [`L${l}`, ...row.map((v) => v.toFixed(3))])));
    out.push(`top: ${r.topHeads[kind].map((h) => `L${h.layer}H${h.head} ${h.score.toFixed(3)}`).join(', ')}`);
  }
  out.push('');
  out.push(`wrote ${r.files.join(', ')}`);
  return out.join('\n');
}

/** Registers `heads`. */
export function registerHeads(program: Command): void {
  program
    .command('heads')
    .description('induction, previous-token and head-detector scores of every head on repeated random tokens')
    .option('-m, --model <dir|hubId>', 'a GPT-2, Llama, Mistral or Qwen2 checkpoint (default: the shipped tiny GPT-2)')
    .option('--n-tokens <n>', 'length N of the random sequence (default 50, or what fits the context)')
    .option('--batch <n>', 'number of sequences', '10')
    .option('--seed <n>', 'seed of the random tokens', '0')
    .option('--bos <id>', "BOS id prepended to every sequence (default: the config's bos_token_id, else vocab−1)")
    .option('--top <n>', 'best heads listed per score', '5')
    .option('-o, --out <dir>', 'where the heatmap PNGs go', 'tfjs-lens-heads')
    .option('-b, --backend <name>', BACKEND_HELP)
    .option('--json', 'print JSON instead of tables')
    .action(async (opts: HeadsOptions) => {
      const report = await runHeads(opts);
      process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : `${printHeads(report)}\n`);
      tf.disposeVariables();
    });
}
