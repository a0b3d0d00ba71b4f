/**
 * TransformerLens compatibility (issue 14): `getActName` equals TL's `get_act_name` (expected values are
 * what TL's function returns), TL 3.x canonical names resolve wherever names are accepted, TL's opt-in
 * hooks, and TL's cache / analysis semantics.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { setBackend } from '../../../lib/backend/index.js';
import { loadModel } from '../../../lib/nn/load.js';
import type { HookedGPT2 } from '../../../lib/nn/gpt2.js';
import type { HookedBert } from '../../../lib/nn/bert.js';
import type { HookedWhisper } from '../../../lib/nn/whisper.js';
import { getActName, canonicalAlias } from '../../../lib/nn/hook-names.js';
import { decomposeResid, logitAttrs, stackHeadResults } from '../../../lib/lens/resid.js';
import { InvalidArgumentError, NotCachedError, ShapeMismatchError } from '../../../lib/errors.js';
import { processWeights } from '../../../lib/lens/process-weights.js';
import { join } from 'node:path';
import { fixtureDir, ROOT } from '../../helpers/fixtures.js';
import { testBackend } from '../../helpers/backend.js';

let model: HookedGPT2;
let bert: HookedBert;
const IDS = [[5, 17, 300, 2, 9, 41, 800], [1, 2, 3, 4, 5, 6, 7]];

before(async () => {
  await setBackend(testBackend('cpu'));
  model = (await loadModel(fixtureDir('gpt2-tiny'))) as HookedGPT2;
  bert = (await loadModel(fixtureDir('bert-tiny'))) as HookedBert;
});

/** Largest absolute difference of two tensors of one shape. */
function maxDiff(a: tf.Tensor, b: tf.Tensor): number {
  assert.deepEqual(a.shape, b.shape);
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
}

test("getActName equals TransformerLens get_act_name (its docstring examples and aliases)", () => {
  // [arguments, what TL 2.x/3.x get_act_name returns for them]
  const cases: [[string, number?, string?], string][] = [
    // TL's docstring ("Full Examples" and "Examples")
    [['embed'], 'hook_embed'],
    [['k6'], 'blocks.6.attn.hook_k'],
    [['scale4ln1'], 'blocks.4.ln1.hook_scale'],
    [['k', 6, 'a'], 'blocks.6.attn.hook_k'],
    [['pre', 2], 'blocks.2.mlp.hook_pre'],
    [['normalized', 27, 'ln2'], 'blocks.27.ln2.hook_normalized'],
    [['pre5'], 'blocks.5.mlp.hook_pre'],
    // activation aliases
    [['mlp_mid', 3], 'blocks.3.mlp.hook_mid'],
    [['mlp_pre', 1], 'blocks.1.mlp.hook_pre'],
    [['mlp_post', 0], 'blocks.0.mlp.hook_post'],
    [['attn', 1], 'blocks.1.attn.hook_pattern'],
    [['attn_logits', 2], 'blocks.2.attn.hook_attn_scores'],
    [['key', 0], 'blocks.0.attn.hook_k'],
    [['query', 4], 'blocks.4.attn.hook_q'],
    [['value', 5], 'blocks.5.attn.hook_v'],
    // layer types
    [['q', 3, 'attention'], 'blocks.3.attn.hook_q'],
    [['scale', 2, 'attention'], 'blocks.2.attn.hook_scale'],
    [['attn_out', 3, 'b'], 'blocks.3.hook_attn_out'],
    [['resid_mid', 0, 'block'], 'blocks.0.hook_resid_mid'],
    [['mlp_out', 2, 'm'], 'blocks.2.mlp.hook_mlp_out'],
    [['scale', 2, 'ln2'], 'blocks.2.ln2.hook_scale'],
    [['resid_pre', 3], 'blocks.3.hook_resid_pre'],
    // layer norms: ln_final without a layer, no implied ln1 with one
    [['scale'], 'ln_final.hook_scale'],
    [['normalized'], 'ln_final.hook_normalized'],
    [['scale', 4], 'blocks.4.hook_scale'],
    [['normalized', undefined, 'ln2'], 'ln_final.ln2.hook_normalized'],
    // compact forms: the first digits are the layer, what follows the layer type
    [['z0'], 'blocks.0.attn.hook_z'],
    [['result7'], 'blocks.7.attn.hook_result'],
    [['pattern3a'], 'blocks.3.attn.hook_pattern'],
    [['mid1'], 'blocks.1.mlp.hook_mid'],
    [['rot_k', 2], 'blocks.2.attn.hook_rot_k'],
    [['pre_linear', 0], 'blocks.0.mlp.hook_pre_linear'],
    [['resid_pre5'], 'hook_resid_pre5'],
    [['ln1', 3], 'blocks.1.hook_ln'],
    // full names pass through
    [['hook_embed'], 'hook_embed'],
    [['blocks.0.hook_resid_pre'], 'blocks.0.hook_resid_pre'],
  ];
  for (const [args, expected] of cases) assert.equal(getActName(...args), expected, `getActName(${args.map((a) => JSON.stringify(a)).join(', ')})`);
});

