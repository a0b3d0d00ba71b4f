/**
 * Grouped-query attention in the TransformerLens weight views and circuits (llama-tiny: 4 query heads, 2 kv heads):
 * `W_K`/`W_V`/`b_K`/`b_V` have one entry per query head, query heads 2j and 2j+1 share kv head j (repeat_interleave),
 * each equal to that kv head's slice of the checkpoint projection; `headQK`/`headOV` are built on them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { setBackend } from '../../../lib/backend/index.js';
import { loadModel } from '../../../lib/nn/load.js';
import { headOV, headQK } from '../../../lib/lens/circuits.js';
import { fixtureDir, relError } from '../../helpers/fixtures.js';
import { testBackend } from '../../helpers/backend.js';

test('llama-tiny: W_K/W_V views expand the 2 kv heads to 4 query heads; headQK and headOV use them', async () => {
  await setBackend(testBackend('wasm'));
  const model = await loadModel(fixtureDir('llama-tiny'), { modelType: 'llama' });
  const { nLayers: L, nHeads: H, dModel: d, dHead: dh } = model.cfg;
  assert.deepEqual(model.W_K.shape, [L, H, d, dh]);
  assert.deepEqual(model.W_V.shape, [L, H, d, dh]);
  assert.deepEqual(model.b_K.shape, [L, H, dh]);
  assert.deepEqual(model.W_gate.shape, [L, d, model.cfg.dMlp]);
  void [model.W_Q, model.W_O]; // the other views, built lazily and owned by the model
  const before = tf.memory().numTensors;
  for (let l = 0; l < L; l++) {
    for (let h = 0; h < H; h++) {
      const kv = Math.floor(h / (H / model.cfg.nKvHeads));
      const [view, raw, qk, expectQk, ov, expectOv] = tf.tidy(() => {
        const viewK = tf.squeeze(tf.slice(model.W_K, [l, h, 0, 0], [1, 1, d, dh]), [0, 1]);
        const rawK = tf.slice(model.blocks[l]!.attn.W_K, [0, kv * dh], [d, dh]);
        const rawQ = tf.slice(model.blocks[l]!.attn.W_Q, [0, h * dh], [d, dh]);
        const rawV = tf.slice(model.blocks[l]!.attn.W_V, [0, kv * dh], [d, dh]);
        const rawO = tf.slice(model.blocks[l]!.attn.W_O, [h * dh, 0], [dh, d]);
        const QK = headQK(model, l, h);
        const OV = headOV(model, l, h);
        const out = [viewK, rawK, QK.AB, tf.matMul(rawQ, rawK, false, true), OV.AB, tf.matMul(rawV, rawO)];
        QK.dispose();
        OV.dispose();
        return out;
      });
      assert.equal(relError(await view!.data(), await raw!.data()), 0, `W_K[${l}, ${h}] is kv head ${kv}`);
      assert.ok(relError(await qk!.data(), await expectQk!.data()) < 1e-6, `QK ${l}.${h}`);
      assert.ok(relError(await ov!.data(), await expectOv!.data()) < 1e-6, `OV ${l}.${h}`);
      tf.dispose([view!, raw!, qk!, expectQk!, ov!, expectOv!]);
    }
  }
  assert.equal(tf.memory().numTensors, before);
  model.dispose();
});
