/**
 * Seeded fuzzing of the safetensors reader. A small valid file is mutated into well over 500 variants
 * (header byte flips, truncation at every length, absurd header lengths, hostile JSON values written as text,
 * invalid UTF-8, …). Every variant must either open to a consistent header whose tensors read back with their
 * declared sizes, or raise a TfjsLensError subclass — never a RangeError / TypeError / hang / crash.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SafetensorsFile, MAX_HEADER_BYTES } from '../../lib/io/safetensors.js';
import { saveSafetensors } from '../../lib/io/safetensors-writer.js';
import { HEADER_DTYPE_BITS } from '../../lib/io/dtypes.js';
import { InvalidArgumentError, SafetensorsFormatError, TfjsLensError, UnsupportedDtypeError } from '../../lib/errors.js';
import { mulberry32 } from '../../lib/math/rng.js';

const SEED = 0x5eed_2024;
const VARIANT_TIMEOUT_MS = 10_000;


interface Variant {
  label: string;
  bytes: Uint8Array;
}

/** One header entry with every field as raw JSON text, so that NaN, 1e400, -0 … can be written verbatim. */
interface RawEntry {
  name: string; // raw JSON text of the key, quotes included
  dtype: string;
  shape: string;
  offsets: string;
  extra?: string; // raw text replacing the whole entry object
}

const enc = new TextEncoder();

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

function withLength(headerBytes: Uint8Array, data: Uint8Array, length: bigint = BigInt(headerBytes.byteLength)): Uint8Array {
  const prefix = new Uint8Array(8);
  new DataView(prefix.buffer).setBigUint64(0, length, true);
  return concat(prefix, headerBytes, data);
}

function headerText(entries: RawEntry[], metadata: string | undefined): string {
  const parts: string[] = [];
  if (metadata !== undefined) parts.push(`"__metadata__":${metadata}`);
  for (const e of entries) parts.push(`${e.name}:${e.extra ?? `{"dtype":${e.dtype},"shape":${e.shape},"data_offsets":${e.offsets}}`}`);
  return `{${parts.join(',')}}`;
}

const SHAPE_POOL = [
  '[-1]', '[1.5]', '[2.0,3.0]', 'NaN', '[NaN]', '[1e400]', '[-1e400]', '[-0,3]', '[9007199254740993]', '[4294967296,4294967296]',
  '[4294967296,4294967296,0]', '[1e308,0]', '[]', 'null', '"2,3"', '["2","3"]', '{}', '[[2],[3]]', '[true,false]', '[0]', '[1,1,1,1,1,1,1]',
  '[99999999999999999999]', '[2147483648,2]', '[-2,-3]', `${'['.repeat(5000)}${']'.repeat(5000)}`, '[0.0]', '[1E1]', '[6]', '[3,2]', '[24]',
];
const OFFSET_POOL = [
  '[0]', '[0,24,48]', '[-4,20]', '[0.5,24.5]', '[1e400,0]', '[0,1e400]', '[24,0]', '[0,1000000000]', '[0,99999999999999999999]', '[NaN,0]',
  'null', '{"0":0,"1":24}', '["0","24"]', '[0,-0]', '[-0,0]', '[]', '[[0],[24]]', '[9007199254740992,9007199254740996]', '[0,4.0]', '[1e2,1.24e2]',
];
const DTYPE_POOL = ['"F8_E4M3"', '"F8_E5M2"', '"U32"', '"F4"', '"F6_E2M3"', '{"F32":null}', '{"F32":null,"F64":null}', '"F\\u0033\\u0032"', '"f32"', '""', '5', 'null', '"I4"', '"U64"', '"C64"', '"__proto__"', '"constructor"', '"toString"', '"BOOL"', '"F64"', '"U8"', '"F32 "', '["F32"]', '{"F32":1}'];
const ENTRY_POOL = ['[]', 'null', '1', '"x"', '{}', '{"dtype":"F32"}', '{"dtype":"F32","shape":[0]}', '{"shape":[0],"data_offsets":[0,0]}', '{"dtype":"U8","shape":[0],"data_offsets":[0,0],"extra":[1,2]}', 'true'];
const NAME_POOL = ['"__proto__"', '"constructor"', '""', `"${'n'.repeat(5000)}"`, '"\\u0000"', '"\\ud800"', '"hasOwnProperty"', '"a"', '"0"', '"__metadata__"'];
const METADATA_POOL = ['[]', 'null', '{"a":1}', '{"__proto__":"x"}', '{"a":{"b":"c"}}', '"meta"', '{"":""}', '{"a":"\\ud800"}', '7'];
const WHOLE_POOL = [
  ' {}', '{"__metadata__":null}', '{"__metadata__":{},"__metadata__":{}}', '{"__metadata__":{"a":"b","a":"c"}}', '{}\t\r\n ', '[]', 'null', '42', '"str"', 'true', '{}', '', ' ', '{', '{"a":', 'NaN', '{"a":NaN}', '\ufeff{}', '{}garbage', '{}\u0000', '{} {}', '{"a":1,}',
  `${'{"a":'.repeat(3000)}1${'}'.repeat(3000)}`, `${'['.repeat(100000)}${']'.repeat(100000)}`, '{"a":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}',
];
const BAD_UTF8: number[][] = [[0xff], [0xfe], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0xf8, 0x88, 0x80, 0x80, 0x80], [0x80], [0xf4, 0x90, 0x80, 0x80], [0xc3]];
const INTERESTING_BYTES = [0x22, 0x7b, 0x7d, 0x5b, 0x5d, 0x2c, 0x3a, 0x2d, 0x2e, 0x65, 0x30, 0x31, 0x39, 0x00, 0xff, 0x80, 0x20, 0x5c, 0x4e];

