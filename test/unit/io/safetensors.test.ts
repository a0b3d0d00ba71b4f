/**
 * Streaming safetensors reader and writer: every dtype round-trips, metadata and unicode names survive,
 * raw bytes match hand-computed patterns, I64 outside int32 raises, the real gpt2-tiny fixture reads back
 * identically to an independent parse of its bytes, and malformed headers raise typed errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, readFile, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SafetensorsFile, readAllSafetensors, withSafetensors, parseHeaderLength, parseHeaderJson, MAX_HEADER_BYTES, PARALLEL_READ_BYTES } from '../../../lib/io/safetensors.js';
import { saveSafetensors } from '../../../lib/io/safetensors-writer.js';
import { DTYPE_SIZE, type SafetensorsDtype } from '../../../lib/io/dtypes.js';
import { makeFifo, rejectionWithoutBlocking } from '../../helpers/fifo.js';
import { CheckpointError, InvalidArgumentError, SafetensorsFormatError, TfjsLensError, UnsupportedDtypeError } from '../../../lib/errors.js';

const FIXTURE = fileURLToPath(new URL('../../../../test/fixtures/hf/gpt2-tiny/model.safetensors', import.meta.url));

async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'tfjs-lens-st-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Builds a safetensors file by hand from a header object and raw bytes (independent of the writer). */
function rawFile(header: unknown, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.byteLength + data.byteLength);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.byteLength), true);
  out.set(json, 8);
  out.set(data, 8 + json.byteLength);
  return out;
}

test('every dtype round-trips through saveSafetensors → SafetensorsFile.read', async () => {
  const cases: { dtype: SafetensorsDtype; values: number[]; expected: number[]; tf: 'float32' | 'int32' | 'bool' }[] = [
    { dtype: 'F64', values: [0.1, -2.5, 1e30, 0], expected: [Math.fround(0.1), -2.5, Math.fround(1e30), 0], tf: 'float32' },
    { dtype: 'F32', values: [0.1, -2.5, 3.4e38, -0], expected: [Math.fround(0.1), -2.5, Math.fround(3.4e38), -0], tf: 'float32' },
    { dtype: 'F16', values: [0.1, -2.5, 65504, 2 ** -24], expected: [0.0999755859375, -2.5, 65504, 2 ** -24], tf: 'float32' },
    { dtype: 'BF16', values: [0.1, -2.5, Math.PI, 2 ** -133], expected: [0.10009765625, -2.5, 3.140625, 2 ** -133], tf: 'float32' },
    { dtype: 'I64', values: [-(2 ** 31), 2 ** 31 - 1, 0, -7], expected: [-(2 ** 31), 2 ** 31 - 1, 0, -7], tf: 'int32' },
    { dtype: 'I32', values: [-(2 ** 31), 2 ** 31 - 1, 0, -7], expected: [-(2 ** 31), 2 ** 31 - 1, 0, -7], tf: 'int32' },
    { dtype: 'I16', values: [-32768, 32767, 0, -7], expected: [-32768, 32767, 0, -7], tf: 'int32' },
    { dtype: 'I8', values: [-128, 127, 0, -7], expected: [-128, 127, 0, -7], tf: 'int32' },
    { dtype: 'U8', values: [0, 255, 1, 128], expected: [0, 255, 1, 128], tf: 'int32' },
    { dtype: 'BOOL', values: [1, 0, 0, 1], expected: [1, 0, 0, 1], tf: 'bool' },
  ];
  await withTempDir(async (dir) => {
    const path = join(dir, 'all.safetensors');
    const tensors: Record<string, { shape: number[]; data: number[]; dtype: SafetensorsDtype }> = {};
    for (const c of cases) tensors[`t_${c.dtype}`] = { shape: [2, 2], data: c.values, dtype: c.dtype };
    tensors.scalar = { shape: [], data: [42], dtype: 'F32' };
    tensors.empty = { shape: [0, 3], data: [], dtype: 'F32' };
    await saveSafetensors(path, tensors);
    await withSafetensors(path, async (file) => {
      assert.equal(file.keys().length, cases.length + 2);
      for (const c of cases) {
        const info = file.info(`t_${c.dtype}`);
        assert.equal(info.dtype, c.dtype);
        assert.deepEqual(info.shape, [2, 2]);
        assert.equal(info.byteLength, 4 * DTYPE_SIZE[c.dtype]);
        const host = await file.read(`t_${c.dtype}`);
        assert.equal(host.dtype, c.tf, c.dtype);
        assert.deepEqual(host.shape, [2, 2]);
        assert.deepEqual([...host.data], c.expected, c.dtype);
      }
      assert.deepEqual([...(await file.read('scalar')).data], [42]);
      assert.deepEqual((await file.read('scalar')).shape, []);
      const empty = await file.read('empty');
      assert.deepEqual(empty.shape, [0, 3]);
      assert.equal(empty.data.length, 0);
    });
  });
});

