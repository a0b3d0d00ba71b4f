import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { setBackend } from '../../../lib/backend/index.js';
import { loadModel } from '../../../lib/nn/load.js';
import { readAllSafetensors } from '../../../lib/io/safetensors.js';
import { saveSafetensors, type HostValues } from '../../../lib/io/safetensors-writer.js';
import { fixtureDir, relError } from '../../helpers/fixtures.js';
import { testBackend } from '../../helpers/backend.js';

test('GPT-2 checkpoints load with or without the transformer. prefix, with attn.bias/masked_bias buffers and an lm_head copy', async () => {
  await setBackend(testBackend('cpu'));
  const dir = await mkdtemp(join(tmpdir(), 'gpt2-layout-'));
  try {
    const original = await readAllSafetensors(join(fixtureDir('gpt2-tiny'), 'model.safetensors'));
    const published: Record<string, HostValues> = {};
    for (const [name, t] of original) published[name.replace(/^transformer\./, '')] = { shape: t.shape, data: t.data as Float32Array };
    for (let i = 0; i < 3; i++) {
      // the causal-mask buffers old checkpoints carry: must be ignored, not mistaken for weights
      published[`h.${i}.attn.bias`] = { shape: [1, 1, 64, 64], data: new Float32Array(64 * 64).fill(1) };
      published[`h.${i}.attn.masked_bias`] = { shape: [], data: new Float32Array([-1e4]) };
    }
    published['lm_head.weight'] = published['wte.weight']!;
    await saveSafetensors(join(dir, 'model.safetensors'), published);
    await copyFile(join(fixtureDir('gpt2-tiny'), 'config.json'), join(dir, 'config.json'));
    const ids = [[5, 17, 300, 2, 9]];
    const reference = await loadModel(fixtureDir('gpt2-tiny'));
    const bare = await loadModel(dir);
    const a = await reference.forward(ids as never);
    const b = await bare.forward(ids as never);
    assert.equal(relError(b.dataSync(), a.dataSync()), 0);
    tf.dispose([a, b]);
    reference.dispose();
    bare.dispose();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
