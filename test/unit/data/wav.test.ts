import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import wavefile from 'wavefile';
import { decodeWav, readWav } from '../../../lib/data/wav.js';
import { InvalidInputError } from '../../../lib/errors.js';

/** A WAV file written by wavefile (the same package reads it back: the scaling is what is tested). */
function wavefileBytes(channels: number, rate: number, bitDepth: string, samples: number[] | number[][], container?: 'RIFX'): Uint8Array {
  const wav = new wavefile.WaveFile();
  wav.fromScratch(channels, rate, bitDepth, samples, container ? { container } : undefined);
  return wav.toBuffer();
}

/** A hand-made RIFF/WAVE file with any format code (WAVE_FORMAT_EXTENSIBLE when `extensibleCode` is set). */
function rawWav(formatCode: number, channels: number, rate: number, bits: number, data: Uint8Array, extensibleCode?: number): Uint8Array {
  const fmtSize = extensibleCode === undefined ? 16 : 40;
  const buf = Buffer.alloc(12 + 8 + fmtSize + 8 + data.length);
  let p = 0;
  const str = (s: string) => {
    buf.write(s, p, 'latin1');
    p += 4;
  };
  const u32 = (v: number) => {
    buf.writeUInt32LE(v, p);
    p += 4;
  };
  const u16 = (v: number) => {
    buf.writeUInt16LE(v, p);
    p += 2;
  };
  str('RIFF');
  u32(buf.length - 8);
  str('WAVE');
  str('fmt ');
  u32(fmtSize);
  u16(extensibleCode === undefined ? formatCode : 0xfffe);
  u16(channels);
  u32(rate);
  u32((rate * channels * bits) / 8);
  u16((channels * bits) / 8);
  u16(bits);
  if (extensibleCode !== undefined) {
    u16(22);
    u16(bits);
    u32(0);
    // GUID {0000000X-0000-0010-8000-00aa00389b71}: the format code comes first.
    u32(extensibleCode);
    u16(0x0000);
    u16(0x0010);
    for (const b of [0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71]) buf[p++] = b;
  }
  str('data');
  u32(data.length);
  Buffer.from(data.buffer, data.byteOffset, data.byteLength).copy(buf, p);
  return buf;
}

test('decodeWav: 16-bit PCM is int16 / 32768', () => {
  const ints = [0, 1, -1, 32767, -32768, 12345];
  const { samples, sampleRate, channels, encoding } = decodeWav(wavefileBytes(1, 16000, '16', ints));
  assert.equal(sampleRate, 16000);
  assert.equal(channels, 1);
  assert.equal(encoding, 'pcm16');
  assert.deepEqual([...samples], ints.map((v) => Math.fround(v / 32768)));
});

test('decodeWav: 8-bit unsigned, 24-bit and 32-bit PCM scale by 2^(bits−1)', () => {
  assert.deepEqual([...decodeWav(wavefileBytes(1, 8000, '8', [0, 128, 255, 64])).samples], [-1, 0, 127 / 128, -0.5]);
  const i24 = [0, 8388607, -8388608, 4194304, -1];
  assert.deepEqual([...decodeWav(wavefileBytes(1, 8000, '24', i24)).samples], i24.map((v) => Math.fround(v / 8388608)));
  const i32 = [0, 2147483647, -2147483648, -1073741824];
  assert.deepEqual([...decodeWav(wavefileBytes(1, 8000, '32', i32)).samples], i32.map((v) => Math.fround(v / 2147483648)));
});

test('decodeWav: 32- and 64-bit float are taken as is, also in WAVE_FORMAT_EXTENSIBLE and RIFX', () => {
  const floats = [0, 0.25, -0.75, 1.5, -1e-3];
  const f32 = decodeWav(wavefileBytes(1, 22050, '32f', floats));
  assert.equal(f32.encoding, 'float32');
  assert.deepEqual([...f32.samples], floats.map(Math.fround));
  assert.deepEqual([...decodeWav(wavefileBytes(1, 22050, '64', floats)).samples], floats.map(Math.fround));
  const data = new Uint8Array(new Float32Array(floats).buffer);
  const ext = decodeWav(rawWav(0, 1, 16000, 32, data, 3));
  assert.equal(ext.encoding, 'float32');
  assert.deepEqual([...ext.samples], floats.map(Math.fround));
  assert.deepEqual([...decodeWav(wavefileBytes(1, 16000, '16', [100, -200], 'RIFX')).samples], [100 / 32768, -200 / 32768].map(Math.fround));
});

test('decodeWav: stereo is the mean of the channels', () => {
  const left = [1000, -2000, 0];
  const right = [3000, 2000, -32768];
  const { samples, channels } = decodeWav(wavefileBytes(2, 16000, '16', [left, right]));
  assert.equal(channels, 2);
  assert.deepEqual([...samples], left.map((l, i) => Math.fround((l / 32768 + right[i]! / 32768) / 2)));
});

test('readWav: reads a file; missing files, non-WAV bytes and compressed encodings throw InvalidInputError', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tfjs-lens-wav-'));
  const path = join(dir, 'a.wav');
  writeFileSync(path, wavefileBytes(1, 44100, '16', [16384, -16384]));
  assert.deepEqual(readWav(path), { samples: Float32Array.from([0.5, -0.5]), sampleRate: 44100 });
  assert.throws(() => readWav(join(dir, 'missing.wav')), (err: unknown) => err instanceof InvalidInputError && /missing\.wav: WAV audio file not found/.test(err.message));
  assert.throws(() => decodeWav(new TextEncoder().encode('not a wave file at all')), (err: unknown) => err instanceof InvalidInputError && /not a readable WAV file/.test(err.message));
  const alaw = wavefileBytes(1, 8000, '8a', [1, 2, 3, 4]);
  assert.throws(() => decodeWav(alaw, 'speech.wav'), (err: unknown) => err instanceof InvalidInputError && /^speech\.wav: unsupported WAV encoding: A-law/.test(err.message));
  assert.throws(() => decodeWav(rawWav(85, 1, 16000, 0, new Uint8Array(16))), /unsupported WAV encoding: MP3/);
  assert.throws(() => decodeWav(rawWav(2, 1, 16000, 4, new Uint8Array(16))), /Microsoft ADPCM/);
  assert.throws(() => decodeWav(rawWav(1, 1, 16000, 12, new Uint8Array(16))), /12-bit PCM/);
  assert.throws(() => decodeWav(rawWav(0, 1, 16000, 16, new Uint8Array(16), 6)), /A-law/);
});
