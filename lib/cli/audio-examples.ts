/**
 * Whisper examples of the collecting commands (`saturation`, `probe`) from `--audio DIR`: the clips of a
 * LibriSpeech-style folder or a `transcripts.tsv` folder (`listSpeechFolder`), each run with its decoder
 * **teacher-forced on the reference transcript** (beyond_top1): `[<|startoftranscript|>, <|notimestamps|>,
 * transcript tokens…, <|endoftext|>]` — the start id from the config, `<|notimestamps|>` when the tokenizer
 * has it, the end id from the config (else the tokenizer). Every decoder position is an example. One clip
 * per forward pass (decoder lengths differ); log-mel features padded to the encoder's input length.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { HookedWhisper, type WhisperInput } from '../nn/whisper.js';
import { listSpeechFolder, readSpeechClip } from '../data/speech-folder.js';
import { WHISPER_HOP_LENGTH, WHISPER_SAMPLING_RATE, whisperFeatures } from '../data/audio.js';
import { InputChunks } from '../lens/topk.js';
import { InvalidArgumentError } from '../errors.js';
import type { ChunkRange, ExampleInput } from './image-examples.js';

/** Whisper examples: one chunk per clip, and each clip's decoder ids. */
export interface AudioExamples {
  input: ExampleInput;
  /** `{ inputFeatures [1, nMels, frames], decoderInputIds [1, T_c] }` per clip, made on demand. */
  chunks: InputChunks<WhisperInput>;
  /** Decoder ids of each clip (the teacher-forced transcript). */
  decoderIds: number[][];
  /** Clip ids. */
  clips: string[];
  /** Every file the examples are read from (audio files, transcript files): what a shard's manifest hashes. */
  files: string[];
  /** Index of the first clip of `chunks` (which may hold only a block of the clips). */
  firstExample: number;
}

/**
 * The teacher-forced decoder ids of a transcript: start, `<|notimestamps|>` (if the tokenizer has it), the
 * transcript's tokens, end; cut to the decoder's `maxTargetPositions`.
 * @returns the ids and whether they were cut.
 */
export function teacherForcedIds(model: HookedWhisper, text: string): { ids: number[]; truncated: boolean } {
  const tokenizer = model.tokenizer;
  if (!tokenizer) throw new InvalidArgumentError('Whisper audio examples need the checkpoint\'s tokenizer (tokenizer.json) to tokenise the transcripts');
  const cfg = model.cfg;
  const noTimestamps = tokenizer.specialTokens['<|notimestamps|>'];
  const end = cfg.eosTokenId ?? tokenizer.eosTokenId ?? tokenizer.specialTokens['<|endoftext|>'];
  const ids = [cfg.decoderStartTokenId, ...(noTimestamps === undefined ? [] : [noTimestamps]), ...tokenizer.encode(text), ...(end === undefined ? [] : [end])];
  const truncated = ids.length > cfg.maxTargetPositions;
  return { ids: truncated ? ids.slice(0, cfg.maxTargetPositions) : ids, truncated };
}

/**
 * The Whisper examples of `--audio DIR` (clips decoded here, features computed per pass).
 * @param opts.range the block `[start, end)` of clips to decode and make chunks of, given their count (a
 *   shard's); default all. `decoderIds` and `clips` always cover every clip.
 */
export async function audioExamples(model: HookedWhisper, path: string, opts: { maxExamples?: number; range?: ChunkRange }): Promise<AudioExamples> {
  if (!model.tokenizer) throw new InvalidArgumentError(`--audio needs the Whisper checkpoint's tokenizer (tokenizer.json) to teacher-force the transcripts; the model has none`, 'use a checkpoint directory with tokenizer.json');
  const folder = listSpeechFolder(path);
  const clips = opts.maxExamples === undefined ? folder.clips : folder.clips.slice(0, opts.maxExamples);
  const { start, end } = opts.range?.(clips.length) ?? { start: 0, end: clips.length };
  const waves = await Promise.all(clips.slice(start, end).map((c) => readSpeechClip(c, WHISPER_SAMPLING_RATE)));
  let truncated = 0;
  const decoderIds = clips.map((c) => {
    const t = teacherForcedIds(model, c.text);
    if (t.truncated) truncated++;
    return t.ids;
  });
  const nSamples = 2 * model.cfg.maxSourcePositions * WHISPER_HOP_LENGTH;
  const chunks = new InputChunks<WhisperInput>(end - start, (i) => {
    const features: tf.Tensor3D = whisperFeatures(waves[i]!, { nMels: model.cfg.nMels, nSamples });
    return { chunk: { inputFeatures: features, decoderInputIds: [decoderIds[start + i]!] }, owned: features };
  });
  // Transcript sources are `file:line`.
  const files = [...new Set(clips.flatMap((c) => [c.path, c.source.replace(/:\d+$/, '')]))];
  return { input: { file: path, source: 'audio', sequences: clips.length, truncated, dropped: 0 }, chunks, decoderIds, clips: clips.map((c) => c.id), files, firstExample: start };
}
