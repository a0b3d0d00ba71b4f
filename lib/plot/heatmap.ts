/**
 * Heatmap spec: a matrix `[rows][cols]` as coloured cells — attention patterns (query × key), r² grids
 * (layer × layer), head-score grids (layer × head).
 */
import type { TopLevelSpec } from 'vega-lite';
import { InvalidArgumentError } from '../errors.js';

/** Options of `heatmapSpec`. */
export interface HeatmapOptions {
  /** Column labels (length = columns); default `0 … cols−1`. */
  xLabels?: readonly string[];
  /** Row labels (length = rows); default `0 … rows−1`. */
  yLabels?: readonly string[];
  title?: string;
  /** Colour scale domain `[min, max]`; default the data's range (use `[0, 1]` for patterns and r²). */
  domain?: readonly [number, number];
  xTitle?: string;
  yTitle?: string;
  /** Colour scheme (a vega scheme name), default `'viridis'`. */
  scheme?: string;
  /** Side of one cell in pixels (default: 20, smaller for big matrices). */
  cellSize?: number;
  /** Write each cell's value in it (default: when the matrix has at most 12×12 cells). */
  showValues?: boolean;
}

/** One heatmap cell as chart data. */
interface Cell {
  row: number;
  col: number;
  x: string;
  y: string;
  value: number;
}

/** Heatmap of `matrix` (`matrix[r][c]`, rows drawn top to bottom). Non-finite values are left blank. */
export function heatmapSpec(matrix: ArrayLike<ArrayLike<number>>, opts: HeatmapOptions = {}): TopLevelSpec {
  const rows = matrix.length;
  const cols = rows ? matrix[0]!.length : 0;
  if (rows === 0 || cols === 0) throw new InvalidArgumentError('heatmapSpec: the matrix is empty');
  for (let r = 0; r < rows; r++) {
    if (matrix[r]!.length !== cols) throw new InvalidArgumentError(`heatmapSpec: row ${r} has ${matrix[r]!.length} values, row 0 has ${cols}`);
  }
  const xLabels = opts.xLabels ?? Array.from({ length: cols }, (_, i) => String(i));
  const yLabels = opts.yLabels ?? Array.from({ length: rows }, (_, i) => String(i));
  if (xLabels.length !== cols) throw new InvalidArgumentError(`heatmapSpec: ${xLabels.length} xLabels for ${cols} columns`);
  if (yLabels.length !== rows) throw new InvalidArgumentError(`heatmapSpec: ${yLabels.length} yLabels for ${rows} rows`);
  const values: Cell[] = [];
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const v = matrix[r]![c]!;
      if (Number.isFinite(v)) values.push({ row: r, col: c, x: xLabels[c]!, y: yLabels[r]!, value: v });
    }
  }
  const showValues = opts.showValues ?? (rows <= 12 && cols <= 12);
  const cell = opts.cellSize ?? (showValues ? 34 : Math.max(6, Math.min(20, Math.floor(480 / Math.max(rows, cols)))));
  let [lo, hi] = opts.domain ?? [Infinity, -Infinity];
  if (!opts.domain) for (const c of values) [lo, hi] = [Math.min(lo, c.value), Math.max(hi, c.value)];
  const mid = (lo + hi) / 2;
  // Unique labels keep the cell order; duplicate labels (e.g. repeated tokens) would merge cells, so sort by index.
  // Large matrices (e.g. a 101×101 attention pattern) label every ⌈n/20⌉-th row/column so labels stay legible.
  const ticks = (n: number) => (n > 30 ? { values: Array.from({ length: Math.ceil(n / Math.ceil(n / 20)) }, (_, i) => i * Math.ceil(n / 20)) } : {});
  const x = { field: 'col', type: 'ordinal' as const, title: opts.xTitle ?? null, axis: { labelExpr: `${JSON.stringify(xLabels)}[datum.value]`, labelAngle: -45, ...ticks(cols) } };
  const y = { field: 'row', type: 'ordinal' as const, title: opts.yTitle ?? null, axis: { labelExpr: `${JSON.stringify(yLabels)}[datum.value]`, ...ticks(rows) } };
  const color = {
    field: 'value',
    type: 'quantitative' as const,
    title: null,
    scale: { scheme: opts.scheme ?? 'viridis', ...(opts.domain ? { domain: [opts.domain[0], opts.domain[1]] } : {}) },
  };
  const rect = { mark: { type: 'rect' as const }, encoding: { x, y, color } };
  const layers: unknown[] = [rect];
  if (showValues) {
    layers.push({
      mark: { type: 'text' as const, fontSize: 9 },
      encoding: { x, y, text: { field: 'value', type: 'quantitative' as const, format: '.2f' }, color: { condition: { test: `datum.value > ${Number.isFinite(mid) ? mid : 0}`, value: 'black' }, value: 'white' } },
    });
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...(opts.title ? { title: opts.title } : {}),
    data: { values },
    width: cell * cols,
    height: cell * rows,
    layer: layers,
  } as TopLevelSpec;
}
