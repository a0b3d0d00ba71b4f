/**
 * The shared decoder components (RMS norm, rotary embeddings, grouped-query attention, gated MLP) against the
 * references of scripts/fixtures/make_llama_components.py (transformers' own modules) and closed forms.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { setBackend } from '../../../lib/backend/index.js';
import { readAllSafetensors, type HostTensor } from '../../../lib/io/safetensors.js';
import { RmsNorm } from '../../../lib/nn/components/rms-norm.js';
import { applyRotary, ropeFrequencies, rotaryTables } from '../../../lib/nn/components/rotary.js';
import { GroupedQueryAttention } from '../../../lib/nn/components/gqa-attention.js';
import { GatedMlp } from '../../../lib/nn/components/gated-mlp.js';
import { buildAttentionMask } from '../../../lib/nn/components/attention.js';
import { HookPoint, NO_HOOKS, RunContext } from '../../../lib/nn/hook-point.js';
import { parseRopeScaling, type RopeParams } from '../../../lib/io/config/rope.js';
import { ConfigError, InvalidArgumentError } from '../../../lib/errors.js';
import { fixtureDir, relError } from '../../helpers/fixtures.js';
import { PARITY_TOL } from '../../helpers/parity.js';
import { testBackend } from '../../helpers/backend.js';

let ref: Map<string, HostTensor>;
const T = (key: string): tf.Tensor => {
  const h = ref.get(key);
  assert.ok(h, `fixture has no '${key}'`);
  return tf.tensor(h.data, h.shape, h.dtype);
};
const data = (key: string): ArrayLike<number> => ref.get(key)!.data;

/** A context that caches the given hook points (named here, as a model's tree walk would). */
function caching(points: Record<string, HookPoint>): RunContext {
  for (const [name, p] of Object.entries(points)) p.name = name;
  return new RunContext(new Map(), new Set(Object.keys(points)));
}

before(async () => {
  await setBackend(testBackend('wasm'));
  ref = await readAllSafetensors(join(fixtureDir('llama-components'), 'components.safetensors'));
});

test('RMS norm: output, hook_scale = √(mean(x²)+ε) and hook_normalized = x/scale match LlamaRMSNorm; (1 + w) gain matches GemmaRMSNorm', async () => {
  const before = tf.memory().numTensors;
  const x = T('rms.x');
  const norm = new RmsNorm(T('rms.w') as tf.Tensor1D, { eps: 1e-6 });
  const ctx = caching({ scale: norm.hookScale, normalized: norm.hookNormalized });
  const out = tf.tidy(() => norm.forward(x, ctx));
  assert.ok(relError(await out.data(), data('rms.out')) < PARITY_TOL);
  assert.ok(relError(await ctx.cache.get('scale')!.data(), data('rms.scale')) < PARITY_TOL);
  const expectNormalized = tf.tidy(() => tf.div(x, T('rms.scale')));
  assert.ok(relError(await ctx.cache.get('normalized')!.data(), await expectNormalized.data()) < 1e-6);
  const gemma = new RmsNorm(T('rms.gemma_w') as tf.Tensor1D, { eps: 1e-6, offsetGain: true });
  const gOut = tf.tidy(() => gemma.forward(x, NO_HOOKS));
  const err = relError(await gOut.data(), data('rms.gemma_out'));
  assert.ok(err < PARITY_TOL, `gemma ${err}`);
  // The plain gain on Gemma's stored weights is a different function: the test can fail.
  const wrong = tf.tidy(() => new RmsNorm(gemma.w, { eps: 1e-6 }).forward(x, NO_HOOKS));
  assert.ok(relError(await wrong.data(), data('rms.gemma_out')) > 0.1);
  tf.dispose([out, expectNormalized, gOut, wrong, x, ...ctx.cache.values()]);
  norm.dispose();
  gemma.dispose();
  assert.equal(tf.memory().numTensors, before);
});

const ROPE_RAW: Record<string, Record<string, unknown>> = {
  default: { rope_type: 'default' },
  linear: { rope_type: 'linear', factor: 4 },
  dynamic: { rope_type: 'dynamic', factor: 2 },
  llama3: { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 16 },
  yarn: { type: 'yarn', factor: 4, original_max_position_embeddings: 4 },
};
const THETA: Record<string, number> = { llama3: 500000 };

for (const [type, raw] of Object.entries(ROPE_RAW)) {
  test(`rotary '${type}': inv_freq and attention factor as ROPE_INIT_FUNCTIONS, rotated q as apply_rotary_pos_emb on a left-padded batch`, async () => {
    const params: RopeParams = { base: THETA[type] ?? 10000, rotaryDim: 16, scaling: parseRopeScaling(raw, 'test', 8) };
    const freqs = ropeFrequencies(params, 12);
    const invErr = relError(freqs.invFreq, data(`rope.${type}.inv_freq`));
    assert.ok(invErr < 1e-6, `inv_freq ${invErr}`);
    assert.ok(Math.abs(freqs.attentionFactor - data(`rope.${type}.attention_factor`)[0]!) < 1e-6);
    const before = tf.memory().numTensors;
    const positions = T('rope.position_ids') as tf.Tensor2D;
    const q = T('rope.q');
    const tables = rotaryTables(positions, freqs);
    const rotated = tf.tidy(() => applyRotary(q, tables));
    const err = relError(await rotated.data(), data(`rope.${type}.q_rot`));
    assert.ok(err < PARITY_TOL, `q_rot ${err}`);
    tf.dispose([positions, q, tables.cos, tables.sin, rotated]);
    assert.equal(tf.memory().numTensors, before);
  });
}

