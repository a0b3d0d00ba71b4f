/** Plain-text tables of a benchmark result (cli-table3, no colours) and its chart spec. */
import Table from 'cli-table3';
import type { TopLevelSpec } from 'vega-lite';
import { barChartSpec, type Bar } from '../plot/bar-chart.js';
import type { BenchResult } from './schema.js';
import type { Stats } from './stats.js';

const MB = 2 ** 20;

/** `12.3` ms with 3 significant digits (at least one decimal under 100). */
export function fmtMs(ms: number): string {
  return ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms >= 1 ? ms.toFixed(2) : ms.toFixed(3);
}

/** Throughput with thousands separators. */
export function fmtRate(perSecond: number): string {
  return perSecond >= 100 ? Math.round(perSecond).toLocaleString('en-US') : perSecond.toPrecision(3);
}

/** `median (min–max)`. */
export function fmtStats(s: Stats): string {
  return s.n === 1 ? fmtMs(s.median) : `${fmtMs(s.median)} (${fmtMs(s.min)}–${fmtMs(s.max)})`;
}

/** Bytes in units of 2^20 (the reports label them MB; `–` when unknown). */
export function fmtBytes(bytes: number | null): string {
  if (bytes === null) return '–';
  const mb = bytes / MB;
  return mb >= 10 || mb === 0 ? mb.toFixed(1) : mb.toFixed(3);
}

/** A cli-table3 table without colours (safe in files and pipes). */
export function plainTable(head: string[], align?: ('left' | 'right')[]): Table.Table {
  return new Table({ head, style: { head: [], border: [], compact: true }, colAligns: align ?? head.map((_, i) => (i === 0 ? 'left' : 'right')) });
}

/** Human-readable report: header lines, forward/cache table, per-block table, memory and timing notes. */
export function formatBenchReport(r: BenchResult): string {
  const lines: string[] = [];
  const shape = r.model.family === 'vit' ? `${r.settings.batch} × ${r.tokensPerItem} patches+CLS` : `${r.settings.batch} × ${r.settings.seq}`;
  lines.push(`${r.model.name} (${r.model.source} weights, ${(r.model.params / 1e6).toFixed(1)} M params) on ${r.backend}: ${r.device}`);
  lines.push(`input ${shape} (${r.tokensPerItem} positions per item), warmup ${r.settings.warmup}, iters ${r.settings.iters}, ${r.date}`);
  const cache = plainTable(['run', 'hooks kept', 'cache MB', 'ms median (min–max)', 'tokens/s', 'vs forward', 'peak MB']);
  for (const c of r.cache) {
    cache.push([c.mode === 'none' ? 'forward' : `cache ${c.mode}`, String(c.names), fmtBytes(c.bytes), fmtStats(c.ms), fmtRate(c.tokensPerSecond.median), `${c.slowdown.toFixed(2)}×`, fmtBytes(c.peakBytes)]);
  }
  lines.push(cache.toString());
  if (r.blocks.length) {
    const hasCross = r.blocks.some((b) => b.parts.some((p) => p.part === 'cross_attn'));
    const head = ['block', 'tokens', 'ms median (min–max)', 'tokens/s', 'attn ms', ...(hasCross ? ['cross ms'] : []), 'mlp ms', 'attn share', 'parts / block'];
    const over: number[] = [];
    const table = plainTable(head);
    for (const b of r.blocks) {
      const part = (name: string) => b.parts.find((p) => p.part === name)?.ms.median;
      const attn = part('attn') ?? NaN;
      const cross = part('cross_attn');
      const mlp = part('mlp') ?? NaN;
      const share = (attn + (cross ?? 0)) / (attn + (cross ?? 0) + mlp);
      const parts = (attn + (cross ?? 0) + mlp) / b.ms.median;
      if (parts > 1.05) over.push(parts);
      table.push([b.name, String(b.tokens), fmtStats(b.ms), fmtRate(b.tokensPerSecond.median), fmtMs(attn), ...(hasCross ? [cross === undefined ? '–' : fmtMs(cross)] : []), fmtMs(mlp), `${(100 * share).toFixed(0)}%`, Number.isFinite(parts) ? `${(100 * parts).toFixed(0)}%` : '–']);
    }
    lines.push(table.toString());
    if (over.length) {
      lines.push(`note: in ${over.length} block(s) the parts add up to more than the block (up to ${(100 * Math.max(...over)).toFixed(0)}%): each part is timed alone with its own dispatch and read-back, so parts and whole agree only within the timing noise the min–max ranges show (the block also adds the residual stream twice)`);
    }
    const sum = r.blocks.reduce((s, b) => s + b.ms.median, 0);
    const rest = { gpt2: 'embeddings, final LN, unembedding', llama: 'embedding, final RMS norm, unembedding', gpt_neox: 'embedding, final LN, unembedding', gemma: 'scaled embedding, final RMS norm, unembedding, soft-capping', vit: 'patch embedding, final LN, classifier', whisper: 'conv stem, embeddings, final LNs, unembedding' }[r.model.family];
    lines.push(`sum of block medians ${fmtMs(sum)} ms = ${((100 * sum) / r.forward.ms.median).toFixed(0)}% of the forward median (the rest: ${rest}${timedAllBlocks(r) ? '' : ', untimed blocks'})`);
  }
  const m = r.memory;
  lines.push(`memory: weights ${fmtBytes(m.weightsBytes)} MB, forward peak ${fmtBytes(m.peakBytes)} MB (activations ${fmtBytes(m.peakActivationBytes)} MB), process RSS peak ${fmtBytes(m.rssPeakBytes)} MB${rssRatios(m)}`);
  lines.push(`timing: ${r.timing.method}${r.timing.syncOverheadMs ? `; sync overhead ${fmtMs(r.timing.syncOverheadMs.median)} ms per call` : ''}`);
  return lines.join('\n');
}

