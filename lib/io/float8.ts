/**
 * The two 8-bit float formats of the OCP 8-bit Floating Point Specification (OFP8, 2023), as safetensors
 * names them: `F8_E4M3` (E4M3, bias 7, no infinities, S.1111.111 is NaN, largest finite ±448) and `F8_E5M2`
 * (E5M2, bias 15, IEEE-like: exponent 11111 holds ±inf and NaN, largest finite ±57344). Both have
 * subnormals. Every value is exact in float32.
 */

/** Decodes one E4M3 byte (OCP "E4M3", PyTorch `float8_e4m3fn`) into a number. */
export function e4m3ToFloat(byte: number): number {
  const sign = byte & 0x80 ? -1 : 1;
  const exponent = (byte >> 3) & 0xf;
  const mantissa = byte & 0x7;
  if (exponent === 0xf && mantissa === 0x7) return NaN;
  if (exponent === 0) return sign * mantissa * 2 ** -9; // subnormal: mantissa/8 · 2^(1-7)
  return sign * (1 + mantissa / 8) * 2 ** (exponent - 7);
}

/** Decodes one E5M2 byte (OCP "E5M2", PyTorch `float8_e5m2`) into a number. */
export function e5m2ToFloat(byte: number): number {
  const sign = byte & 0x80 ? -1 : 1;
  const exponent = (byte >> 2) & 0x1f;
  const mantissa = byte & 0x3;
  if (exponent === 0x1f) return mantissa ? NaN : sign * Infinity;
  if (exponent === 0) return sign * mantissa * 2 ** -16; // subnormal: mantissa/4 · 2^(1-15)
  return sign * (1 + mantissa / 4) * 2 ** (exponent - 15);
}

const tables = new Map<(byte: number) => number, Float32Array>();

/** The 256 float32 values of an 8-bit format, built once per decoder. */
export function float8Table(decode: (byte: number) => number): Float32Array {
  let table = tables.get(decode);
  if (!table) {
    table = Float32Array.from({ length: 256 }, (_, byte) => decode(byte));
    tables.set(decode, table);
  }
  return table;
}