test('writer output has the Python layout (space-padded header, contiguous offsets, exact bytes) with the data at a multiple of 64', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'bytes.safetensors');
    await saveSafetensors(path, { a: { shape: [2], data: [1, -2], dtype: 'F32' }, b: { shape: [1], data: [1], dtype: 'F16' } }, { format: 'pt' });
    const bytes = await readFile(path);
    const n = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
    assert.equal((8 + n) % 64, 0, 'data starts at a multiple of 64 (and so of 8, as the reference pads)');
    assert.match(bytes.subarray(8, 8 + n).toString('utf8'), /^\{.*\} *$/, 'padded with spaces only');
    const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8')) as Record<string, unknown>;
    assert.deepEqual(header, {
      __metadata__: { format: 'pt' },
      a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
      b: { dtype: 'F16', shape: [1], data_offsets: [8, 10] },
    });
    // 1.0f = 00 00 80 3f, -2.0f = 00 00 00 c0, half 1.0 = 00 3c
    assert.deepEqual([...bytes.subarray(8 + n)], [0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0, 0, 0x3c]);
  });
});

test('metadata and unicode tensor names round-trip', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'meta.safetensors');
    const names = ['blocks.0.hook_resid_pre', 'Ünïcödé', '日本語テンソル', 'emoji 🧠→🔬', 'quote " and \\ backslash', '__proto__', ''];
    const tensors = new Map(names.map((name, i) => [name, { shape: [1], data: [i], dtype: 'F32' as const }]));
    const metadata = { format: 'pt', 'тип': 'активации', note: 'line\nbreak', emoji: '✓' };
    await saveSafetensors(path, tensors, metadata);
    await withSafetensors(path, async (file) => {
      assert.deepEqual(file.header.metadata, metadata);
      assert.deepEqual([...file.keys()].sort(), [...names].sort());
      for (const [i, name] of names.entries()) assert.deepEqual([...(await file.read(name)).data], [i], name);
    });
  });
});

test('I64 values outside the int32 range raise a typed error naming the tensor', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'i64.safetensors');
    await saveSafetensors(path, { ok: { shape: [2], data: [-(2 ** 31), 2 ** 31 - 1], dtype: 'I64' }, big: { shape: [3], data: [0, 2 ** 31, 1], dtype: 'I64' }, small: { shape: [1], data: [-(2 ** 31) - 1], dtype: 'I64' } });
    await withSafetensors(path, async (file) => {
      assert.deepEqual([...(await file.read('ok')).data], [-(2 ** 31), 2 ** 31 - 1]);
      await assert.rejects(file.read('big'), (err: unknown) => err instanceof InvalidArgumentError && /big/.test(err.message) && /2147483648/.test(err.message) && /index 1/.test(err.message));
      await assert.rejects(file.read('small'), InvalidArgumentError);
    });
  });
});

test('the writer rejects bad input before leaving a file behind', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'bad.safetensors');
    await assert.rejects(saveSafetensors(path, { x: { shape: [2], data: [1, 2, 3] } }), InvalidArgumentError);
    await assert.rejects(saveSafetensors(path, { x: { shape: [-1, -3], data: [1, 2, 3] } }), InvalidArgumentError);
    await assert.rejects(saveSafetensors(path, { __metadata__: { shape: [1], data: [1] } }), InvalidArgumentError);
    await assert.rejects(saveSafetensors(path, { x: { shape: [1], data: [1] } }, { n: 3 as unknown as string }), InvalidArgumentError);
    await assert.rejects(saveSafetensors(path, { ok: { shape: [1], data: [1] }, x: { shape: [1], data: [300], dtype: 'U8' } }), (err: unknown) => err instanceof InvalidArgumentError && /'x'/.test(err.message));
    await assert.rejects(readFile(path), { code: 'ENOENT' });
  });
});