test('TL 3.x canonical names resolve as aliases in namesFilter, fwdHooks and cache.get', async () => {
  const pairs: [string, string][] = [
    ['blocks.0.hook_in', 'blocks.0.hook_resid_pre'],
    ['blocks.0.ln1.hook_in', 'blocks.0.hook_resid_pre'],
    ['blocks.0.ln2.hook_in', 'blocks.0.hook_resid_mid'],
    ['blocks.1.attn.q.hook_out', 'blocks.1.attn.hook_q'],
    ['blocks.1.attn.k.hook_out', 'blocks.1.attn.hook_k'],
    ['blocks.1.attn.v.hook_out', 'blocks.1.attn.hook_v'],
    ['blocks.1.attn.o.hook_in', 'blocks.1.attn.hook_z'],
    ['blocks.0.attn.hook_out', 'blocks.0.hook_attn_out'],
    ['blocks.2.mlp.in.hook_out', 'blocks.2.mlp.hook_pre'],
    ['blocks.2.mlp.out.hook_in', 'blocks.2.mlp.hook_post'],
    ['blocks.2.mlp.hook_out', 'blocks.2.hook_mlp_out'],
    ['blocks.2.hook_out', 'blocks.2.hook_resid_post'],
    ['embed.hook_out', 'hook_embed'],
    ['pos_embed.hook_out', 'hook_pos_embed'],
    ['ln_final.hook_in', 'blocks.2.hook_resid_post'],
    ['ln_final.hook_out', 'unembed.hook_in'],
  ];
  const canonical = pairs.map(([c]) => c);
  const { output, cache } = await model.runWithCache(IDS, { namesFilter: canonical });
  assert.deepEqual(cache.keys().sort(), [...new Set(pairs.map(([, l]) => l))].sort());
  for (const [c, legacy] of pairs) {
    assert.equal(model.hookAliases().get(c) ?? canonicalAlias(c), legacy, c);
    assert.equal(cache.get(c), cache.get(legacy), `cache.get('${c}')`);
  }
  // The values are what the names mean: ln2's input is resid_pre + attn_out, resid_post is resid_mid + mlp_out.
  assert.ok(maxDiff(cache.get('blocks.0.ln2.hook_in'), tf.add(cache.get('blocks.0.hook_in'), cache.get('blocks.0.attn.hook_out'))) < 1e-6);
  // A hook on a canonical name replaces the legacy activation: zeroing attn.o.hook_in (= hook_z) of every block
  // leaves only b_O in the attention outputs.
  const seen: string[] = [];
  const zeroed = await model.runWithCache(IDS, {
    namesFilter: ['blocks.0.hook_attn_out'],
    fwdHooks: [['blocks.0.attn.o.hook_in', (z, h) => { seen.push(h.name); return tf.zerosLike(z); }]],
  });
  assert.deepEqual(seen, ['blocks.0.attn.hook_z']);
  const bO = model.blocks[0]!.attn.b_O!;
  assert.ok(maxDiff(zeroed.cache.get('blocks.0.attn.hook_out'), tf.broadcastTo(bO, zeroed.cache.get('blocks.0.hook_attn_out').shape)) < 1e-6);
  tf.dispose([output, zeroed.output]);
  cache.dispose();
  zeroed.cache.dispose();
});

