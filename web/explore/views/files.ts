/**
 * File-backed views: a saved `tfjs-lens shortcuts` run (report.json → r² heatmaps mat vs id, Precision@k
 * per exit layer) and probe experiment logs (JSONL → filter by pooler/classifier, sort, plot a score by
 * layer). The files are checked by the server (`/api/shortcuts/run`, `/api/probes/log`).
 */
import { heatmapSpec } from '../../../lib/plot/heatmap.js';
import { lineChartSpec } from '../../../lib/plot/line-chart.js';
import { ApiError, upload } from '../api.js';
import { showChart } from '../chart.js';
import { docsLink, el, field, table } from '../dom.js';
import type { ProbeLogView, ShortcutsView } from '../types.js';

function fileInput(id: string, accept: string, onFile: (f: File) => Promise<void>, error: HTMLElement): HTMLInputElement {
  const input = el('input', { id, type: 'file', accept });
  input.addEventListener('change', () => {
    const f = input.files?.[0];
    if (!f) return;
    error.textContent = '';
    onFile(f).catch((err) => {
      error.textContent = err instanceof ApiError ? `${err.message}${err.hint ? ` — ${err.hint}` : ''}` : String(err);
    });
  });
  return input;
}

/** Renders a shortcuts run. */
export async function renderShortcuts(out: HTMLElement, v: ShortcutsView): Promise<void> {
  const labels = Array.from({ length: v.nLayers + 1 }, (_, l) => `h${l}`);
  const clip = (m: (number | null)[][]) => m.map((row) => row.map((x) => (x === null || !Number.isFinite(x) ? NaN : Math.max(0, Math.min(1, x)))));
  const mat = el('div', { class: 'chart', id: 'sc-r2-mat' });
  const id = el('div', { class: 'chart', id: 'sc-r2-id' });
  const prec = el('div', { class: 'chart', id: 'sc-precision' });
  const k = el('select', { id: 'sc-k' }, ...['1', '5', '10'].map((x) => el('option', { value: x, text: `Precision@${x}` })));
  out.replaceChildren(el('p', { id: 'sc-summary', text: `${v.kind}, L = ${v.nLayers}, ${v.nTrain} training and ${v.nVal} validation sentences` }), el('div', { class: 'pair' }, mat, id), field('metric', k), prec);
  await showChart(mat, heatmapSpec(clip(v.r2.mat), { title: 'r² of h_j ≈ A_{j,i}·h_i (mat)', domain: [0, 1], xLabels: labels, yLabels: labels, xTitle: 'target j', yTitle: 'source i' }), 'shortcuts-r2-mat', v.r2.mat);
  await showChart(id, heatmapSpec(clip(v.r2.id), { title: 'r² of h_j ≈ h_i (id), clipped to [0, 1]', domain: [0, 1], xLabels: labels, yLabels: labels, xTitle: 'target j', yTitle: 'source i' }), 'shortcuts-r2-id', v.r2.id);
  const draw = () => {
    const key = `at${k.value}` as 'at1' | 'at5' | 'at10';
    const series = Object.entries(v.precision).map(([name, p]) => ({ name, y: p[key].map((x) => (x === null ? NaN : x)) }));
    return showChart(prec, lineChartSpec(series, { title: `Precision@${k.value} of the mapped top-1 per exit layer`, xTitle: 'exit layer ℓ', yTitle: `Precision@${k.value}`, yDomain: [0, 1] }), `shortcuts-precision-at-${k.value}`, v.precision);
  };
  k.addEventListener('change', () => void draw());
  await draw();
}

