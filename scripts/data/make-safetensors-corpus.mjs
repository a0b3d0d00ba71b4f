#!/usr/bin/env node
// Write the hostile safetensors corpus in test/fixtures/safetensors-corpus/: one tiny file per case and
// expected.json with the outcome tfjs-lens must give and what the reference implementation (safetensors 0.8,
// Rust) does with the same bytes.
//
//   node scripts/data/make-safetensors-corpus.mjs [--out test/fixtures/safetensors-corpus]
//
// test/integration/safetensors-corpus.test.ts checks every file against expected.json, and that this script
// still produces the committed bytes (it imports `corpusCases`). Files are built byte by byte here, not with
// the library's writer, so that the corpus does not depend on the code it tests.
//
// expected.json, per case: `open` is 'ok' or the error class that SafetensorsFile.open raises, `match` a
// substring of its message; for files that open, `tensors` gives per tensor either `values` (what read()
// returns; 'NaN', 'Infinity', '-Infinity', '-0' as strings) or `error` (the class read() raises).
// `reference` is 'accepts' or 'rejects'; where tfjs-lens differs from it, `rule` quotes the format's text that
// tfjs-lens follows instead.

import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const enc = new TextEncoder();

/** Concatenates byte arrays into a plain Uint8Array. */
const concat = (...parts) => new Uint8Array(Buffer.concat(parts));

/** A file: u64 little-endian `length` (default: the header's byte length), the header text, the data bytes. */
function st(header, data = [], length) {
  const json = typeof header === 'string' ? enc.encode(header) : header;
  const prefix = new Uint8Array(8);
  new DataView(prefix.buffer).setBigUint64(0, BigInt(length ?? json.byteLength), true);
  return concat(prefix, json, Uint8Array.from(data));
}

/** Header text of one entry. */
const entry = (dtype, shape, offsets) => `{"dtype":"${dtype}","shape":[${shape}],"data_offsets":[${offsets}]}`;
/** Header text `{"a": <F32 [1] at [0,4]>}` with optional extra members. */
const oneF32 = (extra = '') => `{"a":${entry('F32', '1', '0,4')}${extra}}`;
const F32_ONE = [0, 0, 0x80, 0x3f]; // 1.0f
const okA = { a: { values: [1] } };

/** Little-endian bytes of `values` written with `DataView` method `set` of `width` bytes. */
function bytesOf(values, width, set) {
  const view = new DataView(new ArrayBuffer(values.length * width));
  values.forEach((v, i) => view[set](i * width, v, true));
  return [...new Uint8Array(view.buffer)];
}

/** A header padded with spaces to a multiple of 8 bytes, as the Python and Rust writers do. */
function padded(text) {
  return text + ' '.repeat((8 - (enc.encode(text).byteLength % 8)) % 8);
}

// A checkpoint-like file: a classifier bias and weight, padded header, with metadata.
const BIAS = [0.5, -1, 2, 0.25];
const WEIGHT = [1, 2, 3, 4, 5, 6, 7, 8];
const CKPT_HEADER = padded(`{"__metadata__":{"format":"pt"},"classifier.bias":${entry('F32', '4', '0,16')},"classifier.weight":${entry('F32', '2,4', '16,48')}}`);
const CKPT_DATA = bytesOf([...BIAS, ...WEIGHT], 4, 'setFloat32');
const CKPT_PADDING = CKPT_HEADER.length - CKPT_HEADER.trimEnd().length;

const REJECT_FORMAT = (match) => ({ open: 'SafetensorsFormatError', match });
const DUPLICATE_RULE = 'README "Notes": Duplicate keys are disallowed.';

/**
 * Every case: file name (without extension), what it tests, the bytes, the expected outcome, the reference's.
 * @returns {{ name: string, what: string, bytes: Uint8Array, expect: object, reference: 'accepts' | 'rejects', rule?: string }[]}
 */