test("post-LN BERT maps the layer norms' hook_in to its own places", async () => {
  const aliases = bert.hookAliases();
  assert.equal(aliases.get('blocks.0.ln1.hook_in'), 'blocks.0.hook_resid_mid');
  assert.equal(aliases.get('blocks.0.ln2.hook_in'), 'blocks.0.hook_resid_post_pre_ln');
  const { output, cache } = await bert.runWithCache([[5, 17, 300, 2, 9, 41, 400]], { namesFilter: ['blocks.1.ln1.hook_in', 'blocks.1.hook_resid_pre', 'blocks.1.attn.hook_out'] });
  assert.ok(maxDiff(cache.get('blocks.1.ln1.hook_in'), tf.add(cache.get('blocks.1.hook_in'), cache.get('blocks.1.attn.hook_out'))) < 1e-6);
  output.dispose();
  cache.dispose();
});

test('cache.get(name, -1) is the model\'s last block: NotCachedError when only earlier blocks were cached', async () => {
  const L = model.nLayers;
  const all = await model.runWithCache(IDS, { namesFilter: (n) => n.endsWith('hook_resid_post') });
  assert.equal(all.cache.get('resid_post', -1), all.cache.get(`blocks.${L - 1}.hook_resid_post`));
  assert.equal(all.cache.get('resid_post', -L), all.cache.get('blocks.0.hook_resid_post'));
  assert.ok(all.cache.has('resid_post', -1));
  assert.throws(() => all.cache.get('resid_post', -L - 1), InvalidArgumentError);
  const some = await model.runWithCache(IDS, { namesFilter: ['blocks.0.hook_resid_post', 'blocks.1.hook_resid_post'] });
  assert.equal(some.cache.numLayers(), L);
  assert.ok(!some.cache.has('resid_post', -1));
  assert.throws(() => some.cache.get('resid_post', -1), (err: unknown) => err instanceof NotCachedError && err.message.includes(`blocks.${L - 1}.hook_resid_post`));
  assert.equal(some.cache.get('resid_post', -2), some.cache.get(`blocks.${L - 2}.hook_resid_post`));
  for (const r of [all, some]) {
    r.output.dispose();
    r.cache.dispose();
  }
});

test('stackHeadResults at layer 0 is an empty stack shaped [0, batch, pos, dModel], as TL returns', async () => {
  const { output, cache } = await model.runWithCache(IDS, { namesFilter: ['blocks.0.hook_resid_pre', 'blocks.0.attn.hook_result'] });
  const empty = stackHeadResults(cache, model, { layer: 0 });
  assert.deepEqual(empty.stack.shape, [0, 2, 7, model.cfg.dModel]);
  assert.deepEqual(empty.labels, []);
  const sliced = stackHeadResults(cache, model, { layer: 0, posSlice: [1, 3] });
  assert.deepEqual(sliced.stack.shape, [0, 2, 2, model.cfg.dModel]);
  // layer 1: the heads of block 0, which sum (with b_O) to attn_out
  const one = stackHeadResults(cache, model, { layer: 1 });
  assert.equal(one.stack.shape[0], model.cfg.nHeads);
  tf.dispose([output, empty.stack, sliced.stack, one.stack]);
  cache.dispose();
  const bare = await model.runWithCache(IDS, { namesFilter: ['blocks.0.attn.hook_z'] });
  assert.throws(() => stackHeadResults(bare.cache, model, { layer: 0 }), InvalidArgumentError);
  bare.output.dispose();
  bare.cache.dispose();
});

