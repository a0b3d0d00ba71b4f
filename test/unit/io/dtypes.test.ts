/**
 * F16 / BF16 conversions against hand-computed IEEE bit patterns (checked against numpy's float64→float16
 * cast), and the writer's integer range checks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bf16ToFloat, decodeBytes, encodeValues, floatToBf16, floatToHalf, halfToFloat } from '../../../lib/io/dtypes.js';
import { InvalidArgumentError } from '../../../lib/errors.js';

const hex = (n: number): string => `0x${n.toString(16).padStart(4, '0')}`;

test('floatToHalf rounds doubles to the nearest half (ties to even, subnormals, overflow, inf, nan)', () => {
  const cases: [number, number][] = [
    [1, 0x3c00],
    [-2, 0xc000],
    [0, 0x0000],
    [-0, 0x8000],
    [65504, 0x7bff], // largest finite half
    [65519, 0x7bff], // below the halfway point to 65536
    [65520, 0x7c00], // halfway, ties to even → overflows to +inf
    [1e6, 0x7c00],
    [-1e6, 0xfc00],
    [2 ** -14, 0x0400], // smallest normal
    [2 ** -24, 0x0001], // smallest subnormal
    [1023 * 2 ** -24, 0x03ff], // largest subnormal
    [2 ** -25, 0x0000], // exactly half the smallest subnormal: ties to even → 0
    [1.5 * 2 ** -25, 0x0001], // above half → rounds up
    [3 * 2 ** -25, 0x0002], // 1.5 units: ties to even → 2
    [1 / 3, 0x3555],
    [0.1, 0x2e66],
    [1 + 2 ** -11, 0x3c00], // tie between 0x3c00 and 0x3c01 → even
    [1 + 3 * 2 ** -11, 0x3c02], // tie between 0x3c01 and 0x3c02 → even
    [1 + 2 ** -11 + 2 ** -40, 0x3c01], // just above the tie: rounding via float32 first would give 0x3c00
    [65535, 0x7c00], // above the halfway point to 65536 → inf
    [1 - 2 ** -12, 0x3c00], // tie that carries into the next exponent
    [1 - 2 ** -11, 0x3bff],
    [Infinity, 0x7c00],
    [-Infinity, 0xfc00],
    [NaN, 0x7e00],
  ];
  for (const [value, bits] of cases) assert.equal(hex(floatToHalf(value)), hex(bits), `floatToHalf(${value})`);
});

test('halfToFloat decodes hand-computed half bit patterns', () => {
  const cases: [number, number][] = [
    [0x3c00, 1],
    [0xc000, -2],
    [0x7bff, 65504],
    [0x0001, 5.960464477539063e-8],
    [0x03ff, 6.097555160522461e-5],
    [0x0400, 6.103515625e-5],
    [0x3555, 0.333251953125],
    [0x7c00, Infinity],
    [0xfc00, -Infinity],
  ];
  for (const [bits, value] of cases) assert.equal(halfToFloat(bits), value, hex(bits));
  assert.ok(Object.is(halfToFloat(0x8000), -0));
  assert.ok(Number.isNaN(halfToFloat(0x7e00)));
  assert.ok(Number.isNaN(halfToFloat(0xfc01)));
});

test('every half bit pattern survives decode → encode (except NaN payloads, which become 0x7e00)', () => {
  for (let bits = 0; bits < 0x10000; bits++) {
    const isNaN16 = (bits & 0x7c00) === 0x7c00 && (bits & 0x3ff) !== 0;
    assert.equal(floatToHalf(halfToFloat(bits)), isNaN16 ? 0x7e00 : bits, hex(bits));
  }
});

test('floatToBf16 rounds doubles to the nearest bfloat16', () => {
  const cases: [number, number][] = [
    [1, 0x3f80],
    [-1, 0xbf80],
    [-0, 0x8000],
    [Math.PI, 0x4049], // 3.140625
    [1 + 2 ** -8, 0x3f80], // tie → even
    [1 + 3 * 2 ** -8, 0x3f82], // tie → even
    [1 + 2 ** -8 + 2 ** -30, 0x3f81], // above the tie (lost when rounding through float32 first)
    [2 ** -126, 0x0080], // smallest normal
    [2 ** -133, 0x0001], // smallest subnormal
    [2 ** -134, 0x0000], // tie → 0
    [3 * 2 ** -134, 0x0002], // tie → even
    [3.3895313892515355e38, 0x7f7f], // largest finite bfloat16
    [3.4028234663852886e38, 0x7f80], // float32 max rounds to +inf
    [Infinity, 0x7f80],
    [-Infinity, 0xff80],
    [NaN, 0x7fc0],
  ];
  for (const [value, bits] of cases) assert.equal(hex(floatToBf16(value)), hex(bits), `floatToBf16(${value})`);
  assert.equal(bf16ToFloat(0x4049), 3.140625);
  assert.equal(bf16ToFloat(0x0001), 2 ** -133);
  assert.equal(bf16ToFloat(0xff80), -Infinity);
});

test('encodeValues writes little-endian bytes and decodeBytes reads them back', () => {
  assert.deepEqual([...encodeValues([1], 'F32')], [0x00, 0x00, 0x80, 0x3f]);
  assert.deepEqual([...encodeValues(new Float32Array([1]), 'F32')], [0x00, 0x00, 0x80, 0x3f]);
  assert.deepEqual([...encodeValues([1], 'F16')], [0x00, 0x3c]);
  assert.deepEqual([...encodeValues([1], 'BF16')], [0x80, 0x3f]);
  assert.deepEqual([...encodeValues([-2], 'I16')], [0xfe, 0xff]);
  assert.deepEqual([...encodeValues([258], 'I64')], [2, 1, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual([...encodeValues([2, 0, -1], 'BOOL')], [1, 0, 1]);
  // Decoding an unaligned F32 view (byteOffset 1) copies rather than failing.
  const padded = new Uint8Array([0xaa, 0x00, 0x00, 0x80, 0x3f]);
  assert.deepEqual([...decodeBytes(padded.subarray(1), 'F32', 'test')], [1]);
});

test('integer dtypes refuse values that do not fit instead of wrapping', () => {
  assert.throws(() => encodeValues([2 ** 31], 'I32'), InvalidArgumentError);
  assert.throws(() => encodeValues([256], 'U8'), InvalidArgumentError);
  assert.throws(() => encodeValues([-1], 'U8'), InvalidArgumentError);
  assert.throws(() => encodeValues([128], 'I8'), InvalidArgumentError);
  assert.throws(() => encodeValues([40000], 'I16'), InvalidArgumentError);
  assert.throws(() => encodeValues([1.5], 'I32'), InvalidArgumentError);
  assert.throws(() => encodeValues([NaN], 'I64'), InvalidArgumentError);
  assert.throws(() => encodeValues([2 ** 53], 'I64'), InvalidArgumentError);
  assert.deepEqual([...encodeValues([-(2 ** 31), 2 ** 31 - 1], 'I32')], [0, 0, 0, 0x80, 0xff, 0xff, 0xff, 0x7f]);
});

test('U32 reads as int32 when it fits and raises naming the tensor when it does not; U32 writes in [0, 2^32 - 1]', () => {
  const fits = encodeValues([0, 7, 2 ** 31 - 1], 'U32');
  assert.deepEqual([...fits], [0, 0, 0, 0, 7, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f]);
  const data = decodeBytes(fits, 'U32', 'model.safetensors: ids');
  assert.ok(data instanceof Int32Array);
  assert.deepEqual([...data], [0, 7, 2 ** 31 - 1]);
  assert.throws(() => decodeBytes(encodeValues([1, 2 ** 32 - 1], 'U32'), 'U32', 'model.safetensors: ids'), (err: unknown) =>
    err instanceof InvalidArgumentError && /model\.safetensors: ids: U32 value 4294967295 at index 1 does not fit in int32/.test(err.message));
  assert.throws(() => encodeValues([2 ** 32], 'U32'), InvalidArgumentError);
  assert.throws(() => encodeValues([-1], 'U32'), InvalidArgumentError);
});

test('BOOL bytes other than 0 read as true (1), and the input bytes are not modified', () => {
  const bytes = new Uint8Array([0, 1, 2, 127, 128, 255]);
  const data = decodeBytes(bytes, 'BOOL', 'test');
  assert.deepEqual([...data], [0, 1, 1, 1, 1, 1]);
  assert.deepEqual([...bytes], [0, 1, 2, 127, 128, 255]);
});

test('F8 dtypes are read-only: the writer refuses them with a typed error', () => {
  assert.throws(() => encodeValues([1], 'F8_E4M3'), (err: unknown) => err instanceof InvalidArgumentError && /F8_E4M3 can be read but not written/.test(err.message));
  assert.throws(() => encodeValues([1], 'F8_E5M2'), InvalidArgumentError);
});
