/**
 * One hooked run that composes ablation, patching, the logit lens and saturation, checked against a
 * GPT-2 forward pass written out here from the weights (no hooks, no library lens code).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { setBackend } from '../../../lib/backend/index.js';
import { loadModel } from '../../../lib/nn/load.js';
import type { HookedGPT2 } from '../../../lib/nn/gpt2.js';
import { ablationHook } from '../../../lib/lens/ablation.js';
import { patchHook } from '../../../lib/lens/patching.js';
import { logitLens, residNamesFilter } from '../../../lib/lens/logit-lens.js';
import { lensTopK } from '../../../lib/lens/topk.js';
import { top1SaturationLayer } from '../../../lib/lens/saturation.js';
import { fixtureDir, readFixture, relError } from '../../helpers/fixtures.js';
import { testBackend } from '../../helpers/backend.js';

const ABLATE = { layer: 0, head: 2 };
const PATCH = { layer: 1, position: 3 };

function layerNorm(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const centred = tf.sub(x, tf.mean(x, -1, true));
  return tf.add(tf.mul(tf.div(centred, tf.sqrt(tf.add(tf.mean(tf.square(centred), -1, true), 1e-5))), w), b);
}

function gelu(x: tf.Tensor): tf.Tensor {
  return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.tanh(tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3)))))));
}

function affine(x: tf.Tensor, W: tf.Tensor, b?: tf.Tensor): tf.Tensor {
  const [batch, pos, dIn] = x.shape as [number, number, number];
  const y = tf.matMul(tf.reshape(x, [batch * pos, dIn]), W);
  return tf.reshape(b ? tf.add(y, b) : y, [batch, pos, -1]);
}

/**
 * GPT-2 written out: returns the residual states h_0 … h_L. `ablate` zeroes one head's z; `patch`
 * replaces resid_pre of one block at one position by `patch.value [batch, d]`.
 */
function manualResiduals(model: HookedGPT2, tokens: number[][], opts: { ablate?: typeof ABLATE; patch?: typeof PATCH & { value: tf.Tensor } }): tf.Tensor[] {
  const { nHeads: H, dHead: dh } = model.cfg;
  const [batch, T] = [tokens.length, tokens[0]!.length];
  const ids = tf.tensor2d(tokens, undefined, 'int32');
  let x = tf.add(tf.gather(model.W_E, ids), tf.expandDims(tf.slice(model.W_pos, [0, 0], [T, -1]), 0));
  const causal = tf.reshape(tf.linalg.bandPart(tf.ones([T, T]), -1, 0), [1, 1, T, T]);
  const states: tf.Tensor[] = [x];
  model.blocks.forEach((block, l) => {
    if (opts.patch && opts.patch.layer === l) {
      const onehot = tf.reshape(tf.oneHot(tf.tensor1d([opts.patch.position], 'int32'), T), [1, T, 1]);
      x = tf.add(tf.mul(x, tf.sub(1, onehot)), tf.mul(tf.expandDims(opts.patch.value, 1), onehot));
      // h_l stays the unpatched block output: the lens reads blocks.{l−1}.hook_resid_post, a different
      // hook point from the patched blocks.{l}.hook_resid_pre (for l = 0 the patch would show).
      if (l === 0) states[0] = x;
    }
    const a = block.attn;
    const h = layerNorm(x, block.ln1.w, block.ln1.b);
    const heads = (t: tf.Tensor) => tf.transpose(tf.reshape(t, [batch, T, H, dh]), [0, 2, 1, 3]);
    const q = heads(affine(h, a.W_Q, a.b_Q));
    const k = heads(affine(h, a.W_K, a.b_K));
    const v = heads(affine(h, a.W_V, a.b_V));
    const scores = tf.div(tf.matMul(q, k, false, true), Math.sqrt(dh));
    const masked = tf.where(tf.greater(tf.broadcastTo(causal, scores.shape), 0), scores, tf.fill(scores.shape, -Infinity));
    let z = tf.matMul(tf.softmax(masked), v); // [b, H, T, dh]
    if (opts.ablate && opts.ablate.layer === l) z = tf.mul(z, tf.reshape(tf.tensor1d([0, 1, 2, 3].map((i) => (i === opts.ablate!.head ? 0 : 1))), [1, H, 1, 1]));
    const attnOut = affine(tf.reshape(tf.transpose(z, [0, 2, 1, 3]), [batch, T, H * dh]), a.W_O, a.b_O);
    x = tf.add(x, attnOut);
    const m = block.mlp;
    x = tf.add(x, affine(gelu(affine(layerNorm(x, block.ln2.w, block.ln2.b), m.W_in, m.b_in)), m.W_out, m.b_out));
    states.push(x);
  });
  return states;
}