test('logitAttrs: string tokens are tokenised as TL does, bad tokens and shapes raise typed errors', async () => {
  // The shipped model has a tokenizer; processed weights make the attributions sum to the logit difference.
  const shipped = processWeights((await loadModel(join(ROOT, 'weights', 'tiny-gpt2'))) as HookedGPT2);
  const tok = shipped.tokenizer!;
  const word = [' the', ' a', ' of', 'e'].find((w) => tok.encode(w).length === 1)!;
  const other = [' and', ' to', ' in', 's'].find((w) => tok.encode(w).length === 1)!;
  const [id] = tok.encode(word);
  const [otherId] = tok.encode(other);
  void shipped.W_U;
  const { output, cache } = await shipped.runWithCache('The tower is in the city of');
  const { stack } = decomposeResid(cache, shipped);
  const byId = logitAttrs(stack, cache, shipped, id!, otherId!);
  const byText = logitAttrs(stack, cache, shipped, word, other);
  const mixed = logitAttrs(stack, cache, shipped, [word], [otherId!]);
  assert.equal(maxDiff(byText, byId), 0);
  assert.equal(maxDiff(mixed, byId), 0);
  // Independent value: the attributions sum to the logit difference less b_U's (logitAttrs ignores b_U).
  const summed = tf.sum(byId, 0);
  const bU = shipped.b_U.dataSync();
  const diff = tf.sub(tf.sub(tf.gather(output, id!, 2), tf.gather(output, otherId!, 2)), bU[id!]! - bU[otherId!]!);
  const err = maxDiff(summed, diff);
  assert.ok(err < 1e-4, `attributions sum ${err} from the logit difference`);
  const long = [' Eiffel Tower', 'hello world'].find((w) => tok.encode(w).length > 1)!;
  assert.throws(() => logitAttrs(stack, cache, shipped, long), (e: unknown) => e instanceof InvalidArgumentError && /not one/.test(e.message));
  assert.throws(() => logitAttrs(stack, cache, model, word), (e: unknown) => e instanceof InvalidArgumentError && /no tokenizer/.test(e.message));
  const nPos = stack.shape[2]!;
  assert.throws(() => logitAttrs(stack, cache, shipped, [id!], [id!, id!]), ShapeMismatchError);
  assert.throws(() => logitAttrs(stack, cache, shipped, id!, [[id!]]), ShapeMismatchError);
  assert.throws(() => logitAttrs(stack, cache, shipped, [id!, id!]), ShapeMismatchError);
  assert.throws(() => logitAttrs(tf.slice(stack, [0, 0, 0, 0], [-1, -1, nPos - 1, -1]), cache, shipped, id!), ShapeMismatchError);
  assert.throws(() => logitAttrs(tf.concat([stack, stack], 1), cache, shipped, id!), ShapeMismatchError);
  assert.throws(() => logitAttrs(tf.slice(stack, [0, 0, 0, 0], [-1, -1, -1, 8]), cache, shipped, id!), ShapeMismatchError);
  assert.throws(() => logitAttrs(tf.sum(stack, 0), cache, shipped, id!), ShapeMismatchError);
  tf.dispose([output, stack, byId, byText, mixed, summed, diff]);
  cache.dispose();
  shipped.dispose();
});

test("TL's opt-in hooks hold TL's values and shapes, and only runs that ask for them have them", async () => {
  const H = model.cfg.nHeads;
  const d = model.cfg.dModel;
  const optIn = ['hook_tokens', 'blocks.1.hook_attn_in', 'blocks.1.hook_q_input', 'blocks.1.hook_k_input', 'blocks.1.hook_v_input', 'blocks.1.hook_mlp_in', 'unembed.hook_in', 'unembed.hook_out'];
  for (const n of optIn) assert.ok(model.hookNames().includes(n), n);
  assert.equal(model.hookAliases().get('embed.hook_in') ?? canonicalAlias('embed.hook_in'), 'hook_tokens');
  const { output, cache } = await model.runWithCache(IDS, {
    namesFilter: [...optIn, 'blocks.1.hook_resid_pre', 'blocks.1.hook_resid_mid', 'ln_final.hook_normalized'],
  });
  assert.deepEqual(cache.get('hook_tokens').shape, [2, 7]);
  assert.equal(cache.get('hook_tokens').dtype, 'int32');
  assert.deepEqual(await cache.get('embed.hook_in').array(), IDS);
  const residPre = cache.get('blocks.1.hook_resid_pre');
  const perHead = tf.tile(tf.expandDims(residPre, 2), [1, 1, H, 1]);
  for (const n of ['hook_attn_in', 'hook_q_input', 'hook_k_input', 'hook_v_input']) {
    assert.deepEqual(cache.get(`blocks.1.${n}`).shape, [2, 7, H, d], n);
    assert.equal(maxDiff(cache.get(`blocks.1.${n}`), perHead), 0, n);
  }
  assert.equal(maxDiff(cache.get('blocks.1.hook_mlp_in'), cache.get('blocks.1.hook_resid_mid')), 0);
  const lnOut = tf.add(tf.mul(cache.get('ln_final.hook_normalized'), model.lnFinal.w), model.lnFinal.b);
  assert.ok(maxDiff(cache.get('unembed.hook_in'), lnOut) < 1e-6);
  assert.equal(maxDiff(cache.get('unembed.hook_out'), output), 0);
  const plain = await model.forward(IDS);
  assert.equal(maxDiff(output, plain), 0);
  tf.dispose([perHead, lnOut, output, plain]);
  cache.dispose();
  // A run that does not ask for them does not cache them.
  const other = await model.runWithCache(IDS, { namesFilter: ['blocks.1.hook_resid_pre'] });
  assert.throws(() => other.cache.get('blocks.1.hook_attn_in'), NotCachedError);
  other.output.dispose();
  other.cache.dispose();
});

