/**
 * processWeights on GPT-NeoX / Pythia (pythia-tiny: parallel residual; pythia-seq-tiny: sequential): the logits are
 * unchanged without centring the unembedding and the log-probabilities with it (≤ 1e-5); q/k, rotated q/k, scores,
 * pattern, MLP hooks, every hook_scale and hook_normalized are unchanged; the residual-stream hooks equal the
 * original ones minus their mean over dModel (TransformerLens's picture after centring the writers); the value bias
 * moved into b_O (hook_v = original − (b_V + ln1.b·W_V)); the layer norms are parameter-free. Gemma and the Llama family are refused.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { setBackend } from '../../../lib/backend/index.js';
import { loadModel } from '../../../lib/nn/load.js';
import { HookedGPTNeoX } from '../../../lib/nn/gpt-neox.js';
import { HookedGemma } from '../../../lib/nn/gemma.js';
import { HookedLlama } from '../../../lib/nn/llama.js';
import { processWeights } from '../../../lib/lens/process-weights.js';
import { processLlamaWeights } from '../../../lib/lens/process-weights-llama.js';
import { InvalidArgumentError } from '../../../lib/errors.js';
import { fixtureDir, relError } from '../../helpers/fixtures.js';
import { testBackend } from '../../helpers/backend.js';

const IDS = [[5, 17, 100, 2, 9, 41, 200], [1, 2, 3, 4, 5, 6, 7]];
const UNCHANGED = /attn\.hook_(q|k|rot_q|rot_k|attn_scores|pattern)$|mlp\.hook_(pre|post)$|hook_scale$|hook_normalized$/;
const RESID = /(^hook_embed|hook_resid_pre|hook_resid_mid|hook_resid_post|hook_attn_out|hook_mlp_out)$/;
const V = /attn\.hook_v$/;

before(async () => {
  await setBackend(testBackend('wasm'));
});

async function loadNeoX(name: string): Promise<HookedGPTNeoX> {
  const model = await loadModel(fixtureDir(name));
  assert.ok(model instanceof HookedGPTNeoX);
  void [model.W_U, model.b_U]; // built lazily and owned by the model (freed with it)
  return model;
}

for (const name of ['pythia-tiny', 'pythia-seq-tiny']) {
  test(`${name}: processWeights keeps log-probs and the unchanged hooks, centres the residual stream, folds b_V`, async () => {
    const model = await loadNeoX(name);
    const L = model.nLayers;
    const before = tf.memory().numTensors;
    const processed = processWeights(model);
    const filter = (n: string) => UNCHANGED.test(n) || RESID.test(n) || V.test(n);
    const a = await model.runWithCache(IDS, { namesFilter: filter });
    const b = await processed.runWithCache(IDS, { namesFilter: filter });
    const [la, lb] = tf.tidy(() => [tf.logSoftmax(a.output), tf.logSoftmax(b.output)]);
    assert.ok(relError(await lb!.data(), await la!.data()) < 1e-5);
    assert.ok(relError(await b.output.data(), await a.output.data()) > 1e-4, 'the centred unembedding moved the logits');

    const unchanged = a.cache.keys().filter((n) => UNCHANGED.test(n));
    // per block: ln1/ln2 scale + normalized, q, k, rot_q, rot_k, scores, pattern, mlp pre/post; ln_final scale + normalized
    assert.equal(unchanged.length, 12 * L + 2);
    for (const key of unchanged) {
      const err = relError(await b.cache.get(key).data(), await a.cache.get(key).data());
      assert.ok(err < 1e-5, `${key} changed: ${err}`);
    }
    const resid = a.cache.keys().filter((n) => RESID.test(n));
    assert.equal(resid.length, 1 + (model.cfg.parallelResidual ? 4 : 5) * L);
    for (const key of resid) {
      const centred = tf.tidy(() => tf.sub(a.cache.get(key), tf.mean(a.cache.get(key), -1, true)));
      const err = relError(await b.cache.get(key).data(), await centred.data());
      centred.dispose();
      assert.ok(err < 1e-5, `${key} is not the original minus its mean over d: ${err}`);
    }
    for (let l = 0; l < L; l++) {
      const key = `blocks.${l}.attn.hook_v`;
      // the value's whole bias (b_V plus ln1's bias through W_V) moved into b_O
      const { attn, ln1 } = model.blocks[l]!;
      const shifted = tf.tidy(() => {
        const bias = tf.add(attn.b_V!, tf.squeeze(tf.matMul(tf.expandDims((ln1 as unknown as { b: tf.Tensor1D }).b, 0), attn.W_V), [0]));
        return tf.sub(a.cache.get(key), tf.reshape(bias, [1, 1, model.cfg.nHeads, model.cfg.dHead]));
      });
      assert.ok(relError(await b.cache.get(key).data(), await shifted.data()) < 1e-5, `${key} = original − (b_V + ln1.b·W_V)`);
      assert.ok(relError(await b.cache.get(key).data(), await a.cache.get(key).data()) > 1e-4, `${key} moved`);
      shifted.dispose();
      assert.equal(tf.tidy(() => tf.max(tf.abs(processed.blocks[l]!.attn.b_V!)).dataSync()[0]!), 0);
      for (const norm of [processed.blocks[l]!.ln1, processed.blocks[l]!.ln2]) {
        assert.ok(Array.from(await norm.w.data()).every((v) => v === 1));
        assert.ok(Array.from(await (norm as unknown as { b: tf.Tensor }).b.data()).every((v) => v === 0));
      }
    }
    const rowMean = tf.tidy(() => tf.max(tf.abs(tf.mean(processed.W_U, 1))).dataSync()[0]!);
    assert.ok(rowMean < 1e-6, `W_U row mean ${rowMean}`);
    tf.dispose([a.output, b.output, la!, lb!]);
    a.cache.dispose();
    b.cache.dispose();
    processed.dispose();
    assert.equal(tf.memory().numTensors, before, 'processing leaked tensors');
    model.dispose();
  });
}

test('pythia-tiny: with centerUnembed false the processed logits equal the original ones; each step alone keeps log-probs', async () => {
  const model = await loadNeoX('pythia-tiny');
  const before = tf.memory().numTensors;
  const ref = await model.forward(IDS);
  const refLp = tf.logSoftmax(ref);
  for (const opts of [{ centerUnembed: false }, { foldLn: true, centerWritingWeights: false, centerUnembed: false, foldValueBiases: false }, { foldLn: false, centerWritingWeights: true, centerUnembed: false, foldValueBiases: false }, { foldLn: false, centerWritingWeights: false, centerUnembed: false, foldValueBiases: true }]) {
    const processed = processWeights(model, opts);
    const out = await processed.forward(IDS);
    const err = relError(await out.data(), await ref.data());
    assert.ok(err < 1e-5, `${JSON.stringify(opts)}: logits rel err ${err}`);
    out.dispose();
    processed.dispose();
  }
  const centredOnly = processWeights(model, { foldLn: false, centerWritingWeights: false, centerUnembed: true, foldValueBiases: false });
  const lp = tf.tidy(() => tf.logSoftmax(centredOnly.forwardIds(tf.tensor2d(IDS, undefined, 'int32'))));
  assert.ok(relError(await lp.data(), await refLp.data()) < 1e-5);
  tf.dispose([lp, ref, refLp]);
  centredOnly.dispose();
  assert.equal(tf.memory().numTensors, before, 'processing leaked tensors');
  model.dispose();
});

test('Gemma is refused with the reason ((1 + w) gains, sandwich norms); Llama is sent to processLlamaWeights', async () => {
  const gemma = await loadModel(fixtureDir('gemma2-tiny'));
  assert.ok(gemma instanceof HookedGemma);
  assert.throws(() => processWeights(gemma as unknown as HookedGPTNeoX), (err: Error) => err instanceof InvalidArgumentError && /\(1 \+ w\)/.test(err.message) && /sandwich/.test(err.message));
  assert.throws(() => processLlamaWeights(gemma as unknown as HookedLlama), (err: Error) => err instanceof InvalidArgumentError && /\(1 \+ w\)/.test(err.message));
  gemma.dispose();
  const llama = await loadModel(fixtureDir('llama-tiny'));
  assert.ok(llama instanceof HookedLlama);
  assert.throws(() => processWeights(llama as unknown as HookedGPTNeoX), (err: Error) => err instanceof InvalidArgumentError && /processLlamaWeights/.test(String((err as InvalidArgumentError & { hint?: string }).hint ?? err.message)));
  llama.dispose();
});
