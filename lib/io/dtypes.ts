/**
 * Safetensors dtypes, their byte sizes, and conversion of raw little-endian bytes into the three
 * tfjs storage types (float32, int32, bool). Conversions that would lose integers raise instead.
 */
import { UnsupportedDtypeError, InvalidArgumentError } from '../errors.js';

/** Dtype names as written in a safetensors header. */
export type SafetensorsDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

/** Bytes per element of each supported dtype. */
export const DTYPE_SIZE: Readonly<Record<SafetensorsDtype, number>> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1,
};

/** True when `name` is a dtype this library reads. */
export function isSupportedDtype(name: string): name is SafetensorsDtype {
  return Object.prototype.hasOwnProperty.call(DTYPE_SIZE, name);
}

/** The tfjs dtype a safetensors dtype is loaded as. */
export function tfDtypeOf(dtype: SafetensorsDtype): 'float32' | 'int32' | 'bool' {
  if (dtype === 'BOOL') return 'bool';
  if (dtype.startsWith('F') || dtype === 'BF16') return 'float32';
  return 'int32';
}

/** Typed array holding decoded tensor values. */
export type DecodedData = Float32Array | Int32Array | Uint8Array;

/** Converts one IEEE half-precision bit pattern into a float. */
export function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/** Converts a float into the nearest IEEE half-precision bit pattern (round to nearest even). */
export function floatToHalf(value: number): number {
  const f32 = new Float32Array(1);
  const u32 = new Uint32Array(f32.buffer);
  f32[0] = value;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >> shift;
    const rem = mant & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rem > halfway || (rem === halfway && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++;
  return sign | half;
}

/**
 * Decodes little-endian raw bytes of `dtype` into float32 / int32 / bool storage.
 * I64 values outside the int32 range raise (never silently wrapped).
 */
export function decodeBytes(bytes: Uint8Array, dtype: SafetensorsDtype, what: string): DecodedData {
  const n = bytes.byteLength / DTYPE_SIZE[dtype];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (dtype) {
    case 'F32': {
      if (bytes.byteOffset % 4 === 0) return new Float32Array(bytes.buffer, bytes.byteOffset, n);
      return new Float32Array(bytes.slice().buffer);
    }
    case 'F64': {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getFloat64(i * 8, true);
      return out;
    }
    case 'F16': {
      const table = halfTable();
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = table[view.getUint16(i * 2, true)]!;
      return out;
    }
    case 'BF16': {
      const out = new Float32Array(n);
      const outBits = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) outBits[i] = view.getUint16(i * 2, true) << 16;
      return out;
    }
    case 'I64': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const v = view.getBigInt64(i * 8, true);
        if (v > 2147483647n || v < -2147483648n) {
          throw new InvalidArgumentError(`${what}: I64 value ${v} at index ${i} does not fit in int32`, 'tfjs stores integers as int32');
        }
        out[i] = Number(v);
      }
      return out;
    }
    case 'I32': {
      if (bytes.byteOffset % 4 === 0) return new Int32Array(bytes.buffer, bytes.byteOffset, n);
      return new Int32Array(bytes.slice().buffer);
    }
    case 'I16': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getInt16(i * 2, true);
      return out;
    }
    case 'I8': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getInt8(i);
      return out;
    }
    case 'U8': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = bytes[i]!;
      return out;
    }
    case 'BOOL':
      return new Uint8Array(bytes);
    default:
      throw new UnsupportedDtypeError(dtype as string, what);
  }
}

let halfLookup: Float32Array | undefined;
function halfTable(): Float32Array {
  if (!halfLookup) {
    halfLookup = new Float32Array(65536);
    for (let i = 0; i < 65536; i++) halfLookup[i] = halfToFloat(i);
  }
  return halfLookup;
}

/** Encodes values into little-endian bytes of `dtype` (for the writer). */
export function encodeValues(values: ArrayLike<number>, dtype: SafetensorsDtype): Uint8Array {
  const n = values.length;
  const out = new Uint8Array(n * DTYPE_SIZE[dtype]);
  const view = new DataView(out.buffer);
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    switch (dtype) {
      case 'F32': view.setFloat32(i * 4, v, true); break;
      case 'F64': view.setFloat64(i * 8, v, true); break;
      case 'F16': view.setUint16(i * 2, floatToHalf(v), true); break;
      case 'BF16': {
        const f = new Float32Array([v]);
        const bits = new Uint32Array(f.buffer)[0]!;
        const rounded = (bits + 0x7fff + ((bits >> 16) & 1)) >>> 16;
        view.setUint16(i * 2, rounded, true);
        break;
      }
      case 'I64': view.setBigInt64(i * 8, BigInt(Math.trunc(v)), true); break;
      case 'I32': view.setInt32(i * 4, v, true); break;
      case 'I16': view.setInt16(i * 2, v, true); break;
      case 'I8': view.setInt8(i, v); break;
      case 'U8': view.setUint8(i, v); break;
      case 'BOOL': view.setUint8(i, v ? 1 : 0); break;
    }
  }
  return out;
}