/** Renders a probe log: filters, a sortable table and a score-by-layer chart. */
export async function renderProbes(out: HTMLElement, v: ProbeLogView): Promise<void> {
  const any = (id: string, values: string[]) => el('select', { id }, el('option', { value: '', text: 'all' }), ...values.map((x) => el('option', { value: x, text: x })));
  const pooler = any('probe-pooler', v.poolers);
  const classifier = any('probe-classifier', v.classifiers);
  const metric = el('select', { id: 'probe-metric' }, ...v.metrics.map((m) => el('option', { value: m, text: m })));
  const tableBox = el('div', { id: 'probe-table' });
  const chart = el('div', { class: 'chart', id: 'probe-chart' });
  let sortKey = 'layer';
  let sortDesc = false;
  out.replaceChildren(el('p', { id: 'probe-summary', text: `${v.rows.length} experiments, layers ${v.layers.join(', ')}, scores: ${v.metrics.join(', ')}` }), field('pooler', pooler), field('classifier', classifier), field('score', metric), chart, tableBox);
  const draw = async () => {
    const rows = v.rows.filter((r) => (!pooler.value || r.pooler === pooler.value) && (!classifier.value || r.classifier === classifier.value));
    const sorted = [...rows].sort((a, b) => {
      const x = a[sortKey];
      const y = b[sortKey];
      const c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
      return sortDesc ? -c : c;
    });
    const cols = ['layer', 'pooler', 'classifier', ...v.metrics];
    const t = table(cols, sorted.map((r) => cols.map((c) => (typeof r[c] === 'number' ? String(Number((r[c] as number).toPrecision(4))) : String(r[c])))));
    t.querySelectorAll('th').forEach((th, i) => {
      th.classList.add('sortable');
      th.addEventListener('click', () => {
        sortDesc = sortKey === cols[i] ? !sortDesc : true;
        sortKey = cols[i]!;
        void draw();
      });
    });
    tableBox.replaceChildren(t);
    const groups = new Map<string, { x: number[]; y: number[] }>();
    for (const r of [...rows].sort((a, b) => a.layer - b.layer)) {
      const key = `${r.pooler} / ${r.classifier}`;
      if (!groups.has(key)) groups.set(key, { x: [], y: [] });
      groups.get(key)!.x.push(r.layer);
      groups.get(key)!.y.push(r[metric.value] as number);
    }
    if (!groups.size) {
      chart.replaceChildren(el('p', { text: 'no experiment matches the filters' }));
      return;
    }
    await showChart(chart, lineChartSpec([...groups].map(([name, g]) => ({ name, x: g.x, y: g.y })), { title: `${metric.value} by layer`, xTitle: 'layer', yTitle: metric.value }), `probes-${metric.value}`, rows);
  };
  for (const s of [pooler, classifier, metric]) s.addEventListener('change', () => void draw());
  await draw();
}

/** Mounts the shortcuts view. */
export function mountShortcuts(root: HTMLElement): void {
  const out = el('div', { id: 'sc-out' });
  const error = el('div', { class: 'error', id: 'sc-error', role: 'alert' });
  const input = fileInput('sc-file', '.json,application/json', async (f) => renderShortcuts(out, await upload<ShortcutsView>('/api/shortcuts/run', f, 'application/json')), error);
  root.append(el('p', {}, 'Load the report.json of a saved run of ', el('code', { text: 'tfjs-lens shortcuts --out DIR' }), '. Library: ', docsLink('api.md', 'runMatPipeline, r2Matrices, evaluateMappings'), ', ', docsLink('methods.md', 'methods §7–8'), '.'), field('run file', input), error, out);
}

/** Mounts the probes view. */
export function mountProbes(root: HTMLElement): void {
  const out = el('div', { id: 'probe-out' });
  const error = el('div', { class: 'error', id: 'probe-error', role: 'alert' });
  const input = fileInput('probe-file', '.jsonl,.ndjson,.json', async (f) => renderProbes(out, await upload<ProbeLogView>('/api/probes/log', f, 'application/x-ndjson')), error);
  root.append(el('p', {}, 'Load probe experiment logs: JSON Lines, one experiment per line with layer, pooler, classifier and scores. Library: ', docsLink('api.md', 'crossValidateProbe, runProbeExperiment'), ', ', docsLink('explore.md', 'the log format'), '.'), field('log file', input), error, out);
}
