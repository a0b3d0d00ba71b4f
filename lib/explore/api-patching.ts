/**
 * The explorer's activation-patching view (docs/methods.md §12, `patchScan`): the clean run's activation
 * is patched into the corrupted run one block × position (or block × head) at a time, with the logit
 * difference `logit(answer) − logit(wrong)` at the last position as the metric, shown normalised
 * (`normalizedMetric`: 0 = as corrupted, 1 = clean restored). The scan runs one block at a time, so a
 * cancelled request stops at the next block.
 */
import { z } from 'zod';
import { defaultScanBy, normalizedMetric, patchScan, scanHookName, type ScanHook } from '../lens/patching.js';
import { logitDiffMetric } from '../lens/metrics.js';
import { InvalidArgumentError } from '../errors.js';
import type { JobContext } from './jobs.js';
import { parseRequest, promptTokens, singleToken, tokenString, tokenStrings, type ExploreModel } from './context.js';

/** Hooks the view offers. */
export const PATCH_VIEW_HOOKS = ['resid_pre', 'resid_mid', 'resid_post', 'attn_out', 'mlp_out', 'z', 'v', 'pattern', 'result'] as const;

/** Body of `POST /api/patching`. */
export const PatchingRequest = z.strictObject({
  clean: z.string().max(4000),
  corrupt: z.string().max(4000),
  answer: z.string().max(200),
  wrong: z.string().max(200),
  hook: z.enum(PATCH_VIEW_HOOKS).default('resid_pre'),
});

/** Reply of `POST /api/patching` (and the core of `tfjs-lens patch --json`). */
export interface PatchingReply {
  hook: ScanHook;
  by: 'pos' | 'head';
  /** Token strings (ids as text for tokenizer-less models) of both prompts. */
  cleanTokens: string[];
  corruptTokens: string[];
  answer: { id: number; token: string };
  wrong: { id: number; token: string };
  /** Logit difference answer − wrong at the last position. */
  cleanLogitDiff: number;
  corruptLogitDiff: number;
  /** Blocks of the rows. */
  layers: number[];
  /** Column labels: positions (by pos) or heads (by head). */
  columns: number[];
  /** Raw patched logit differences `[layers][columns]`. */
  values: number[][];
  /** Normalised `(v − corrupt)/(clean − corrupt)`, same layout. */
  normalized: number[][];
  /** Problems with the set-up that do not stop the scan (e.g. the clean prompt does not prefer the answer). */
  warnings: string[];
}

/** Runs the scan. */
export function patching(m: ExploreModel, body: unknown): (job: JobContext) => Promise<PatchingReply> {
  const req = parseRequest(PatchingRequest, body);
  const hook = req.hook as ScanHook;
  const by = defaultScanBy(hook) === 'head' ? 'head' : 'pos';
  const cleanIds = promptTokens(m, req.clean, 'the clean prompt');
  const corruptIds = promptTokens(m, req.corrupt, 'the corrupted prompt');
  if (cleanIds.length !== corruptIds.length) throw new InvalidArgumentError(`the clean prompt is ${cleanIds.length} tokens and the corrupted prompt ${corruptIds.length}; patching needs equal lengths`, 'change words that tokenise to the same number of tokens');
  const answerId = singleToken(m, req.answer, 'the answer');
  const wrongId = singleToken(m, req.wrong, 'the wrong answer');
  if (answerId === wrongId) throw new InvalidArgumentError('the answer and the wrong answer are the same token');
  const L = m.model.cfg.nLayers;
  const metric = logitDiffMetric(answerId, wrongId);
  const names = Array.from({ length: L }, (_, l) => scanHookName(m.model, hook, l));
  return async (job) => {
    await job.step('clean run', 0, L + 1);
    const run = await m.model.runWithCache([cleanIds], { namesFilter: names });
    run.output.dispose();
    const rows: Float32Array[] = [];
    let columns: number[] = [];
    let clean = NaN;
    let corrupt = NaN;
    try {
      for (let l = 0; l < L; l++) {
        await job.step(`block ${l}`, l + 1, L + 1);
        const scan = await patchScan(m.model, [cleanIds], [corruptIds], { hook, by, metric, cleanCache: run.cache, layers: [l] });
        rows.push(scan.values);
        columns = (by === 'pos' ? scan.positions : scan.heads)!;
        clean = scan.cleanMetric!;
        corrupt = scan.baselineMetric;
      }
    } finally {
      run.cache.dispose();
    }
    if (clean === corrupt) throw new InvalidArgumentError(`the clean and corrupted logit differences are equal (${clean}); nothing can be normalised`, 'use a corruption that changes the answer');
    const warnings = clean <= 0 ? [`the model does not prefer the answer on the clean prompt (logit difference ${clean.toFixed(3)} ≤ 0)`] : [];
    return {
      hook,
      by,
      cleanTokens: tokenStrings(m, cleanIds),
      corruptTokens: tokenStrings(m, corruptIds),
      answer: { id: answerId, token: tokenString(m, answerId) },
      wrong: { id: wrongId, token: tokenString(m, wrongId) },
      cleanLogitDiff: clean,
      corruptLogitDiff: corrupt,
      layers: Array.from({ length: L }, (_, l) => l),
      columns,
      values: rows.map((r) => Array.from(r)),
      normalized: rows.map((r) => Array.from(normalizedMetric(r, clean, corrupt))),
      warnings,
    };
  };
}
