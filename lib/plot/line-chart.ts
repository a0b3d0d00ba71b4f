/** Line-chart spec: one or more named series (loss curves, accuracy or r² against layer). */
import type { TopLevelSpec } from 'vega-lite';
import { InvalidArgumentError } from '../errors.js';

/** One line. `x` defaults to `0 … n−1`. */
export interface LineSeries {
  name: string;
  y: ArrayLike<number>;
  x?: ArrayLike<number>;
}

/** Options of `lineChartSpec`. */
export interface LineChartOptions {
  title?: string;
  xTitle?: string;
  yTitle?: string;
  /** Logarithmic y axis (loss curves). */
  logY?: boolean;
  /** Fixed y domain `[min, max]` (e.g. `[0, 1]` for accuracy). */
  yDomain?: readonly [number, number];
  /** Draw a dot at every point (default: when every series has at most 50 points). */
  points?: boolean;
  width?: number;
  height?: number;
}

/** Line chart of `series`; non-finite points are dropped. */
export function lineChartSpec(series: readonly LineSeries[], opts: LineChartOptions = {}): TopLevelSpec {
  if (series.length === 0) throw new InvalidArgumentError('lineChartSpec: no series');
  const values: { series: string; x: number; y: number }[] = [];
  for (const s of series) {
    if (s.x && s.x.length !== s.y.length) throw new InvalidArgumentError(`lineChartSpec: series '${s.name}' has ${s.x.length} x values and ${s.y.length} y values`);
    for (let i = 0; i < s.y.length; i++) {
      const x = s.x ? s.x[i]! : i;
      const y = s.y[i]!;
      if (Number.isFinite(x) && Number.isFinite(y) && !(opts.logY && y <= 0)) values.push({ series: s.name, x, y });
    }
  }
  const integerX = values.every((v) => Number.isInteger(v.x));
  const points = opts.points ?? series.every((s) => s.y.length <= 50);
  const yScale = { ...(opts.logY ? { type: 'log' as const } : { zero: false }), ...(opts.yDomain ? { domain: [opts.yDomain[0], opts.yDomain[1]] } : {}) };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...(opts.title ? { title: opts.title } : {}),
    data: { values },
    width: opts.width ?? 480,
    height: opts.height ?? 280,
    mark: { type: 'line', point: points },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: opts.xTitle ?? 'x', ...(integerX ? { axis: { tickMinStep: 1, format: 'd' } } : {}) },
      y: { field: 'y', type: 'quantitative', title: opts.yTitle ?? 'y', scale: yScale },
      color: { field: 'series', type: 'nominal', title: null, sort: series.map((s) => s.name), ...(series.length === 1 ? { legend: null } : {}) },
    },
  } as TopLevelSpec;
}
