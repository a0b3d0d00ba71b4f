/** Speech folders for tests: the shipped clips of `data/audio/` rearranged as a LibriSpeech tree (WAV or verbatim FLAC). */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './fixtures.js';
import { encodeFlacVerbatim, wavPcm16Channels } from './flac.js';

/** The shipped clips' folder. */
export const SHIPPED_AUDIO = join(ROOT, 'data', 'audio');

/** The shipped `transcripts.tsv` as `[file, text]` rows, read here by splitting lines and tabs. */
export const SHIPPED_TRANSCRIPTS = readFileSync(join(SHIPPED_AUDIO, 'transcripts.tsv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split('\t') as [string, string]);

/**
 * A LibriSpeech tree `root/19/198/19-198-000i.<ext>` of the shipped clips (in table order, so the sorted
 * listing keeps it) with its `19-198.trans.txt`; `upperCase` writes the transcripts as LibriSpeech does.
 */
export function libriSpeechTree(ext: 'wav' | 'flac', opts: { upperCase?: boolean } = {}): string {
  const root = mkdtempSync(join(tmpdir(), `tfjs-lens-libri-${ext}-`));
  const dir = join(root, '19', '198');
  mkdirSync(dir, { recursive: true });
  const lines = SHIPPED_TRANSCRIPTS.map(([file, text], i) => {
    const id = `19-198-${String(i).padStart(4, '0')}`;
    const src = join(SHIPPED_AUDIO, file);
    if (ext === 'wav') copyFileSync(src, join(dir, `${id}.wav`));
    else {
      const { channels, sampleRate } = wavPcm16Channels(readFileSync(src));
      writeFileSync(join(dir, `${id}.flac`), encodeFlacVerbatim(channels, sampleRate));
    }
    return `${id} ${opts.upperCase === false ? text : text.toUpperCase()}`;
  });
  writeFileSync(join(dir, '19-198.trans.txt'), `${lines.join('\n')}\n`);
  return root;
}