test('replacements at the opt-in hooks take effect downstream, equal to independent patches', async () => {
  const plain = await model.forward(IDS);
  const block = model.blocks[1]!;
  const { attn, ln1, ln2 } = block;
  // hook_v_input zeroed: every head's v is ln1(0)·W_V + b_V = ln1.b·W_V + b_V — the same as setting hook_v to that.
  const vConst = (v: tf.Tensor): tf.Tensor => tf.broadcastTo(tf.reshape(tf.add(tf.matMul(tf.reshape(ln1.b, [1, -1]), attn.W_V), attn.b_V!), [1, 1, attn.nHeads, attn.dHead]), v.shape);
  const viaInput = await model.runWithHooks(IDS, { fwdHooks: [['blocks.1.hook_v_input', (x) => tf.zerosLike(x)]] });
  const viaV = await model.runWithHooks(IDS, { fwdHooks: [['blocks.1.attn.hook_v', vConst]] });
  assert.ok(maxDiff(viaInput, viaV) < 1e-5, `v_input vs hook_v ${maxDiff(viaInput, viaV)}`);
  assert.ok(maxDiff(viaInput, plain) > 1e-3);
  // hook_attn_in feeds q, k and v: zeroed, it equals all three set to their ln1(0) values.
  const constOf = (W: tf.Tensor2D, b: tf.Tensor1D) => (x: tf.Tensor): tf.Tensor => tf.broadcastTo(tf.reshape(tf.add(tf.matMul(tf.reshape(ln1.b, [1, -1]), W), b), [1, 1, attn.nHeads, attn.dHead]), x.shape);
  const viaAttnIn = await model.runWithHooks(IDS, { fwdHooks: [['blocks.1.hook_attn_in', (x) => tf.zerosLike(x)]] });
  const viaQkv = await model.runWithHooks(IDS, { fwdHooks: [['blocks.1.attn.hook_q', constOf(attn.W_Q, attn.b_Q!)], ['blocks.1.attn.hook_k', constOf(attn.W_K, attn.b_K!)], ['blocks.1.attn.hook_v', constOf(attn.W_V, attn.b_V!)]] });
  assert.ok(maxDiff(viaAttnIn, viaQkv) < 1e-5, `attn_in vs q/k/v ${maxDiff(viaAttnIn, viaQkv)}`);
  // An identity replacement (a new tensor) takes the per-head path and changes nothing.
  const same = await model.runWithHooks(IDS, { fwdHooks: [['blocks.1.hook_q_input', (x) => tf.mul(x, 1)]] });
  assert.ok(maxDiff(same, plain) < 1e-5, `identity q_input ${maxDiff(same, plain)}`);
  // hook_mlp_in zeroed: ln2 reads zeros (output ln2.b) while the residual keeps resid_mid — as overriding ln2 by ln2.b.
  const viaMlpIn = await model.runWithCache(IDS, { namesFilter: ['blocks.1.hook_mlp_in', 'blocks.1.hook_resid_mid'], fwdHooks: [['blocks.1.hook_mlp_in', (x) => tf.zerosLike(x)]] });
  const viaLn2 = await model.runWithHooks(IDS, { fwdHooks: [], overrides: [['blocks.1.ln2', (x) => tf.broadcastTo(ln2.b, x.shape)]] });
  assert.ok(maxDiff(viaMlpIn.output, viaLn2) < 1e-5, `mlp_in vs ln2 override ${maxDiff(viaMlpIn.output, viaLn2)}`);
  assert.equal(tf.tidy(() => tf.max(tf.abs(viaMlpIn.cache.get('blocks.1.hook_mlp_in'))).dataSync()[0]), 0);
  // hook_tokens replaced: the run is the run on those tokens.
  const other = [[9, 8, 7, 6, 5, 4, 3], [1, 2, 3, 4, 5, 6, 7]];
  const viaTokens = await model.runWithHooks(IDS, { fwdHooks: [['hook_tokens', () => tf.tensor2d(other, undefined, 'int32')]] });
  const direct = await model.forward(other);
  assert.equal(maxDiff(viaTokens, direct), 0);
  await assert.rejects(model.runWithHooks(IDS, { fwdHooks: [['hook_tokens', (x) => tf.add(x, 10_000)]] }), InvalidArgumentError);
  // unembed.hook_in zeroed: logits are b_U; unembed.hook_out doubled: twice the logits.
  const viaUnembedIn = await model.runWithHooks(IDS, { fwdHooks: [['unembed.hook_in', (x) => tf.zerosLike(x)]] });
  assert.equal(maxDiff(viaUnembedIn, tf.broadcastTo(model.b_U, viaUnembedIn.shape)), 0);
  const doubled = await model.runWithHooks(IDS, { fwdHooks: [['unembed.hook_out', (x) => tf.mul(x, 2)]] });
  assert.ok(maxDiff(doubled, tf.mul(plain, 2)) < 1e-5);
  tf.dispose([plain, viaInput, viaV, viaAttnIn, viaQkv, same, viaMlpIn.output, viaLn2, viaTokens, direct, viaUnembedIn, doubled]);
  viaMlpIn.cache.dispose();
});

