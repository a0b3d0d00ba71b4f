/**
 * `alignSafetensors` / `alignCheckpoint` (`tfjs-lens align`): every tensor of the copy starts at a file offset that
 * is a multiple of 64, the copy holds exactly the original's tensors (names, dtypes, shapes, bytes) and metadata,
 * passes the reference layout rules (our reader), and odd-sized tensors go last; bad output paths are typed errors
 * that leave no file behind. Runs on any backend (no tensors).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SafetensorsFile, withSafetensors } from '../../../lib/io/safetensors.js';
import { saveSafetensors } from '../../../lib/io/safetensors-writer.js';
import { alignSafetensors, alignmentNotice, unalignedWeightBytes } from '../../../lib/io/safetensors-align.js';
import { alignCheckpoint } from '../../../lib/io/checkpoint-align.js';
import { CheckpointError, InvalidArgumentError, OutputWriteError } from '../../../lib/errors.js';
import { defaultTierOnly } from '../../helpers/backend.js';
import { ROOT } from '../../helpers/fixtures.js';

const DEEP = join(ROOT, 'weights', 'tiny-gpt2-deep');

async function withTemp<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'tfjs-lens-align-'));
  try {
    return await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** name → [dtype, shape, bytes] of every tensor, and the metadata. */
async function contents(path: string): Promise<{ tensors: Map<string, [string, number[], Buffer]>; metadata: Record<string, string>; starts: Map<string, number> }> {
  return withSafetensors(path, async (file) => {
    const tensors = new Map<string, [string, number[], Buffer]>();
    const starts = new Map<string, number>();
    for (const t of file.header.tensors) {
      tensors.set(t.name, [t.dtype, t.shape, Buffer.from(await file.readBytes(t.name))]);
      starts.set(t.name, t.start);
    }
    return { tensors, metadata: file.header.metadata, starts };
  });
}

test('align: the shipped tiny-gpt2-deep (data at byte 32 mod 64) becomes a file with all 196 tensors at multiples of 64, same tensors and metadata', defaultTierOnly(), async () => {
  await withTemp(async (dir) => {
    const src = join(DEEP, 'model.safetensors');
    const before = await contents(src);
    assert.ok([...before.starts.values()].some((s) => s % 64 !== 0), 'the source is not aligned (else this test shows nothing)');
    const out = join(dir, 'aligned.safetensors');
    const written = await alignSafetensors(src, out);
    assert.deepEqual({ tensors: written.tensors, alignedTensors: written.alignedTensors }, { tensors: 196, alignedTensors: 196 });
    const after = await contents(out); // our reader applies the reference's layout rules
    assert.equal(written.bytes, readFileSync(out).byteLength);
    assert.deepEqual(after.metadata, before.metadata);
    assert.deepEqual([...after.tensors.keys()].sort(), [...before.tensors.keys()].sort());
    for (const [name, [dtype, shape, bytes]] of before.tensors) {
      const [d, s, b] = after.tensors.get(name)!;
      assert.equal(d, dtype, name);
      assert.deepEqual(s, shape, name);
      assert.ok(b.equals(bytes), `${name}: same bytes`);
      assert.equal(after.starts.get(name)! % 64, 0, `${name} starts at a multiple of 64`);
    }
    const text = readFileSync(out);
    const n = Number(text.readBigUInt64LE(0));
    assert.match(text.subarray(8, 8 + n).toString('utf8'), /^\{.*\} *$/, 'the header is JSON padded with spaces');
  });
});