test('ablation + patching + logit lens + saturation in one hooked run equal a written-out GPT-2', async () => {
  await setBackend(testBackend('cpu'));
  const { inputs } = await readFixture('gpt2-tiny');
  const model = (await loadModel(fixtureDir('gpt2-tiny'))) as HookedGPT2;
  const ids = Array.from(inputs.get('input_ids')!.data as Int32Array);
  const clean = [ids.slice(0, 9), ids.slice(9, 18)];
  const corrupted = clean.map((row) => row.map((t, p) => (p === PATCH.position ? (t + 321) % 1000 : t)));
  const before = tf.memory().numTensors;

  // The library way: one clean cache, one corrupted run with both hooks that caches the residual states.
  const cleanRun = await model.runWithCache(clean, { namesFilter: `blocks.${PATCH.layer}.hook_resid_pre` });
  const { output, cache } = await model.runWithCache(corrupted, {
    namesFilter: residNamesFilter(model),
    fwdHooks: [
      [`blocks.${ABLATE.layer}.attn.hook_z`, ablationHook('zero', { head: ABLATE.head })],
      [`blocks.${PATCH.layer}.hook_resid_pre`, patchHook(cleanRun.cache, { positions: [PATCH.position] })],
    ],
  });
  const lens = logitLens(model, cache); // [L+1, batch, pos, V]
  const top = await lensTopK(model, cache, { k: 1 }); // rows j = 0 … L−1 meaning h_{j+1}

  // The written-out way (also with only one of the two interventions, to see that both matter).
  const manualLens = (which: { ablate: boolean; patch: boolean }) =>
    tf.tidy(() => {
      const cleanStates = manualResiduals(model, clean, {});
      const value = tf.squeeze(tf.slice(cleanStates[PATCH.layer]!, [0, PATCH.position, 0], [-1, 1, -1]), [1]);
      const states = manualResiduals(model, corrupted, { ablate: which.ablate ? ABLATE : undefined, patch: which.patch ? { ...PATCH, value } : undefined });
      const lensed = states.map((h) => tf.matMul(tf.reshape(layerNorm(h, model.lnFinal.w, model.lnFinal.b), [-1, 64]), model.W_E, false, true));
      return tf.reshape(tf.stack(lensed), [4, 2, 9, 1000]);
    });
  const reference = manualLens({ ablate: true, patch: true });
  for (const partial of [{ ablate: true, patch: false }, { ablate: false, patch: true }]) {
    const other = manualLens(partial);
    assert.ok(relError(await other.data(), await reference.data()) > 1e-3, `intervention ${JSON.stringify(partial)} should matter`);
    other.dispose();
  }
  const lensErr = relError(await lens.data(), await reference.data());
  console.log(`  composed run: lens logits vs written-out GPT-2 rel err ${lensErr.toExponential(2)}`);
  assert.ok(lensErr <= 1e-4, `lens rel err ${lensErr}`);
  const lastLayer = tf.slice(lens, [3], [1]);
  assert.ok(relError(await lastLayer.data(), await output.data()) <= 1e-6, 'the last lens layer is the hooked run\'s output');
  lastLayer.dispose();

  // Top-1 per layer and top-1 saturation, recomputed on the host from the reference logits.
  const ref = (await reference.data()) as Float32Array;
  const V = 1000;
  let informative = 0;
  for (let b = 0; b < 2; b++) {
    for (let p = 0; p < 9; p++) {
      const ranks: number[] = [];
      const refTop: number[] = [];
      for (let j = 0; j < 3; j++) {
        const row = ref.subarray((((j + 1) * 2 + b) * 9 + p) * V, (((j + 1) * 2 + b) * 9 + p + 1) * V);
        let arg = 0;
        for (let i = 1; i < V; i++) if (row[i]! > row[arg]!) arg = i;
        refTop.push(arg);
        ranks.push(top.ids[(j * 2 + b) * 9 + p]!);
      }
      assert.deepEqual(ranks, refTop, `top-1 ids b ${b} p ${p}`);
      // Saturation written out: last j whose top-1 differs from the final one, plus one (0 if none).
      let sat = 0;
      for (let j = 1; j >= 0; j--) {
        if (refTop[j] !== refTop[2]) {
          sat = j + 1;
          break;
        }
      }
      assert.equal(top1SaturationLayer(ranks), sat);
      if (sat > 0) informative++;
    }
  }
  assert.ok(informative > 0, 'some positions should change their top-1 across layers');

  // The hooks mattered: without them the lens differs.
  const plain = await model.runWithCache(corrupted, { namesFilter: residNamesFilter(model) });
  const plainLens = logitLens(model, plain.cache);
  assert.ok(relError(await plainLens.data(), await lens.data()) > 1e-3);
  tf.dispose([plainLens, plain.output, lens, reference, output, cleanRun.output]);
  plain.cache.dispose();
  cache.dispose();
  cleanRun.cache.dispose();
  assert.equal(tf.memory().numTensors, before);
  model.dispose();
});