async function baseFile(dir: string): Promise<Uint8Array> {
  const path = join(dir, 'base.safetensors');
  await saveSafetensors(path, {
    a: { shape: [2, 3], data: [1, 2, 3, 4, 5, 6], dtype: 'F32' },
    b: { shape: [3], data: [-1, 0, 2 ** 31 - 1], dtype: 'I64' },
    c: { shape: [2, 2], data: [0.5, -1, 65504, 2 ** -24], dtype: 'F16' },
    d: { shape: [5], data: [1, 0, 1, 1, 0], dtype: 'BOOL' },
    e: { shape: [1], data: [3.140625], dtype: 'BF16' },
    f: { shape: [0], data: [], dtype: 'U8' },
    g: { shape: [], data: [7], dtype: 'I32' },
  }, { format: 'pt', note: 'fuzz base' });
  return new Uint8Array(await readFile(path));
}

/** Parses the base header into raw entries (in offset order) to mutate structurally. */
function rawEntries(base: Uint8Array): { entries: RawEntry[]; metadata: string; data: Uint8Array } {
  const n = Number(new DataView(base.buffer, base.byteOffset, 8).getBigUint64(0, true));
  const parsed = JSON.parse(new TextDecoder().decode(base.subarray(8, 8 + n))) as Record<string, { dtype: string; shape: number[]; data_offsets: number[] }>;
  const entries: RawEntry[] = [];
  let metadata = '{}';
  for (const [name, value] of Object.entries(parsed)) {
    if (name === '__metadata__') metadata = JSON.stringify(value);
    else entries.push({ name: JSON.stringify(name), dtype: JSON.stringify(value.dtype), shape: JSON.stringify(value.shape), offsets: JSON.stringify(value.data_offsets) });
  }
  return { entries, metadata, data: base.subarray(8 + n) };
}