test('rotary: a dynamic base grows only past max_position_embeddings; the frequencies of different types differ', () => {
  const dynamic: RopeParams = { base: 10000, rotaryDim: 16, scaling: parseRopeScaling(ROPE_RAW.dynamic, 'test', 8) };
  const plain = ropeFrequencies({ ...dynamic, scaling: { type: 'default' } }).invFreq;
  assert.deepEqual(ropeFrequencies(dynamic, 8).invFreq, plain);
  assert.ok(ropeFrequencies(dynamic, 12).invFreq[1]! < plain[1]!);
  assert.notDeepEqual(Array.from(data('rope.linear.inv_freq')), Array.from(data('rope.default.inv_freq')));
});

test('partial rotary (GPT-NeoX): only the first rotaryDim dims rotate, the rest pass unchanged', async () => {
  const freqs = ropeFrequencies({ base: 10000, rotaryDim: 8, scaling: { type: 'default' } });
  assert.ok(relError(freqs.invFreq, data('rope.partial.inv_freq')) < 1e-6);
  const positions = T('rope.position_ids') as tf.Tensor2D;
  const q = T('rope.q');
  const tables = rotaryTables(positions, freqs);
  const rotated = tf.tidy(() => applyRotary(q, tables));
  assert.ok(relError(await rotated.data(), data('rope.partial.q_rot')) < PARITY_TOL);
  const tail = tf.tidy(() => tf.sub(tf.slice(rotated, [0, 0, 0, 8], [-1, -1, -1, 8]), tf.slice(q, [0, 0, 0, 8], [-1, -1, -1, 8])));
  assert.equal(tf.max(tf.abs(tail)).dataSync()[0], 0);
  // Closed form: position 0 is the identity; every (i, i + rotaryDim/2) pair keeps its norm.
  const first = tf.tidy(() => tf.sub(tf.slice(rotated, [0, 0, 0, 0], [1, 1, -1, -1]), tf.slice(q, [0, 0, 0, 0], [1, 1, -1, -1])));
  assert.ok(tf.max(tf.abs(first)).dataSync()[0]! < 1e-6);
  const pairNorm = (x: tf.Tensor) => tf.tidy(() => tf.add(tf.square(tf.slice(x, [0, 0, 0, 0], [-1, -1, -1, 4])), tf.square(tf.slice(x, [0, 0, 0, 4], [-1, -1, -1, 4]))));
  const [a, b] = [pairNorm(rotated), pairNorm(q)];
  assert.ok(relError(await a.data(), await b.data()) < 1e-6);
  tf.dispose([positions, q, tables.cos, tables.sin, rotated, tail, first, a, b]);
});

test('rope config: unsupported types raise ConfigError naming the type; odd rotary dims are refused', () => {
  assert.throws(() => parseRopeScaling({ rope_type: 'longrope', short_factor: [1] }, 'config.json', 8), (e: unknown) => e instanceof ConfigError && /'longrope'/.test(e.message));
  assert.throws(() => parseRopeScaling({ rope_type: 'linear' }, 'config.json', 8), ConfigError);
  assert.deepEqual(parseRopeScaling(null, 'c', 8), { type: 'default' });
  assert.throws(() => ropeFrequencies({ base: 10000, rotaryDim: 7, scaling: { type: 'default' } }), InvalidArgumentError);
});