test('align: tensors whose byte length is not a multiple of 64 go last, in file order; the others stay in order', defaultTierOnly(), async () => {
  await withTemp(async (dir) => {
    const src = join(dir, 'odd.safetensors');
    await saveSafetensors(src, {
      a: { shape: [3], data: [1, 2, 3] }, // 12 bytes
      b: { shape: [128, 128], data: new Float32Array(128 * 128).map((_, i) => i / 7) },
      c: { shape: [5], data: [1, 2, 3, 4, 5], dtype: 'F16' }, // 10 bytes
      d: { shape: [32], data: new Float32Array(32).fill(-1.5) },
    }, { note: 'kept' });
    const out = join(dir, 'aligned.safetensors');
    const written = await alignSafetensors(src, out);
    const file = await SafetensorsFile.open(out);
    try {
      const order = [...file.header.tensors].sort((x, y) => x.start - y.start).map((t) => t.name);
      assert.deepEqual(order, ['b', 'd', 'a', 'c']);
      const start = (name: string) => file.info(name).start;
      assert.deepEqual(['b', 'd', 'a'].map((nm) => start(nm) % 64), [0, 0, 0]);
      assert.notEqual(start('c') % 64, 0, 'after a 12-byte tensor');
      assert.equal(written.alignedTensors, 3);
      assert.deepEqual(file.header.metadata, { note: 'kept' });
      assert.deepEqual([...((await file.read('d')).data as Float32Array)], new Array(32).fill(-1.5));
      assert.deepEqual([...((await file.read('c')).data as Float32Array)], [1, 2, 3, 4, 5]);
    } finally {
      await file.close();
    }
  });
});

test('align: onto itself, into a missing folder, into a non-empty folder, from a folder without weights: typed errors, nothing left behind', defaultTierOnly(), async () => {
  await withTemp(async (dir) => {
    const src = join(DEEP, 'model.safetensors');
    await assert.rejects(alignSafetensors(src, src), InvalidArgumentError);
    await assert.rejects(alignSafetensors(src, join(dir, 'missing', 'x.safetensors')), OutputWriteError);
    assert.deepEqual(readdirSync(dir), [], 'no partial file');
    writeFileSync(join(dir, 'keep.txt'), 'x');
    await assert.rejects(alignCheckpoint(DEEP, dir), InvalidArgumentError);
    assert.deepEqual(readdirSync(dir), ['keep.txt']);
    await assert.rejects(alignCheckpoint(dir, join(dir, 'out')), CheckpointError);
    await assert.rejects(alignCheckpoint(DEEP, DEEP), InvalidArgumentError);
  });
});

test('alignCheckpoint: the aligned safetensors plus every other file of the folder, byte for byte', defaultTierOnly(), async () => {
  await withTemp(async (dir) => {
    const out = join(dir, 'deep');
    const seen: string[] = [];
    const files = await alignCheckpoint(DEEP, out, (f) => seen.push(f.name));
    const names = readdirSync(DEEP).sort();
    assert.deepEqual(readdirSync(out).sort(), names);
    assert.deepEqual(seen, files.map((f) => f.name));
    for (const f of files) {
      if (f.action === 'copied') assert.ok(readFileSync(join(out, f.name)).equals(readFileSync(join(DEEP, f.name))), f.name);
      else assert.equal(f.name, 'model.safetensors');
    }
  });
});

test('unalignedWeightBytes / alignmentNotice: the float32 tensors of 64 KiB+ at unaligned offsets; none once aligned', defaultTierOnly(), async () => {
  await withTemp(async (dir) => {
    const expected = await withSafetensors(join(DEEP, 'model.safetensors'), async (f) =>
      f.header.tensors.filter((t) => t.dtype === 'F32' && t.byteLength >= 64 * 1024 && t.start % 64 !== 0).reduce((s, t) => s + t.byteLength, 0),
    );
    assert.ok(expected > 10 * 2 ** 20, 'most of the 14 MiB of weights');
    assert.equal(await unalignedWeightBytes(DEEP), expected);
    const notice = await alignmentNotice(DEEP, 1);
    assert.match(notice!, /GiB of weights in .*tiny-gpt2-deep are not 64-byte aligned.*tfjs-lens align/);
    assert.equal(await alignmentNotice(DEEP), undefined, 'under the 1 GiB default: no notice');
    const out = join(dir, 'deep');
    await alignCheckpoint(DEEP, out);
    assert.equal(await unalignedWeightBytes(out), 0);
    assert.equal(await alignmentNotice(out, 1), undefined);
  });
});