function generateVariants(base: Uint8Array): Variant[] {
  const random = mulberry32(SEED);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const variants: Variant[] = [];
  const headerLength = Number(new DataView(base.buffer, base.byteOffset, 8).getBigUint64(0, true));
  const { entries, metadata, data } = rawEntries(base);
  const rebuild = (es: RawEntry[], meta: string | undefined, buffer = data): Uint8Array => withLength(enc.encode(headerText(es, meta)), buffer);

  // 1. Truncation at every length (covers every boundary: inside the prefix, the header, each tensor).
  for (let length = 0; length < base.byteLength; length++) variants.push({ label: `truncate@${length}`, bytes: base.slice(0, length) });
  // Bytes after the last tensor belong to no tensor: rejected, as the reference does.
  variants.push({ label: 'append 3 bytes', bytes: concat(base, new Uint8Array([1, 2, 3])) });

  // 2. Header length field.
  const lengths: bigint[] = [0n, 1n, 2n, 7n, BigInt(headerLength - 1), BigInt(headerLength + 1), BigInt(base.byteLength - 8), BigInt(base.byteLength - 7),
    BigInt(base.byteLength), 2n ** 32n, 2n ** 32n + BigInt(headerLength), BigInt(MAX_HEADER_BYTES), BigInt(MAX_HEADER_BYTES + 1), 1_000_000_000n, 2n ** 63n, 2n ** 64n - 1n];
  for (const length of lengths) {
    const bytes = base.slice();
    new DataView(bytes.buffer).setBigUint64(0, length, true);
    variants.push({ label: `header length ${length}`, bytes });
  }
  for (let i = 0; i < 24; i++) {
    const bytes = base.slice();
    bytes[Math.floor(random() * 8)] = Math.floor(random() * 256);
    variants.push({ label: `prefix byte flip #${i}`, bytes });
  }

  // 3. Random byte flips in the header JSON.
  for (let i = 0; i < 300; i++) {
    const bytes = base.slice();
    const flips = 1 + Math.floor(random() * 4);
    for (let f = 0; f < flips; f++) {
      const at = 8 + Math.floor(random() * headerLength);
      bytes[at] = random() < 0.5 ? pick(INTERESTING_BYTES) : Math.floor(random() * 256);
    }
    variants.push({ label: `header flip #${i}`, bytes });
  }
  // Flips in the data buffer keep the header valid (I64 values may leave the int32 range).
  for (let i = 0; i < 40; i++) {
    const bytes = base.slice();
    bytes[8 + headerLength + Math.floor(random() * (base.byteLength - 8 - headerLength))] = Math.floor(random() * 256);
    variants.push({ label: `data flip #${i}`, bytes });
  }

  // 4. Field-by-field hostile values, each written as JSON text.
  for (const [e, entry] of entries.entries()) {
    for (const shape of SHAPE_POOL) variants.push({ label: `entry ${e} shape ${shape.slice(0, 30)}`, bytes: rebuild(entries.map((x, i) => (i === e ? { ...x, shape } : x)), metadata) });
    for (const offsets of OFFSET_POOL) variants.push({ label: `entry ${e} offsets ${offsets}`, bytes: rebuild(entries.map((x, i) => (i === e ? { ...x, offsets } : x)), metadata) });
    for (const dtype of DTYPE_POOL) variants.push({ label: `entry ${e} dtype ${dtype}`, bytes: rebuild(entries.map((x, i) => (i === e ? { ...x, dtype } : x)), metadata) });
    const [begin, end] = JSON.parse(entry.offsets) as [number, number];
    const bufferLength = data.byteLength;
    const spans: [string, string][] = [
      ['end < begin', `[${end},${begin}]`], ['past end', `[${bufferLength - (end - begin) + 1},${bufferLength + 1}]`], ['at end', `[${bufferLength},${bufferLength + (end - begin)}]`],
      ['shifted +1', `[${begin + 1},${end + 1}]`], ['shifted -1', `[${Math.max(0, begin - 1)},${Math.max(0, end - 1)}]`], ['one short', `[${begin},${Math.max(begin, end - 1)}]`],
      ['one long', `[${begin},${end + 1}]`], ['overlaps previous', e > 0 ? (entries[e - 1]!.offsets) : '[0,0]'], ['whole buffer', `[0,${bufferLength}]`],
    ];
    for (const [what, offsets] of spans) variants.push({ label: `entry ${e} ${what}`, bytes: rebuild(entries.map((x, i) => (i === e ? { ...x, offsets } : x)), metadata) });
    for (const extra of ENTRY_POOL) variants.push({ label: `entry ${e} replaced by ${extra}`, bytes: rebuild(entries.map((x, i) => (i === e ? { ...x, extra } : x)), metadata) });
    for (const name of NAME_POOL) variants.push({ label: `entry ${e} named ${name.slice(0, 20)}`, bytes: rebuild(entries.map((x, i) => (i === e ? { ...x, name } : x)), metadata) });
  }
  for (const meta of METADATA_POOL) variants.push({ label: `metadata ${meta}`, bytes: rebuild(entries, meta) });
  variants.push({ label: 'no metadata', bytes: rebuild(entries, undefined) });
  variants.push({ label: 'no tensors', bytes: rebuild([], metadata) });
  variants.push({ label: 'duplicate entry', bytes: rebuild([...entries, entries[0]!], metadata) });
  for (const whole of WHOLE_POOL) variants.push({ label: `whole header ${whole.slice(0, 30)}`, bytes: withLength(enc.encode(whole), data) });

  // 5. Invalid UTF-8 inside a tensor name, the metadata, and a dtype string.
  for (const bad of BAD_UTF8) {
    const text = headerText(entries, metadata);
    for (const anchor of ['"a"', '"pt"', '"F32"']) {
      const at = text.indexOf(anchor) + 1;
      const bytes = concat(enc.encode(text.slice(0, at)), new Uint8Array(bad), enc.encode(text.slice(at)));
      variants.push({ label: `invalid UTF-8 ${bad.map((b) => b.toString(16)).join(' ')} in ${anchor}`, bytes: withLength(bytes, data) });
    }
  }

  // 6. Random combinations of 1–3 structural mutations.
  for (let i = 0; i < 250; i++) {
    const mutated = entries.map((x) => ({ ...x }));
    let meta: string | undefined = metadata;
    const count = 1 + Math.floor(random() * 3);
    for (let m = 0; m < count; m++) {
      const target = mutated[Math.floor(random() * mutated.length)]!;
      const kind = Math.floor(random() * 6);
      if (kind === 0) target.shape = pick(SHAPE_POOL);
      else if (kind === 1) target.offsets = pick(OFFSET_POOL);
      else if (kind === 2) target.dtype = pick(DTYPE_POOL);
      else if (kind === 3) target.extra = pick(ENTRY_POOL);
      else if (kind === 4) target.name = pick(NAME_POOL);
      else meta = random() < 0.2 ? undefined : pick(METADATA_POOL);
    }
    const cut = random() < 0.3 ? Math.floor(random() * data.byteLength) : data.byteLength;
    variants.push({ label: `combo #${i}`, bytes: rebuild(mutated, meta, data.subarray(0, cut)) });
  }
  return variants;
}

