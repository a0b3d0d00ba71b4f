/**
 * `tfjs-lens patch`: activation patching (TransformerLens semantics, docs/methods.md §12) of a clean and a
 * corrupted prompt of equal token length. For every block and every position (or head) the corrupted run
 * gets that slice of one activation from the clean run; the metric is the logit difference
 * `logit(answer) − logit(wrong)` at the last position, shown normalised:
 * (m − m_corrupt)/(m_clean − m_corrupt), 0 = as corrupted, 1 = fully restored. Table + heatmap PNG.
 */
import type { Command } from 'commander';
import * as tf from '@tensorflow/tfjs-core';
import { join, resolve } from 'node:path';
import { CausalLmRoot } from '../nn/causal-lm.js';
import { defaultScanBy, normalizedMetric, patchScan, type ScanBy, type ScanHook } from '../lens/patching.js';
import { logitDiffMetric } from '../lens/metrics.js';
import { heatmapSpec, writeChart } from '../plot/index.js';
import { InvalidArgumentError } from '../errors.js';
import { BACKEND_HELP, formatTable, setup, showToken, type CommonOptions } from './common.js';
import { promptIds, singleTokenId } from './text-input.js';
import type { PatchingReply } from '../explore/api-patching.js';

interface PatchOptions extends CommonOptions {
  clean?: string;
  corrupt?: string;
  idsClean?: string;
  idsCorrupt?: string;
  answer?: string;
  wrong?: string;
  answerId?: string;
  wrongId?: string;
  hook: string;
  by?: string;
  out: string;
}

/** Hooks `patch` scans. */
export const PATCH_HOOKS: readonly ScanHook[] = ['resid_pre', 'resid_mid', 'resid_post', 'attn_out', 'mlp_out', 'z', 'q', 'k', 'v', 'pattern', 'result'];

/** What `patch --json` prints: the explorer's patching reply plus the model, the ids and the files. */
export interface PatchReport extends PatchingReply {
  model: string;
  backend: string;
  cleanIds: number[];
  corruptIds: number[];
  files: string[];
}

async function runPatch(opts: PatchOptions): Promise<PatchReport> {
  if (!PATCH_HOOKS.includes(opts.hook as ScanHook)) throw new InvalidArgumentError(`--hook '${opts.hook}' is not a patchable hook`, `use one of ${PATCH_HOOKS.join(', ')}`);
  const hook = opts.hook as ScanHook;
  const by = (opts.by ?? defaultScanBy(hook)) as ScanBy;
  if (by !== 'pos' && by !== 'head') throw new InvalidArgumentError(`--by '${opts.by}' must be pos or head`);
  if (by === 'head' && defaultScanBy(hook) !== 'head') throw new InvalidArgumentError(`--by head needs a per-head hook; '${hook}' has no head axis`, 'use --hook z, q, k, v, pattern or result, or --by pos');
  const { model, dir, backend } = await setup(opts);
  try {
    if (!(model instanceof CausalLmRoot)) throw new InvalidArgumentError(`patch needs a decoder language model (GPT-2, Llama, Mistral, Qwen2, GPT-NeoX, Gemma); ${dir} is not one`);
    const tokenizer = model.tokenizer;
    const vocab = model.cfg.dVocab;
    const prompt = (text: string | undefined, ids: string | undefined, what: 'clean' | 'corrupt'): number[] =>
      promptIds({ text, ids, tokenizer, vocabSize: vocab, textFlag: `--${what}`, idsFlag: `--ids-${what}`, modelDir: dir });
    const cleanIds = prompt(opts.clean, opts.idsClean, 'clean');
    const corruptIds = prompt(opts.corrupt, opts.idsCorrupt, 'corrupt');
    const show = (ids: number[]) => ids.map((id) => (tokenizer ? tokenizer.decode([id]) : String(id)));
    if (cleanIds.length === 0 || corruptIds.length === 0) throw new InvalidArgumentError('the clean and corrupted prompts must have at least one token');
    if (cleanIds.length !== corruptIds.length) {
      throw new InvalidArgumentError(
        `the clean prompt is ${cleanIds.length} tokens and the corrupted prompt ${corruptIds.length}; patching needs equal lengths (clean: ${show(cleanIds).map((t) => `'${showToken(t)}'`).join(' ')}; corrupt: ${show(corruptIds).map((t) => `'${showToken(t)}'`).join(' ')})`,
        'change words that tokenise to the same number of tokens (e.g. one name for another)',
      );
    }
    if (cleanIds.length > model.cfg.nCtx) throw new InvalidArgumentError(`the prompts are ${cleanIds.length} tokens, more than the model's n_ctx ${model.cfg.nCtx}`);
    const answerId = singleTokenId({ text: opts.answer, id: opts.answerId, tokenizer, vocabSize: vocab, what: 'answer' });
    const wrongId = singleTokenId({ text: opts.wrong, id: opts.wrongId, tokenizer, vocabSize: vocab, what: 'wrong' });
    if (answerId === wrongId) throw new InvalidArgumentError(`--answer and --wrong are the same token (${answerId}); the logit difference would be 0`);

    const scan = await patchScan(model, [cleanIds], [corruptIds], { hook, by, metric: logitDiffMetric(answerId, wrongId) });
    const clean = scan.cleanMetric!;
    const corrupt = scan.baselineMetric;
    if (clean === corrupt) throw new InvalidArgumentError(`the clean and corrupted logit differences are equal (${clean}); nothing can be normalised`, 'use a corruption that changes the answer');
    const normalized = normalizedMetric(scan.values, clean, corrupt);
    const warnings: string[] = [];
    if (clean <= 0) {
      warnings.push(`the model does not prefer the answer on the clean prompt (logit difference ${clean.toFixed(3)} ≤ 0): the scores measure how much of a wrong preference is restored; choose a prompt the model gets right`);
    }
    const columns = (by === 'pos' ? scan.positions : scan.heads)!;
    const C = columns.length;
    const rows = (v: Float32Array) => scan.layers.map((_, r) => Array.from(v.subarray(r * C, (r + 1) * C)));
    const values = rows(scan.values);
    const norm = rows(normalized);

    const cleanTokens = show(cleanIds);
    const corruptTokens = show(corruptIds);
    const xLabels = by === 'pos' ? columns.map((p) => (cleanIds[p] === corruptIds[p] ? `${p}:${showToken(cleanTokens[p]!)}` : `${p}:${showToken(cleanTokens[p]!)}/${showToken(corruptTokens[p]!)}`)) : columns.map((h) => `H${h}`);
    const file = join(resolve(opts.out), `patch-${hook}-by-${by}.png`);
    const maxAbs = Math.max(1, ...norm.flat().filter(Number.isFinite).map(Math.abs));
    await writeChart(file, heatmapSpec(norm, {
      title: `patching ${hook} by ${by}: normalised logit difference (1 = clean restored)`,
      xLabels,
      yLabels: scan.layers.map((l) => `L${l}`),
      xTitle: by === 'pos' ? 'position (clean/corrupt token)' : 'head',
      yTitle: 'block',
      domain: [-maxAbs, maxAbs],
      scheme: 'redblue',
      // The cell-text colour rule of heatmapSpec suits sequential schemes; values are in the table instead.
      showValues: false,
    }));
    return {
      model: dir,
      backend,
      hook,
      by,
      cleanTokens,
      corruptTokens,
      cleanIds,
      corruptIds,
      answer: { id: answerId, token: tokenizer ? tokenizer.decode([answerId]) : String(answerId) },
      wrong: { id: wrongId, token: tokenizer ? tokenizer.decode([wrongId]) : String(wrongId) },
      cleanLogitDiff: clean,
      corruptLogitDiff: corrupt,
      warnings,
      layers: scan.layers,
      columns,
      values,
      normalized: norm,
      files: [file],
    };
  } finally {
    model.dispose();
  }
}

