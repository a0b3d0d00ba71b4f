/**
 * Attention view: the head-score tables of the repeated-random-token probe (induction, previous-token,
 * head detector; `inductionScores`, `previousTokenScores`, `headDetector`, `repeatedSequenceStats`) and,
 * for a clicked head, its pattern on the prompt or on the repeated sequence (heatmap and token-to-token
 * view: hover a query token to see where it attends).
 */
import { heatmapSpec } from '../../../lib/plot/heatmap.js';
import { showChart } from '../chart.js';
import { docsLink, el, field, showToken, table } from '../dom.js';
import { jobControls } from '../job-ui.js';
import type { HeadScoresReply, PatternReply } from '../types.js';

const KIND_TITLES: Record<keyof HeadScoresReply['scores'], string> = {
  induction: 'induction score',
  previousToken: 'previous-token score',
  detectorPrevious: "head detector 'previous'",
  detectorDuplicate: "head detector 'duplicate'",
  detectorInduction: "head detector 'induction'",
};

/** Token-to-token view: every token a span; hovering query q shades each key k by pattern[q][k]. */
export function tokenToToken(p: PatternReply): HTMLElement {
  const spans = p.tokens.map((t, i) => el('span', { class: 'tok', 'data-pos': String(i), text: showToken(t) }));
  const shade = (q: number) =>
    spans.forEach((s, k) => {
      const w = p.pattern[q]![k] ?? 0;
      s.style.background = k === q ? '#fde68a' : `rgba(37, 99, 235, ${w.toFixed(3)})`;
      s.style.color = w > 0.5 && k !== q ? 'white' : '';
      s.title = `attention ${q} → ${k}: ${w.toFixed(3)}`;
    });
  spans.forEach((s, q) => s.addEventListener('mouseenter', () => shade(q)));
  shade(p.tokens.length - 1);
  return el('div', { class: 'tokens', id: 'attn-tokens' }, ...spans);
}

/** Renders one head's pattern (heatmap + token view) into `out`. */
export async function renderPattern(out: HTMLElement, p: PatternReply): Promise<void> {
  const chart = el('div', { class: 'chart', id: 'attn-pattern-chart' });
  out.replaceChildren(el('h3', { id: 'attn-pattern-title', text: `L${p.layer}H${p.head}: attention pattern (query × key)` }), chart, el('p', { text: 'hover a token: the keys it attends to are shaded by weight' }), tokenToToken(p));
  const labels = p.tokens.map((t, i) => `${i}:${showToken(t)}`);
  await showChart(chart, heatmapSpec(p.pattern, { title: `pattern of L${p.layer}H${p.head}`, domain: [0, 1], xLabels: labels, yLabels: labels, xTitle: 'key position', yTitle: 'query position', showValues: false }), `pattern-L${p.layer}H${p.head}`, p);
}

