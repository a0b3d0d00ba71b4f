/**
 * The explorer's Whisper view: an uploaded WAV file → the decoder lens: the top-k tokens of every decoder
 * residual state h_0 … h_L at every position of the decoder prefix (`topKPerLayer` on
 * `{ inputFeatures, decoderInputIds }`, as `tfjs-lens lens --audio` does). The prefix is the start token
 * followed by `text` (with the checkpoint's tokenizer), or explicit `ids`; default the start token alone.
 */
import { z } from 'zod';
import { decodeWav } from '../data/wav.js';
import { whisperFeatures } from '../data/audio.js';
import { loadModel } from '../nn/load.js';
import { HookedWhisper } from '../nn/whisper.js';
import { topKPerLayer } from '../lens/topk.js';
import { InvalidArgumentError } from '../errors.js';
import type { JobContext } from './jobs.js';
import type { LensGrid } from './api-lens.js';
import { parseRequest } from './context.js';

/** A Whisper checkpoint served next to the GPT-2 model (`--whisper-model`). */
export interface ExploreWhisper {
  model: HookedWhisper;
  dir: string;
}

/** Loads a Whisper checkpoint (on the backend already selected). */
export async function loadExploreWhisper(dir: string): Promise<ExploreWhisper> {
  const model = await loadModel(dir);
  if (!(model instanceof HookedWhisper)) {
    model.dispose();
    throw new InvalidArgumentError(`--whisper-model ${dir} is not a Whisper checkpoint`, 'pass a Whisper directory or hub id (e.g. openai/whisper-tiny)');
  }
  return { model, dir };
}

/** Query of `POST /api/whisper/lens?…` (the body is the WAV file). */
export const WhisperLensQuery = z.strictObject({
  text: z.string().max(2000).optional(),
  ids: z.string().regex(/^\d+(,\d+)*$/, 'comma-separated token ids').max(4000).optional(),
  k: z.coerce.number().int().min(1).max(20).default(5),
});

/** Checks the upload and query; returns the job computing the decoder lens grid. */
export function whisperLens(w: ExploreWhisper, bytes: Buffer, query: URLSearchParams): (job: JobContext) => Promise<LensGrid> {
  const q = parseRequest(WhisperLensQuery, Object.fromEntries(query));
  const cfg = w.model.cfg;
  const tokenizer = w.model.tokenizer;
  let prefix: number[];
  if (q.ids !== undefined) prefix = q.ids.split(',').map(Number);
  else if (q.text) {
    if (!tokenizer) throw new InvalidArgumentError(`${w.dir} has no tokenizer, so the decoder prefix cannot be text`, 'pass ids=… instead');
    prefix = [cfg.decoderStartTokenId, ...tokenizer.encode(q.text)];
  } else prefix = [cfg.decoderStartTokenId];
  const bad = prefix.find((id) => id >= cfg.dVocab);
  if (bad !== undefined) throw new InvalidArgumentError(`decoder id ${bad} is outside the vocabulary (${cfg.dVocab})`);
  if (prefix.length > cfg.maxTargetPositions) throw new InvalidArgumentError(`the decoder prefix is ${prefix.length} tokens, more than ${cfg.maxTargetPositions}`);
  const wav = decodeWav(new Uint8Array(bytes)); // checked before the job starts: a bad file is a 400
  const show = (id: number) => (tokenizer ? tokenizer.decode([id]) : String(id));
  return async (job) => {
    // the encoder takes 2·max_source_positions frames of 160 samples (3000 frames = 30 s for the released models)
    const features = whisperFeatures(wav.samples, { samplingRate: wav.sampleRate, nMels: cfg.nMels, nSamples: 2 * cfg.maxSourcePositions * 160 });
    try {
      await job.step('decoder lens', 0, 1);
      const r = await topKPerLayer(w.model, { inputFeatures: features, decoderInputIds: [prefix] }, { k: q.k, includeEmbedding: true });
      const [nRows, , T, k] = r.shape;
      const top = Array.from({ length: nRows }, (_, row) => Array.from({ length: T }, (_, p) => Array.from({ length: k }, (_, i) => {
        const at = (row * T + p) * k + i;
        return { id: r.ids[at]!, token: show(r.ids[at]!), prob: r.probs[at]! };
      })));
      return { tokens: prefix.map(show), ids: prefix, layers: r.layers, k, top };
    } finally {
      features.dispose();
    }
  };
}
