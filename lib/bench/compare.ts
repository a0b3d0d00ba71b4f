/** Ratio tables between two benchmark results (tfjs-lens over a PyTorch reference, or backend over backend). */
import type { BenchResult } from './schema.js';
import { fmtBytes, fmtMs, fmtRate, plainTable, rssRatios } from './report.js';

/** One compared quantity (median milliseconds of both). */
export interface ComparisonRow {
  what: string;
  oursMs: number;
  referenceMs: number;
  /** `oursMs / referenceMs`: above 1 means ours is slower. */
  ratio: number;
}

/** Whether two results measured the same model and input shape. */
export function sameWorkload(a: BenchResult, b: BenchResult): boolean {
  return a.model.family === b.model.family && a.settings.batch === b.settings.batch && a.settings.seq === b.settings.seq && a.tokensPerItem === b.tokensPerItem
    && JSON.stringify(blockShape(a)) === JSON.stringify(blockShape(b));
}

function blockShape(r: BenchResult): unknown {
  const c = r.model.config;
  return [c.n_layer ?? c.num_hidden_layers ?? c.decoder_layers, c.n_embd ?? c.hidden_size ?? c.d_model, c.n_head ?? c.num_attention_heads ?? c.decoder_attention_heads, c.vocab_size];
}

/** Rows for the forward pass, each cache mode and every block (and sub-block) both results timed. */
export function compareResults(ours: BenchResult, reference: BenchResult): ComparisonRow[] {
  const rows: ComparisonRow[] = [];
  const add = (what: string, a: number | undefined, b: number | undefined) => {
    if (a !== undefined && b !== undefined && b > 0) rows.push({ what, oursMs: a, referenceMs: b, ratio: a / b });
  };
  add('forward', ours.forward.ms.median, reference.forward.ms.median);
  for (const c of ours.cache) {
    if (c.mode !== 'none') add(`cache ${c.mode}`, c.ms.median, reference.cache.find((x) => x.mode === c.mode)?.ms.median);
  }
  for (const b of ours.blocks) {
    const other = reference.blocks.find((x) => x.name === b.name);
    if (!other) continue;
    add(b.name, b.ms.median, other.ms.median);
    for (const p of b.parts) add(`${b.name} ${p.part}`, p.ms.median, other.parts.find((x) => x.part === p.part)?.ms.median);
  }
  return rows;
}

/** Column names of a comparison table. */
export interface ComparisonLabels {
  ours: string;
  reference: string;
}

/** The comparison as a plain-text table with a header naming both sides. */
export function formatComparison(ours: BenchResult, reference: BenchResult, labels: ComparisonLabels = { ours: 'ours', reference: 'reference' }): string {
  const label = (r: BenchResult) => `${r.tool} ${r.backend} (${r.device})`;
  const width = Math.max(labels.ours.length, labels.reference.length) + 1;
  const lines = [
    `${ours.model.name}, batch ${ours.settings.batch} × seq ${ours.settings.seq}`,
    `${`${labels.ours}:`.padEnd(width)} ${label(ours)}`,
    `${`${labels.reference}:`.padEnd(width)} ${label(reference)}`,
  ];
  if (!sameWorkload(ours, reference)) lines.push('WARNING: the two results measured different models or input shapes; ratios are not comparable');
  const table = plainTable(['what', `${labels.ours} ms`, `${labels.reference} ms`, `${labels.ours} / ${labels.reference}`]);
  for (const row of compareResults(ours, reference)) table.push([row.what, fmtMs(row.oursMs), fmtMs(row.referenceMs), `${row.ratio.toFixed(2)}×`]);
  lines.push(table.toString());
  lines.push(`forward throughput: ${labels.ours} ${fmtRate(ours.forward.tokensPerSecond.median)} tokens/s, ${labels.reference} ${fmtRate(reference.forward.tokensPerSecond.median)} tokens/s`);
  for (const [name, r] of [[labels.ours, ours], [labels.reference, reference]] as const) {
    if (r.memory.rssPeakBytes !== null) lines.push(`peak RSS ${name}: ${fmtBytes(r.memory.rssPeakBytes)} MB${rssRatios({ ...r.memory, weightsBytes: r.memory.weightsBytes ?? ours.memory.weightsBytes })}`);
  }
  return lines.join('\n');
}

/** Pairs each result of `ours` with the first result of `references` on the same workload. */
export function pairResults(ours: readonly BenchResult[], references: readonly BenchResult[]): [BenchResult, BenchResult][] {
  const pairs: [BenchResult, BenchResult][] = [];
  for (const o of ours) {
    const match = references.find((r) => r !== o && sameWorkload(o, r));
    if (match) pairs.push([o, match]);
  }
  return pairs;
}
