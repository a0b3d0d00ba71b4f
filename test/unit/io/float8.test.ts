/**
 * The OCP FP8 formats against the spec's own landmarks (largest/smallest normal and subnormal, NaN and
 * infinity encodings) and, for E5M2, against the half-precision decoder: an E5M2 byte is the top byte of an
 * IEEE half, so all 256 values must agree exactly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { e4m3ToFloat, e5m2ToFloat, float8Table } from '../../../lib/io/float8.js';
import { decodeBytes, halfToFloat } from '../../../lib/io/dtypes.js';

const hex = (b: number): string => `0x${b.toString(16).padStart(2, '0')}`;

test('E4M3: the OCP landmarks, no infinities, NaN only at S.1111.111', () => {
  const landmarks: [number, number][] = [
    [0b0_0000_000, 0],
    [0b0_0000_001, 2 ** -9], // smallest subnormal
    [0b0_0000_111, 0.875 * 2 ** -6], // largest subnormal
    [0b0_0001_000, 2 ** -6], // smallest normal
    [0b0_0111_000, 1],
    [0b0_0111_001, 1.125],
    [0b0_1111_000, 256], // exponent 1111 holds normal numbers in E4M3
    [0b0_1111_110, 448], // largest finite
    [0b1_1111_110, -448],
    [0b1_0111_100, -1.5],
  ];
  for (const [byte, value] of landmarks) assert.equal(e4m3ToFloat(byte), value, hex(byte));
  assert.ok(Object.is(e4m3ToFloat(0x80), -0));
  const nans = Array.from({ length: 256 }, (_, b) => b).filter((b) => Number.isNaN(e4m3ToFloat(b)));
  assert.deepEqual(nans, [0x7f, 0xff]);
  for (let b = 0; b < 256; b++) assert.ok(Number.isNaN(e4m3ToFloat(b)) || Number.isFinite(e4m3ToFloat(b)), hex(b));
  // Positive codes 0x00..0x7e are strictly increasing; the sign bit mirrors them.
  for (let b = 1; b < 0x7f; b++) assert.ok(e4m3ToFloat(b) > e4m3ToFloat(b - 1), hex(b));
  for (let b = 0; b < 0x7f; b++) assert.ok(Object.is(e4m3ToFloat(b | 0x80), -e4m3ToFloat(b)), hex(b));
});

test('E5M2: every byte equals the IEEE half whose top byte it is', () => {
  for (let b = 0; b < 256; b++) assert.ok(Object.is(e5m2ToFloat(b), halfToFloat(b << 8)), hex(b));
  assert.equal(e5m2ToFloat(0x7b), 57344); // largest finite
  assert.equal(e5m2ToFloat(0x01), 2 ** -16); // smallest subnormal
  assert.equal(e5m2ToFloat(0x7c), Infinity);
  assert.equal(e5m2ToFloat(0xfc), -Infinity);
});

test('decodeBytes reads F8 tensors through exact float32 tables', () => {
  const bytes = Uint8Array.from({ length: 256 }, (_, b) => b);
  for (const [dtype, decode] of [['F8_E4M3', e4m3ToFloat], ['F8_E5M2', e5m2ToFloat]] as const) {
    const data = decodeBytes(bytes, dtype, 'test');
    assert.ok(data instanceof Float32Array);
    for (let b = 0; b < 256; b++) assert.ok(Object.is(data[b], decode(b)), `${dtype} ${hex(b)}: float32 holds it exactly`);
    assert.equal(float8Table(decode), float8Table(decode), 'the table is built once');
  }
});