test('reads the gpt2-tiny fixture: 40 tensors, values equal to an independent parse of the bytes', async () => {
  const bytes = await readFile(FIXTURE);
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8')) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  await withSafetensors(FIXTURE, async (file) => {
    assert.equal(file.keys().length, 40);
    assert.deepEqual(file.header.metadata, { format: 'pt' });
    assert.deepEqual(file.info('transformer.wte.weight').shape, [1000, 64]);
    assert.equal(file.header.dataStart, 8 + n);
    for (const name of file.keys()) {
      const entry = header[name]!;
      assert.equal(entry.dtype, 'F32');
      const [begin, end] = entry.data_offsets;
      const reference = new Float32Array(bytes.buffer.slice(bytes.byteOffset + 8 + n + begin, bytes.byteOffset + 8 + n + end));
      const host = await file.read(name);
      assert.deepEqual(host.shape, entry.shape, name);
      assert.equal(host.data.length, entry.shape.reduce((a, b) => a * b, 1), name);
      assert.deepEqual(host.data, reference, name);
    }
  });
  const all = await readAllSafetensors(FIXTURE);
  assert.equal(all.size, 40);
  assert.equal(all.get('transformer.wte.weight')!.data.length, 64_000);
});

test('header validation: typed errors for malformed files', async () => {
  await withTempDir(async (dir) => {
    const cases: [string, Uint8Array, new (...args: never[]) => TfjsLensError, RegExp][] = [
      ['empty file', new Uint8Array(0), SafetensorsFormatError, /too short/],
      ['short prefix', new Uint8Array(5), SafetensorsFormatError, /too short/],
      ['length past EOF', (() => { const f = rawFile({}); new DataView(f.buffer).setBigUint64(0, 1000n, true); return f; })(), SafetensorsFormatError, /past the end/],
      ['huge length', (() => { const f = rawFile({}); new DataView(f.buffer).setBigUint64(0, 2n ** 64n - 1n, true); return f; })(), SafetensorsFormatError, /exceeds/],
      ['not JSON', rawFile('{"a": '), SafetensorsFormatError, /JSON/],
      ['array header', rawFile([1, 2]), SafetensorsFormatError, /must start with '\{'/],
      ['invalid UTF-8', (() => { const f = rawFile('{"a":1}'); f[10] = 0xff; return f; })(), SafetensorsFormatError, /UTF-8/],
      ['unknown dtype', rawFile({ x: { dtype: 'F8_E4M5', shape: [1], data_offsets: [0, 1] } }, new Uint8Array(1)), UnsupportedDtypeError, /F8_E4M5/],
      ['negative shape', rawFile({ x: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, new Uint8Array(4)), SafetensorsFormatError, /invalid shape/],
      ['float shape', rawFile({ x: { dtype: 'F32', shape: [1.5], data_offsets: [0, 4] } }, new Uint8Array(4)), SafetensorsFormatError, /invalid shape/],
      ['span mismatch', rawFile({ x: { dtype: 'F32', shape: [2], data_offsets: [0, 4] } }, new Uint8Array(8)), SafetensorsFormatError, /needs 8 bytes/],
      ['end before begin', rawFile({ x: { dtype: 'U8', shape: [0], data_offsets: [4, 0] } }, new Uint8Array(8)), SafetensorsFormatError, /end before their begin/],
      ['out of range', rawFile({ x: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, new Uint8Array(4)), SafetensorsFormatError, /past the 4-byte data buffer/],
      ['overlap', rawFile({ x: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, y: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, new Uint8Array(8)), SafetensorsFormatError, /overlap the tensor before/],
      ['overflowing shape', rawFile('{"x":{"dtype":"F32","shape":[4294967296,4294967296,0],"data_offsets":[0,0]}}'), SafetensorsFormatError, /overflows/],
      ['1e400 offset', rawFile('{"x":{"dtype":"U8","shape":[1],"data_offsets":[0,1e400]}}', new Uint8Array(1)), SafetensorsFormatError, /data_offsets/],
      ['metadata not strings', rawFile({ __metadata__: { a: 1 } }), SafetensorsFormatError, /__metadata__/],
    ];
    for (const [what, bytes, ErrorClass, pattern] of cases) {
      const path = join(dir, `${what.replace(/\W+/g, '_')}.safetensors`);
      await writeFile(path, bytes);
      await assert.rejects(SafetensorsFile.open(path), (err: unknown) => {
        assert.ok(err instanceof ErrorClass, `${what}: got ${String(err)}`);
        assert.match((err as Error).message, pattern, what);
        return true;
      });
    }
  });
});

test('a deeply nested shape raises a format error, not a stack overflow', () => {
  const depth = 200_000;
  const json = new TextEncoder().encode(`{"x":{"dtype":"F32","shape":${'['.repeat(depth)}${']'.repeat(depth)},"data_offsets":[0,0]}}`);
  assert.throws(() => parseHeaderJson(json, 8 + json.byteLength, 'deep.safetensors'), SafetensorsFormatError);
});

test('parseHeaderLength and parseHeaderJson work on bytes', () => {
  const prefix = new Uint8Array(8);
  new DataView(prefix.buffer).setBigUint64(0, 16n, true);
  assert.equal(parseHeaderLength(prefix, 100, 'mem'), 16);
  const json = new TextEncoder().encode('{"b":{"dtype":"I8","shape":[2],"data_offsets":[2,4]},"a":{"dtype":"I8","shape":[2],"data_offsets":[0,2]}}');
  const header = parseHeaderJson(json, 8 + json.byteLength + 4, 'mem');
  assert.deepEqual(header.tensors.map((t) => [t.name, t.start, t.byteLength]), [['a', header.dataStart, 2], ['b', header.dataStart + 2, 2]]);
});

test('opening a missing file or a directory raises CheckpointError; unknown names raise CheckpointError', async () => {
  await withTempDir(async (dir) => {
    await assert.rejects(SafetensorsFile.open(join(dir, 'nope.safetensors')), CheckpointError);
    await mkdir(join(dir, 'sub.safetensors'));
    await assert.rejects(SafetensorsFile.open(join(dir, 'sub.safetensors')), CheckpointError);
    await withSafetensors(FIXTURE, async (file) => {
      assert.throws(() => file.info('no.such.tensor'), CheckpointError);
    });
  });
});

test('a FIFO, a device or a directory is refused at once by fstat, never read (a FIFO would block)', async () => {
  await withTempDir(async (dir) => {
    const fifo = join(dir, 'model.safetensors');
    if (!makeFifo(fifo)) return; // no mkfifo (Windows)
    const err = await rejectionWithoutBlocking(() => SafetensorsFile.open(fifo), fifo);
    assert.ok(err instanceof CheckpointError && /is not a regular file \(a FIFO\)/.test(err.message), String(err));
    if (process.platform !== 'win32') {
      await assert.rejects(SafetensorsFile.open('/dev/null'), (e: unknown) => e instanceof CheckpointError && /a device/.test(e.message));
    }
    await assert.rejects(SafetensorsFile.open(dir), (e: unknown) => e instanceof CheckpointError && /a directory/.test(e.message));
  });
});

test('a length prefix shrunk into the padding of a real written file is refused, not read shifted', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'padded.safetensors');
    await saveSafetensors(path, { 'classifier.bias': { shape: [10], data: Array.from({ length: 10 }, (_, i) => i / 10) }, w: { shape: [3], data: [1, 2, 3] } }, { format: 'pt' });
    const bytes = new Uint8Array(await readFile(path));
    const view = new DataView(bytes.buffer);
    const n = Number(view.getBigUint64(0, true));
    const header = new TextDecoder().decode(bytes.subarray(8, 8 + n));
    const padding = header.length - header.trimEnd().length;
    assert.ok(padding > 0, 'the writer pads; this test needs some padding');
    for (let shrink = 1; shrink <= padding; shrink++) {
      view.setBigUint64(0, BigInt(n - shrink), true);
      await writeFile(path, bytes);
      await assert.rejects(SafetensorsFile.open(path), (err: unknown) => err instanceof SafetensorsFormatError && new RegExp(`${shrink} trailing bytes belong to no tensor`).test(err.message));
    }
  });
});

