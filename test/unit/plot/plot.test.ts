import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { renderSvg, svgToPng, writeChart, heatmapSpec, lineChartSpec, barChartSpec } from '../../../lib/plot/index.js';
import { InvalidArgumentError } from '../../../lib/errors.js';

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const countRects = (svg: string) => svg.split('aria-roledescription="rect mark"').length - 1;

test('heatmap SVG has the title and one cell per matrix entry', async () => {
  const matrix = [
    [1, 0, 0, 0],
    [0.5, 0.5, 0, 0],
    [0.2, 0.3, 0.5, 0],
  ];
  const svg = await renderSvg(heatmapSpec(matrix, { title: 'Attention L0H3', xLabels: ['a', 'b', 'c', 'd'], yLabels: ['a', 'b', 'c'], domain: [0, 1] }));
  assert.ok(svg.startsWith('<svg'));
  assert.match(svg, />Attention L0H3<\/text>/);
  assert.equal(countRects(svg), 12);
  // domain [0, 1] on viridis: 0 is the scheme's first colour #440154, 1 its last #fde725.
  assert.match(svg, /aria-label="col: 0; row: 0; value: 1"[^>]*fill="rgb\(253, 231, 37\)"/);
  assert.match(svg, /aria-label="col: 3; row: 0; value: 0"[^>]*fill="rgb\(68, 1, 84\)"/);
  for (const label of ['a', 'b', 'c', 'd']) assert.match(svg, new RegExp(`>${label}</text>`));
});

test('heatmap leaves non-finite entries blank and rejects ragged input', async () => {
  const svg = await renderSvg(heatmapSpec([[1, NaN], [Infinity, 2]], { showValues: false }));
  assert.equal(countRects(svg), 2);
  assert.throws(() => heatmapSpec([[1, 2], [3]]), InvalidArgumentError);
  assert.throws(() => heatmapSpec([[1, 2]], { xLabels: ['x'] }), InvalidArgumentError);
});

test('PNG has the signature and decodes to the requested width', async () => {
  const svg = await renderSvg(heatmapSpec([[0, 1], [1, 0]], { title: 'r2' }));
  const png = svgToPng(svg, { width: 300 });
  assert.deepEqual([...png.subarray(0, 8)], PNG_SIGNATURE);
  const decoded = PNG.sync.read(Buffer.from(png));
  assert.equal(decoded.width, 300);
  const svgW = Number(/width="([\d.]+)"/.exec(svg)![1]);
  const svgH = Number(/height="([\d.]+)"/.exec(svg)![1]);
  assert.ok(Math.abs(decoded.height - (300 * svgH) / svgW) <= 1);
  assert.throws(() => svgToPng(svg, { width: 0 }), InvalidArgumentError);
});

test('line and bar charts render their series names and bars', async () => {
  const line = await renderSvg(lineChartSpec([{ name: 'train', y: [3, 2, 1] }, { name: 'val', y: [3.5, 2.5, 2] }], { title: 'loss', logY: true }));
  assert.match(line, />train<\/text>/);
  assert.match(line, />val<\/text>/);
  const bars = await renderSvg(barChartSpec([
    { category: 'L0', value: 1, group: 'attn' },
    { category: 'L0', value: 2, group: 'mlp' },
    { category: 'L1', value: 1.5, group: 'attn' },
    { category: 'L1', value: 2.5, group: 'mlp' },
  ], { title: 'per-block ms' }));
  assert.equal(bars.split('aria-roledescription="bar"').length - 1, 4);
  assert.match(bars, />per-block ms<\/text>/);
});

test('writeChart writes .svg and .png by extension', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tfjs-lens-plot-'));
  try {
    const spec = barChartSpec([{ category: 'a', value: 1 }, { category: 'b', value: 2 }]);
    await writeChart(join(dir, 'c.svg'), spec);
    await writeChart(join(dir, 'sub', 'c.png'), spec, { width: 200 });
    assert.ok(readFileSync(join(dir, 'c.svg'), 'utf8').startsWith('<svg'));
    assert.equal(PNG.sync.read(readFileSync(join(dir, 'sub', 'c.png'))).width, 200);
    await assert.rejects(writeChart(join(dir, 'c.jpg'), spec), InvalidArgumentError);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
