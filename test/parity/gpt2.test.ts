import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { setBackend } from '../../lib/backend/index.js';
import { loadModel } from '../../lib/nn/load.js';
import type { HookedGPT2 } from '../../lib/nn/gpt2.js';
import { fixtureDir, readFixture, relError } from '../helpers/fixtures.js';

const TOL = 1e-4;

for (const backend of ['wasm', 'cpu'] as const) {
  test(`gpt2-tiny: every hook and the logits match HF within ${TOL} (${backend})`, async () => {
    await setBackend(backend);
    const { inputs, expected } = await readFixture('gpt2-tiny');
    const model = (await loadModel(fixtureDir('gpt2-tiny'))) as HookedGPT2;
    const ids = inputs.get('input_ids')!;
    const input = tf.tensor(ids.data, ids.shape, 'int32');
    const before = tf.memory().numTensors;
    const { output, cache } = await model.runWithCache(input);
    const hookNames = [...expected.keys()].filter((k) => k !== 'logits' && k !== 'lens.logits');
    const errors: Record<string, number> = {};
    for (const name of hookNames) {
      const got = cache.get(name);
      assert.deepEqual(got.shape, expected.get(name)!.shape, name);
      errors[name] = relError(await got.data(), expected.get(name)!.data);
    }
    errors.logits = relError(await output.data(), expected.get('logits')!.data);
    const worst = Object.entries(errors).sort((a, b) => b[1] - a[1])[0]!;
    assert.ok(worst[1] <= TOL, `worst hook ${worst[0]} rel err ${worst[1]}`);
    assert.equal(Object.keys(errors).length, hookNames.length + 1);
    output.dispose();
    cache.dispose();
    assert.equal(tf.memory().numTensors, before, 'runWithCache leaked tensors');
    input.dispose();
    model.dispose();
  });
}
