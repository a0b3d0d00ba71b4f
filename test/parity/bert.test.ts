import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { setBackend } from '../../lib/backend/index.js';
import { loadModel } from '../../lib/nn/load.js';
import { HookedBert } from '../../lib/nn/bert.js';
import { fixtureDir, intRows, readFixture, relError } from '../helpers/fixtures.js';
import { PARITY_TOL } from '../helpers/parity.js';
import { mkdtemp, copyFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readAllSafetensors } from '../../lib/io/safetensors.js';
import { saveSafetensors, type HostValues } from '../../lib/io/safetensors-writer.js';
import { testBackend, testBackends } from '../helpers/backend.js';

const TOL = PARITY_TOL;

/** HF `hidden_states.N` → our hook: N = 0 is the embedding output (after its LayerNorm), then block outputs. */
function hiddenStateHook(n: number): string {
  return n === 0 ? 'blocks.0.hook_resid_pre' : `blocks.${n - 1}.hook_resid_post`;
}

for (const backend of testBackends(['wasm', 'cpu'] as const)) {
  test(`bert-tiny: every hook, the hidden states, MLM logits and the lens match HF within ${TOL} (${backend})`, async (t) => {
    await setBackend(backend);
    const { inputs, expected } = await readFixture('bert-tiny');
    const model = await loadModel(fixtureDir('bert-tiny'));
    assert.ok(model instanceof HookedBert);
    const ids = inputs.get('input_ids')!;
    const input = tf.tensor(ids.data, ids.shape, 'int32');
    const before = tf.memory().numTensors;
    const { output, cache } = await model.runWithCache(input);
    const errors: Record<string, number> = {};
    for (let n = 0; n <= model.nLayers; n++) {
      const want = expected.get(`hidden_states.${n}`)!;
      const got = cache.get(hiddenStateHook(n));
      assert.deepEqual(got.shape, want.shape);
      errors[`hidden_states.${n}`] = relError(await got.data(), want.data);
    }
    // Every hook the model defines has an HF reference in the fixture (scripts/fixtures/make_bert_fixture.py).
    // TransformerLens's opt-in split inputs are copies of resid_pre / resid_mid (test/unit/nn/tl-compat.test.ts
    // checks them against those), not HF activations.
    const referenced = cache.keys().filter((k) => !/\.hook_(?:[qkv]_input|mlp_in)$/.test(k));
    const missing = referenced.filter((k) => !expected.has(k));
    assert.deepEqual(missing, [], 'hooks without an HF reference: regenerate the fixture');
    assert.ok(referenced.length >= 47, `${referenced.length} hooks`);
    for (const k of referenced) errors[k] = relError(await cache.get(k).data(), expected.get(k)!.data);
    // resid_mid and the pre-LN sums reproduce the post-LN algebra: ln2(resid_post_pre_ln) = resid_post.
    const recomposed = tf.tidy(() => {
      const ln = model.blocks[0]!.ln2;
      return tf.add(tf.mul(cache.get('blocks.0.ln2.hook_normalized'), ln.w), ln.b);
    });
    assert.ok(relError(await recomposed.data(), await cache.get('blocks.0.hook_resid_post').data()) < 1e-6);
    recomposed.dispose();
    assert.deepEqual(output.shape, expected.get('logits')!.shape);
    errors.logits = relError(await output.data(), expected.get('logits')!.data);
    // Lens on the last state = the MLM head = HF logits.
    const lens = model.lensLogits(cache.get(hiddenStateHook(model.nLayers)));
    errors['lens(h_L)'] = relError(await lens.data(), expected.get('logits')!.data);
    lens.dispose();
    const worst = Object.entries(errors).sort((a, b) => b[1] - a[1])[0]!;
    t.diagnostic(`bert-tiny ${backend}: worst rel err ${worst[1].toExponential(2)} at ${worst[0]} (${Object.keys(errors).length} tensors)`);
    assert.ok(worst[1] <= TOL, `worst ${worst[0]} rel err ${worst[1]}`);
    output.dispose();
    cache.dispose();
    assert.equal(tf.memory().numTensors, before, 'runWithCache leaked tensors');
    input.dispose();
    model.dispose();
  });
}

test('bert-tiny: right padding with an attention mask leaves the real positions as without padding', async () => {
  await setBackend(testBackend('wasm'));
  const { inputs } = await readFixture('bert-tiny');
  const model = (await loadModel(fixtureDir('bert-tiny'))) as HookedBert;
  const row = Array.from(inputs.get('input_ids')!.data as Int32Array).slice(0, 8);
  const short = row.slice(0, 5);
  const alone = await model.forward([short]);
  const padded = await model.forward({ inputIds: [[...short, 0, 0, 0]], attentionMask: [[1, 1, 1, 1, 1, 0, 0, 0]] });
  const realPart = tf.slice(padded, [0, 0, 0], [1, 5, -1]);
  assert.ok(relError(await realPart.data(), await alone.data()) < 1e-5);
  // Token-type ids change the result (segment embeddings are used).
  const typed = await model.forward({ inputIds: [short], tokenTypeIds: [[0, 0, 1, 1, 1]] });
  assert.ok(relError(await typed.data(), await alone.data()) > 1e-3);
  for (const x of [alone, padded, realPart, typed]) x.dispose();
  await assert.rejects(model.forward({ inputIds: [short], tokenTypeIds: [[0, 0, 5, 0, 0]] }), /token type id 5/);
  model.dispose();
});