test('valid dtypes that tfjs-lens does not decode open; reading them raises UnsupportedDtypeError naming the tensor', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'c64.safetensors');
    await writeFile(path, rawFile({ __metadata__: null, c: { dtype: 'C64', shape: [1], data_offsets: [0, 8] }, u: { dtype: 'U64', shape: [1], data_offsets: [8, 16] } }, new Uint8Array(16)));
    await withSafetensors(path, async (file) => {
      assert.deepEqual(file.header.metadata, {});
      assert.deepEqual(file.header.tensors.map((t) => [t.name, t.dtype, t.byteLength]), [['c', 'C64', 8], ['u', 'U64', 8]]);
      for (const name of ['c', 'u']) {
        await assert.rejects(file.read(name), (err: unknown) => err instanceof UnsupportedDtypeError && err.message.includes(`tensor '${name}'`));
      }
    });
  });
});

test('a 100 MB hostile header stops at the nesting limit (nested) or is skipped without being built (wide)', () => {
  const head = '{"x":{"dtype":"F32","shape":[0],"data_offsets":[0,0],"pad":';
  const deep = new Uint8Array(MAX_HEADER_BYTES).fill(0x5b); // '[' × 100 MB
  deep.set(new TextEncoder().encode(head));
  const wide = new Uint8Array(MAX_HEADER_BYTES).fill(0x20);
  wide.set(new TextEncoder().encode(`${head}[`));
  // '[],' × 33 million, by doubling copies.
  const first = head.length + 1;
  const total = Math.floor((MAX_HEADER_BYTES - head.length - 6) / 3) * 3;
  wide.set([0x5b, 0x5d, 0x2c], first);
  for (let filled = 3; filled < total; filled *= 2) wide.copyWithin(first + filled, first, first + Math.min(filled, total - filled));
  wide.set(new TextEncoder().encode('[]]}}'), MAX_HEADER_BYTES - 5);
  // The error comes at the 126th '[' (character 184), not after parsing 100 MB (JSON.parse took 24-48 s and 5 GB).
  assert.throws(() => parseHeaderJson(deep, 8 + deep.byteLength, 'deep'), (err: unknown) => err instanceof SafetensorsFormatError && /nesting deeper than 127 levels at character 184$/m.test(err.message));
  // Valid for the reference (nesting 4): accepted, the 33 million arrays skipped rather than built.
  assert.deepEqual(parseHeaderJson(wide, 8 + wide.byteLength, 'wide').tensors.map((t) => t.name), ['x']);
});

