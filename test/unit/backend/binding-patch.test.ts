/**
 * The setup's two additions to tfjs-node's binding source (binding-patch.ts), applied to the published source of the
 * installed tfjs-node (present once `tfjs-lens setup tensorflow` ran; skipped otherwise): both applied once, also over
 * a source an earlier setup patched in place, never twice. And the patched copy path itself: a large unaligned
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

const BINDING = join(ROOT, 'node_modules', '@tensorflow', 'tfjs-node', 'binding', 'tfjs_backend.cc');
const PUBLISHED = existsSync(`${BINDING}.orig`) ? `${BINDING}.orig` : BINDING;
const published = existsSync(PUBLISHED) ? readFileSync(PUBLISHED, 'utf8') : undefined;
const skip = !published ? 'tfjs-node is not installed (run `npx tfjs-lens setup tensorflow`)' : published.includes('// tfjs-lens') ? 'the installed source is patched and its original was not kept' : undefined;

/** A package folder holding `source` as its binding source. */
function packageWith(source: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'tfjs-lens-binding-'));
  mkdirSync(join(dir, 'binding'));
  writeFileSync(join(dir, 'binding', 'tfjs_backend.cc'), source);
  return dir;
}

const count = (s: string, needle: string) => s.split(needle).length - 1;

test('binding patch: both additions once, the published source kept, a re-run and an earlier in-place patch give the same file', { skip }, () => {
  const dir = packageWith(published!);
  try {
    const file = join(dir, 'binding', 'tfjs_backend.cc');
    patchBindingSource(dir);
    const once = readFileSync(file, 'utf8');
    assert.equal(count(once, '// tfjs-lens: list(string) attributes'), 1);
    assert.equal(count(once, '// tfjs-lens: large copies in parallel'), 2, 'the helper and its call');
    assert.match(once, /TFE_OpSetAttrStringList/);
    assert.match(once, /TF_AllocateTensor\(dtype, shape, shape_length, byte_size\)/);
    assert.equal(readFileSync(`${file}.orig`, 'utf8'), published, 'the published source is kept beside it');
    patchBindingSource(dir);
    assert.equal(readFileSync(file, 'utf8'), once, 'a re-run changes nothing');
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
