/**
 * Whisper view: upload a WAV file → the decoder lens: top-k tokens of every decoder residual state at every
 * position of the decoder prefix (the start token, then the text or ids you give), drawn with the logit-lens
 * grid. Backed by `whisperFeatures` and `topKPerLayer`. Needs a server started with `--whisper-model`.
 */
import { docsLink, el, field } from '../dom.js';
import { jobControls } from '../job-ui.js';
import type { Info, LensGrid } from '../types.js';
import { renderLensGrid } from './lens.js';

/** Mounts the view. */
export function mountWhisper(root: HTMLElement, info: Info): void {
  if (!info.whisper) {
    root.append(el('p', { id: 'whisper-missing' }, 'This explorer has no Whisper model: start it with ', el('code', { text: 'tfjs-lens explore --whisper-model DIR|hubId' }), '.'));
    return;
  }
  const w = info.whisper;
  const prefix = el('input', { id: 'whisper-prefix', type: 'text', size: '60', value: '', placeholder: w.tokenizer ? 'decoder text after the start token (optional)' : 'decoder ids, comma-separated (optional)' });
  const out = el('div', { id: 'whisper-out' });
  let file: File | undefined;
  const job = jobControls('whisper', 'Run decoder lens', () => {
    if (!file) return;
    const q = new URLSearchParams();
    if (prefix.value.trim()) q.set(w.tokenizer ? 'text' : 'ids', w.tokenizer ? prefix.value : `${w.decoderStartTokenId},${prefix.value.replace(/\s+/g, '')}`);
    void job.run<LensGrid>(`/api/whisper/lens?${q}`, new Blob([file], { type: 'audio/wav' }), (grid) => renderLensGrid(out, grid, undefined, 'whisper'));
  });
  const input = el('input', { id: 'whisper-file', type: 'file', accept: 'audio/wav,.wav' });
  input.addEventListener('change', () => {
    file = input.files?.[0];
    if (file) document.getElementById('whisper-run')?.click();
  });
  root.append(
    el('p', {}, `Model ${w.model}: the decoder's residual states read through its final layer norm and the unembedding, at every position of the decoder prefix (start token ${w.decoderStartTokenId}, then your text or ids). Library: `, docsLink('api.md', 'whisperFeatures, topKPerLayer'), '.'),
    field('decoder prefix', prefix),
    field('audio (WAV)', input),
    job.root,
    out,
  );
}
