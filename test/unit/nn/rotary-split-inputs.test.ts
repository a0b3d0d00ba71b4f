/**
 * TransformerLens's split attention inputs in the rotary blocks (its `use_split_qkv_input` / `use_attn_in`):
 * `hook_q_input` per query head, `hook_k_input`/`hook_v_input` per key/value head (grouped-query attention), and
 * `hook_attn_in` in layers with as many key/value heads as query heads. Checked on the llama-tiny (GQA 4/2),
 * pythia-tiny (multi-head, parallel residual) and gemma2-tiny (GQA 4/2, sandwich norms, soft-capping) fixtures:
 * the cached values are resid_pre repeated per head; a hook that keeps the value leaves the logits bit-identical;
 * a replacement by an equal new tensor takes the per-head path and equals the plain forward within 1e-6; a
 * replacement in one head moves exactly that head's q (or that key/value head's k, and the patterns of its query
 * heads) to the other run's values, and nothing else.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { setBackend } from '../../../lib/backend/index.js';
import { loadModel } from '../../../lib/nn/load.js';
import type { HookedRotaryLM, RotaryLmConfig } from '../../../lib/nn/rotary-lm.js';
import type { HookFn } from '../../../lib/nn/hook-point.js';
import { fixtureDir, relError } from '../../helpers/fixtures.js';
import { testBackend } from '../../helpers/backend.js';

const FIXTURES = ['llama-tiny', 'pythia-tiny', 'gemma2-tiny'] as const;
const CLEAN = [[3, 17, 42, 99, 5, 230, 61, 8]];
const CORRUPT = [[3, 120, 7, 200, 77, 14, 61, 190]];
const LAYER = 1;

before(async () => {
  await setBackend(testBackend('cpu'));
});

type Model = HookedRotaryLM<RotaryLmConfig>;

async function load(name: string): Promise<Model> {
  return (await loadModel(fixtureDir(name))) as unknown as Model;
}

/** Slice `[.., .., head, ..]` of a `[batch, pos, head, d]` tensor, as host values. */
async function headOf(x: tf.Tensor, head: number, axis = 2): Promise<Float32Array> {
  const begin = [0, 0, 0, 0];
  const size = [-1, -1, -1, -1];
  begin[axis] = head;
  size[axis] = 1;
  const s = tf.slice(x, begin, size);
  const data = (await s.data()) as Float32Array;
  s.dispose();
  return data;
}

/** A hook that replaces head `head` (axis 2) of its activation by the same slice of `source`. */
function patchHead(source: tf.Tensor, head: number): HookFn {
  return (x) => {
    const H = x.shape[2]!;
    const mask = tf.reshape(tf.oneHot(tf.tensor1d([head], 'int32'), H), [1, 1, H, 1]);
    return tf.add(tf.mul(x, tf.sub(1, mask)), tf.mul(source, mask));
  };
}

