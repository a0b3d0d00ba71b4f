/**
 * Hugging Face parity of every model fixture on the CPU backends: every reference tensor (each hook,
 * `logits`, `lens.logits` — BERT's `hidden_states.N` are block outputs) within PARITY_TOL (1e-5) relative error,
 * with the tensor count unchanged afterwards. Model-specific checks live in the per-model test files.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { setBackend } from '../../lib/backend/index.js';
import { FIXTURE_MODELS, PARITY_TOL, fixtureErrors } from '../helpers/parity.js';
import { readFixture } from '../helpers/fixtures.js';
import { testBackends } from '../helpers/backend.js';

const TOL = PARITY_TOL;

for (const name of FIXTURE_MODELS) {
  for (const backend of testBackends(['wasm', 'cpu'] as const)) {
    test(`${name}: every reference tensor matches HF within ${TOL} (${backend})`, async (t) => {
      await setBackend(backend);
      const { expected } = await readFixture(name);
      const before = tf.memory().numTensors;
      const errors = await fixtureErrors(name);
      assert.equal(tf.memory().numTensors, before, 'the parity run leaked tensors');
      assert.deepEqual([...errors.keys()].sort(), [...expected.keys()].sort(), 'every reference tensor was compared');
      const worst = [...errors.entries()].sort((a, b) => b[1] - a[1])[0]!;
      t.diagnostic(`${name} ${backend}: worst rel err ${worst[1].toExponential(2)} at ${worst[0]} (${errors.size} tensors)`);
      assert.ok(worst[1] <= TOL, `worst ${worst[0]} rel err ${worst[1]}`);
    });
  }
}
