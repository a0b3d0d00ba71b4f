/**
 * loadModel on failure paths: a checkpoint that breaks part-way through conversion leaves no tensor behind,
 * and weights that would not fit in the memory left raise InsufficientMemoryError before anything is read.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setBackend } from '../../../lib/backend/index.js';
import { loadModel } from '../../../lib/nn/load.js';
import { readAllSafetensors } from '../../../lib/io/safetensors.js';
import { saveSafetensors, type HostValues } from '../../../lib/io/safetensors-writer.js';
import { CheckpointError, InsufficientMemoryError } from '../../../lib/errors.js';
import { fixtureDir } from '../../helpers/fixtures.js';
import { testBackend } from '../../helpers/backend.js';

/** The gpt2-tiny fixture with its last block's MLP output weight removed (read last by the converter). */
async function brokenCheckpoint(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'tfjs-lens-broken-'));
  copyFileSync(join(fixtureDir('gpt2-tiny'), 'config.json'), join(dir, 'config.json'));
  const tensors = await readAllSafetensors(join(fixtureDir('gpt2-tiny'), 'model.safetensors'));
  const last = [...tensors.keys()].filter((k) => /mlp\.c_proj\.weight$/.test(k)).sort().at(-1)!;
  tensors.delete(last);
  await saveSafetensors(join(dir, 'model.safetensors'), new Map([...tensors].map(([k, v]) => [k, { shape: v.shape, data: v.data as Float32Array } satisfies HostValues])));
  return dir;
}

test('a load that fails part-way leaves no tensor behind (20 failed loads)', async () => {
  await setBackend(testBackend('cpu'));
  const dir = await brokenCheckpoint();
  const before = tf.memory();
  for (let i = 0; i < 20; i++) await assert.rejects(loadModel(dir), CheckpointError);
  assert.equal(tf.memory().numTensors, before.numTensors, 'tensors leaked by failed loads');
  assert.equal(tf.memory().numBytes, before.numBytes);
  rmSync(dir, { recursive: true, force: true });
});

test('weights larger than the memory left raise InsufficientMemoryError before any tensor is made', async () => {
  await setBackend(testBackend('cpu'));
  const before = tf.memory().numTensors;
  const saved = process.env.TFJS_LENS_MEMORY_CHECK;
  // A cgroup-like budget of 1 KiB: fake it through the check's override of the available bytes.
  process.env.TFJS_LENS_MEMORY_AVAILABLE = '1024';
  try {
    await assert.rejects(loadModel(fixtureDir('gpt2-tiny')), (e: unknown) => e instanceof InsufficientMemoryError && /need .* GiB but only 0\.00 GiB/.test((e as Error).message));
    assert.equal(tf.memory().numTensors, before);
    process.env.TFJS_LENS_MEMORY_CHECK = '0';
    const model = await loadModel(fixtureDir('gpt2-tiny'));
    model.dispose();
  } finally {
    delete process.env.TFJS_LENS_MEMORY_AVAILABLE;
    if (saved === undefined) delete process.env.TFJS_LENS_MEMORY_CHECK;
    else process.env.TFJS_LENS_MEMORY_CHECK = saved;
  }
});
