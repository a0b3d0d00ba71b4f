/**
 * Reads a safetensors header's JSON text as the reference implementation's serde types do (`HashMetadata`,
 * `TensorInfo`, `Dtype` in safetensors 0.8 `src/tensor.rs`), with the format's own rules on top: the text
 * starts with `{` and no key appears twice (the format forbids duplicate keys; serde alone catches only a
 * second `__metadata__` or a repeated field of one entry). The byte layout is checked afterwards, by
 * `layoutTensors`.
 *
 * Accepted, as serde accepts them: `"__metadata__": null`; an entry written as an array `[dtype, shape,
 * data_offsets]`; a dtype written as `{"F32": null}`; entry fields other than the three, of any JSON value.
 */
import { SafetensorsFormatError, UnsupportedDtypeError } from '../errors.js';
import { isHeaderDtype, type HeaderDtype } from './dtypes.js';
import { JsonScanner } from './json-scanner.js';
import { clip } from './untrusted-text.js';

/** An unsigned 64-bit header integer: a number when it is a safe integer, else a bigint. */
export type HeaderInt = number | bigint;

/** One tensor entry as the header states it, before the byte layout is checked. */
export interface HeaderEntry {
  name: string;
  dtype: HeaderDtype;
  shape: HeaderInt[];
  begin: HeaderInt;
  end: HeaderInt;
}

/** The header's tensor entries in the order written, and its metadata. */
export interface HeaderContents {
  entries: HeaderEntry[];
  metadata: Record<string, string>;
}

const U64_MAX = 2n ** 64n - 1n;
const FIELDS = ['dtype', 'shape', 'data_offsets'] as const;

/**
 * Parses the header text of `file`.
 * @throws SafetensorsFormatError for anything the reference rejects; UnsupportedDtypeError for a dtype name
 * the format does not have.
 */
export function parseHeaderText(text: string, file: string): HeaderContents {
  const fail = (problem: string): never => {
    throw new SafetensorsFormatError(file, problem);
  };
  if (text.charCodeAt(0) !== 0x7b) {
    fail(text.charCodeAt(0) === 0xfeff ? "header starts with a byte order mark; it must start with '{'" : "header must start with '{'");
  }
  const scan = new JsonScanner(text, fail);
  const entries: HeaderEntry[] = [];
  let metadata: Record<string, string> = {};
  const keys = new Set<string>();
  scan.object(0, (key) => {
    if (keys.has(key)) scan.error(`duplicate key '${clip(key)}'`);
    keys.add(key);
    if (key === '__metadata__') metadata = readMetadata(scan);
    else entries.push(readEntry(scan, key, file));
  });
  scan.end();
  return { entries, metadata };
}

/** `__metadata__`: null, or an object of strings. */
function readMetadata(scan: JsonScanner): Record<string, string> {
  const metadata: Record<string, string> = {};
  if (scan.eatNull()) return metadata;
  if (scan.peek() !== 0x7b) scan.error('__metadata__ is not an object or null');
  scan.object(1, (key) => {
    if (Object.prototype.hasOwnProperty.call(metadata, key)) scan.error(`duplicate key '${clip(key)}' in __metadata__`);
    if (scan.peek() !== 0x22) scan.error(`__metadata__.${clip(key)} is not a string`);
    // defineProperty: a key such as '__proto__' is stored as data, never as the object's prototype.
    Object.defineProperty(metadata, key, { value: scan.string(), enumerable: true, writable: true, configurable: true });
  });
  return metadata;
}