/** Whether every block of the model was timed (from the config's block counts). */
function timedAllBlocks(r: BenchResult): boolean {
  const c = r.model.config;
  const total = Number(c.n_layer ?? c.num_hidden_layers ?? 0) + Number(c.encoder_layers ?? 0) + Number(c.decoder_layers ?? 0);
  return total === 0 || r.blocks.length === total;
}

/**
 * Chart of a result: per-block median time stacked by sub-block (attention, cross-attention, MLP), or
 * the forward and cache runs when no block was timed.
 */
export function benchChartSpec(r: BenchResult): TopLevelSpec {
  const title = `${r.model.name} on ${r.backend}, ${r.settings.batch}×${r.settings.seq}`;
  if (!r.blocks.length) {
    return barChartSpec(r.cache.map((c) => ({ category: c.mode === 'none' ? 'forward' : `cache ${c.mode}`, value: c.ms.median })), { title, yTitle: 'ms (median)' });
  }
  const bars: Bar[] = r.blocks.flatMap((b) => b.parts.map((p) => ({ category: b.name.replace('blocks.', 'L').replace('encoder.', 'enc ').replace('decoder.', 'dec '), value: p.ms.median, group: p.part })));
  return barChartSpec(bars, { title: `${title}: per-block time`, yTitle: 'ms (median)' });
}

/**
 * `" = 1.76× the weights; 1.38× above the idle process (440 MB)"`: peak RSS over the weight bytes, whole and less
 * the process's RSS before the weights were made; empty when a number is missing.
 */
export function rssRatios(m: BenchResult['memory']): string {
  if (!m.weightsBytes || m.rssPeakBytes === null) return '';
  const whole = ` = ${(m.rssPeakBytes / m.weightsBytes).toFixed(2)}× the weights`;
  if (m.rssBaseBytes === null || m.rssBaseBytes === undefined) return whole;
  return `${whole}; ${((m.rssPeakBytes - m.rssBaseBytes) / m.weightsBytes).toFixed(2)}× above the idle process (${fmtBytes(m.rssBaseBytes)} MB)`;
}
