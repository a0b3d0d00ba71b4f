/** Bar-chart spec: values per category, optionally split by group (per-layer times, attention vs MLP). */
import type { TopLevelSpec } from 'vega-lite';
import { InvalidArgumentError } from '../errors.js';

/** One bar (or one segment of a stacked / grouped bar). */
export interface Bar {
  /** Category on the x axis (e.g. `'L17'`). Categories keep their first-seen order. */
  category: string;
  value: number;
  /** Series within a category (e.g. `'attn'`, `'mlp'`); bars of one category are stacked or side by side. */
  group?: string;
}

/** Options of `barChartSpec`. */
export interface BarChartOptions {
  title?: string;
  xTitle?: string;
  yTitle?: string;
  /** Groups stacked (default) or side by side. */
  layout?: 'stacked' | 'grouped';
  width?: number;
  height?: number;
}

/** Bar chart of `bars`; non-finite values are dropped. */
export function barChartSpec(bars: readonly Bar[], opts: BarChartOptions = {}): TopLevelSpec {
  if (bars.length === 0) throw new InvalidArgumentError('barChartSpec: no bars');
  const categories = [...new Set(bars.map((b) => b.category))];
  const groups = [...new Set(bars.map((b) => b.group ?? ''))];
  const values = bars.filter((b) => Number.isFinite(b.value)).map((b) => ({ category: b.category, value: b.value, group: b.group ?? '', groupIndex: groups.indexOf(b.group ?? '') }));
  const grouped = groups.length > 1;
  const step = Math.max(4, Math.min(40, Math.floor(640 / categories.length)));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...(opts.title ? { title: opts.title } : {}),
    data: { values },
    width: opts.width ?? { step },
    height: opts.height ?? 280,
    mark: { type: 'bar' },
    encoding: {
      x: { field: 'category', type: 'nominal', sort: categories, title: opts.xTitle ?? null, axis: { labelAngle: categories.length > 16 ? -90 : 0 } },
      y: { field: 'value', type: 'quantitative', title: opts.yTitle ?? null, ...(grouped && opts.layout !== 'grouped' ? { stack: 'zero' } : { stack: null }) },
      ...(grouped ? { color: { field: 'group', type: 'nominal', title: null, sort: groups } } : {}),
      // Stacks grow upward in group order (the first group at the bottom).
      ...(grouped && opts.layout !== 'grouped' ? { order: { field: 'groupIndex', type: 'quantitative', sort: 'ascending' } } : {}),
      ...(grouped && opts.layout === 'grouped' ? { xOffset: { field: 'group', type: 'nominal', sort: groups } } : {}),
    },
  } as TopLevelSpec;
}
