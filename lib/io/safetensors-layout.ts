/**
 * The byte-layout rules of a safetensors header, as the reference implementation checks them
 * (`Metadata::validate` and `read_metadata` in safetensors 0.8 `src/tensor.rs`): sorted by data offsets, the
 * tensors tile the data buffer exactly — the first begins at 0, each begins where the previous ends, the last
 * ends at the end of the file — and each span holds `product(shape) × dtype bits / 8` bytes, computed with
 * unsigned 64-bit overflow checks and whole bytes only.
 */
import { SafetensorsFormatError } from '../errors.js';
import { HEADER_DTYPE_BITS, type HeaderDtype } from './dtypes.js';
import type { HeaderEntry, HeaderInt } from './safetensors-header.js';
import { clip } from './untrusted-text.js';

/** One tensor entry of a validated header. */
export interface TensorInfo {
  name: string;
  dtype: HeaderDtype;
  /** Dimensions; one above 2^53 (possible only in an empty tensor) is not exact and `read` refuses it. */
  shape: number[];
  /** Absolute byte offset of the data in the file. */
  start: number;
  /** Byte length of the data. */
  byteLength: number;
}

const U64_MAX = 2n ** 64n - 1n;

/**
 * Checks the entries against a data buffer of `bufferSize` bytes starting at file offset `dataStart`;
 * returns them in offset order.
 * @throws SafetensorsFormatError naming the tensor and the rule it breaks.
 */
export function layoutTensors(entries: readonly HeaderEntry[], dataStart: number, bufferSize: number, file: string): TensorInfo[] {
  const ordered = [...entries].sort((a, b) => compare(a.begin, b.begin) || compare(a.end, b.end));
  const tensors: TensorInfo[] = [];
  let covered = 0;
  for (const entry of ordered) {
    const { begin, end } = entry;
    const where = `tensor '${clip(entry.name)}'`;
    const fail = (problem: string): never => {
      throw new SafetensorsFormatError(file, `${where}: ${problem}`);
    };
    if (end < begin) fail(`data_offsets [${begin},${end}] have their end before their begin`);
    if (end > bufferSize) fail(`data_offsets [${begin},${end}] run past the ${bufferSize}-byte data buffer (truncated file?)`);
    if (begin > covered) fail(`bytes ${covered}..${begin} of the data buffer belong to no tensor (${covered === 0 ? 'a gap at the start' : 'a gap before this tensor'})`);
    if (begin < covered) fail(`data_offsets [${begin},${end}] overlap the tensor before, which ends at byte ${covered}`);
    // From here on both offsets lie inside the buffer, so they are numbers.
    const span = Number(end) - Number(begin);
    const size = byteSize(entry.shape, entry.dtype, fail);
    if (size !== span) fail(`shape ${shapeText(entry.shape)} × ${entry.dtype} needs ${size} bytes but data_offsets span ${span}`);
    covered = Number(end);
    const shape = entry.shape.every((d) => typeof d === 'number') ? (entry.shape as number[]) : entry.shape.map(Number);
    tensors.push({ name: entry.name, dtype: entry.dtype, shape, start: dataStart + Number(begin), byteLength: size });
  }
  if (covered !== bufferSize) {
    throw new SafetensorsFormatError(file, `the tensors cover ${covered} of the ${bufferSize} bytes of the data buffer: ${bufferSize - covered} trailing bytes belong to no tensor (a wrong header length?)`);
  }
  return tensors;
}

/** A shape for an error message (a hostile one may hold millions of dimensions). */
function shapeText(shape: readonly HeaderInt[]): string {
  return `[${shape.slice(0, 8).join(',')}${shape.length > 8 ? `,… (${shape.length} dimensions)` : ''}]`;
}

function compare(a: HeaderInt, b: HeaderInt): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Bytes that `shape` × `dtype` needs, in the reference's checked arithmetic: the element count and the bit
 * count must stay within 2^64 − 1, and the bit count must be whole bytes. Returns a number: the span it is
 * compared with is always below 2^53, so a larger result is returned as `Infinity` (never equal).
 */
function byteSize(shape: readonly HeaderInt[], dtype: HeaderDtype, fail: (problem: string) => never): number {
  let count: HeaderInt = 1;
  for (const d of shape) {
    if (count === 0) break; // 0 × anything stays 0: no overflow is possible from here on
    if (typeof count === 'number' && typeof d === 'number' && count * d <= Number.MAX_SAFE_INTEGER) {
      count *= d;
      continue;
    }
    count = BigInt(count) * BigInt(d);
    if (count > U64_MAX) fail(`shape ${shapeText(shape)} × ${dtype} overflows 64 bits`);
    if (count === 0n) count = 0;
  }
  const bits = BigInt(count) * BigInt(HEADER_DTYPE_BITS[dtype]);
  if (bits > U64_MAX) fail(`shape ${shapeText(shape)} × ${dtype} overflows 64 bits`);
  if (bits % 8n !== 0n) fail(`shape ${shapeText(shape)} × ${dtype} is not a whole number of bytes`);
  const bytes = bits / 8n;
  return bytes <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(bytes) : Infinity;
}
