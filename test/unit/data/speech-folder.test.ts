import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listSpeechFolder, readSpeechClip } from '../../../lib/data/speech-folder.js';
import { decodeFlac, readAudioFile } from '../../../lib/data/audio-file.js';
import { readWav } from '../../../lib/data/wav.js';
import { resampleSinc } from '../../../lib/data/resample.js';
import { InvalidInputError } from '../../../lib/errors.js';
import { encodeFlacVerbatim, wavPcm16Channels } from '../../helpers/flac.js';
import { SHIPPED_AUDIO as AUDIO, SHIPPED_TRANSCRIPTS as TABLE, libriSpeechTree } from '../../helpers/speech-datasets.js';


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

test('FLAC clips decode bit-exactly to the WAV of the same 16-bit signal (mono and stereo)', async () => {
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

test('FLAC of 8, 16 and 24 bits over the full integer range decodes to int / 2^(bits−1), channels averaged', async () => {
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