/** Two decimals without a minus sign on values that round to zero. */
function fixed2(v: number): string {
  const text = v.toFixed(2);
  return text === '-0.00' ? '0.00' : text;
}

/** The plain-text report of `patch`. */
export function printPatch(r: PatchReport): string {
  const out: string[] = [];
  out.push(`model ${r.model} on ${r.backend}`);
  out.push(`clean:   ${r.cleanTokens.map((t) => `'${showToken(t)}'`).join(' ')}`);
  out.push(`corrupt: ${r.corruptTokens.map((t) => `'${showToken(t)}'`).join(' ')}`);
  out.push(`metric: logit('${showToken(r.answer.token)}') − logit('${showToken(r.wrong.token)}') at the last position: clean ${r.cleanLogitDiff.toFixed(3)}, corrupt ${r.corruptLogitDiff.toFixed(3)}`);
  out.push(`patching ${r.hook} from the clean run into the corrupted run, by ${r.by}; normalised (0 = corrupt, 1 = clean):`);
  const header = ['block', ...r.columns.map((c, i) => (r.by === 'pos' ? `${c}${r.cleanIds[i] === r.corruptIds[i] ? '' : '*'}` : `H${c}`))];
  out.push(formatTable(header, r.normalized.map((row, i) => [`L${r.layers[i]}`, ...row.map(fixed2)])));
  if (r.by === 'pos' && r.cleanIds.some((id, i) => id !== r.corruptIds[i])) out.push('* = position where the prompts differ');
  out.push('');
  out.push(`wrote ${r.files.join(', ')}`);
  return out.join('\n');
}

/** Registers `patch`. */
export function registerPatch(program: Command): void {
  program
    .command('patch')
    .description('activation patching: restore one slice of a clean run inside a corrupted run, per block × position (or head)')
    .option('-m, --model <dir|hubId>', 'a GPT-2, Llama, Mistral or Qwen2 checkpoint (default: the shipped tiny GPT-2)')
    .option('--clean <text>', 'the clean prompt')
    .option('--corrupt <text>', 'the corrupted prompt (same number of tokens)')
    .option('--ids-clean <ids>', 'clean prompt as token ids, comma-separated (models without a tokenizer)')
    .option('--ids-corrupt <ids>', 'corrupted prompt as token ids')
    .option('--answer <token>', 'the correct next token, e.g. " Mary" (one token)')
    .option('--wrong <token>', 'the wrong next token the corruption favours, e.g. " John"')
    .option('--answer-id <id>', 'the correct next token as an id')
    .option('--wrong-id <id>', 'the wrong next token as an id')
    .option('--hook <name>', `activation to patch: ${PATCH_HOOKS.join(' | ')}`, 'resid_pre')
    .option('--by <unit>', 'pos (every position, all heads) or head (every head, all positions); default: head for z/q/k/v/pattern/result, else pos')
    .option('-o, --out <dir>', 'where the heatmap PNG goes', 'tfjs-lens-patch')
    .option('-b, --backend <name>', BACKEND_HELP)
    .option('--json', 'print JSON instead of a table')
    .action(async (opts: PatchOptions) => {
      const report = await runPatch(opts);
      for (const w of report.warnings) process.stderr.write(`patch: warning: ${w}\n`);
      process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : `${printPatch(report)}\n`);
      tf.disposeVariables();
    });
}
