/**
 * GPT-2 on a left-padded batch with an attention mask against Hugging Face (scripts/fixtures/make_gpt2_padded.py:
 * position ids cumsum(mask) − 1, eager attention): logits and residual states at every real position within the
 * parity bar. Padded query positions attend to no real key, so their values are left out of the comparison.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { setBackend } from '../../lib/backend/index.js';
import { loadModel } from '../../lib/nn/load.js';
import type { HookedGPT2 } from '../../lib/nn/gpt2.js';
import { readAllSafetensors } from '../../lib/io/safetensors.js';
import { fixtureDir, intRows, realRows, relError } from '../helpers/fixtures.js';
import { PARITY_TOL, paddedErrors } from '../helpers/parity.js';
import { testBackends } from '../helpers/backend.js';

for (const backend of testBackends(['wasm', 'cpu'] as const)) {
  test(`gpt2-tiny: a left-padded batch with an attention mask matches HF at every real position (${backend})`, async (t) => {
    await setBackend(backend);
    const ref = await readAllSafetensors(join(fixtureDir('gpt2-tiny'), 'padded.safetensors'));
    const model = (await loadModel(fixtureDir('gpt2-tiny'))) as HookedGPT2;
    const rows = (key: string) => intRows(ref.get(key)!);
    const mask = rows('attention_mask');
    assert.deepEqual(mask[1], [0, 0, 0, 1, 1, 1, 1, 1, 1]);
    const before = tf.memory().numTensors;
    const { output, cache } = await model.runWithCache({ inputIds: rows('input_ids'), attentionMask: mask }, { namesFilter: (n) => /hook_resid_(pre|post)$/.test(n) || n === 'hook_pos_embed' });
    const V = output.shape[2]!;
    const d = model.cfg.dModel;
    const errors = await paddedErrors(output, cache, ref, mask, model.nLayers);
    // Position ids as HF's: the padded row's first real token gets the position embedding of 0.
    const pos = cache.get('hook_pos_embed');
    const row1First = tf.tidy(() => tf.slice(pos, [1, 3, 0], [1, 1, d]));
    const row0First = tf.tidy(() => tf.slice(pos, [0, 0, 0], [1, 1, d]));
    assert.deepEqual(await row1First.data(), await row0First.data());
    tf.dispose([row1First, row0First, output]);
    cache.dispose();
    assert.equal(tf.memory().numTensors, before, 'the padded run leaked tensors');
    const worst = Object.entries(errors).sort((a, b) => b[1] - a[1])[0]!;
    t.diagnostic(`padded gpt2-tiny ${backend}: worst rel err ${worst[1].toExponential(2)} at ${worst[0]} (real positions only)`);
    assert.ok(worst[1] <= PARITY_TOL, `worst ${worst[0]} ${worst[1]}`);
    // Without the mask the padded row is a different sequence: the reference is missed.
    const unmasked = await model.forward(rows('input_ids'));
    const err = relError(realRows(await unmasked.data(), mask, V), realRows(ref.get('logits')!.data, mask, V));
    unmasked.dispose();
    assert.ok(err > 100 * PARITY_TOL, `without the mask: ${err}`);
    model.dispose();
  });
}
