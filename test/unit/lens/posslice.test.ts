/**
 * `posSlice` of the residual-stack builders with real numbers: the sliced logit lens equals the HF `lens.logits`
 * reference at those positions (in the order given, repeats allowed), the sliced decomposition with the final LN
 * sums (in logit space) to the HF logits there, and the sliced per-head stack holds the cached `hook_result` rows
 * picked on the host.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { setBackend } from '../../../lib/backend/index.js';
import { loadModel } from '../../../lib/nn/load.js';
import type { HookedGPT2 } from '../../../lib/nn/gpt2.js';
import { accumulatedResid, decomposeResid, stackHeadResults } from '../../../lib/lens/resid.js';
import { fixtureDir, readFixture, relError } from '../../helpers/fixtures.js';
import { PARITY_TOL } from '../../helpers/parity.js';
import { testBackend } from '../../helpers/backend.js';

/** Picks positions `pos` of a row-major `[lead…, B, T, inner]` array (T at axis −2 of the inner layout). */
function pick(data: ArrayLike<number>, lead: number, B: number, T: number, inner: number, pos: readonly number[]): Float32Array {
  const out = new Float32Array(lead * B * pos.length * inner);
  let o = 0;
  for (let l = 0; l < lead; l++) for (let b = 0; b < B; b++) for (const p of pos) for (let i = 0; i < inner; i++) out[o++] = data[((l * B + b) * T + p) * inner + i]!;
  return out;
}

test('posSlice: accumulatedResid / decomposeResid / stackHeadResults keep exactly the chosen positions, in order', async () => {
  await setBackend(testBackend('cpu'));
  const { inputs, expected } = await readFixture('gpt2-tiny');
  const model = (await loadModel(fixtureDir('gpt2-tiny'))) as HookedGPT2;
  const ids = inputs.get('input_ids')!;
  const input = tf.tensor(ids.data, ids.shape, 'int32');
  const { output, cache } = await model.runWithCache(input);
  const [B, T] = ids.shape as [number, number];
  const V = 1000;
  const pos = [7, 0, 7, 3];
  const W_U = model.W_U;

  const lens = accumulatedResid(cache, model, { applyLn: true, posSlice: pos });
  assert.deepEqual(lens.stack.shape, [4, B, pos.length, 64]);
  const lensLogits = tf.tidy(() => tf.reshape(tf.matMul(tf.reshape(lens.stack, [-1, 64]), W_U), [4, B, pos.length, V]));
  const wantLens = pick(expected.get('lens.logits')!.data, 4, B, T, V, pos);
  const errLens = relError(await lensLogits.data(), wantLens);
  assert.ok(errLens <= PARITY_TOL, `sliced lens vs HF lens.logits: ${errLens}`);

  // Components through the final LN (cached scale, no gain or bias) sum, after the LN gain and bias and W_U, to
  // the HF logits there.
  const dec = decomposeResid(cache, model, { applyLn: true, posSlice: pos });
  const decLogits = tf.tidy(() => tf.matMul(tf.reshape(tf.add(tf.mul(tf.sum(dec.stack, 0), model.lnFinal.w), model.lnFinal.b), [-1, 64]), W_U));
  const wantLogits = pick(expected.get('logits')!.data, 1, B, T, V, pos);
  const errDec = relError(await decLogits.data(), wantLogits);
  assert.ok(errDec <= PARITY_TOL, `sliced decomposition vs HF logits: ${errDec}`);

  // Per-head results up to layer 2: [2H, B, pos, d]; rows H … 2H−1 are layer 1 = hook_result[b, p, h, :] picked on the host.
  const heads = stackHeadResults(cache, model, { layer: 2, posSlice: pos });
  assert.equal(heads.labels.length, 8);
  const got = await heads.stack.data();
  const H = 4;
  const result1 = cache.get('blocks.1.attn.hook_result').dataSync(); // [B, T, H, d]
  for (let h = 0; h < H; h++) {
    for (let b = 0; b < B; b++) {
      pos.forEach((p, k) => {
        for (let c = 0; c < 64; c += 9) {
          const g = got[(((H + h) * B + b) * pos.length + k) * 64 + c]!;
          assert.equal(g, result1[((b * T + p) * H + h) * 64 + c], `L1H${h} b${b} p${p} c${c}`);
        }
      });
    }
  }
  assert.throws(() => accumulatedResid(cache, model, { posSlice: [9] }), /9/);
  tf.dispose([lens.stack, lensLogits, dec.stack, decLogits, heads.stack, output, input]);
  cache.dispose();
  model.dispose();
});
