/**
 * Headless chart rendering: a Vega-Lite spec → SVG (vega-lite `compile`, then a vega `View` with the
 * `'none'` renderer and `toSVG`) → PNG (`@resvg/resvg-js`, with the DejaVu Sans font shipped in
 * `assets/fonts/`, so the output does not depend on the fonts installed on the machine).
 */
import { existsSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compile, type TopLevelSpec } from 'vega-lite';
import { View, parse } from 'vega';
import { Resvg } from '@resvg/resvg-js';
import { InvalidArgumentError, InvalidInputError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic-write.js';

/** Font family every chart is drawn with (the shipped `assets/fonts/DejaVuSans.ttf`). */
export const CHART_FONT_FAMILY = 'DejaVu Sans';

/** Path of the shipped font file: `assets/fonts/DejaVuSans.ttf` of the package (found upward from this module). */
export function chartFontFile(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    const candidate = join(dir, 'assets', 'fonts', 'DejaVuSans.ttf');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new InvalidInputError('assets/fonts/DejaVuSans.ttf', 'the chart font shipped with tfjs-lens is missing', 'reinstall tfjs-lens (the package must include assets/fonts)');
}

/**
 * Renders a Vega-Lite spec to an SVG document (no browser, no canvas). Text is set in DejaVu Sans
 * unless the spec's `config.font` says otherwise.
 */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const withFont = { ...spec, config: { font: CHART_FONT_FAMILY, ...(spec.config ?? {}) } } as TopLevelSpec;
  const vegaSpec = compile(withFont).spec;
  const view = new View(parse(vegaSpec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Options of `svgToPng`. */
export interface PngOptions {
  /** Output width in pixels (height keeps the aspect ratio); default: the SVG's own width. */
  width?: number;
  /** Background colour (CSS), default white. */
  background?: string;
}

/** Rasterises an SVG document to PNG bytes with the shipped font (system fonts are not loaded). */
export function svgToPng(svg: string, opts: PngOptions = {}): Uint8Array {
  if (opts.width !== undefined && (!Number.isInteger(opts.width) || opts.width <= 0)) {
    throw new InvalidArgumentError(`svgToPng: width ${opts.width} is not a positive integer`);
  }
  const resvg = new Resvg(svg, {
    font: { loadSystemFonts: false, fontFiles: [chartFontFile()], defaultFontFamily: CHART_FONT_FAMILY, sansSerifFamily: CHART_FONT_FAMILY },
    fitTo: opts.width === undefined ? { mode: 'original' } : { mode: 'width', value: opts.width },
    background: opts.background ?? 'white',
    logLevel: 'off',
  });
  return new Uint8Array(resvg.render().asPng());
}

/**
 * Renders a spec and writes it to `path`: `.svg` writes the SVG, `.png` a PNG (`width` pixels wide,
 * default 2× the SVG's size for crisp text). Creates the parent directory; the file appears under its
 * name only when complete (`writeFileAtomic`).
 * @throws OutputWriteError when the folder or the file cannot be written.
 */
export async function writeChart(path: string, spec: TopLevelSpec, opts: PngOptions = {}): Promise<void> {
  const ext = extname(path).toLowerCase();
  if (ext !== '.svg' && ext !== '.png') throw new InvalidArgumentError(`writeChart: '${path}' must end in .png or .svg`);
  const svg = await renderSvg(spec);
  if (ext === '.svg') {
    writeFileAtomic(path, svg);
    return;
  }
  const width = opts.width ?? 2 * svgWidth(svg);
  writeFileAtomic(path, svgToPng(svg, { ...opts, width }));
}

/** The `width` attribute of an SVG root element (pixels), 800 when absent. */
export function svgWidth(svg: string): number {
  const match = /<svg[^>]*\swidth="([\d.]+)"/.exec(svg);
  return match ? Math.round(Number(match[1])) : 800;
}