for (const name of FIXTURES) {
  test(`${name}: hook_q/k/v_input are resid_pre per query / key-value head, listed by hookNames, and caching them changes nothing`, async () => {
    const model = await load(name);
    const attn = model.blocks[LAYER]!.attn;
    const { nHeads, nKvHeads } = attn;
    const grouped = nKvHeads !== nHeads;
    const names = ['hook_q_input', 'hook_k_input', 'hook_v_input'].map((n) => `blocks.${LAYER}.${n}`);
    const attnIn = `blocks.${LAYER}.hook_attn_in`;
    for (const n of names) assert.ok(model.hookNames().includes(n), n);
    assert.equal(model.hookNames().includes(attnIn), !grouped, 'hook_attn_in exists exactly in layers with nKvHeads = nHeads');
    const order = model.hookNames();
    assert.ok(order.indexOf(`blocks.${LAYER}.hook_resid_pre`) < order.indexOf(names[0]!) && order.indexOf(names[2]!) < order.indexOf(`blocks.${LAYER}.ln1.hook_scale`), 'forward order');
    const before = tf.memory().numTensors;
    const plain = await model.forward(CLEAN);
    const filter = [...names, `blocks.${LAYER}.hook_resid_pre`, ...(grouped ? [] : [attnIn])];
    const { output, cache } = await model.runWithCache(CLEAN, { namesFilter: filter });
    const resid = cache.get(`blocks.${LAYER}.hook_resid_pre`);
    const d = resid.shape[2]!;
    const perHead = (n: number) => tf.tidy(() => tf.tile(tf.expandDims(resid, 2), [1, 1, n, 1]));
    const expected: [string, number][] = [[names[0]!, nHeads], [names[1]!, nKvHeads], [names[2]!, nKvHeads], ...(grouped ? [] : [[attnIn, nHeads] as [string, number]])];
    for (const [n, heads] of expected) {
      const want = perHead(heads);
      assert.deepEqual(cache.get(n).shape, [1, CLEAN[0]!.length, heads, d], n);
      assert.equal(relError(await cache.get(n).data(), await want.data()), 0, n);
      want.dispose();
    }
    // Caching the opt-in hooks does not take the per-head path: the logits are bit-identical.
    assert.equal(relError(await output.data(), await plain.data()), 0);
    tf.dispose([plain, output]);
    cache.dispose();
    assert.equal(tf.memory().numTensors, before, 'leaked tensors');
    model.dispose();
  });

  test(`${name}: a hook that keeps the split input is bit-identical; an equal new tensor (per-head path) is within 1e-6`, async (t) => {
    const model = await load(name);
    const before = tf.memory().numTensors;
    const plain = await model.forward(CLEAN);
    const inputs = ['hook_q_input', 'hook_k_input', 'hook_v_input', ...(model.blocks[LAYER]!.hookAttnIn ? ['hook_attn_in'] : [])];
    for (const l of [0, LAYER]) {
      const kept = await model.runWithHooks(CLEAN, { fwdHooks: inputs.map((n) => [`blocks.${l}.${n}`, (x: tf.Tensor) => x] as [string, HookFn]) });
      assert.equal(relError(await kept.data(), await plain.data()), 0, `layer ${l}: returning the activation`);
      const copied = await model.runWithHooks(CLEAN, { fwdHooks: inputs.map((n) => [`blocks.${l}.${n}`, (x: tf.Tensor) => tf.mul(x, 1)] as [string, HookFn]) });
      const err = relError(await copied.data(), await plain.data());
      t.diagnostic(`${name} layer ${l}: split-input forward vs forward, rel err ${err.toExponential(2)}`);
      assert.ok(err <= 1e-6, `layer ${l}: per-head path ${err}`);
      tf.dispose([kept, copied]);
    }
    plain.dispose();
    assert.equal(tf.memory().numTensors, before, 'leaked tensors');
    model.dispose();
  });

  test(`${name}: patching one head's q input (and one key/value head's k input) from another run moves exactly that head`, async () => {
    const model = await load(name);
    const { nHeads, nKvHeads } = model.blocks[LAYER]!.attn;
    const group = nHeads / nKvHeads;
    const at = (n: string) => `blocks.${LAYER}.${n}`;
    const watched = ['attn.hook_q', 'attn.hook_k', 'attn.hook_v', 'attn.hook_rot_q', 'attn.hook_pattern'].map(at);
    const before = tf.memory().numTensors;
    const corrupt = await model.runWithCache(CORRUPT, { namesFilter: [at('hook_q_input'), at('hook_k_input'), ...watched] });
    const clean = await model.runWithCache(CLEAN, { namesFilter: watched });
    const qHead = nHeads - 1;
    const kvHead = nKvHeads - 1;
    const run = (hook: string, source: tf.Tensor, head: number) => model.runWithCache(CLEAN, { namesFilter: watched, fwdHooks: [[at(hook), patchHead(source, head)]] });
    const close = async (a: tf.Tensor, b: tf.Tensor, head: number, axis: number) => relError(await headOf(a, head, axis), await headOf(b, head, axis));

    // q input of one query head: that head's q (and rotated q, pattern) become the corrupt run's; k, v and other heads stay.
    const q = await run('hook_q_input', corrupt.cache.get(at('hook_q_input')), qHead);
    for (const hook of ['attn.hook_q', 'attn.hook_rot_q']) {
      assert.ok((await close(q.cache.get(at(hook)), corrupt.cache.get(at(hook)), qHead, 2)) <= 1e-6, `${hook} of the patched head = corrupt`);
      for (let h = 0; h < nHeads; h++) if (h !== qHead) assert.ok((await close(q.cache.get(at(hook)), clean.cache.get(at(hook)), h, 2)) <= 1e-6, `${hook} head ${h} unchanged`);
      assert.ok((await close(q.cache.get(at(hook)), clean.cache.get(at(hook)), qHead, 2)) > 1e-2, `${hook} of the patched head moved`);
    }
    for (const hook of ['attn.hook_k', 'attn.hook_v']) assert.equal(relError(await q.cache.get(at(hook)).data(), await clean.cache.get(at(hook)).data()), 0, `${hook} untouched`);
    for (let h = 0; h < nHeads; h++) {
      const err = await close(q.cache.get(at('attn.hook_pattern')), clean.cache.get(at('attn.hook_pattern')), h, 1);
      assert.ok(h === qHead ? err > 1e-3 : err <= 1e-6, `pattern head ${h}: ${err}`);
    }

    // k input of one key/value head: that kv head's k becomes the corrupt run's; only its query heads' patterns move.
    const k = await run('hook_k_input', corrupt.cache.get(at('hook_k_input')), kvHead);
    assert.ok((await close(k.cache.get(at('attn.hook_k')), corrupt.cache.get(at('attn.hook_k')), kvHead, 2)) <= 1e-6, 'patched kv head = corrupt');
    for (let g = 0; g < nKvHeads - 1; g++) assert.ok((await close(k.cache.get(at('attn.hook_k')), clean.cache.get(at('attn.hook_k')), g, 2)) <= 1e-6, `kv head ${g} unchanged`);
    for (const hook of ['attn.hook_q', 'attn.hook_v']) assert.equal(relError(await k.cache.get(at(hook)).data(), await clean.cache.get(at(hook)).data()), 0, `${hook} untouched`);
    for (let h = 0; h < nHeads; h++) {
      const err = await close(k.cache.get(at('attn.hook_pattern')), clean.cache.get(at('attn.hook_pattern')), h, 1);
      const served = Math.floor(h / group) === kvHead;
      assert.ok(served ? err > 1e-3 : err <= 1e-6, `pattern of query head ${h} (kv head ${Math.floor(h / group)}): ${err}`);
    }
    for (const r of [corrupt, clean, q, k]) {
      r.output.dispose();
      r.cache.dispose();
    }
    assert.equal(tf.memory().numTensors, before, 'leaked tensors');
    model.dispose();
  });
}