test('grouped-query attention (4 heads, 2 kv heads, biases, sliding window 3 < 7 positions) matches LlamaAttention', async () => {
  const before = tf.memory().numTensors;
  const attn = new GroupedQueryAttention(
    { W_Q: T('attn.W_q') as tf.Tensor2D, b_Q: T('attn.b_q') as tf.Tensor1D, W_K: T('attn.W_k') as tf.Tensor2D, b_K: T('attn.b_k') as tf.Tensor1D, W_V: T('attn.W_v') as tf.Tensor2D, b_V: T('attn.b_v') as tf.Tensor1D, W_O: T('attn.W_o') as tf.Tensor2D, b_O: T('attn.b_o') as tf.Tensor1D },
    { nHeads: 4, nKvHeads: 2, dHead: 8, slidingWindow: 3 },
  );
  const x = T('attn.x');
  const positions = tf.tidy(() => tf.broadcastTo(tf.range(0, 7, 1, 'int32'), [2, 7])) as tf.Tensor2D;
  const tables = rotaryTables(positions, ropeFrequencies({ base: 10000, rotaryDim: 8, scaling: { type: 'default' } }));
  const mask = tf.tidy(() => buildAttentionMask(7, { causal: true })!.additive);
  const maskInfo = { additive: mask, hasEmptyRows: false };
  const ctx = caching({ q: attn.hookQ, k: attn.hookK, v: attn.hookV, pattern: attn.hookPattern, result: attn.hookResult, rotK: attn.hookRotK });
  const out = tf.tidy(() => attn.forward(x, maskInfo, ctx, tables));
  const errors = {
    out: relError(await out.data(), data('attn.out')),
    pattern: relError(await ctx.cache.get('pattern')!.data(), data('attn.pattern')),
    q: relError(await ctx.cache.get('q')!.data(), data('attn.hook_q')),
    k: relError(await ctx.cache.get('k')!.data(), data('attn.hook_k')),
    v: relError(await ctx.cache.get('v')!.data(), data('attn.hook_v')),
  };
  for (const [k, e] of Object.entries(errors)) assert.ok(e < PARITY_TOL, `${k} ${e}`);
  assert.deepEqual(ctx.cache.get('k')!.shape, [2, 7, 2, 8]);
  assert.deepEqual(ctx.cache.get('rotK')!.shape, [2, 7, 2, 8]);
  // hook_result summed over heads + b_O is the output.
  const summed = tf.tidy(() => tf.add(tf.sum(ctx.cache.get('result')!, 2), attn.b_O!));
  assert.ok(relError(await summed.data(), data('attn.out')) < PARITY_TOL);
  // Outside the window the pattern is exactly 0; without the window the reference is missed.
  const p = await ctx.cache.get('pattern')!.data();
  assert.equal(p[6 * 7 + 0], 0);
  const full = new GroupedQueryAttention({ W_Q: attn.W_Q, b_Q: attn.b_Q, W_K: attn.W_K, b_K: attn.b_K, W_V: attn.W_V, b_V: attn.b_V, W_O: attn.W_O, b_O: attn.b_O }, { nHeads: 4, nKvHeads: 2, dHead: 8 });
  const noWindow = tf.tidy(() => full.forward(x, maskInfo, NO_HOOKS, tables));
  assert.ok(relError(await noWindow.data(), data('attn.out')) > 100 * PARITY_TOL);
  tf.dispose([out, summed, noWindow, x, positions, tables.cos, tables.sin, mask, ...ctx.cache.values()]);
  attn.dispose();
  assert.equal(tf.memory().numTensors, before);
});

test('grouped-query attention: soft-capping bounds the scores by the cap; bad head counts are refused', () => {
  const W = tf.tidy(() => tf.mul(tf.randomNormal([8, 8], 0, 1, 'float32', 1), 10)) as tf.Tensor2D;
  const attn = new GroupedQueryAttention({ W_Q: W, W_K: W, W_V: W, W_O: W }, { nHeads: 2, nKvHeads: 2, dHead: 4, softcap: 5 });
  const ctx = caching({ scores: attn.hookAttnScores });
  const x = tf.randomNormal([1, 4, 8], 0, 1, 'float32', 2);
  tf.tidy(() => attn.forward(x, undefined, ctx));
  const scores = ctx.cache.get('scores')!;
  const maxAbs = tf.tidy(() => tf.max(tf.abs(scores)).dataSync()[0]!);
  assert.ok(maxAbs <= 5 && maxAbs > 1, `max |score| ${maxAbs}`);
  assert.throws(() => new GroupedQueryAttention({ W_Q: W, W_K: W, W_V: W, W_O: W }, { nHeads: 2, nKvHeads: 3, dHead: 4 }), InvalidArgumentError);
  tf.dispose([W, x, scores]);
});

for (const act of ['silu', 'gelu_pytorch_tanh'] as const) {
  test(`gated MLP (${act}) matches LlamaMLP; hook_post = act(hook_pre) · hook_pre_linear`, async () => {
    const before = tf.memory().numTensors;
    const mlp = new GatedMlp({ W_gate: T(`mlp.${act}.W_gate`) as tf.Tensor2D, W_in: T(`mlp.${act}.W_in`) as tf.Tensor2D, W_out: T(`mlp.${act}.W_out`) as tf.Tensor2D }, act);
    const x = T(`mlp.${act}.x`);
    const ctx = caching({ pre: mlp.hookPre, preLinear: mlp.hookPreLinear, post: mlp.hookPost });
    const out = tf.tidy(() => mlp.forward(x, ctx));
    const err = relError(await out.data(), data(`mlp.${act}.out`));
    assert.ok(err < PARITY_TOL, `${act} ${err}`);
    const pre = await ctx.cache.get('pre')!.data();
    const lin = await ctx.cache.get('preLinear')!.data();
    const post = await ctx.cache.get('post')!.data();
    const i = 5;
    const gate = act === 'silu' ? pre[i]! / (1 + Math.exp(-pre[i]!)) : 0.5 * pre[i]! * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (pre[i]! + 0.044715 * pre[i]! ** 3)));
    assert.ok(Math.abs(post[i]! - gate * lin[i]!) < 1e-5);
    tf.dispose([out, x, ...ctx.cache.values()]);
    mlp.dispose();
    assert.equal(tf.memory().numTensors, before);
  });
}
