/**
 * Saturation view: per position, the saturation layers s_0 … s_{k−1} of the top-k lens ranks (heatmap
 * position × rank), their means and the s_0 histogram, and the order statistics (rank correspondence with
 * t-tests, mean strict Kendall τ with its permutation test). Backed by `saturationLayers`,
 * `rankCorrespondence`, `meanTauPermutationTest`.
 */
import { heatmapSpec } from '../../../lib/plot/heatmap.js';
import { barChartSpec } from '../../../lib/plot/bar-chart.js';
import { showChart } from '../chart.js';
import { docsLink, el, field, showToken, table } from '../dom.js';
import { jobControls } from '../job-ui.js';
import type { SaturationReply } from '../types.js';

const DEFAULT_TEXT = ['The capital city of France is Paris.', 'A computer program runs on a machine.', 'The cat sat on the mat and looked at the dog.'].join('\n');

/** Renders a saturation result into `out`. */
export async function renderSaturation(out: HTMLElement, r: SaturationReply): Promise<void> {
  const pick = el('select', { id: 'sat-sentence' }, ...r.sentences.map((s, i) => el('option', { value: String(i), text: `${i + 1}: ${s.tokens.join('').slice(0, 50)}` })));
  const perPos = el('div', { class: 'chart', id: 'sat-chart' });
  const bars = el('div', { class: 'chart', id: 'sat-rc-chart' });
  const fmt = (x: number, d = 3) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
  const rcRows = r.rankCorrespondence.perRank.map((p, i) => {
    const t = r.rankCorrespondence.tests[i];
    return [String(p.rank + 1), String(p.n), p.n ? `${fmt(p.meanPosition)} ± ${fmt(p.sem)}` : 'n/a', t ? `t = ${fmt(t.t, 2)}, p = ${t.p.toExponential(2)} ${t.stars}` : ''];
  });
  out.replaceChildren(
    el('p', { id: 'sat-summary', text: `${r.positions} positions, L = ${r.L} blocks (j = 0 … L−1 means h_{j+1}), k = ${r.k}; mean s_r: ${r.meanSaturation.map((m) => m.toFixed(2)).join(', ')}; s_0 histogram: ${r.s0Histogram.map((c, j) => `${j}:${c}`).join(' ')}` }),
    field('sentence', pick),
    perPos,
    el('h4', { text: `order statistics on the ${r.filter.kept} positions with s_0 ≤ ${r.filter.maxS0}` }),
    table(['rank', 'n', 'mean position ± SEM', 'vs next rank'], rcRows, { id: 'sat-rc' }),
    el('p', { id: 'sat-kendall', text: `mean strict Kendall τ = ${fmt(r.kendall.meanTau)} over ${r.kendall.nUsed} positions (${r.kendall.nSkipped} skipped), permutation test ${r.kendall.pLabel} (${r.kendall.reps} permutations, seed ${r.kendall.seed})` }),
    bars,
  );
  const draw = () => {
    const s = r.sentences[Number(pick.value)]!;
    return showChart(perPos, heatmapSpec(s.s, { title: 'saturation layer s_r per position', domain: [0, r.L - 1], xLabels: Array.from({ length: r.k }, (_, i) => `rank ${i + 1}`), yLabels: s.tokens.map((t, p) => `${p}:${showToken(t)}`), xTitle: 'rank r', yTitle: 'position', showValues: true, cellSize: 30 }), 'saturation-layers', s);
  };
  pick.addEventListener('change', () => void draw());
  await draw();
  const rc = r.rankCorrespondence.perRank.filter((p) => p.n > 0).map((p) => ({ category: `rank ${p.rank + 1}`, value: p.meanPosition }));
  if (rc.length) await showChart(bars, barChartSpec(rc, { title: 'rank correspondence (in order = 1, 2, 3, …)', xTitle: 'rank r', yTitle: 'mean position of s_r in sorted s', width: Math.max(320, 60 * r.k), height: 220 }), 'rank-correspondence', r.rankCorrespondence);
}

/** Mounts the view. */
export function mountSaturation(root: HTMLElement): void {
  const text = el('textarea', { id: 'sat-text', rows: '5', cols: '80' });
  text.value = DEFAULT_TEXT;
  const k = el('input', { id: 'sat-k', type: 'number', min: '1', max: '10', value: '5' });
  const out = el('div', { id: 'sat-out' });
  const job = jobControls('sat', 'Run saturation', () => void job.run<SaturationReply>('/api/saturation', { text: text.value, k: Number(k.value) }, (r) => renderSaturation(out, r)));
  root.append(
    el('p', {}, 'One sentence per line. Library: ', docsLink('api.md', 'saturationLayers, rankCorrespondence, meanTauPermutationTest'), ', ', docsLink('methods.md', 'methods §1–2'), '.'),
    field('sentences', text),
    field('k', k),
    job.root,
    out,
  );
}
