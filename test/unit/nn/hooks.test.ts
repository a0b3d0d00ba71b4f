import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { setBackend } from '../../../lib/backend/index.js';
import { loadModel } from '../../../lib/nn/load.js';
import type { HookedGPT2 } from '../../../lib/nn/gpt2.js';
import { UnknownHookError, ShapeMismatchError, InvalidArgumentError } from '../../../lib/errors.js';
import { getActName } from '../../../lib/nn/hook-names.js';
import { NO_HOOKS } from '../../../lib/nn/hook-point.js';
import { fixtureDir, relError } from '../../helpers/fixtures.js';
import { testBackend } from '../../helpers/backend.js';

let model: HookedGPT2;
const IDS = [[5, 17, 300, 2, 9, 41, 800], [1, 2, 3, 4, 5, 6, 7]];

before(async () => {
  await setBackend(testBackend('wasm'));
  model = (await loadModel(fixtureDir('gpt2-tiny'))) as HookedGPT2;
});

test('namesFilter keeps exactly the requested activations (list, predicate, shorthand)', async () => {
  const list = await model.runWithCache(IDS, { namesFilter: ['blocks.1.hook_resid_post', 'blocks.0.attn.hook_pattern'] });
  assert.deepEqual(list.cache.keys().sort(), ['blocks.0.attn.hook_pattern', 'blocks.1.hook_resid_post']);
  const pred = await model.runWithCache(IDS, { namesFilter: (n) => n.endsWith('hook_resid_post') });
  assert.deepEqual(pred.cache.keys(), ['blocks.0.hook_resid_post', 'blocks.1.hook_resid_post', 'blocks.2.hook_resid_post']);
  assert.equal(relError(pred.cache.get('resid_post', -1).dataSync(), pred.cache.get('blocks.2.hook_resid_post').dataSync()), 0);
  const short = await model.runWithCache(IDS, { namesFilter: ['k1', 'embed'] });
  assert.deepEqual(short.cache.keys().sort(), ['blocks.1.attn.hook_k', 'hook_embed']);
  for (const r of [list, pred, short]) {
    r.output.dispose();
    r.cache.dispose();
  }
});

test('unknown hook names raise UnknownHookError with close matches', async () => {
  await assert.rejects(model.runWithCache(IDS, { namesFilter: ['blocks.1.hook_resid_psot'] }), (err: unknown) => {
    assert.ok(err instanceof UnknownHookError);
    assert.ok(err.suggestions.includes('blocks.1.hook_resid_post'), err.suggestions.join(','));
    return true;
  });
  await assert.rejects(model.runWithHooks(IDS, { fwdHooks: [['blocks.9.hook_resid_pre', () => undefined]] }), UnknownHookError);
});

test('getActName expands TransformerLens shorthands', () => {
  assert.equal(getActName('k6'), 'blocks.6.attn.hook_k');
  assert.equal(getActName('pre', 2), 'blocks.2.mlp.hook_pre');
  assert.equal(getActName('embed'), 'hook_embed');
  assert.equal(getActName('normalized', 27, 'ln2'), 'blocks.27.ln2.hook_normalized');
  assert.equal(getActName('scale4ln1'), 'blocks.4.ln1.hook_scale');
  assert.equal(getActName('scale'), 'ln_final.hook_scale');
  assert.equal(getActName('resid_pre', 3), 'blocks.3.hook_resid_pre');
  assert.equal(getActName('attn', 1), 'blocks.1.attn.hook_pattern');
});

test('a hook that returns a tensor replaces the activation downstream; forward equals runWithCache', async () => {
  const plain = await model.forward(IDS);
  const { output, cache } = await model.runWithCache(IDS, { namesFilter: ['blocks.2.hook_resid_pre'] });
  assert.equal(relError(output.dataSync(), plain.dataSync()), 0);
  // Replacing resid_pre of the last block by resid_pre itself changes nothing; by zeros changes the logits
  // to exactly what the last block + unembedding give on a zero input.
  const same = await model.runWithHooks(IDS, { fwdHooks: [['blocks.2.hook_resid_pre', (x) => tf.mul(x, 1)]] });
  assert.ok(relError(same.dataSync(), plain.dataSync()) < 1e-7);
  const zeroed = await model.runWithHooks(IDS, { fwdHooks: [['blocks.2.hook_resid_pre', (x) => tf.zerosLike(x)]] });
  const manual = tf.tidy(() => {
    const zero = tf.zeros(cache.get('blocks.2.hook_resid_pre').shape);
    return model.unembed(model.lnFinal.forward(model.blocks[2]!.forward(zero, undefined, NO_HOOKS), NO_HOOKS));
  });
  // The causal mask does not matter for a zero input: every position's attention output is the same.
  assert.ok(relError(zeroed.dataSync(), manual.dataSync()) < 1e-5, `zero-patched logits differ: ${relError(zeroed.dataSync(), manual.dataSync())}`);
  assert.ok(relError(zeroed.dataSync(), plain.dataSync()) > 1e-2);
  tf.dispose([plain, output, same, zeroed, manual]);
  cache.dispose();
});