/** Opens a variant and checks the outcome; returns 'ok' or the typed error's class name. */
async function check(path: string, variant: Variant): Promise<string> {
  await writeFile(path, variant.bytes);
  let file: SafetensorsFile | undefined;
  try {
    file = await SafetensorsFile.open(path);
    const { tensors, dataStart } = file.header;
    assert.ok(dataStart >= 10 && dataStart <= variant.bytes.byteLength, `${variant.label}: dataStart ${dataStart}`);
    let previousEnd = dataStart;
    for (const info of tensors) {
      const elements = info.shape.reduce((a, b) => a * b, 1);
      assert.ok(info.shape.every((d) => Number.isSafeInteger(d) && d >= 0), `${variant.label}: shape of ${info.name}`);
      assert.equal(info.byteLength, (elements * HEADER_DTYPE_BITS[info.dtype]) / 8, `${variant.label}: span of ${info.name}`);
      assert.equal(info.start, previousEnd, `${variant.label}: ${info.name} leaves a gap, overlaps or precedes the data buffer`);
      assert.ok(info.start + info.byteLength <= variant.bytes.byteLength, `${variant.label}: ${info.name} past EOF`);
      previousEnd = info.start + info.byteLength;
    }
    assert.equal(previousEnd, variant.bytes.byteLength, `${variant.label}: trailing bytes after the last tensor`);
    for (const info of tensors) {
      assert.equal((await file.readBytes(info.name)).byteLength, info.byteLength, `${variant.label}: bytes of ${info.name}`);
      const host = await file.read(info.name);
      assert.deepEqual(host.shape, info.shape);
      assert.equal(host.data.length, info.shape.reduce((a, b) => a * b, 1), `${variant.label}: values of ${info.name}`);
    }
    return 'ok';
  } catch (err) {
    if (err instanceof assert.AssertionError) throw err;
    assert.ok(err instanceof TfjsLensError, `${variant.label}: untyped ${(err as Error)?.constructor?.name}: ${String((err as Error)?.message ?? err).slice(0, 300)}`);
    // Header problems are format / dtype errors; the one value-level error is an I64 or U32 that does not fit int32.
    const expected = err instanceof SafetensorsFormatError || err instanceof UnsupportedDtypeError || (err instanceof InvalidArgumentError && /does not fit in int32/.test(err.message));
    assert.ok(expected, `${variant.label}: unexpected ${err.constructor.name}: ${err.message.slice(0, 300)}`);
    assert.ok(err.message.length < 2000, `${variant.label}: error message of ${err.message.length} characters`);
    return err.constructor.name;
  } finally {
    await file?.close();
  }
}

function withTimeout<T>(promise: Promise<T>, label: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new assert.AssertionError({ message: `${label}: no answer within ${VARIANT_TIMEOUT_MS} ms (hang)` })), VARIANT_TIMEOUT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

test('fuzzed safetensors files parse consistently or raise typed errors', { timeout: 300_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'tfjs-lens-fuzz-'));
  try {
    const base = await baseFile(dir);
    assert.equal(await check(join(dir, 'variant.safetensors'), { label: 'base', bytes: base }), 'ok');
    const variants = generateVariants(base);
    assert.ok(variants.length >= 500, `only ${variants.length} variants`);
    const outcomes = new Map<string, number>();
    const path = join(dir, 'variant.safetensors');
    for (const variant of variants) {
      const outcome = await withTimeout(check(path, variant), variant.label);
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    }
    const summary = [...outcomes.entries()].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k}: ${v}`).join(', ');
    t.diagnostic(`seed 0x${SEED.toString(16)}: ${variants.length} variants → ${summary}`);
    // The mutations must exercise both the happy path and each error class.
    assert.ok((outcomes.get('ok') ?? 0) > 20, summary);
    assert.ok((outcomes.get('SafetensorsFormatError') ?? 0) > 300, summary);
    assert.ok((outcomes.get('UnsupportedDtypeError') ?? 0) > 10, summary);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