/** Renders the score tables and the heatmap of one kind; `onHead` is called with a clicked head. */
export async function renderHeadScores(out: HTMLElement, r: HeadScoresReply, onHead?: (layer: number, head: number) => void): Promise<void> {
  const kinds = Object.keys(KIND_TITLES) as (keyof HeadScoresReply['scores'])[];
  const chooser = el('select', { id: 'heads-kind' }, ...kinds.map((k) => el('option', { value: k, text: KIND_TITLES[k] })));
  const chart = el('div', { class: 'chart', id: 'heads-chart' });
  const rep = r.repeated;
  const stats = el('p', { text: `${r.batch} sequences of BOS + ${r.nTokens} random tokens repeated twice (seed ${r.seed}); next-token log-prob first half ${rep.logProbFirstHalf.toFixed(2)}, second half ${rep.logProbSecondHalf.toFixed(2)}; top-1 accuracy ${rep.accFirstHalf.toFixed(2)} → ${rep.accSecondHalf.toFixed(2)}` });
  const tables = kinds.map((kind) => {
    const rows = r.scores[kind].map((row, l) => [
      `L${l}`,
      ...row.map((v, h) => {
        const b = el('button', { type: 'button', class: 'head', 'data-kind': kind, 'data-layer': String(l), 'data-head': String(h), text: v.toFixed(3) });
        b.style.background = `rgba(37, 99, 235, ${Math.max(0, Math.min(1, v)).toFixed(3)})`;
        if (v > 0.5) b.style.color = 'white';
        b.addEventListener('click', () => onHead?.(l, h));
        return b;
      }),
    ]);
    return el('div', { class: 'score-table' }, el('h4', { text: KIND_TITLES[kind] }), table(['layer', ...Array.from({ length: r.nHeads }, (_, h) => `H${h}`)], rows));
  });
  out.replaceChildren(stats, el('div', { class: 'score-tables', id: 'heads-tables' }, ...tables), field('heatmap of', chooser), chart);
  const draw = () => {
    const kind = chooser.value as keyof HeadScoresReply['scores'];
    return showChart(chart, heatmapSpec(r.scores[kind], { title: KIND_TITLES[kind], domain: [0, 1], xLabels: Array.from({ length: r.nHeads }, (_, h) => `H${h}`), yLabels: Array.from({ length: r.nLayers }, (_, l) => `L${l}`), xTitle: 'head', yTitle: 'layer' }), `heads-${kind}`, { kind, scores: r.scores[kind], nTokens: r.nTokens, batch: r.batch, seed: r.seed }, { click: (d) => onHead?.(d.row as number, d.col as number) });
  };
  chooser.addEventListener('change', () => void draw());
  await draw();
}

/** Mounts the view. */
export function mountAttention(root: HTMLElement): void {
  const text = el('input', { id: 'attn-text', type: 'text', size: '60', value: 'The cat sat on the mat. The cat sat on the' });
  const source = el('select', { id: 'attn-source' }, el('option', { value: 'prompt', text: 'the prompt' }), el('option', { value: 'repeated', text: 'the first repeated random sequence' }));
  const layer = el('input', { id: 'attn-layer', type: 'number', min: '0', value: '0' });
  const head = el('input', { id: 'attn-head', type: 'number', min: '0', value: '0' });
  const batch = el('input', { id: 'heads-batch', type: 'number', min: '1', max: '64', value: '10' });
  const seed = el('input', { id: 'heads-seed', type: 'number', min: '0', value: '0' });
  const patternOut = el('div', { id: 'attn-pattern' });
  const headsOut = el('div', { id: 'heads-out' });
  let firstSequence: number[] | undefined;
  const patternJob = jobControls('attn', 'Show pattern', () => showHead(Number(layer.value), Number(head.value)));
  const showHead = (l: number, h: number) => {
    layer.value = String(l);
    head.value = String(h);
    const body = source.value === 'repeated' && firstSequence ? { ids: firstSequence, layer: l, head: h } : { text: text.value, layer: l, head: h };
    void patternJob.run<PatternReply>('/api/attention/pattern', body, (p) => renderPattern(patternOut, p));
  };
  const headsJob = jobControls('heads', 'Score heads', () =>
    void headsJob.run<HeadScoresReply>('/api/attention/heads', { batch: Number(batch.value), seed: Number(seed.value) }, (r) => {
      firstSequence = r.firstSequence;
      return renderHeadScores(headsOut, r, showHead);
    }),
  );
  root.append(
    el('h3', { text: 'Head scores on repeated random tokens' }),
    el('p', {}, 'Click a head (table cell or heatmap cell) to see its pattern. Library: ', docsLink('api.md', 'inductionScores, previousTokenScores, headDetector, repeatedSequenceStats'), ', ', docsLink('methods.md', 'methods §12'), '.'),
    field('sequences', batch),
    field('seed', seed),
    headsJob.root,
    headsOut,
    el('h3', { text: 'Attention pattern' }),
    field('prompt', text),
    field('on', source),
    field('layer', layer),
    field('head', head),
    patternJob.root,
    patternOut,
  );
}
