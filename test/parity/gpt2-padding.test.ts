/**
 * GPT-2 on a left-padded batch with an attention mask against Hugging Face (scripts/fixtures/make_gpt2_padded.py:
 * position ids cumsum(mask) − 1, eager attention): logits and residual states at every real position within the
 * parity bar. Padded query positions attend to no real key, so their values are left out of the comparison.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { setBackend } from '../../lib/backend/index.js';
import { assertPaddedParity } from '../helpers/parity.js';
import { testBackends } from '../helpers/backend.js';

for (const backend of testBackends(['wasm', 'cpu'] as const)) {
  test(`gpt2-tiny: a left-padded batch with an attention mask matches HF at every real position (${backend})`, async (t) => {
    await setBackend(backend);
    await assertPaddedParity(t, 'gpt2-tiny', `gpt2-tiny ${backend}`, {
      namesFilter: (n) => /hook_resid_(pre|post)$/.test(n) || n === 'hook_pos_embed',
      lastStateNormed: true,
      // Position ids as HF's: the padded row's first real token gets the position embedding of 0.
      inspect: async (_output, cache) => {
        const pos = cache.get('hook_pos_embed');
        const d = pos.shape[2]!;
        const row1First = tf.tidy(() => tf.slice(pos, [1, 3, 0], [1, 1, d]));
        const row0First = tf.tidy(() => tf.slice(pos, [0, 0, 0], [1, 1, d]));
        assert.deepEqual(await row1First.data(), await row0First.data());
        tf.dispose([row1First, row0First]);
      },
    });
  });
}