test('hooks run in registration order and see the previous result', async () => {
  const seen: number[] = [];
  const out = await model.runWithHooks(IDS, {
    fwdHooks: [
      ['hook_embed', (x) => tf.add(x, 1)],
      ['hook_embed', (x) => { seen.push(tf.sum(x).dataSync()[0]!); return undefined; }],
    ],
  });
  const { cache } = await model.runWithCache(IDS, { namesFilter: ['hook_embed'] });
  const plainSum = tf.sum(cache.get('hook_embed')).dataSync()[0]!;
  assert.ok(Math.abs(seen[0]! - (plainSum + 2 * 7 * 64)) < 1e-2);
  out.dispose();
  cache.dispose();
});

test('a replacement with the wrong shape raises ShapeMismatchError naming the hook, and leaks nothing', async () => {
  const before = tf.memory().numTensors;
  await assert.rejects(
    model.runWithHooks(IDS, { fwdHooks: [['blocks.0.hook_mlp_out', (x) => tf.zeros([1, ...x.shape.slice(1)])]] }),
    (err: unknown) => err instanceof ShapeMismatchError && /blocks\.0\.hook_mlp_out/.test((err as Error).message),
  );
  assert.equal(tf.memory().numTensors, before);
});

test('attn.hook_result is computed only when asked and sums over heads (+ b_O) to hook_attn_out', async () => {
  const lazy = await model.runWithCache(IDS, { namesFilter: ['blocks.1.hook_attn_out'] });
  assert.ok(!lazy.cache.has('blocks.1.attn.hook_result'));
  const { output, cache } = await model.runWithCache(IDS, { namesFilter: ['blocks.1.attn.hook_result', 'blocks.1.hook_attn_out'] });
  const result = cache.get('blocks.1.attn.hook_result');
  assert.deepEqual(result.shape, [2, 7, 4, 64]);
  const summed = tf.tidy(() => tf.add(tf.sum(result, 2), model.blocks[1]!.attn.b_O!));
  assert.ok(relError(summed.dataSync(), cache.get('blocks.1.hook_attn_out').dataSync()) < 1e-5);
  assert.ok(relError(summed.dataSync(), lazy.cache.get('blocks.1.hook_attn_out').dataSync()) < 1e-5);
  tf.dispose([summed, output, lazy.output]);
  cache.dispose();
  lazy.cache.dispose();
});

test('TransformerLens weight views: hook_q equals ln1 output · W_Q[l,h] + b_Q[l,h]', async () => {
  assert.deepEqual(model.W_Q.shape, [3, 4, 64, 16]);
  assert.deepEqual(model.W_O.shape, [3, 4, 16, 64]);
  assert.deepEqual(model.W_in.shape, [3, 64, 256]);
  assert.deepEqual(model.W_U.shape, [64, 1000]);
  const { output, cache } = await model.runWithCache(IDS, { namesFilter: ['blocks.1.ln1.hook_normalized', 'blocks.1.attn.hook_q'] });
  const q = tf.tidy(() => {
    const ln = model.blocks[1]!.ln1;
    const lnOut = tf.add(tf.mul(cache.get('blocks.1.ln1.hook_normalized'), ln.w), ln.b);
    const Wq = tf.gather(tf.gather(model.W_Q, 1), 2); // [d, dh] of layer 1 head 2
    const bq = tf.gather(tf.gather(model.b_Q, 1), 2);
    return tf.add(tf.matMul(tf.reshape(lnOut, [-1, 64]), Wq), bq);
  });
  const hookQ = tf.tidy(() => tf.reshape(tf.slice(cache.get('blocks.1.attn.hook_q'), [0, 0, 2, 0], [2, 7, 1, 16]), [-1, 16]));
  assert.ok(relError(q.dataSync(), hookQ.dataSync()) < 1e-5);
  tf.dispose([q, hookQ, output]);
  cache.dispose();
});