test('Whisper decoder: hook_tokens, unembed hooks, hook_mlp_in and ln2.hook_in read the cross-attention block as TL would', async () => {
  const whisper = (await loadModel(fixtureDir('whisper-tiny'))) as HookedWhisper;
  const features = tf.randomNormal([1, whisper.cfg.nMels, 2 * whisper.cfg.maxSourcePositions], 0, 1, 'float32', 7);
  const start = whisper.cfg.decoderStartTokenId;
  const input = { inputFeatures: features, decoderInputIds: [[start, 5, 9]] };
  const names = ['decoder.hook_tokens', 'decoder.unembed.hook_in', 'decoder.unembed.hook_out', 'decoder.blocks.0.hook_mlp_in', 'decoder.blocks.0.ln2.hook_in', 'decoder.blocks.0.hook_resid_mid_cross', 'decoder.blocks.0.hook_attn_in', 'decoder.blocks.0.hook_resid_pre'];
  const { output, cache } = await whisper.runWithCache(input, { namesFilter: names });
  assert.deepEqual(await cache.get('decoder.hook_tokens').array(), [[start, 5, 9]]);
  assert.equal(maxDiff(cache.get('decoder.unembed.hook_out'), output), 0);
  assert.equal(cache.get('decoder.blocks.0.ln2.hook_in'), cache.get('decoder.blocks.0.hook_resid_mid_cross'));
  assert.equal(whisper.hookAliases().get('decoder.ln_final.hook_in'), `decoder.blocks.${whisper.decoder.blocks.length - 1}.hook_resid_post`);
  assert.equal(cache.get('decoder.ln_final.hook_out'), cache.get('decoder.unembed.hook_in'));
  assert.equal(maxDiff(cache.get('decoder.blocks.0.hook_mlp_in'), cache.get('decoder.blocks.0.hook_resid_mid_cross')), 0);
  const H = whisper.decoder.blocks[0]!.attn.nHeads;
  const perHead = tf.tile(tf.expandDims(cache.get('decoder.blocks.0.hook_resid_pre'), 2), [1, 1, H, 1]);
  assert.equal(maxDiff(cache.get('decoder.blocks.0.hook_attn_in'), perHead), 0);
  const plain = await whisper.forward(input);
  assert.equal(maxDiff(plain, output), 0);
  const zeroIn = await whisper.runWithHooks(input, { fwdHooks: [['decoder.unembed.hook_in', (x) => tf.zerosLike(x)]] });
  assert.equal(tf.tidy(() => tf.max(tf.abs(zeroIn)).dataSync()[0]), 0); // no bias: logits of a zero input are 0
  tf.dispose([features, output, perHead, plain, zeroIn]);
  cache.dispose();
  whisper.dispose();
});