test('bert-tiny: forward, runWithCache, runWithHooks and lensLogits leak no tensors', async () => {
  await setBackend(testBackend('wasm'));
  const { inputs } = await readFixture('bert-tiny');
  const model = (await loadModel(fixtureDir('bert-tiny'))) as HookedBert;
  const ids = inputs.get('input_ids')!;
  const input = tf.tensor(ids.data, ids.shape, 'int32');
  const before = tf.memory().numTensors;
  for (let rep = 0; rep < 3; rep++) {
    (await model.forward(input)).dispose();
    const { output, cache } = await model.runWithCache(input, { namesFilter: (n) => n.endsWith('hook_resid_post') || n.includes('mlm_head') });
    output.dispose();
    cache.dispose();
    (await model.runWithHooks(input, { fwdHooks: [['blocks.1.hook_mlp_out', (a) => tf.zerosLike(a)], ['blocks.0.attn.hook_pattern', (a) => tf.mul(a, 1)]] })).dispose();
    (await model.forward({ inputIds: [[1, 2, 3, 0]], attentionMask: [[1, 1, 1, 0]] }, { stopAtLayer: 1 })).dispose();
    const state = tf.zeros([1, 3, model.cfg.dModel]);
    model.lensLogits(state).dispose();
    state.dispose();
  }
  assert.equal(tf.memory().numTensors, before);
  await assert.rejects(model.forward([[1, 2, 100000]]), /outside the vocabulary/);
  await assert.rejects(model.forward({ inputIds: [[1, 2]], tokenTypeIds: [[0, 0, 0]] }), /token type ids/);
  assert.equal(tf.memory().numTensors, before, 'rejected inputs leaked tensors');
  input.dispose();
  model.dispose();
});

test('bert-tiny: LayerNorm gamma/beta names, a pooler and an NSP head (bert-base-uncased style) load the same model', async () => {
  await setBackend(testBackend('wasm'));
  const dir = await mkdtemp(join(tmpdir(), 'tfjs-lens-bert-'));
  try {
    const weights = await readAllSafetensors(join(fixtureDir('bert-tiny'), 'model.safetensors'));
    const renamed = new Map<string, HostValues>();
    for (const [name, t] of weights) {
      renamed.set(name.replace(/LayerNorm\.weight$/, 'LayerNorm.gamma').replace(/LayerNorm\.bias$/, 'LayerNorm.beta'), { shape: t.shape, data: t.data as Float32Array });
    }
    renamed.set('bert.pooler.dense.weight', { shape: [64, 64], data: new Float32Array(64 * 64) });
    renamed.set('cls.seq_relationship.weight', { shape: [2, 64], data: new Float32Array(128) });
    renamed.set('bert.embeddings.position_ids', { shape: [1, 64], data: new Int32Array(64) });
    assert.ok(renamed.has('bert.embeddings.LayerNorm.gamma'));
    await saveSafetensors(join(dir, 'model.safetensors'), renamed);
    await copyFile(join(fixtureDir('bert-tiny'), 'config.json'), join(dir, 'config.json'));
    const { inputs, expected } = await readFixture('bert-tiny');
    const model = (await loadModel(dir)) as HookedBert;
    const ids = inputs.get('input_ids')!;
    const input = tf.tensor(ids.data, ids.shape, 'int32');
    const logits = await model.forward(input);
    assert.ok(relError(await logits.data(), expected.get('logits')!.data) <= TOL);
    logits.dispose();
    input.dispose();
    model.dispose();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('bert-tiny: a right-padded batch with an attention mask and token-type ids matches HF at every position', async (t) => {
  for (const backend of testBackends(['wasm', 'cpu'] as const)) {
    await setBackend(backend);
    const ref = await readAllSafetensors(join(fixtureDir('bert-tiny'), 'padded.safetensors'));
    const model = (await loadModel(fixtureDir('bert-tiny'))) as HookedBert;
    const rows = (key: string) => intRows(ref.get(key)!);
    const input = { inputIds: rows('input_ids'), attentionMask: rows('attention_mask'), tokenTypeIds: rows('token_type_ids') };
    assert.deepEqual(input.attentionMask[1], [1, 1, 1, 1, 1, 0, 0, 0]);
    const before = tf.memory().numTensors;
    const { output, cache } = await model.runWithCache(input, { namesFilter: (n) => /hook_resid_(pre|post)$/.test(n) });
    const errors: Record<string, number> = { logits: relError(await output.data(), ref.get('logits')!.data) };
    for (let n = 0; n <= model.nLayers; n++) errors[`hidden_states.${n}`] = relError(await cache.get(hiddenStateHook(n)).data(), ref.get(`hidden_states.${n}`)!.data);
    output.dispose();
    cache.dispose();
    assert.equal(tf.memory().numTensors, before);
    const worst = Object.entries(errors).sort((a, b) => b[1] - a[1])[0]!;
    t.diagnostic(`padded bert-tiny ${backend}: worst rel err ${worst[1].toExponential(2)} at ${worst[0]}`);
    assert.ok(worst[1] <= TOL, `worst ${worst[0]} ${worst[1]}`);
    // Both the mask and the segment ids matter: dropping either misses the reference.
    for (const [what, partial] of [['mask', { inputIds: input.inputIds, tokenTypeIds: input.tokenTypeIds }], ['token types', { inputIds: input.inputIds, attentionMask: input.attentionMask }]] as const) {
      const logits = await model.forward(partial);
      const err = relError(await logits.data(), ref.get('logits')!.data);
      logits.dispose();
      assert.ok(err > 100 * TOL, `without the ${what}: rel err ${err}`);
    }
    model.dispose();
  }
});