test('left-padded batches with an attention mask match the unpadded sequences at real positions', async () => {
  const short = [11, 12, 13, 14];
  const long = [21, 22, 23, 24, 25, 26, 27];
  const names = ['blocks.2.hook_resid_post', 'blocks.0.attn.hook_pattern'];
  const padded = await model.runWithCache({ inputIds: [[0, 0, 0, ...short], long], attentionMask: [[0, 0, 0, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1, 1]] }, { namesFilter: names });
  const alone = await model.runWithCache([short], { namesFilter: names });
  const realPart = tf.tidy(() => tf.slice(padded.output, [0, 3, 0], [1, 4, 1000]));
  assert.ok(relError(realPart.dataSync(), alone.output.dataSync()) < 1e-5, 'logits at real positions');
  const resid = tf.tidy(() => tf.slice(padded.cache.get(names[0]!), [0, 3, 0], [1, 4, 64]));
  assert.ok(relError(resid.dataSync(), alone.cache.get(names[0]!).dataSync()) < 1e-5, 'resid_post at real positions');
  const pattern = padded.cache.get(names[1]!).arraySync() as number[][][][];
  assert.equal(pattern[0]![0]![5]![1], 0, 'real queries never attend to padding');
  assert.ok(pattern[0]![0]![0]!.every((p) => p === 0), 'fully masked padding rows are 0, not NaN');
  const longAlone = await model.forward([long]);
  const longPart = tf.tidy(() => tf.slice(padded.output, [1, 0, 0], [1, 7, 1000]));
  assert.ok(relError(longPart.dataSync(), longAlone.dataSync()) < 1e-5);
  tf.dispose([realPart, resid, longAlone, longPart, padded.output, alone.output]);
  padded.cache.dispose();
  alone.cache.dispose();
});

test('stopAtLayer returns the residual before that block; device cpu caches on the host', async () => {
  const stopped = await model.forward(IDS, { stopAtLayer: 2 });
  const { output, cache } = await model.runWithCache(IDS, { namesFilter: ['blocks.2.hook_resid_pre'], device: 'cpu' });
  assert.equal(relError(stopped.dataSync(), cache.get('blocks.2.hook_resid_pre').dataSync()), 0);
  await assert.rejects(model.forward(IDS, { stopAtLayer: 7 }), InvalidArgumentError);
  tf.dispose([stopped, output]);
  cache.dispose();
});

test('bad token input is rejected with typed errors and nothing is truncated or leaked', async () => {
  const before = tf.memory().numTensors;
  await assert.rejects(model.forward([[1, 2, 5000]]), InvalidArgumentError);
  await assert.rejects(model.forward([Array.from({ length: 65 }, (_, i) => i)]), ShapeMismatchError);
  await assert.rejects(model.forward([[1, 2], [3]]), ShapeMismatchError);
  await assert.rejects(model.forward('text without a tokenizer'), InvalidArgumentError);
  assert.equal(tf.memory().numTensors, before);
});

test('no tensor leaks over repeated forward / runWithCache / runWithHooks', async () => {
  const warm = await model.forward(IDS);
  warm.dispose();
  const before = tf.memory().numTensors;
  for (let i = 0; i < 20; i++) {
    (await model.forward(IDS)).dispose();
    const { output, cache } = await model.runWithCache(IDS);
    output.dispose();
    cache.dispose();
    (await model.runWithHooks(IDS, { fwdHooks: [[(n) => n.endsWith('hook_z'), (z) => tf.mul(z, 0.5)]] })).dispose();
  }
  assert.equal(tf.memory().numTensors, before);
});

test('lazily built weight views survive being first read inside a tf.tidy', async () => {
  const fresh = (await loadModel(fixtureDir('gpt2-tiny'))) as HookedGPT2;
  const shape = tf.tidy(() => tf.add(fresh.W_Q, 0).shape.concat(tf.add(fresh.W_U, 0).shape));
  assert.deepEqual(shape, [3, 4, 64, 16, 64, 1000]);
  assert.equal(tf.sum(fresh.W_Q).dataSync().length, 1, 'W_Q still readable after the tidy');
  assert.ok(!fresh.W_U.isDisposed);
  fresh.dispose();
  assert.ok(fresh.W_E.isDisposed);
});

test("a hook may return a tensor it does not own (another run's cache): disposing this run's output and cache leaves it intact", async () => {
  const clean = await model.runWithCache(IDS, { namesFilter: ['blocks.2.hook_resid_pre'] });
  const donor = clean.cache.get('blocks.2.hook_resid_pre');
  const patched = await model.runWithCache(IDS, {
    namesFilter: ['blocks.2.hook_resid_pre'],
    fwdHooks: [['blocks.2.hook_resid_pre', () => donor]],
  });
  assert.ok(patched.cache.has('blocks.2.hook_resid_pre'));
  patched.output.dispose();
  patched.cache.dispose();
  assert.ok(!donor.isDisposed);
  assert.equal(relError(donor.dataSync(), clean.cache.get('blocks.2.hook_resid_pre').dataSync()), 0);
  clean.output.dispose();
  clean.cache.dispose();
});
