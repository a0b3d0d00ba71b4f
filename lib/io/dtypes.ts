/**
 * Safetensors dtypes, their byte sizes, and conversion of raw little-endian bytes into the three
 * tfjs storage types (float32, int32, bool). Conversions that would lose integers raise instead.
 */
import { UnsupportedDtypeError, InvalidArgumentError } from '../errors.js';
import { e4m3ToFloat, e5m2ToFloat, float8Table } from './float8.js';

/**
 * Every dtype name that the reference implementation (safetensors 0.8, `Dtype` in `safetensors/src/tensor.rs`)
 * accepts in a header, with its width in bits. A header may use any of them; `SafetensorsDtype` is the subset
 * this library decodes.
 */
export const HEADER_DTYPE_BITS = {
  BOOL: 8, F4: 4, F6_E2M3: 6, F6_E3M2: 6, U8: 8, I8: 8, F8_E5M2: 8, F8_E4M3: 8, F8_E8M0: 8, F8_E4M3FNUZ: 8, F8_E5M2FNUZ: 8,
  I16: 16, U16: 16, F16: 16, BF16: 16, I32: 32, U32: 32, F32: 32, C64: 64, F64: 64, I64: 64, U64: 64,
} as const satisfies Record<string, number>;

/** A dtype name valid in a safetensors header (see `HEADER_DTYPE_BITS`). */
export type HeaderDtype = keyof typeof HEADER_DTYPE_BITS;

/** True when `name` is a dtype name of the safetensors format (whether or not this library decodes it). */
export function isHeaderDtype(name: string): name is HeaderDtype {
  return Object.prototype.hasOwnProperty.call(HEADER_DTYPE_BITS, name);
}

/** Dtypes this library reads (all of them) and writes (all but the two F8 formats). */
export type SafetensorsDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'F8_E4M3' | 'F8_E5M2' | 'I64' | 'I32' | 'U32' | 'I16' | 'I8' | 'U8' | 'BOOL';

/** Bytes per element of each supported dtype. */
export const DTYPE_SIZE: Readonly<Record<SafetensorsDtype, number>> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, F8_E4M3: 1, F8_E5M2: 1, I64: 8, I32: 4, U32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1,
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

const f64Scratch = new DataView(new ArrayBuffer(8));

/** Rounds `q` (a non-negative double below 2^52) to the nearest integer, ties to even. */
function roundHalfEven(q: number): number {
  const floor = Math.floor(q);
  const rest = q - floor;
  return rest > 0.5 || (rest === 0.5 && floor % 2 === 1) ? floor + 1 : floor;
}

/**
 * Rounds a double directly (one rounding, to nearest even) to a binary float with `mantBits` fraction bits
 * and `expBits` exponent bits, returning its bit pattern. Used for F16 (10, 5) and BF16 (7, 8). Rounding the
 * double directly avoids the double rounding of going through float32 first (as numpy does).
 */
function roundToSmallFloat(value: number, mantBits: number, expBits: number): number {
  f64Scratch.setFloat64(0, value);
  const hi = f64Scratch.getUint32(0);
  const signBit = (hi >>> 31) << (mantBits + expBits);
  const expMask = (1 << expBits) - 1;
  const infBits = signBit | (expMask << mantBits);
  if (Number.isNaN(value)) return (expMask << mantBits) | (1 << (mantBits - 1)); // canonical quiet NaN, like numpy and torch
  if (!Number.isFinite(value)) return infBits;
  const a = Math.abs(value);
  const biased64 = (hi >>> 20) & 0x7ff;
  if (biased64 === 0) return signBit; // zero or a float64 subnormal: far below the smallest subnormal
  const bias = (1 << (expBits - 1)) - 1;
  const minExp = 1 - bias;
  const maxExp = expMask - 1 - bias;
  let e = biased64 - 1023;
  if (e < minExp) {
    // Subnormal: units of 2^(minExp - mantBits); a result of 2^mantBits is the smallest normal, encoded alike.
    return signBit | roundHalfEven(a * 2 ** (mantBits - minExp));
  }
  let significand = roundHalfEven(a * 2 ** (mantBits - e));
  if (significand === 2 ** (mantBits + 1)) {
    significand = 2 ** mantBits;
    e++;
  }
  if (e > maxExp) return infBits;
  return signBit | ((e + bias) << mantBits) | (significand - 2 ** mantBits);
}

/** Converts a number into the nearest IEEE half-precision bit pattern (round to nearest even, overflow to ±inf). */
export function floatToHalf(value: number): number {
  return roundToSmallFloat(value, 10, 5);
}

/** Converts a number into the nearest bfloat16 bit pattern (round to nearest even, overflow to ±inf, NaN → 0x7fc0). */
export function floatToBf16(value: number): number {
  return roundToSmallFloat(value, 7, 8);
}

/** Converts one bfloat16 bit pattern into a float (exact: bfloat16 is the top half of a float32). */
export function bf16ToFloat(bits: number): number {
  f64Scratch.setUint32(0, (bits & 0xffff) << 16);
  return f64Scratch.getFloat32(0);
}

function int32Overflow(what: string, dtype: SafetensorsDtype, value: bigint | number, index: number): InvalidArgumentError {
  return new InvalidArgumentError(`${what}: ${dtype} value ${value} at index ${index} does not fit in int32`, 'tfjs stores integers as int32');
}

