/**
 * Speech datasets from a folder the user provides: clips with their transcripts, in one of two layouts.
 *
 * - **LibriSpeech** `root/<speaker>/<chapter>/<speaker>-<chapter>.trans.txt` next to the clips
 *   `<speaker>-<chapter>-<utterance>.flac`: each transcript line is `<clip id> <TEXT>`. Any folder depth is
 *   searched for `*.trans.txt`; a clip may also be a `.wav` of the same id.
 * - **A transcript table** `root/transcripts.tsv`: a header line `file<TAB>text`, then one clip per line, the
 *   file relative to the root (the shipped `data/audio/` uses it).
 *
 * Clips are listed in sorted transcript order (folders and lines as they sort); audio is read when asked
 * (`readSpeechClip`): WAV through `readWav`, FLAC through the `@wasm-audio-decoders/flac` decoder, both
 * averaged to mono and resampled to 16 kHz with `resampleSinc` (Whisper's rate).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { InvalidInputError } from '../errors.js';
import { utf8Lines } from './text-lines.js';
import { readAudioFile } from './audio-file.js';
import { resampleSinc } from './resample.js';

/** One clip of a speech folder. */
export interface SpeechClip {
  /** Clip id: the LibriSpeech utterance id, or the file name without extension. */
  id: string;
  /** Path of the audio file. */
  path: string;
  /** Reference transcript. */
  text: string;
  /** Where the transcript came from: `file:line`. */
  source: string;
}

/** A listed speech folder. */
export interface SpeechFolder {
  root: string;
  layout: 'librispeech' | 'tsv';
  clips: SpeechClip[];
}

/** Name of the transcript table of the `tsv` layout. */
export const TRANSCRIPT_TABLE = 'transcripts.tsv';
/** Audio file endings tried for a LibriSpeech clip id, in order. */
const CLIP_EXTENSIONS = ['.flac', '.wav'];

function sortedEntries(dir: string): string[] {
  try {
    return readdirSync(dir).filter((n) => !n.startsWith('.')).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new InvalidInputError(dir, 'folder not found', 'check the path');
    if (code === 'ENOTDIR') throw new InvalidInputError(dir, 'is a file, expected a folder of speech clips');
    throw new InvalidInputError(dir, `cannot list the folder (${(err as Error).message})`);
  }
}

/** `*.trans.txt` files under `dir`, depth first in sorted order. */
function transcriptFiles(dir: string, out: string[] = []): string[] {
  for (const name of sortedEntries(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) transcriptFiles(path, out);
    else if (name.endsWith('.trans.txt')) out.push(path);
  }
  return out;
}

function libriSpeechClips(files: readonly string[]): SpeechClip[] {
  const clips: SpeechClip[] = [];
  for (const file of files) {
    utf8Lines(file, 'LibriSpeech transcript').forEach((line, i) => {
      const where = `${file}:${i + 1}`;
      if (!line.trim()) return;
      const m = /^(\S+)\s+(.*\S)\s*$/.exec(line);
      if (!m) throw new InvalidInputError(where, `'${line.trim()}' has no transcript after the clip id`, 'each line is "<clip id> <TEXT>"');
      const id = m[1]!;
      const path = CLIP_EXTENSIONS.map((e) => join(dirname(file), id + e)).find((p) => existsSync(p));
      if (!path) throw new InvalidInputError(where, `clip ${id} has no audio file (${CLIP_EXTENSIONS.map((e) => id + e).join(' or ')}) in ${dirname(file)}`);
      clips.push({ id, path, text: m[2]!, source: where });
    });
  }
  return clips;
}

function tableClips(root: string, file: string): SpeechClip[] {
  const lines = utf8Lines(file, 'transcript table');
  const header = (lines[0] ?? '').split('\t').map((h) => h.trim());
  const fileCol = header.indexOf('file');
  const textCol = header.indexOf('text');
  if (fileCol < 0 || textCol < 0) throw new InvalidInputError(`${file}:1`, `the header names no ${fileCol < 0 ? "'file'" : "'text'"} column (got ${header.map((h) => `'${h}'`).join(', ') || 'nothing'})`, 'the first line is "file<TAB>text"');
  const clips: SpeechClip[] = [];
  lines.slice(1).forEach((line, i) => {
    const where = `${file}:${i + 2}`;
    if (!line.trim()) return;
    const cells = line.split('\t');
    const name = cells[fileCol]?.trim();
    const text = cells[textCol]?.trim();
    if (!name) throw new InvalidInputError(where, "the 'file' field is empty");
    if (!text) throw new InvalidInputError(where, `the 'text' field of ${name} is empty`);
    const path = join(root, name);
    if (!existsSync(path)) throw new InvalidInputError(where, `audio file ${name} not found in ${root}`);
    clips.push({ id: basename(name).replace(/\.[^.]+$/, ''), path, text, source: where });
  });
  return clips;
}

/**
 * Lists a speech folder (LibriSpeech layout, else `transcripts.tsv`).
 * @throws InvalidInputError for a missing folder, a folder with neither layout, a malformed transcript
 *   line (naming file and line) or a clip without its audio file.
 */
export function listSpeechFolder(root: string): SpeechFolder {
  const transcripts = transcriptFiles(root);
  if (transcripts.length) {
    const clips = libriSpeechClips(transcripts);
    if (!clips.length) throw new InvalidInputError(root, `its ${transcripts.length} *.trans.txt file(s) list no clips`);
    return { root, layout: 'librispeech', clips };
  }
  const table = join(root, TRANSCRIPT_TABLE);
  if (existsSync(table)) {
    const clips = tableClips(root, table);
    if (!clips.length) throw new InvalidInputError(table, 'lists no clips');
    return { root, layout: 'tsv', clips };
  }
  throw new InvalidInputError(root, `holds neither LibriSpeech transcripts (*.trans.txt) nor a ${TRANSCRIPT_TABLE}`, `use speaker/chapter/*.flac with *.trans.txt, or a ${TRANSCRIPT_TABLE} with the header "file<TAB>text"`);
}

/**
 * The mono waveform of a clip at `rate` Hz (default 16 kHz): decoded, channels averaged, resampled with
 * `resampleSinc` when the file has another rate.
 */
export async function readSpeechClip(clip: Pick<SpeechClip, 'path'>, rate = 16000): Promise<Float32Array> {
  const audio = await readAudioFile(clip.path);
  return audio.sampleRate === rate ? audio.samples : resampleSinc(audio.samples, audio.sampleRate, rate);
}

/** Path of a clip relative to its folder (for reports). */
export function clipName(folder: Pick<SpeechFolder, 'root'>, clip: Pick<SpeechClip, 'path'>): string {
  return relative(folder.root, clip.path);
}