export function corpusCases() {
  const cases = [];
  const add = (name, what, bytes, expect, reference, rule) => cases.push({ name, what, bytes, expect, reference, ...(rule ? { rule } : {}) });
  const accepted = (name, what, bytes, tensors, extra = {}) => add(name, what, bytes, { open: 'ok', tensors, ...extra }, 'accepts');
  const rejected = (name, what, bytes, match, open = 'SafetensorsFormatError') => add(name, what, bytes, { open, match }, 'rejects');

  // Files the reference accepts.
  accepted('ok-checkpoint', 'a padded two-tensor checkpoint with metadata', st(CKPT_HEADER, CKPT_DATA), { 'classifier.bias': { values: BIAS }, 'classifier.weight': { values: WEIGHT } }, { metadata: { format: 'pt' } });
  accepted('ok-empty', 'no tensors, no data', st('{}'), {});
  accepted('ok-metadata-null', '"__metadata__": null', st(`{"__metadata__":null,"a":${entry('F32', '1', '0,4')}}`, F32_ONE), okA, { metadata: {} });
  accepted('ok-metadata-escaped-key', '"__meta\\u0064ata__" is the metadata key once unescaped', st(`{"__meta\\u0064ata__":{"k":"v"},"a":${entry('F32', '1', '0,4')}}`, F32_ONE), okA, { metadata: { k: 'v' } });
  accepted('ok-entry-array', 'an entry written as [dtype, shape, data_offsets] (serde reads a struct from a sequence)', st('{"a":["F32",[1],[0,4]]}', F32_ONE), okA);
  accepted('ok-dtype-object', 'a dtype written as {"F32": null} (serde\'s enum form)', st('{"a":{"dtype":{"F32":null},"shape":[1],"data_offsets":[0,4]}}', F32_ONE), okA);
  accepted('ok-extra-fields', 'unknown entry fields of any JSON value, nested to exactly 127 levels in all', st(oneF32().replace('}}', `,"x":[1.5e3,"s",null,true,{"k":{}}],"deep":${'['.repeat(125)}${']'.repeat(125)}}}`), F32_ONE), okA);
  accepted('ok-whitespace-padding', 'header padded with tab, LF, CR and spaces', st(`${oneF32()}\t\n\r  `, F32_ONE), okA);
  accepted('ok-unordered-and-empty', 'entries out of offset order; empty tensors at the start, middle and end', st(`{"e":${entry('U8', '0', '5,5')},"b":${entry('U8', '1', '4,5')},"z":${entry('F32', '0', '0,0')},"a":${entry('F32', '1', '0,4')},"m":${entry('I8', '0,3', '4,4')}}`, [...F32_ONE, 7]), { z: { values: [] }, a: { values: [1] }, m: { values: [] }, b: { values: [7] }, e: { values: [] } });
  accepted('ok-unicode-names', 'names with \\u escapes, a surrogate pair and raw UTF-8', st(`{"\\u00e9\\ud83e\\udde0":${entry('U8', '1', '0,1')},"日本":${entry('U8', '1', '1,2')}}`, [1, 2]), { 'é🧠': { values: [1] }, '日本': { values: [2] } });
  accepted('ok-u32', 'U32 values that fit int32 read as int32', st(`{"a":${entry('U32', '3', '0,12')}}`, bytesOf([0, 1, 2 ** 31 - 1], 4, 'setUint32')), { a: { values: [0, 1, 2 ** 31 - 1] } });
  accepted('ok-u32-too-large', 'a U32 value above 2^31 - 1: the file opens, reading the tensor raises', st(`{"a":${entry('U32', '2', '0,8')}}`, bytesOf([5, 2 ** 31], 4, 'setUint32')), { a: { error: 'InvalidArgumentError', match: 'index 1' } });
  accepted('ok-f8-e4m3', 'F8_E4M3: zero, subnormals, 1, the largest finite (448), NaN (S.1111.111), -0',
    st(`{"a":${entry('F8_E4M3', '10', '0,10')}}`, [0x00, 0x01, 0x07, 0x08, 0x38, 0x7e, 0x7f, 0xff, 0x80, 0xfe]),
    { a: { values: [0, 2 ** -9, 7 * 2 ** -9, 2 ** -6, 1, 448, 'NaN', 'NaN', '-0', -448] } });
  accepted('ok-f8-e5m2', 'F8_E5M2: zero, subnormals, 1, the largest finite (57344), ±inf, NaN, -0',
    st(`{"a":${entry('F8_E5M2', '10', '0,10')}}`, [0x00, 0x01, 0x03, 0x04, 0x3c, 0x7b, 0x7c, 0xfc, 0x7d, 0x80]),
    { a: { values: [0, 2 ** -16, 3 * 2 ** -16, 2 ** -14, 1, 57344, 'Infinity', '-Infinity', 'NaN', '-0'] } });
  accepted('ok-bool-bytes', 'BOOL bytes other than 0 and 1 read as true', st(`{"a":${entry('BOOL', '4', '0,4')}}`, [0, 1, 2, 255]), { a: { values: [0, 1, 1, 1] } });
  accepted('ok-undecoded-dtypes', 'C64 and F4 are valid in a header: the file opens, reading those tensors raises',
    st(`{"c":${entry('C64', '1', '0,8')},"f":${entry('F4', '2', '8,9')},"a":${entry('F32', '1', '9,13')}}`, [...new Array(9).fill(0), ...F32_ONE]),
    { c: { error: 'UnsupportedDtypeError' }, f: { error: 'UnsupportedDtypeError' }, a: { values: [1] } });
  accepted('ok-huge-empty-dim', 'shape [2^60, 0]: the reference accepts the empty tensor; reading it raises (2^60 is no exact JS number)',
    st(`{"a":${entry('F32', '1152921504606846976,0', '0,0')}}`), { a: { error: 'SafetensorsFormatError', match: '2^53' } });

  // Offsets that do not tile the data buffer exactly (the reference: InvalidOffset, MetadataIncompleteBuffer).
  rejected('gap-start', 'the first tensor begins after byte 0', st(`{"a":${entry('F32', '1', '4,8')}}`, [0, 0, 0, 0, ...F32_ONE]), 'a gap at the start');
  rejected('gap-between', 'bytes between two tensors', st(`{"a":${entry('F32', '1', '0,4')},"b":${entry('F32', '1', '8,12')}}`, new Array(12).fill(0)), 'a gap before this tensor');
  rejected('trailing-bytes', 'a byte after the last tensor', st(oneF32(), [...F32_ONE, 0]), '1 trailing bytes');
  rejected('padding-shrunk', `the length prefix reduced by ${CKPT_PADDING} into the header's space padding: every tensor would read shifted`,
    st(CKPT_HEADER, CKPT_DATA, enc.encode(CKPT_HEADER).byteLength - CKPT_PADDING), `${CKPT_PADDING} trailing bytes`);
  rejected('overlap', 'two tensors share bytes', st(`{"a":${entry('F32', '2', '0,8')},"b":${entry('F32', '1', '4,8')}}`, new Array(8).fill(0)), 'overlap');
  rejected('end-before-begin', 'data_offsets [4,0]', st(`{"a":${entry('U8', '0', '4,0')}}`, new Array(4).fill(0)), 'end before their begin');
  rejected('span-mismatch', 'shape × dtype does not match the span', st(`{"a":${entry('F32', '2', '0,4')}}`, F32_ONE), 'needs 8 bytes');
  rejected('truncated', 'the data buffer ends inside the last tensor', st(`{"a":${entry('F32', '2', '0,8')}}`, F32_ONE), 'past the 4-byte data buffer');
  rejected('misaligned-f4', 'three F4 values are not a whole number of bytes', st(`{"a":${entry('F4', '3', '0,2')}}`, [0, 0]), 'whole number of bytes');
  rejected('shape-overflow', 'shape [2^32, 2^32, 0] overflows 64 bits before the 0', st(`{"a":${entry('F32', '4294967296,4294967296,0', '0,0')}}`), 'overflows 64 bits');

  // Numbers that are not plain unsigned integers.
  rejected('offset-float', 'data_offsets [0, 4.0]', st(`{"a":${entry('F32', '1', '0,4.0')}}`, F32_ONE), '4.0 is not a non-negative integer');
  rejected('shape-float', 'shape [1.0]', st(`{"a":${entry('F32', '1.0', '0,4')}}`, F32_ONE), '1.0 is not a non-negative integer');
  rejected('offset-exponent', 'data_offsets [0, 4e0]', st(`{"a":${entry('F32', '1', '0,4e0')}}`, F32_ONE), '4e0 is not');
  rejected('offset-minus-zero', 'data_offsets [-0, 4] (serde_json reads -0 as a float)', st(`{"a":${entry('F32', '1', '-0,4')}}`, F32_ONE), '-0 is not');
  rejected('shape-negative', 'shape [-1]', st(`{"a":${entry('F32', '-1', '0,4')}}`, F32_ONE), '-1 is not');
  rejected('shape-above-u64', 'a dimension of 2^64', st(`{"a":${entry('F32', '18446744073709551616,0', '0,0')}}`), 'above 2^64 - 1');
  rejected('shape-string', 'shape ["1"]', st(`{"a":${entry('F32', '"1"', '0,4')}}`, F32_ONE), 'not a non-negative integer');
  rejected('offsets-three', 'data_offsets with 3 items', st(`{"a":${entry('F32', '1', '0,4,4')}}`, F32_ONE), 'more than 2 items');
  rejected('number-out-of-range', '1e400 in an unknown field (serde_json: number out of range)', st(oneF32().replace('}}', ',"x":1e400}}'), F32_ONE), 'out of range');

  // Duplicate keys.
  rejected('duplicate-metadata', 'two __metadata__ keys (serde: duplicate field)', st(`{"__metadata__":{},"__metadata__":{},"a":${entry('F32', '1', '0,4')}}`, F32_ONE), "duplicate key '__metadata__'");
  rejected('duplicate-field', 'dtype twice in one entry (serde: duplicate field)', st(`{"a":{"dtype":"F32","dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, F32_ONE), "duplicate field 'dtype'");
  rejected('duplicate-tensor-diff', 'one name twice with different spans (the reference keeps the last, then finds a gap)', st(`{"a":${entry('F32', '1', '0,4')},"a":${entry('F32', '1', '4,8')}}`, new Array(8).fill(0)), "duplicate key 'a'");
  add('duplicate-tensor-same', 'one name twice with the same span', st(`{"a":${entry('F32', '1', '0,4')},"a":${entry('F32', '1', '0,4')}}`, F32_ONE), REJECT_FORMAT("duplicate key 'a'"), 'accepts', DUPLICATE_RULE);
  add('duplicate-metadata-key', 'one key twice inside __metadata__', st(`{"__metadata__":{"k":"1","k":"2"},"a":${entry('F32', '1', '0,4')}}`, F32_ONE), REJECT_FORMAT("duplicate key 'k' in __metadata__"), 'accepts', DUPLICATE_RULE);
  add('duplicate-unknown-field', 'one unknown entry field twice', st(oneF32().replace('}}', ',"x":1,"x":2}}'), F32_ONE), REJECT_FORMAT("duplicate field 'x'"), 'accepts', DUPLICATE_RULE);

  // The header text itself.
  rejected('bom', 'a UTF-8 byte order mark before the header', st(concat(Uint8Array.of(0xef, 0xbb, 0xbf), enc.encode(oneF32())), F32_ONE), 'byte order mark');
  add('leading-space', 'a space before the opening brace', st(` ${oneF32()}`, F32_ONE), REJECT_FORMAT("must start with '{'"), 'accepts', 'README "Format": The header data MUST begin with a `{` character (0x7B).');
  rejected('top-level-array', 'a JSON array as the header', st('[]'), "must start with '{'");
  rejected('nul-padding', 'a NUL byte after the header object', st(`${oneF32()}\u0000`, F32_ONE), 'trailing characters');
  rejected('trailing-comma', 'a comma before the closing brace', st(`{"a":${entry('F32', '1', '0,4')},}`, F32_ONE), 'expected a string');
  rejected('nesting-128', 'an unknown field nested one level past the limit (128 in all)', st(oneF32().replace('}}', `,"deep":${'['.repeat(126)}${']'.repeat(126)}}}`), F32_ONE), 'nesting deeper than 127');
  rejected('lone-surrogate', 'a name with a lone \\ud800 escape', st(`{"\\ud800":${entry('F32', '1', '0,4')}}`, F32_ONE), 'lone leading surrogate');
  rejected('control-character', 'a raw control character inside a name', st(`{"a\u0001":${entry('F32', '1', '0,4')}}`, F32_ONE), 'control character');
  rejected('invalid-escape', 'a \\x escape', st(`{"\\x41":${entry('F32', '1', '0,4')}}`, F32_ONE), 'invalid escape');
  rejected('invalid-utf8', 'an 0xff byte inside a name', st(concat(enc.encode('{"a'), Uint8Array.of(0xff), enc.encode(`":${entry('F32', '1', '0,4')}}`)), F32_ONE), 'not valid UTF-8');
  rejected('metadata-number', 'a __metadata__ value that is not a string', st(`{"__metadata__":{"k":1},"a":${entry('F32', '1', '0,4')}}`, F32_ONE), '__metadata__.k is not a string');
  rejected('metadata-array', '__metadata__ as an array', st(`{"__metadata__":[],"a":${entry('F32', '1', '0,4')}}`, F32_ONE), 'not an object or null');
  rejected('entry-null', 'a tensor entry that is null', st('{"a":null}'), 'entry is not an object');
  rejected('entry-array-four', 'an entry array with 4 items', st('{"a":["F32",[1],[0,4],5]}', F32_ONE), 'has 3 items');
  rejected('entry-missing-shape', 'an entry without shape', st('{"a":{"dtype":"F32","data_offsets":[0,0]}}'), "missing field 'shape'");
  rejected('dtype-unknown', 'a dtype name the format does not have', st(`{"a":${entry('F9', '1', '0,4')}}`, F32_ONE), 'F9', 'UnsupportedDtypeError');
  rejected('dtype-lowercase', 'dtype names are case-sensitive', st(`{"a":${entry('f32', '1', '0,4')}}`, F32_ONE), 'f32', 'UnsupportedDtypeError');
  rejected('dtype-object-value', 'a dtype object whose value is not null', st('{"a":{"dtype":{"F32":1},"shape":[1],"data_offsets":[0,4]}}', F32_ONE), 'must be null');

  // The length prefix.
  rejected('short-file', 'a 5-byte file', Uint8Array.of(2, 0, 0, 0, 0), 'too short');
  rejected('length-past-end', 'a header length past the end of the file', st('{}', [], 1000), 'past the end');
  rejected('length-above-bound', 'a header length of 100,000,001 (the reference\'s bound is 100 MB)', st('{}', [], 100_000_001), 'exceeds the 100000000-byte bound');
  return cases;
}

/** What expected.json holds for a case. */
export function expectedEntry(c) {
  return { file: `${c.name}.safetensors`, what: c.what, ...c.expect, reference: c.reference, ...(c.rule ? { rule: c.rule } : {}) };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values: args } = parseArgs({ options: { out: { type: 'string', default: 'test/fixtures/safetensors-corpus' } } });
  const out = resolve(args.out);
  mkdirSync(out, { recursive: true });
  for (const old of readdirSync(out)) if (old.endsWith('.safetensors')) rmSync(join(out, old));
  const cases = corpusCases();
  for (const c of cases) writeFileSync(join(out, `${c.name}.safetensors`), c.bytes);
  writeFileSync(join(out, 'expected.json'), `${JSON.stringify({ generator: 'scripts/data/make-safetensors-corpus.mjs', cases: cases.map(expectedEntry) }, null, 1)}\n`);
  console.log(`${cases.length} files in ${out}`);
}
