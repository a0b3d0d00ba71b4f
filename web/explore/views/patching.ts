/**
 * Activation-patching view: clean and corrupted prompts, the answer and the wrong token (metric: their
 * logit difference at the last position), the activation to patch → normalised heatmap block × position
 * (or block × head); click a cell for its raw and normalised values. Backed by `patchScan`.
 */
import { heatmapSpec } from '../../../lib/plot/heatmap.js';
import { showChart } from '../chart.js';
import { docsLink, el, field, showToken } from '../dom.js';
import { jobControls } from '../job-ui.js';
import type { PatchingReply } from '../types.js';

const HOOKS = ['resid_pre', 'resid_mid', 'resid_post', 'attn_out', 'mlp_out', 'z', 'v', 'pattern', 'result'];

/** Renders a scan result into `out`. */
export async function renderPatching(out: HTMLElement, r: PatchingReply): Promise<void> {
  const chart = el('div', { class: 'chart', id: 'patch-chart' });
  const cellInfo = el('div', { class: 'details', id: 'patch-cell', text: 'click a cell for its values' });
  const summary = el('p', { id: 'patch-summary', text: `logit("${showToken(r.answer.token)}") − logit("${showToken(r.wrong.token)}") at the last position: clean ${r.cleanLogitDiff.toFixed(3)}, corrupt ${r.corruptLogitDiff.toFixed(3)}; 1 = clean restored, 0 = as corrupted` });
  const warnings = r.warnings.map((w) => el('p', { class: 'warning', text: `warning: ${w}` }));
  out.replaceChildren(summary, ...warnings, chart, cellInfo);
  const xLabels = r.by === 'pos' ? r.columns.map((p) => (r.cleanTokens[p] === r.corruptTokens[p] ? `${p}:${showToken(r.cleanTokens[p]!)}` : `${p}:${showToken(r.cleanTokens[p]!)}/${showToken(r.corruptTokens[p]!)}`)) : r.columns.map((h) => `H${h}`);
  const maxAbs = Math.max(1, ...r.normalized.flat().filter(Number.isFinite).map(Math.abs));
  await showChart(chart, heatmapSpec(r.normalized, { title: `patching ${r.hook} by ${r.by}: normalised logit difference`, xLabels, yLabels: r.layers.map((l) => `L${l}`), xTitle: r.by === 'pos' ? 'position (clean/corrupt token)' : 'head', yTitle: 'block', domain: [-maxAbs, maxAbs], scheme: 'redblue', showValues: false }), `patching-${r.hook}`, r, {
    click: (d) => {
      const row = d.row as number;
      const col = d.col as number;
      cellInfo.textContent = `block ${r.layers[row]}, ${r.by === 'pos' ? `position ${r.columns[col]}` : `head ${r.columns[col]}`}: logit difference ${r.values[row]![col]!.toFixed(4)}, normalised ${r.normalized[row]![col]!.toFixed(4)}`;
    },
  });
}

/** Mounts the view. */
export function mountPatching(root: HTMLElement): void {
  const clean = el('input', { id: 'patch-clean', type: 'text', size: '70', value: 'When Mary and John went to the store, John gave a drink to' });
  const corrupt = el('input', { id: 'patch-corrupt', type: 'text', size: '70', value: 'When Mary and John went to the store, Mary gave a drink to' });
  const answer = el('input', { id: 'patch-answer', type: 'text', value: ' Mary' });
  const wrong = el('input', { id: 'patch-wrong', type: 'text', value: ' John' });
  const hook = el('select', { id: 'patch-hook' }, ...HOOKS.map((h) => el('option', { value: h, text: h })));
  const out = el('div', { id: 'patch-out' });
  const job = jobControls('patch', 'Run patching', () => void job.run<PatchingReply>('/api/patching', { clean: clean.value, corrupt: corrupt.value, answer: answer.value, wrong: wrong.value, hook: hook.value }, (r) => renderPatching(out, r)));
  root.append(
    el('p', {}, 'Patch one slice of the clean run into the corrupted run, one block at a time (cancel stops at the next block). Library: ', docsLink('api.md', 'patchScan, normalizedMetric, logitDiffMetric'), ', ', docsLink('methods.md', 'methods §12'), '.'),
    field('clean', clean),
    field('corrupt', corrupt),
    field('answer', answer),
    field('wrong', wrong),
    field('activation', hook),
    job.root,
    out,
  );
}
