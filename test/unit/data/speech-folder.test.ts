import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listSpeechFolder, readSpeechClip } from '../../../lib/data/speech-folder.js';
import { decodeFlac, readAudioFile } from '../../../lib/data/audio-file.js';
import { readWav } from '../../../lib/data/wav.js';
import { resampleSinc } from '../../../lib/data/resample.js';
import { InvalidInputError } from '../../../lib/errors.js';
import { ROOT } from '../../helpers/fixtures.js';
import { encodeFlacVerbatim, wavPcm16Channels } from '../../helpers/flac.js';

const AUDIO = join(ROOT, 'data', 'audio');
/** The shipped table, read here by splitting lines and tabs. */
const TABLE = readFileSync(join(AUDIO, 'transcripts.tsv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split('\t') as [string, string]);

/** Whether the FLAC decoder package loads here (it is an optional dependency until installed). */
const FLAC_DECODER = await import('@wasm-audio-decoders/flac' as string).then(() => true, () => false);

/** A LibriSpeech tree `root/19/198/19-198-000i.<ext>` of the shipped clips (in table order) with its trans.txt. */
function libriSpeechTree(ext: 'wav' | 'flac'): string {
  const root = mkdtempSync(join(tmpdir(), `tfjs-lens-libri-${ext}-`));
  const dir = join(root, '19', '198');
  mkdirSync(dir, { recursive: true });
  const lines = TABLE.map(([file, text], i) => {
    const id = `19-198-${String(i).padStart(4, '0')}`;
    const src = join(AUDIO, file);
    if (ext === 'wav') copyFileSync(src, join(dir, `${id}.wav`));
    else {
      const { channels, sampleRate } = wavPcm16Channels(readFileSync(src));
      writeFileSync(join(dir, `${id}.flac`), encodeFlacVerbatim(channels, sampleRate));
    }
    return `${id} ${text.toUpperCase()}`;
  });
  writeFileSync(join(dir, '19-198.trans.txt'), `${lines.join('\n')}\n`);
  return root;
}

test('listSpeechFolder reads the shipped data/audio (transcripts.tsv): every clip, its text and file', async () => {
  const folder = listSpeechFolder(AUDIO);
  assert.equal(folder.layout, 'tsv');
  assert.deepEqual(folder.clips.map((c) => [c.path, c.text]), TABLE.map(([file, text]) => [join(AUDIO, file), text]));
  assert.equal(folder.clips[1]!.source, `${join(AUDIO, 'transcripts.tsv')}:3`);
  // A 16 kHz clip is returned as decoded; the 44.1 kHz stereo one is averaged and resampled to 16 kHz.
  const mono = readWav(folder.clips[0]!.path);
  assert.deepEqual(await readSpeechClip(folder.clips[0]!), mono.samples);
  const stereo = readWav(folder.clips[4]!.path);
  assert.equal(stereo.sampleRate, 44100);
  assert.deepEqual(await readSpeechClip(folder.clips[4]!), resampleSinc(stereo.samples, 44100, 16000));
});

test('listSpeechFolder (LibriSpeech layout, WAV clips): ids, upper-case transcripts, file:line sources', async () => {
  const root = libriSpeechTree('wav');
  const folder = listSpeechFolder(root);
  assert.equal(folder.layout, 'librispeech');
  assert.deepEqual(folder.clips.map((c) => c.id), TABLE.map((_, i) => `19-198-000${i}`));
  assert.deepEqual(folder.clips.map((c) => c.text), TABLE.map(([, t]) => t.toUpperCase()));
  assert.equal(folder.clips[2]!.source, `${join(root, '19', '198', '19-198.trans.txt')}:3`);
  assert.deepEqual(await readSpeechClip(folder.clips[3]!), readWav(join(AUDIO, TABLE[3]![0])).samples);
});

test('FLAC clips decode bit-exactly to the WAV of the same 16-bit signal (mono and stereo)', { skip: FLAC_DECODER ? false : '@wasm-audio-decoders/flac is not installed' }, async () => {
  for (const [file] of TABLE) {
    const wavBytes = readFileSync(join(AUDIO, file));
    const { channels, sampleRate } = wavPcm16Channels(wavBytes);
    const flac = await decodeFlac(encodeFlacVerbatim(channels, sampleRate), file);
    const wav = readWav(join(AUDIO, file));
    assert.equal(flac.sampleRate, wav.sampleRate, file);
    assert.equal(flac.channels, channels.length, file);
    assert.deepEqual(flac.samples, wav.samples, file);
  }
  const root = libriSpeechTree('flac');
  const folder = listSpeechFolder(root);
  assert.ok(folder.clips.every((c) => c.path.endsWith('.flac')));
  for (const [i, [file]] of TABLE.entries()) {
    const wav = readWav(join(AUDIO, file));
    const want = wav.sampleRate === 16000 ? wav.samples : resampleSinc(wav.samples, wav.sampleRate, 16000);
    assert.deepEqual(await readSpeechClip(folder.clips[i]!), want, file);
  }
});

test('FLAC of 8, 16 and 24 bits over the full integer range decodes to int / 2^(bits−1), channels averaged', { skip: FLAC_DECODER ? false : '@wasm-audio-decoders/flac is not installed' }, async () => {
  for (const bits of [8, 16, 24]) {
    const full = 2 ** (bits - 1);
    const left = Int32Array.from({ length: 40 }, (_, i) => [-full, -full + 1, -1, 0, 1, full - 2, full - 1][i % 7]! - (i % 7 === 3 ? (i * 7919) % full : 0));
    const right = Int32Array.from(left, (v, i) => (i % 3 === 0 ? -v - 1 : v >> 1));
    for (const channels of [[left], [left, right]]) {
      const got = await decodeFlac(encodeFlacVerbatim(channels, 16000, bits, 16), `${bits}-bit`);
      const want = Float32Array.from(left, (_, i) => channels.reduce((s, ch) => s + ch[i]! / full, 0) / channels.length);
      assert.deepEqual(got.samples, want, `${bits} bits, ${channels.length} channel(s)`);
      assert.equal(got.encoding, `flac${bits}`);
    }
  }
});

test('FLAC without the decoder package, and non-audio files, are InvalidInputErrors naming the file', { skip: FLAC_DECODER ? 'the decoder is installed' : false }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tfjs-lens-flac-missing-'));
  const path = join(dir, 'a.flac');
  writeFileSync(path, encodeFlacVerbatim([Int32Array.from([0, 1, -1, 2])], 16000, 16, 16));
  await assert.rejects(readAudioFile(path), (e: unknown) => e instanceof InvalidInputError && e.message.startsWith(`${path}: is FLAC, and the FLAC decoder package @wasm-audio-decoders/flac cannot be loaded`));
});

test('speech folders: malformed transcript lines, missing clips, bad tables and empty folders name file and line', async () => {
  const root = libriSpeechTree('wav');
  const trans = join(root, '19', '198', '19-198.trans.txt');
  writeFileSync(trans, '19-198-0000 HELLO\n19-198-0001\n');
  assert.throws(() => listSpeechFolder(root), (e: unknown) => e instanceof InvalidInputError && e.message.startsWith(`${trans}:2: '19-198-0001' has no transcript`));
  writeFileSync(trans, '19-198-0000 HELLO\n19-198-0099 GONE\n');
  assert.throws(() => listSpeechFolder(root), new RegExp(`${trans}:2: clip 19-198-0099 has no audio file \\(19-198-0099\\.flac or 19-198-0099\\.wav\\)`));
  const tsvRoot = mkdtempSync(join(tmpdir(), 'tfjs-lens-tsv-'));
  assert.throws(() => listSpeechFolder(tsvRoot), /holds neither LibriSpeech transcripts \(\*\.trans\.txt\) nor a transcripts\.tsv/);
  writeFileSync(join(tsvRoot, 'transcripts.tsv'), 'path\ttext\na.wav\thi\n');
  assert.throws(() => listSpeechFolder(tsvRoot), /transcripts\.tsv:1: the header names no 'file' column/);
  writeFileSync(join(tsvRoot, 'transcripts.tsv'), 'file\ttext\na.wav\thi\n');
  assert.throws(() => listSpeechFolder(tsvRoot), /transcripts\.tsv:2: audio file a\.wav not found/);
  copyFileSync(join(AUDIO, TABLE[0]![0]), join(tsvRoot, 'a.wav'));
  writeFileSync(join(tsvRoot, 'transcripts.tsv'), 'file\ttext\na.wav\t \n');
  assert.throws(() => listSpeechFolder(tsvRoot), /transcripts\.tsv:2: the 'text' field of a\.wav is empty/);
  writeFileSync(join(tsvRoot, 'b.txt'), 'not audio');
  await assert.rejects(readAudioFile(join(tsvRoot, 'b.txt')), /b\.txt: is neither WAV nor FLAC audio/);
});
