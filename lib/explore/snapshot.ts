/**
 * Static snapshots of the explorer (the report of `tfjs-lens demo`): one self-contained HTML file with the
 * app bundle, its stylesheet and the views' data inlined, drawn by the same renderers as the live views.
 * No request is made, so it works from file://.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgumentError } from '../errors.js';
import { lensGrid, type LensGrid } from './api-lens.js';
import { attentionPattern, headScores, type HeadScoresReply, type PatternReply } from './api-attention.js';
import { detachedJob } from './jobs.js';
import type { ExploreModel } from './context.js';
import { EXPLORE_APP_DIR } from './server.js';

/** The data a snapshot shows (the app's `Snapshot`). */
export interface SnapshotData {
  title: string;
  info: { model: string; backend: string; nLayers: number; nHeads: number; dVocab: number; nCtx: number };
  lens: { text: string; grid: LensGrid };
  heads: HeadScoresReply;
  pattern: PatternReply;
  notes: string[];
}

/**
 * Computes a snapshot's data with the views' own API functions: the lens grid of `text`, the head scores
 * on repeated random tokens (`batch`, `seed`), and the pattern of the best induction head on the first
 * repeated sequence.
 */
export async function snapshotData(m: ExploreModel, opts: { text: string; k?: number; batch?: number; nTokens?: number; seed?: number; title?: string; notes?: string[] }): Promise<SnapshotData> {
  const job = detachedJob();
  const grid = await lensGrid(m, { text: opts.text, k: opts.k ?? 5 })(job);
  const heads = await headScores(m, { batch: opts.batch ?? 10, nTokens: opts.nTokens, seed: opts.seed ?? 0 })(job);
  let best = { layer: 0, head: 0, score: -Infinity };
  heads.scores.induction.forEach((row, layer) => row.forEach((score, head) => (score > best.score ? (best = { layer, head, score }) : undefined)));
  const pattern = await attentionPattern(m, { ids: heads.firstSequence, layer: best.layer, head: best.head })(job);
  const cfg = m.model.cfg;
  return {
    title: opts.title ?? 'tfjs-lens report',
    info: { model: m.dir, backend: m.backend, nLayers: cfg.nLayers, nHeads: cfg.nHeads, dVocab: cfg.dVocab, nCtx: cfg.nCtx },
    lens: { text: opts.text, grid },
    heads,
    pattern,
    notes: opts.notes ?? [],
  };
}

/** JSON for an inline `<script>`: `<`, U+2028 and U+2029 escaped so no `</script>` or line break can end it early. */
function inlineJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/**
 * The self-contained HTML page of a snapshot.
 * @param appDir the built app (default `dist/explore-app`).
 * @throws InvalidArgumentError when the app is not built.
 */
export function snapshotHtml(data: SnapshotData, appDir = EXPLORE_APP_DIR): string {
  const js = join(appDir, 'app.js');
  if (!existsSync(js)) throw new InvalidArgumentError(`the explorer app is not built (${js} is missing)`, 'run `npm run build`');
  const script = readFileSync(js, 'utf8').replace(/<\/(script)/gi, '<\\/$1');
  const css = readFileSync(join(appDir, 'app.css'), 'utf8').replace(/<\/(style)/gi, '<\\/$1');
  const title = data.title.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<style>${css}</style>
</head>
<body>
<div id="app">loading… (this report needs JavaScript)</div>
<script>window.__TFJS_LENS_SNAPSHOT__ = ${inlineJson(data)};</script>
<script>${script}</script>
</body>
</html>
`;
}
