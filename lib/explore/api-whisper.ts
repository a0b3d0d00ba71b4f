/**
 * The explorer's Whisper view: an uploaded WAV file → the model transcribes it (`greedyGenerate` from the
 * start token) → the decoder lens over the transcript: the top-k tokens of every decoder residual state
 * h_0 … h_L at every transcript position (`topKPerLayer` on `{ inputFeatures, decoderInputIds }`, as
 * `tfjs-lens lens --audio` does). Instead of transcribing, a decoder prefix can be teacher-forced: the start
 * token followed by `text` (with the checkpoint's tokenizer), or explicit `ids`.
 */
import { z } from 'zod';
import { decodeWav } from '../data/wav.js';
import { whisperFeatures } from '../data/audio.js';
import { loadModel } from '../nn/load.js';
import { HookedWhisper } from '../nn/whisper.js';
import { greedyGenerate } from '../nn/whisper-generate.js';
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

/** Query of `POST /api/whisper/lens?…` (the body is the WAV file). Without `text` or `ids` the model transcribes the audio. */
export const WhisperLensQuery = z.strictObject({
  /** Teacher-force this text (after the start token) instead of transcribing. */
  text: z.string().max(2000).optional(),
  /** Teacher-force these decoder ids (the whole prefix, start token included) instead of transcribing. */
  ids: z.string().regex(/^\d+(,\d+)*$/, 'comma-separated token ids').max(4000).optional(),
  k: z.coerce.number().int().min(1).max(20).default(5),
  /** Most tokens transcribed after the start token (default: up to `max_target_positions`). */
  maxNewTokens: z.coerce.number().int().min(1).max(4096).optional(),
});

/** Reply of `POST /api/whisper/lens`: the lens grid over the decoder ids, and where those ids came from. */
export interface WhisperLensReply extends LensGrid {
  /** `'transcribed'`: greedy decoding of the audio; `'teacher-forced'`: the `text`/`ids` of the request. */
  source: 'transcribed' | 'teacher-forced';
  /** The transcript (greedy decoding from the start token, EOS included when produced); absent when teacher-forced. */
  transcript?: { ids: number[]; text: string };
}

/** The teacher-forced decoder prefix of a request (checked), or undefined to transcribe. */
function forcedPrefix(w: ExploreWhisper, q: z.infer<typeof WhisperLensQuery>): number[] | undefined {
  const cfg = w.model.cfg;
  let prefix: number[];
  if (q.ids !== undefined) prefix = q.ids.split(',').map(Number);
  else if (q.text) {
    if (!w.model.tokenizer) throw new InvalidArgumentError(`${w.dir} has no tokenizer, so the decoder prefix cannot be text`, 'pass ids=… instead');
    prefix = [cfg.decoderStartTokenId, ...w.model.tokenizer.encode(q.text)];
  } else return undefined;
  const bad = prefix.find((id) => id >= cfg.dVocab);
  if (bad !== undefined) throw new InvalidArgumentError(`decoder id ${bad} is outside the vocabulary (${cfg.dVocab})`);
  if (prefix.length > cfg.maxTargetPositions) throw new InvalidArgumentError(`the decoder prefix is ${prefix.length} tokens, more than ${cfg.maxTargetPositions}`);
  return prefix;
}

/** Checks the upload and query; returns the job transcribing the audio (unless a prefix is forced) and computing the decoder lens grid. */
export function whisperLens(w: ExploreWhisper, bytes: Buffer, query: URLSearchParams): (job: JobContext) => Promise<WhisperLensReply> {
  const q = parseRequest(WhisperLensQuery, Object.fromEntries(query));
  const cfg = w.model.cfg;
  const tokenizer = w.model.tokenizer;
  const forced = forcedPrefix(w, q);
  const wav = decodeWav(new Uint8Array(bytes)); // checked before the job starts: a bad file is a 400
  const show = (id: number) => (tokenizer ? tokenizer.decode([id]) : String(id));
  return async (job) => {
    // the encoder takes 2·max_source_positions frames of 160 samples (3000 frames = 30 s for the released models)
    const features = whisperFeatures(wav.samples, { samplingRate: wav.sampleRate, nMels: cfg.nMels, nSamples: 2 * cfg.maxSourcePositions * 160 });
    try {
      let ids = forced;
      let transcript: WhisperLensReply['transcript'];
      if (!ids) {
        await job.step('transcribe', 0, 1);
        const onStep = (done: number, total: number) => job.step('transcribe', done, total);
        ids = (await greedyGenerate(w.model, features, { maxNewTokens: q.maxNewTokens, onStep }))[0]!;
        const said = ids.slice(1, ids[ids.length - 1] === cfg.eosTokenId ? -1 : undefined); // the text between the start token and EOS
        transcript = { ids, text: tokenizer ? tokenizer.decode(said) : said.join(' ') };
      }
      await job.step('decoder lens', 0, 1);
      const r = await topKPerLayer(w.model, { inputFeatures: features, decoderInputIds: [ids] }, { k: q.k, includeEmbedding: true });
      const [nRows, , T, k] = r.shape;
      const top = Array.from({ length: nRows }, (_, row) => Array.from({ length: T }, (_, p) => Array.from({ length: k }, (_, i) => {
        const at = (row * T + p) * k + i;
        return { id: r.ids[at]!, token: show(r.ids[at]!), prob: r.probs[at]! };
      })));
      return { tokens: ids.map(show), ids, layers: r.layers, k, top, source: transcript ? 'transcribed' : 'teacher-forced', ...(transcript && { transcript }) };
    } finally {
      features.dispose();
    }
  };
}