/** Maps each element (a byte or a little-endian 16-bit word) through a lookup table of floats. */
function lookup(view: DataView, n: number, width: 1 | 2, table: Float32Array, out: Float32Array): Float32Array {
  for (let i = 0; i < n; i++) out[i] = table[width === 1 ? view.getUint8(i) : view.getUint16(i * 2, true)]!;
  return out;
}

/** Allocates the bytes of a decoded array (zero-filled); `decodeBytes` places its float32 output there. */
export type ByteAllocator = (byteLength: number) => Uint8Array;

const newBytes: ByteAllocator = (byteLength) => new Uint8Array(byteLength);

/** A float32 array of `n` elements over bytes from `allocate`. */
function floats(n: number, allocate: ByteAllocator): Float32Array {
  const bytes = allocate(n * 4);
  return new Float32Array(bytes.buffer, bytes.byteOffset, n);
}

/**
 * Decodes little-endian raw bytes of `dtype` into float32 / int32 / bool storage.
 * I64 and U32 values outside the int32 range raise (never silently wrapped); F8 formats decode exactly;
 * BOOL bytes other than 0 read as true (1). F32 bytes at a 4-byte offset are returned as a view (no copy);
 * every other float32 result is written into memory from `allocate` (default: a new array).
 */
export function decodeBytes(bytes: Uint8Array, dtype: SafetensorsDtype, what: string, allocate: ByteAllocator = newBytes): DecodedData {
  const n = bytes.byteLength / DTYPE_SIZE[dtype];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (dtype) {
    case 'F32': {
      if (bytes.byteOffset % 4 === 0) return new Float32Array(bytes.buffer, bytes.byteOffset, n);
      const out = floats(n, allocate);
      new Uint8Array(out.buffer, out.byteOffset, out.byteLength).set(bytes);
      return out;
    }
    case 'F64': {
      const out = floats(n, allocate);
      for (let i = 0; i < n; i++) out[i] = view.getFloat64(i * 8, true);
      return out;
    }
    case 'F16':
      return lookup(view, n, 2, halfTable(), floats(n, allocate));
    case 'F8_E4M3':
      return lookup(view, n, 1, float8Table(e4m3ToFloat), floats(n, allocate));
    case 'F8_E5M2':
      return lookup(view, n, 1, float8Table(e5m2ToFloat), floats(n, allocate));
    case 'BF16': {
      const out = floats(n, allocate);
      const outBits = new Uint32Array(out.buffer, out.byteOffset, n);
      for (let i = 0; i < n; i++) outBits[i] = view.getUint16(i * 2, true) << 16;
      return out;
    }
    case 'I64': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const v = view.getBigInt64(i * 8, true);
        if (v > 2147483647n || v < -2147483648n) throw int32Overflow(what, dtype, v, i);
        out[i] = Number(v);
      }
      return out;
    }
    case 'I32': {
      if (bytes.byteOffset % 4 === 0) return new Int32Array(bytes.buffer, bytes.byteOffset, n);
      return new Int32Array(bytes.slice().buffer);
    }
    case 'U32': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const v = view.getUint32(i * 4, true);
        if (v > 2147483647) throw int32Overflow(what, dtype, v, i);
        out[i] = v;
      }
      return out;
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
      return bytes.map((b) => (b === 0 ? 0 : 1));
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

const INT_RANGE: Partial<Record<SafetensorsDtype, [number, number]>> = {
  I64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  I32: [-2147483648, 2147483647],
  U32: [0, 4294967295],
  I16: [-32768, 32767],
  I8: [-128, 127],
  U8: [0, 255],
};

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Encodes values into little-endian bytes of `dtype` (for the writer). Floats are rounded to nearest even;
 * integer dtypes take integers in range only (raises InvalidArgumentError rather than wrapping). The F8
 * formats are read-only: asking for them raises InvalidArgumentError.
 */
export function encodeValues(values: ArrayLike<number>, dtype: SafetensorsDtype): Uint8Array {
  if (dtype === 'F8_E4M3' || dtype === 'F8_E5M2') throw new InvalidArgumentError(`${dtype} can be read but not written`, 'save as F16, BF16 or F32');
  const n = values.length;
  if (LITTLE_ENDIAN && ((dtype === 'F32' && values instanceof Float32Array) || (dtype === 'I32' && values instanceof Int32Array))) {
    return new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
  }
  const out = new Uint8Array(n * DTYPE_SIZE[dtype]);
  const view = new DataView(out.buffer);
  const range = INT_RANGE[dtype];
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if (range && !(Number.isInteger(v) && v >= range[0] && v <= range[1])) {
      throw new InvalidArgumentError(`value ${v} at index ${i} is not an integer in the ${dtype} range [${range[0]}, ${range[1]}]`, 'round or clamp the values, or save them as a float dtype');
    }
    switch (dtype) {
      case 'F32': view.setFloat32(i * 4, v, true); break;
      case 'F64': view.setFloat64(i * 8, v, true); break;
      case 'F16': view.setUint16(i * 2, floatToHalf(v), true); break;
      case 'BF16': view.setUint16(i * 2, floatToBf16(v), true); break;
      case 'I64': view.setBigInt64(i * 8, BigInt(v), true); break;
      case 'I32': view.setInt32(i * 4, v, true); break;
      case 'U32': view.setUint32(i * 4, v, true); break;
      case 'I16': view.setInt16(i * 2, v, true); break;
      case 'I8': view.setInt8(i, v); break;
      case 'U8': view.setUint8(i, v); break;
      case 'BOOL': view.setUint8(i, v ? 1 : 0); break;
    }
  }
  return out;
}