test('a dimension of 21 or more digits is above 2^64 - 1 (decided by length: BigInt took 10 s on 20 million digits)', () => {
  const header = (dim: string): Uint8Array => new TextEncoder().encode(`{"x":{"dtype":"F32","data_offsets":[0,0],"shape":[${dim},0]}}`);
  const ok = header('18446744073709551615'); // 2^64 - 1 and 0: an empty tensor the reference accepts
  assert.deepEqual(parseHeaderJson(ok, 8 + ok.byteLength, 'max').tensors.map((t) => t.name), ['x']);
  for (const dim of ['18446744073709551616', '100000000000000000000', '1'.repeat(20_000_000)]) {
    const json = header(dim);
    assert.throws(() => parseHeaderJson(json, 8 + json.byteLength, 'digits'), (err: unknown) => err instanceof SafetensorsFormatError && /is above 2\^64 - 1/.test(err.message), dim.slice(0, 30));
  }
});

test('a tensor past PARALLEL_READ_BYTES is read in parallel parts with every byte in place', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'big.safetensors');
    const n = PARALLEL_READ_BYTES / 4 + 12_345; // parts of unequal length, the last not page-sized
    const data = Array.from({ length: n }, (_, i) => (i % 65_521) - i / n);
    await saveSafetensors(path, { small: { shape: [3], data: [1, 2, 3], dtype: 'F32' }, big: { shape: [n], data, dtype: 'F32' } });
    await withSafetensors(path, async (file) => {
      const big = await file.read('big');
      assert.equal(big.data.length, n);
      const expected = Float32Array.from(data);
      for (let i = 0; i < n; i++) if (big.data[i] !== expected[i]) assert.fail(`element ${i}: ${big.data[i]} ≠ ${expected[i]}`);
      assert.deepEqual([...(await file.read('small')).data], [1, 2, 3]);
    });
  });
});
