/**
 * The setup's additions to tfjs-node's binding sources (binding-patch.ts: list(string) attributes, the parallel copy,
 * createTensorFromFile across tfjs_backend.cc/.h and tfjs_binding.cc), applied to the published sources of the
 * installed tfjs-node (present once `tfjs-lens setup tensorflow` ran; skipped otherwise): each applied once, also over
 * a source an earlier setup patched in place, never twice; nothing written when one file cannot be patched. And the patched copy path itself: a large unaligned
 * float32 array becomes a tensor with exactly its values, owned by the tensor (a later write to the array does not
 * reach it) — on whichever backend the tier runs, the tensorflow tier being the one that takes the patched path.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { setBackend } from '../../../lib/backend/index.js';
import { materialize } from '../../../lib/backend/materialize.js';
import { patchBindingSource } from '../../../lib/backend/tensorflow-setup/binding-patch.js';
import { BackendSetupError } from '../../../lib/errors.js';
import { testBackend } from '../../helpers/backend.js';
import { ROOT } from '../../helpers/fixtures.js';

const BINDING_DIR = join(ROOT, 'node_modules', '@tensorflow', 'tfjs-node', 'binding');
const FILES = ['tfjs_backend.cc', 'tfjs_backend.h', 'tfjs_binding.cc'] as const;
/** The published text of a binding source (its kept `.orig` once a setup patched it). */
function publishedText(name: string): string | undefined {
  const file = join(BINDING_DIR, name);
  const path = existsSync(`${file}.orig`) ? `${file}.orig` : file;
  return existsSync(path) ? readFileSync(path, 'utf8') : undefined;
}
const sources = Object.fromEntries(FILES.map((f) => [f, publishedText(f)])) as Record<(typeof FILES)[number], string | undefined>;
const published = sources['tfjs_backend.cc'];
const skip = FILES.some((f) => !sources[f])
  ? 'tfjs-node is not installed (run `npx tfjs-lens setup tensorflow`)'
  : FILES.some((f) => sources[f]!.includes('// tfjs-lens'))
    ? 'the installed source is patched and its original was not kept'
    : undefined;

/** A package folder holding the published binding sources, with `source` as tfjs_backend.cc. */
function packageWith(source: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'tfjs-lens-binding-'));
  mkdirSync(join(dir, 'binding'));
  for (const f of FILES) writeFileSync(join(dir, 'binding', f), sources[f]!);
  writeFileSync(join(dir, 'binding', 'tfjs_backend.cc'), source);
  return dir;
}

const count = (s: string, needle: string) => s.split(needle).length - 1;

test('binding patch: every addition once, the published source kept, a re-run and an earlier in-place patch give the same file', { skip }, () => {
  const dir = packageWith(published!);
  try {
    const file = join(dir, 'binding', 'tfjs_backend.cc');
    patchBindingSource(dir);
    const once = readFileSync(file, 'utf8');
    assert.equal(count(once, '// tfjs-lens: list(string) attributes'), 1);
    assert.equal(count(once, '// tfjs-lens: large copies in parallel'), 2, 'the helper and its call');
    assert.match(once, /TFE_OpSetAttrStringList/);
    assert.match(once, /TF_AllocateTensor\(dtype, shape, shape_length, byte_size\)/);
    const marker = '// tfjs-lens: tensors that map checkpoint bytes';
    assert.equal(count(once, marker), 2, 'includes and the definition of CreateTensorFromFile');
    assert.match(once, /mmap\(nullptr, length, PROT_READ \| PROT_WRITE, MAP_PRIVATE, fd/);
    const header = readFileSync(join(dir, 'binding', 'tfjs_backend.h'), 'utf8');
    const binding = readFileSync(join(dir, 'binding', 'tfjs_binding.cc'), 'utf8');
    assert.equal(count(header, marker), 1, 'the declaration');
    assert.equal(count(binding, marker), 2, 'the wrapper and its export');
    assert.match(binding, /\{"createTensorFromFile", nullptr, CreateTensorFromFile/);
    for (const f of FILES) assert.equal(readFileSync(join(dir, 'binding', `${f}.orig`), 'utf8'), sources[f], `the published ${f} is kept beside it`);
    const patched = FILES.map((f) => readFileSync(join(dir, 'binding', f), 'utf8'));
    patchBindingSource(dir);
    assert.deepEqual(FILES.map((f) => readFileSync(join(dir, 'binding', f), 'utf8')), patched, 'a re-run changes nothing');
    // A source patched in place by an earlier setup (no .orig kept): undone, then patched once.
    rmSync(`${file}.orig`);
    patchBindingSource(dir);
    assert.equal(readFileSync(file, 'utf8'), once);
    assert.equal(readFileSync(`${file}.orig`, 'utf8'), published);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('binding patch: a source without the patched code, or with a tfjs-lens patch it cannot undo, is a BackendSetupError', { skip }, () => {
  for (const source of [published!.replace('    case TF_ATTR_STRING: {\n', '    case TF_ATTR_STRING:{\n'), `${published!}\n// tfjs-lens: something older\n`]) {
    const dir = packageWith(source);
    try {
      assert.throws(() => patchBindingSource(dir), BackendSetupError);
      assert.equal(readFileSync(join(dir, 'binding', 'tfjs_backend.cc'), 'utf8'), source, 'left as it was');
      for (const f of FILES.slice(1)) assert.equal(readFileSync(join(dir, 'binding', f), 'utf8'), sources[f], `${f} not written either`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
});

test('a 36 MiB float32 array at an unaligned address becomes a tensor with its values, owned by the tensor', async () => {
  await setBackend(testBackend('wasm'));
  const before = tf.memory().numTensors;
  const n = 9 * 2 ** 20; // 36 MiB: the threaded copy
  const buffer = new ArrayBuffer(n * 4 + 64);
  const values = new Float32Array(buffer, 4, n); // 4 bytes past V8's 16-byte alignment: never 64-aligned
  for (let i = 0; i < n; i++) values[i] = (i % 1000) - 500 + i / n;
  const t = materialize(tf.tensor1d(values, 'float32'));
  const expected = Float32Array.from(values);
  values.fill(0); // the tensor holds its own copy
  const got = await t.data();
  assert.equal(got.length, n);
  let mismatches = 0;
  for (let i = 0; i < n; i++) if (got[i] !== expected[i]) mismatches++;
  assert.equal(mismatches, 0);
  t.dispose();
  assert.equal(tf.memory().numTensors, before);
});
