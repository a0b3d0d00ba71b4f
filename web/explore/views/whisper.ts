/**
 * Whisper view: upload a WAV file → the model transcribes it (greedy decoding from the start token) → the
 * decoder lens over the transcript: top-k tokens of every decoder residual state at every transcript
 * position, drawn with the logit-lens grid. Optionally teacher-force a text (or ids) instead of the
 * transcript. Backed by `greedyGenerate`, `whisperFeatures` and `topKPerLayer`. Needs `--whisper-model`.
 */
import { docsLink, el, field, showToken } from '../dom.js';
import { jobControls } from '../job-ui.js';
import type { Info, WhisperLensReply } from '../types.js';
import { renderLensGrid } from './lens.js';

/** Draws the transcript (or says which prefix was forced) above the lens grid. */
async function renderWhisper(out: HTMLElement, reply: WhisperLensReply): Promise<void> {
  const grid = el('div');
  const head = reply.transcript
    ? el('p', { id: 'whisper-transcript', 'data-ids': reply.transcript.ids.join(',') }, 'transcript: ', el('code', { text: showToken(reply.transcript.text) }), ` (${reply.transcript.ids.length} decoder tokens, start token and EOS included)`)
    : el('p', { id: 'whisper-forced', 'data-ids': reply.ids.join(',') }, `teacher-forced decoder prefix (${reply.ids.length} tokens)`);
  out.replaceChildren(head, grid);
  await renderLensGrid(grid, reply, undefined, 'whisper');
}

/** Mounts the view. */
export function mountWhisper(root: HTMLElement, info: Info): void {
  if (!info.whisper) {
    root.append(el('p', { id: 'whisper-missing' }, 'This explorer has no Whisper model: start it with ', el('code', { text: 'tfjs-lens explore --whisper-model DIR|hubId' }), '.'));
    return;
  }
  const w = info.whisper;
  const prefix = el('input', { id: 'whisper-prefix', type: 'text', size: '60', value: '', placeholder: w.tokenizer ? 'empty: lens the transcript' : 'empty: lens the transcript; else decoder ids, comma-separated' });
  const out = el('div', { id: 'whisper-out' });
  let file: File | undefined;
  const job = jobControls('whisper', 'Transcribe and lens', () => {
    if (!file) return;
    const q = new URLSearchParams();
    if (prefix.value.trim()) q.set(w.tokenizer ? 'text' : 'ids', w.tokenizer ? prefix.value : `${w.decoderStartTokenId},${prefix.value.replace(/\s+/g, '')}`);
    void job.run<WhisperLensReply>(`/api/whisper/lens?${q}`, new Blob([file], { type: 'audio/wav' }), (reply) => renderWhisper(out, reply));
  });
  const input = el('input', { id: 'whisper-file', type: 'file', accept: 'audio/wav,.wav' });
  input.addEventListener('change', () => {
    file = input.files?.[0];
    if (file) document.getElementById('whisper-run')?.click();
  });
  root.append(
    el('p', {}, `Model ${w.model}: the model transcribes the audio (greedy decoding from start token ${w.decoderStartTokenId}), then the decoder's residual states are read through its final layer norm and the unembedding at every transcript position. Library: `, docsLink('api.md', 'greedyGenerate, whisperFeatures, topKPerLayer'), '.'),
    field('audio (WAV)', input),
    field(w.tokenizer ? 'teacher-force this text instead' : 'teacher-force these ids instead', prefix),
    job.root,
    out,
  );
}
