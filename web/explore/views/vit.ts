/**
 * ViT view: upload an image → the patch-level class lens: for a chosen residual state h_ℓ, the top-1 class
 * of every patch (grid over the image, colour = class, opacity = probability) and of the CLS token, read
 * through the model's own readout (`lensLogits`). Needs a server started with `--vit-model`.
 */
import type { TopLevelSpec } from 'vega-lite';
import { showChart } from '../chart.js';
import { docsLink, el, field, table } from '../dom.js';
import { jobControls } from '../job-ui.js';
import type { Info, VitLensReply } from '../types.js';

/** Spec of one layer's patch grid. */
export function patchGridSpec(r: VitLensReply, row: number): TopLevelSpec {
  const values = Array.from({ length: r.gridH * r.gridW }, (_, i) => {
    const id = r.classes[row]![i + 1]!;
    return { r: Math.floor(i / r.gridW), c: i % r.gridW, label: r.labels[id] ?? String(id), prob: r.probs[row]![i + 1]! };
  });
  const cell = Math.max(18, Math.floor(448 / Math.max(r.gridH, r.gridW)));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `top-1 class per patch at h${r.layers[row]} (opacity = probability)`,
    data: { values },
    width: cell * r.gridW,
    height: cell * r.gridH,
    encoding: { x: { field: 'c', type: 'ordinal', title: 'patch column' }, y: { field: 'r', type: 'ordinal', title: 'patch row' } },
    layer: [
      { mark: { type: 'rect' }, encoding: { color: { field: 'label', type: 'nominal', title: 'class' }, opacity: { field: 'prob', type: 'quantitative', scale: { domain: [0, 1], range: [0.15, 1] }, legend: null } } },
      { mark: { type: 'text', fontSize: 8, limit: cell - 2 }, encoding: { text: { field: 'label', type: 'nominal' } } },
    ],
  } as TopLevelSpec;
}

/** Renders a result into `out`, with `imageUrl` shown beside the grid. */
export async function renderVit(out: HTMLElement, r: VitLensReply, imageUrl: string): Promise<void> {
  const layer = el('select', { id: 'vit-layer' }, ...r.layers.map((l, i) => el('option', { value: String(i), text: `h${l}` })));
  layer.value = String(r.layers.length - 1);
  const chart = el('div', { class: 'chart', id: 'vit-grid' });
  const cls = table(['ℓ', 'CLS top-1', 'p'], r.layers.map((l, i) => [`h${l}`, r.labels[r.classes[i]![0]!] ?? '', r.probs[i]![0]!.toFixed(3)]), { id: 'vit-cls' });
  out.replaceChildren(field('residual state', layer), el('div', { class: 'pair' }, el('img', { src: imageUrl, alt: 'the uploaded image', width: '224', id: 'vit-image' }), chart), el('h4', { text: 'CLS token (what the classifier reads)' }), cls);
  const draw = () => showChart(chart, patchGridSpec(r, Number(layer.value)), `vit-patch-lens-h${r.layers[Number(layer.value)]}`, r);
  layer.addEventListener('change', () => void draw());
  await draw();
}

/** Mounts the view. */
export function mountVit(root: HTMLElement, info: Info): void {
  if (!info.vit) {
    root.append(el('p', { id: 'vit-missing' }, 'This explorer has no ViT model: start it with ', el('code', { text: 'tfjs-lens explore --vit-model DIR|hubId' }), '.'));
    return;
  }
  const out = el('div', { id: 'vit-out' });
  let file: File | undefined;
  const job = jobControls('vit', 'Run class lens', () => {
    if (file) void job.run<VitLensReply>('/api/vit/lens', file, (r) => renderVit(out, r, URL.createObjectURL(file!)));
  });
  const input = el('input', { id: 'vit-file', type: 'file', accept: 'image/png,image/jpeg' });
  input.addEventListener('change', () => {
    file = input.files?.[0];
    if (file) document.getElementById('vit-run')?.click();
  });
  root.append(
    el('p', {}, `Model ${info.vit.model}: ${info.vit.imageSize.join('×')} pixels in ${info.vit.patchSize}-pixel patches, ${info.vit.numLabels} classes. Each patch's residual state is read through the final layer norm and the classifier. Library: `, docsLink('api.md', 'HookedViT, vitPixelValues, residNamesFilter'), '.'),
    field('image', input),
    job.root,
    out,
  );
}
