/**
 * Charts of the app: a Vega-Lite spec (the same spec builders as the CLI's PNGs, lib/plot) compiled and
 * drawn with vega's SVG renderer, with PNG / SVG / JSON export buttons and optional hover and click
 * handlers that receive the data row under the pointer.
 */
import { compile, type TopLevelSpec } from 'vega-lite';
import { parse, View } from 'vega';
import { el } from './dom.js';

/** Pointer handlers of a chart; `datum` is the data row of the mark under the pointer. */
export interface ChartHandlers {
  click?: (datum: Record<string, unknown>) => void;
  hover?: (datum: Record<string, unknown>) => void;
}

function download(name: string, url: string): void {
  const a = el('a', { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
}

function blobUrl(text: string, type: string): string {
  return URL.createObjectURL(new Blob([text], { type }));
}

/**
 * Replaces `container`'s content with the chart of `spec` and its export buttons.
 * @param name file name stem of the exports (`name.png`, `name.svg`, `name.json`).
 * @param data what the JSON export holds (the view's numbers, not the spec).
 */
export async function showChart(container: HTMLElement, spec: TopLevelSpec, name: string, data: unknown, handlers: ChartHandlers = {}): Promise<View> {
  container.replaceChildren();
  const plot = el('div', { class: 'plot' });
  const bar = el('div', { class: 'exports' });
  container.append(plot, bar);
  const view = new View(parse(compile(spec).spec), { renderer: 'svg', container: plot, hover: true });
  const pick = (fn?: (d: Record<string, unknown>) => void) => (_e: unknown, item: unknown) => {
    const datum = (item as { datum?: Record<string, unknown> } | null)?.datum;
    if (fn && datum && typeof datum === 'object') fn(datum);
  };
  if (handlers.click) view.addEventListener('click', pick(handlers.click));
  if (handlers.hover) view.addEventListener('mouseover', pick(handlers.hover));
  await view.runAsync();
  const button = (label: string, onClick: () => Promise<void>) => {
    const b = el('button', { type: 'button', class: `export-${label.toLowerCase()}`, text: label });
    b.addEventListener('click', () => void onClick());
    return b;
  };
  bar.append(
    button('PNG', async () => download(`${name}.png`, await view.toImageURL('png', 2))),
    button('SVG', async () => download(`${name}.svg`, blobUrl(await view.toSVG(), 'image/svg+xml'))),
    button('JSON', async () => download(`${name}.json`, blobUrl(JSON.stringify(data, null, 1), 'application/json'))),
  );
  container.dataset.ready = 'true';
  return view;
}