test("BERT (TL's BertBlock): split q/k/v inputs feed the projections directly, hook_mlp_in is what ln1 reads", async () => {
  const ids = [[5, 17, 300, 2, 9, 41, 400]];
  const block = bert.blocks[1]!;
  const H = block.attn.nHeads;
  const { output, cache } = await bert.runWithCache(ids, { namesFilter: ['blocks.1.hook_resid_pre', 'blocks.1.hook_q_input', 'blocks.1.hook_v_input', 'blocks.1.hook_mlp_in', 'blocks.1.hook_resid_mid'] });
  const perHead = tf.tile(tf.expandDims(cache.get('blocks.1.hook_resid_pre'), 2), [1, 1, H, 1]);
  assert.equal(maxDiff(cache.get('blocks.1.hook_q_input'), perHead), 0);
  assert.equal(maxDiff(cache.get('blocks.1.hook_v_input'), perHead), 0);
  assert.equal(maxDiff(cache.get('blocks.1.hook_mlp_in'), cache.get('blocks.1.hook_resid_mid')), 0);
  const plain = await bert.forward(ids);
  assert.equal(maxDiff(plain, output), 0);
  // v_input zeroed: v = b_V in every head (no layer norm before BERT's attention) — as hook_v set to b_V.
  const viaInput = await bert.runWithHooks(ids, { fwdHooks: [['blocks.1.hook_v_input', (x) => tf.zerosLike(x)]] });
  const viaV = await bert.runWithHooks(ids, { fwdHooks: [['blocks.1.attn.hook_v', (v) => tf.broadcastTo(tf.reshape(block.attn.b_V!, [1, 1, H, -1]), v.shape)]] });
  assert.ok(maxDiff(viaInput, viaV) < 1e-5, `v_input vs hook_v ${maxDiff(viaInput, viaV)}`);
  assert.ok(maxDiff(viaInput, plain) > 1e-3);
  // mlp_in zeroed: ln1 outputs its bias, which is both the MLP input and the residual — as overriding ln1 by it.
  const viaMlpIn = await bert.runWithHooks(ids, { fwdHooks: [['blocks.1.hook_mlp_in', (x) => tf.zerosLike(x)]] });
  const viaLn1 = await bert.runWithHooks(ids, { fwdHooks: [], overrides: [['blocks.1.ln1', (x) => tf.broadcastTo(block.ln1.b, x.shape)]] });
  assert.ok(maxDiff(viaMlpIn, viaLn1) < 1e-5, `mlp_in vs ln1 override ${maxDiff(viaMlpIn, viaLn1)}`);
  tf.dispose([output, perHead, plain, viaInput, viaV, viaMlpIn, viaLn1]);
  cache.dispose();
});

test("device 'cpu' caches keep the opt-in hooks' values (one host copy for the shared per-head input)", async () => {
  const names = ['blocks.0.hook_resid_pre', 'blocks.0.hook_attn_in', 'blocks.0.hook_q_input', 'blocks.0.hook_k_input', 'hook_tokens'];
  const host = await model.runWithCache(IDS, { namesFilter: names, device: 'cpu' });
  const dev = await model.runWithCache(IDS, { namesFilter: names });
  for (const n of names) assert.equal(maxDiff(host.cache.get(n), dev.cache.get(n)), 0, n);
  assert.equal((await host.cache.toHost('blocks.0.hook_q_input')).data, (await host.cache.toHost('blocks.0.hook_attn_in')).data);
  for (const r of [host, dev]) {
    r.output.dispose();
    r.cache.dispose();
  }
});
