/**
 * `embed` + `runBlocks` on a Llama-family model carry the rotary position ids: on a left-padded batch, blocks run
 * from `embed(input).inputs` give exactly `forward(…, { stopAtLayer })`; without `inputs.positions` they default to
 * 0 … pos−1, which shifts the padded row's positions by its padding: rotary attention is translation invariant, so
 * the result agrees up to rounding. The tensors are all freed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { setBackend } from '../../../lib/backend/index.js';
import { loadModel } from '../../../lib/nn/load.js';
import { fixtureDir, relError } from '../../helpers/fixtures.js';
import { testBackend } from '../../helpers/backend.js';

test('llama-tiny: embed + runBlocks equal forward with stopAtLayer on a left-padded batch; positions travel in BlockInputs', async () => {
  await setBackend(testBackend('wasm'));
  const model = await loadModel(fixtureDir('llama-tiny'), { modelType: 'llama' });
  const input = { inputIds: [[5, 17, 100, 2, 9, 41], [0, 0, 7, 8, 9, 10]], attentionMask: [[1, 1, 1, 1, 1, 1], [0, 0, 1, 1, 1, 1]] };
  const before = tf.memory().numTensors;
  const embedded = await model.embed(input);
  assert.deepEqual(Array.from(await embedded.inputs.positions!.data()), [0, 1, 2, 3, 4, 5, 0, 0, 0, 1, 2, 3]);
  const viaBlocks = model.runBlocks(embedded.resid, { to: 2, inputs: embedded.inputs });
  const viaForward = await model.forward(input, { stopAtLayer: 2 });
  assert.equal(relError(await viaBlocks.data(), await viaForward.data()), 0);
  // The mask without the positions (0 … 5 in every row, so the padded row's real tokens sit 2 further on): rotary
  // attention depends on q − k only, so both rows agree up to rounding.
  const plain = model.runBlocks(embedded.resid, { to: 2, inputs: { mask: embedded.inputs.mask } });
  const [row0, row0Ref, row1, row1Ref] = tf.tidy(() => [
    tf.slice(plain, [0, 0, 0], [1, -1, -1]), tf.slice(viaForward, [0, 0, 0], [1, -1, -1]),
    tf.slice(plain, [1, 2, 0], [1, -1, -1]), tf.slice(viaForward, [1, 2, 0], [1, -1, -1]),
  ]);
  const e0 = relError(await row0!.data(), await row0Ref!.data());
  assert.ok(e0 < 1e-6, `row 0: ${e0}`);
  const e1 = relError(await row1!.data(), await row1Ref!.data());
  assert.ok(e1 < 1e-5, `row 1: ${e1}`);
  tf.dispose([viaBlocks, viaForward, plain, row0!, row0Ref!, row1!, row1Ref!]);
  embedded.dispose();
  assert.equal(tf.memory().numTensors, before);
  model.dispose();
});
