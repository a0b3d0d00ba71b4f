/**
 * Logit-lens view: positions × layers grid of the top-1 lens token coloured by its probability (hover: the
 * top-k of the cell; click: trace that token's rank and probability across the layers). Backed by
 * `topKPerLayer` and `logitLens` (docs/methods.md §0).
 */
import type { TopLevelSpec } from 'vega-lite';
import { lineChartSpec } from '../../../lib/plot/line-chart.js';
import { showChart } from '../chart.js';
import { docsLink, el, field, showToken, table } from '../dom.js';
import { jobControls } from '../job-ui.js';
import type { LensGrid, TokenTrace } from '../types.js';

/** Vega-Lite spec of the grid: x = position (its token), y = residual state h_ℓ (last on top). */
export function lensGridSpec(grid: LensGrid): TopLevelSpec {
  const T = grid.tokens.length;
  const values = grid.layers.flatMap((layer, row) =>
    grid.top[row]!.map((entries, pos) => ({ row, pos, layer: `h${layer}`, token: showToken(entries[0]!.token), id: entries[0]!.id, prob: entries[0]!.prob, top: entries.map((e) => `${showToken(e.token)} ${(100 * e.prob).toFixed(1)}%`).join(' | ') })),
  );
  const xLabels = grid.tokens.map((t, p) => `${p}:${showToken(t)}`);
  const cell = Math.max(44, Math.min(80, Math.floor(900 / T)));
  const x = { field: 'pos', type: 'ordinal' as const, title: 'position (input token)', axis: { labelExpr: `${JSON.stringify(xLabels)}[datum.value]`, labelAngle: -40 } };
  const y = { field: 'row', type: 'ordinal' as const, title: 'residual state', sort: 'descending' as const, axis: { labelExpr: `${JSON.stringify(grid.layers.map((l) => `h${l}`))}[datum.value]` } };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'logit lens: top-1 next token per residual state (colour = its probability)',
    data: { values },
    width: cell * T,
    height: 26 * grid.layers.length,
    layer: [
      { mark: { type: 'rect' }, encoding: { x, y, color: { field: 'prob', type: 'quantitative', title: 'p(top-1)', scale: { scheme: 'blues', domain: [0, 1] } } } },
      { mark: { type: 'text', fontSize: 10, limit: cell - 4 }, encoding: { x, y, text: { field: 'token', type: 'nominal' }, color: { condition: { test: 'datum.prob > 0.5', value: 'white' }, value: 'black' } } },
    ],
  } as TopLevelSpec;
}

/** Renders a grid result into `out` (also used by the static snapshot); `onPick` traces a token. */
export async function renderLensGrid(out: HTMLElement, grid: LensGrid, onPick?: (pos: number, id: number) => void, prefix = 'lens'): Promise<void> {
  const last = grid.top[grid.top.length - 1]![grid.tokens.length - 1]![0]!;
  const summary = el('p', { id: `${prefix}-top1`, 'data-token-id': String(last.id) }, `final prediction after '${showToken(grid.tokens[grid.tokens.length - 1]!)}': `, el('code', { text: `"${showToken(last.token)}"` }), ` (p = ${(100 * last.prob).toFixed(1)}%)`);
  const chart = el('div', { id: `${prefix}-grid`, class: 'chart' });
  const details = el('div', { id: `${prefix}-details`, class: 'details' }, onPick ? 'hover a cell for its top-k; click it to trace a token across the layers' : 'hover a cell for its top-k');
  out.replaceChildren(summary, chart, details);
  const describe = (d: Record<string, unknown>) => {
    const row = d.row as number;
    const pos = d.pos as number;
    const entries = grid.top[row]![pos]!;
    details.replaceChildren(
      el('strong', { text: `h${grid.layers[row]} at position ${pos} ('${showToken(grid.tokens[pos]!)}')` }),
      table(['rank', 'token', 'p'], entries.map((e, i) => {
        const pick = el('button', { type: 'button', class: 'pick-token', 'data-token-id': String(e.id), text: `"${showToken(e.token)}"` });
        pick.addEventListener('click', () => onPick?.(pos, e.id));
        return [String(i + 1), onPick ? pick : `"${showToken(e.token)}"`, `${(100 * e.prob).toFixed(2)}%`];
      })),
    );
  };
  await showChart(chart, lensGridSpec(grid), prefix === 'lens' ? 'logit-lens' : `${prefix}-lens`, grid, {
    hover: describe,
    click: (d) => {
      describe(d);
      onPick?.(d.pos as number, d.id as number);
    },
  });
}

/** Mounts the view. */
export function mountLens(root: HTMLElement): void {
  const text = el('input', { id: 'lens-text', type: 'text', size: '60', value: 'The capital city of France is' });
  const k = el('input', { id: 'lens-k', type: 'number', min: '1', max: '20', value: '5' });
  const out = el('div', { id: 'lens-out' });
  const trace = el('div', { id: 'lens-trace', class: 'chart' });
  const traceJob = jobControls('lens-trace', 'Trace', () => undefined);
  traceJob.root.hidden = true;
  const pick = (pos: number, id: number) =>
    void traceJob.run<TokenTrace>('/api/lens/token', { text: text.value, position: pos, tokenId: id }, async (r) => {
      await showChart(trace, lineChartSpec([{ name: 'probability', x: r.layers, y: r.prob }], { title: `p("${showToken(r.token)}") at position ${r.position} across h_0 … h_L`, xTitle: 'residual state ℓ', yTitle: 'probability', yDomain: [0, 1] }), 'token-trace', r);
      trace.append(table(['ℓ', 'rank', 'p'], r.layers.map((l, i) => [`h${l}`, String(r.rank[i]! + 1), `${(100 * r.prob[i]!).toFixed(2)}%`]), { id: 'lens-trace-table' }));
    });
  const job = jobControls('lens', 'Run lens', () => void job.run<LensGrid>('/api/lens', { text: text.value, k: Number(k.value) }, (grid) => renderLensGrid(out, grid, pick)));
  root.append(
    el('p', {}, 'Top-k next-token predictions read from every residual state h_0 … h_L (final layer norm with that state\'s own statistics, then the unembedding). Library: ', docsLink('api.md#topkperlayer', 'topKPerLayer'), ', ', docsLink('methods.md', 'methods §0'), '.'),
    field('prompt', text),
    field('k', k),
    job.root,
    out,
    traceJob.root,
    trace,
  );
}
