/** Headless charts: Vega-Lite specs for heatmaps, line and bar charts, rendered to SVG or PNG without a browser. */
export { renderSvg, svgToPng, writeChart, svgWidth, chartFontFile, CHART_FONT_FAMILY, type PngOptions } from './render.js';
export { heatmapSpec, type HeatmapOptions } from './heatmap.js';
export { lineChartSpec, type LineSeries, type LineChartOptions } from './line-chart.js';
export { barChartSpec, type Bar, type BarChartOptions } from './bar-chart.js';
