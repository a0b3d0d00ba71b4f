/**
 * Entry of the explorer app. With a server: tabs for the six views, each posting to its API route. As a
 * static snapshot (the demo report, `window.__TFJS_LENS_SNAPSHOT__` set by the page): the same renderers
 * draw the embedded data, no request is made, and it works from file://.
 */
import { getJson } from './api.js';
import { el } from './dom.js';
import type { Info, Snapshot } from './types.js';
import { mountLens, renderLensGrid } from './views/lens.js';
import { mountAttention, renderHeadScores, renderPattern } from './views/attention.js';
import { mountPatching } from './views/patching.js';
import { mountSaturation } from './views/saturation.js';
import { mountProbes, mountShortcuts } from './views/files.js';
import { mountVit } from './views/vit.js';
import { mountWhisper } from './views/whisper.js';

declare global {
  interface Window {
    __TFJS_LENS_SNAPSHOT__?: Snapshot;
  }
}

const VIEWS: [string, string, (root: HTMLElement, info: Info) => void][] = [
  ['lens', 'Logit lens', mountLens],
  ['attention', 'Attention', mountAttention],
  ['patching', 'Patching', mountPatching],
  ['saturation', 'Saturation', mountSaturation],
  ['shortcuts', 'Shortcuts', mountShortcuts],
  ['probes', 'Probes', mountProbes],
  ['vit', 'ViT image', mountVit],
  ['whisper', 'Whisper audio', mountWhisper],
];

function header(info: Info, title: string): HTMLElement {
  return el('header', {}, el('h1', { text: title }), el('span', { id: 'model-info', text: `${info.model} · ${info.nLayers} layers × ${info.nHeads} heads · ${info.backend}` }));
}

async function mountApp(app: HTMLElement): Promise<void> {
  const info = await getJson<Info>('/api/info');
  const tabs = el('nav', { id: 'tabs' });
  const panes = el('main', {});
  app.replaceChildren(header(info, 'tfjs-lens explore'), tabs, panes);
  for (const [id, title, mount] of VIEWS) {
    const pane = el('section', { id: `view-${id}`, class: 'view' }, el('h2', { text: title }));
    pane.hidden = id !== 'lens';
    mount(pane, info);
    const tab = el('button', { type: 'button', id: `tab-${id}`, class: 'tab', text: title });
    tab.addEventListener('click', () => {
      for (const p of Array.from(panes.children)) (p as HTMLElement).hidden = p !== pane;
      for (const t of Array.from(tabs.children)) t.classList.toggle('active', t === tab);
      location.hash = id;
    });
    if (id === 'lens') tab.classList.add('active');
    tabs.append(tab);
    panes.append(pane);
  }
  const wanted = location.hash.slice(1);
  (document.getElementById(`tab-${wanted}`) as HTMLButtonElement | null)?.click();
  app.dataset.ready = 'true';
}

async function mountSnapshot(app: HTMLElement, s: Snapshot): Promise<void> {
  const lens = el('div', { id: 'lens-out' });
  const heads = el('div', { id: 'heads-out' });
  const pattern = el('div', { id: 'attn-pattern' });
  app.replaceChildren(
    header(s.info, s.title),
    ...s.notes.map((n) => el('p', { class: 'note', text: n })),
    el('section', { class: 'view', id: 'view-lens' }, el('h2', { text: 'Logit lens' }), el('p', {}, 'Prompt: ', el('code', { text: s.lens.text })), lens),
    el('section', { class: 'view', id: 'view-attention' }, el('h2', { text: 'Induction and previous-token heads on repeated random tokens' }), heads, pattern),
  );
  await renderLensGrid(lens, s.lens.grid);
  await renderHeadScores(heads, s.heads);
  await renderPattern(pattern, s.pattern);
  app.dataset.ready = 'true';
}

const app = document.getElementById('app')!;
const snapshot = window.__TFJS_LENS_SNAPSHOT__;
(snapshot ? mountSnapshot(app, snapshot) : mountApp(app)).catch((err) => {
  app.append(el('div', { class: 'error', role: 'alert', text: `the explorer could not start: ${err instanceof Error ? err.message : String(err)}` }));
});
