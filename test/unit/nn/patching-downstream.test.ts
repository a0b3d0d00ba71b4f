/**
 * Causality of hooks, for every model: replacing one activation (a hook returning zeros) leaves every
 * activation upstream of it bit-identical and changes what lies downstream (the block's resid_post and
 * the logits). Upstream = earlier in `hookNames()`, which lists hooks in forward order.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { setBackend } from '../../../lib/backend/index.js';
import { loadModel } from '../../../lib/nn/load.js';
import type { CacheRun, RunWithCacheOptions } from '../../../lib/nn/hooked-root.js';
import { fixtureDir, readFixture, relError } from '../../helpers/fixtures.js';
import { testBackends } from '../../helpers/backend.js';

/** The part of a hooked model this test drives. */
interface Patchable<I> {
  hookNames(): string[];
  runWithCache(input: I, opts?: RunWithCacheOptions): Promise<CacheRun>;
  dispose(): void;
}

interface Case {
  fixture: string;
  /** Builds the model input from the fixture's inputs (tensors owned by the caller of `dispose`). */
  input(inputs: Awaited<ReturnType<typeof readFixture>>['inputs']): { value: unknown; dispose(): void };
  patch: string;
  /** Hooks downstream of the patch that must change (the block's resid_post and the logits must change by > 1e-3). */
  downstream: string[];
}

const tensorOf = (h: { data: ArrayLike<number>; shape: number[]; dtype?: string }, dtype: 'float32' | 'int32') => tf.tensor(h.data as Float32Array, h.shape, dtype);

const CASES: Case[] = [
  {
    fixture: 'gpt2-tiny',
    input: (i) => { const t = tensorOf(i.get('input_ids')!, 'int32'); return { value: t, dispose: () => t.dispose() }; },
    patch: 'blocks.1.hook_mlp_out',
    downstream: ['blocks.1.hook_resid_post', 'blocks.2.attn.hook_pattern', 'ln_final.hook_normalized'],
  },
  {
    fixture: 'vit-tiny',
    input: (i) => { const t = tensorOf(i.get('pixel_values')!, 'float32'); return { value: t, dispose: () => t.dispose() }; },
    patch: 'blocks.0.hook_mlp_out',
    downstream: ['blocks.0.hook_resid_post', 'blocks.1.attn.hook_pattern', 'ln_final.hook_normalized'],
  },
  {
    fixture: 'bert-tiny',
    input: (i) => { const t = tensorOf(i.get('input_ids')!, 'int32'); return { value: t, dispose: () => t.dispose() }; },
    patch: 'blocks.0.hook_mlp_out',
    downstream: ['blocks.0.hook_resid_post_pre_ln', 'blocks.0.hook_resid_post', 'blocks.1.attn.hook_pattern', 'mlm_head.hook_post'],
  },
  {
    fixture: 'whisper-tiny',
    input: (i) => {
      const inputFeatures = tensorOf(i.get('input_features')!, 'float32');
      const decoderInputIds = tensorOf(i.get('decoder_input_ids')!, 'int32');
      return { value: { inputFeatures, decoderInputIds }, dispose: () => { inputFeatures.dispose(); decoderInputIds.dispose(); } };
    },
    patch: 'decoder.blocks.0.hook_mlp_out',
    downstream: ['decoder.blocks.0.hook_resid_post', 'decoder.blocks.1.attn.hook_pattern', 'decoder.ln_final.hook_normalized'],
  },
  {
    fixture: 'whisper-tiny',
    input: (i) => {
      const inputFeatures = tensorOf(i.get('input_features')!, 'float32');
      const decoderInputIds = tensorOf(i.get('decoder_input_ids')!, 'int32');
      return { value: { inputFeatures, decoderInputIds }, dispose: () => { inputFeatures.dispose(); decoderInputIds.dispose(); } };
    },
    patch: 'encoder.blocks.0.hook_mlp_out',
    downstream: ['encoder.blocks.0.hook_resid_post', 'encoder.ln_final.hook_normalized', 'decoder.blocks.0.cross_attn.hook_k', 'decoder.blocks.0.hook_cross_attn_out', 'decoder.blocks.1.hook_resid_post'],
  },
];

function sameBits(a: tf.TypedArray, b: tf.TypedArray): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

for (const backend of testBackends(['wasm', 'cpu'] as const)) {
  for (const c of CASES) {
    test(`${c.fixture}: zeroing ${c.patch} leaves upstream hooks bit-identical and changes downstream ones (${backend})`, async () => {
      await setBackend(backend);
      const { inputs } = await readFixture(c.fixture);
      const model = (await loadModel(fixtureDir(c.fixture))) as unknown as Patchable<unknown>;
      const input = c.input(inputs);
      const before = tf.memory().numTensors;
      const names = model.hookNames();
      const at = names.indexOf(c.patch);
      assert.ok(at > 0, `${c.patch} is a hook of ${c.fixture}`);
      for (const d of c.downstream) assert.ok(names.indexOf(d) > at, `${d} comes after ${c.patch} in hookNames()`);

      const clean = await model.runWithCache(input.value);
      const patched = await model.runWithCache(input.value, { fwdHooks: [[c.patch, (a) => tf.zerosLike(a)]] });
      assert.deepEqual(patched.cache.keys(), clean.cache.keys());

      for (const name of names.slice(0, at)) {
        const a = (await clean.cache.get(name).data()) as tf.TypedArray;
        const b = (await patched.cache.get(name).data()) as tf.TypedArray;
        assert.ok(sameBits(a, b), `upstream hook ${name} changed when ${c.patch} was patched`);
      }
      const zeroed = (await patched.cache.get(c.patch).data()) as Float32Array;
      assert.ok(zeroed.every((v) => v === 0), 'the cache holds the patched (zero) value');
      assert.ok(!((await clean.cache.get(c.patch).data()) as Float32Array).every((v) => v === 0));
      for (const name of c.downstream) {
        const a = (await clean.cache.get(name).data()) as tf.TypedArray;
        const b = (await patched.cache.get(name).data()) as tf.TypedArray;
        assert.ok(!sameBits(a, b), `downstream hook ${name} did not change`);
      }
      const residPost = c.patch.replace(/hook_mlp_out$/, 'hook_resid_post');
      const residDiff = relError(await patched.cache.get(residPost).data(), await clean.cache.get(residPost).data());
      assert.ok(residDiff > 1e-3, `${residPost} barely changed (rel diff ${residDiff})`);
      const logitsDiff = relError(await patched.output.data(), await clean.output.data());
      assert.ok(logitsDiff > 1e-3, `logits did not change (rel diff ${logitsDiff})`);

      for (const run of [clean, patched]) {
        run.output.dispose();
        run.cache.dispose();
      }
      assert.equal(tf.memory().numTensors, before, 'patched runs leaked tensors');
      input.dispose();
      model.dispose();
    });
  }
}