/** One tensor entry: `{dtype, shape, data_offsets, …}` or `[dtype, shape, data_offsets]`. */
function readEntry(scan: JsonScanner, name: string, file: string): HeaderEntry {
  const where = `tensor '${clip(name)}'`;
  const found: { dtype?: HeaderDtype; shape?: HeaderInt[]; data_offsets?: [HeaderInt, HeaderInt] } = {};
  const readField = (field: (typeof FIELDS)[number]): void => {
    if (field === 'dtype') found.dtype = readDtype(scan, where, file);
    else if (field === 'shape') found.shape = readShape(scan, where);
    else found.data_offsets = readOffsets(scan, where);
  };
  const first = scan.peek();
  if (first === 0x5b) {
    scan.array(1, (index) => {
      const field = FIELDS[index];
      if (field === undefined) scan.error(`${where}: an entry written as an array has 3 items`);
      readField(field);
    });
  } else if (first === 0x7b) {
    const seen = new Set<string>();
    scan.object(1, (key) => {
      if (seen.has(key)) scan.error(`${where}: duplicate field '${clip(key)}'`);
      seen.add(key);
      if ((FIELDS as readonly string[]).includes(key)) readField(key as (typeof FIELDS)[number]);
      else scan.skip(2);
    });
  } else {
    scan.error(`${where}: entry is not an object`);
  }
  const { dtype, shape, data_offsets: offsets } = found;
  if (dtype === undefined || shape === undefined || offsets === undefined) {
    return scan.error(`${where}: missing field '${FIELDS.find((f) => found[f] === undefined)}'`);
  }
  return { name, dtype, shape, begin: offsets[0], end: offsets[1] };
}

/** A dtype: a name string, or serde's enum form `{"NAME": null}`. */
function readDtype(scan: JsonScanner, where: string, file: string): HeaderDtype {
  let name: string | undefined;
  if (scan.peek() === 0x22) {
    name = scan.string();
  } else if (scan.peek() === 0x7b) {
    scan.object(2, (key) => {
      if (name !== undefined) scan.error(`${where}: a dtype object holds one key`);
      name = key;
      if (!scan.eatNull()) scan.error(`${where}: the value in a dtype object must be null`);
    });
  }
  if (name === undefined) return scan.error(`${where}: dtype is not a string`);
  if (!isHeaderDtype(name)) throw new UnsupportedDtypeError(clip(name), `${file}: ${where}`);
  return name;
}

function readShape(scan: JsonScanner, where: string): HeaderInt[] {
  const shape: HeaderInt[] = [];
  if (scan.peek() !== 0x5b) scan.error(`${where}: shape is not an array`);
  const what = `${where}: invalid shape`; // once, not per item: a hostile shape may hold 50 million
  scan.array(2, () => shape.push(readUnsigned(scan, what)));
  return shape;
}

function readOffsets(scan: JsonScanner, where: string): [HeaderInt, HeaderInt] {
  const offsets: HeaderInt[] = [];
  if (scan.peek() !== 0x5b) scan.error(`${where}: data_offsets is not an array`);
  scan.array(2, (index) => {
    if (index === 2) scan.error(`${where}: data_offsets has more than 2 items`);
    offsets.push(readUnsigned(scan, `${where}: invalid data_offsets`));
  });
  if (offsets.length !== 2) scan.error(`${where}: data_offsets has ${offsets.length} items, not 2`);
  return offsets as [HeaderInt, HeaderInt];
}

/** A JSON integer in [0, 2^64 − 1] written without sign, fraction or exponent (serde's `usize`). */
function readUnsigned(scan: JsonScanner, what: string): HeaderInt {
  const c = scan.peek();
  if (c !== 0x2d && !(c >= 0x30 && c <= 0x39)) scan.error(`${what}: an item is not a non-negative integer`);
  const { text, integer } = scan.number();
  if (!integer) scan.error(`${what}: ${clip(text, 40)} is not a non-negative integer`);
  if (text.length <= 15) return Number(text);
  // More than 20 digits (JSON allows no leading zeros) is above 2^64 − 1: refused before BigInt, whose
  // parsing of a hostile 20-million-digit literal takes seconds.
  const value = text.length <= 20 ? BigInt(text) : undefined;
  if (value === undefined || value > U64_MAX) return scan.error(`${what}: ${clip(text, 40)} is above 2^64 - 1`);
  return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
}
