/**
 * The named bench configs of the rotary families, `pythia-1b` and `gemma-2-2b`: their parameter counts are the
 * published totals (EleutherAI/pythia-1b 1,011,781,632; google/gemma-2-2b 2,614,341,888), they parse into the
 * published shapes, and one block of those shapes (vocabulary shrunk to 512) builds with exactly the estimated
 * weights and runs a forward pass and `runBench` on wasm with no tensor leak. GPT-NeoX and Gemma checkpoints are
 * accepted by `buildBenchTarget` too.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { setBackend } from '../../../lib/backend/index.js';
import { buildBenchTarget, targetFromConfig, estimateParams } from '../../../lib/bench/targets.js';
import { benchConfig, BENCH_MODEL_NAMES } from '../../../lib/bench/configs.js';
import { runBench } from '../../../lib/bench/run-bench.js';
import { benchResultSchema } from '../../../lib/bench/schema.js';
import { HookedGPTNeoX } from '../../../lib/nn/gpt-neox.js';
import { HookedGemma } from '../../../lib/nn/gemma.js';
import { testBackend } from '../../helpers/backend.js';
import { fixtureDir } from '../../helpers/fixtures.js';

before(async () => {
  await setBackend(testBackend('wasm'));
});

test('pythia-1b and gemma-2-2b: named, and their parameter counts are the published totals', () => {
  assert.ok(BENCH_MODEL_NAMES.includes('pythia-1b') && BENCH_MODEL_NAMES.includes('gemma-2-2b'));
  assert.equal(estimateParams(benchConfig('pythia-1b')), 1_011_781_632);
  assert.equal(estimateParams(benchConfig('gemma-2-2b')), 2_614_341_888);
  assert.equal(benchConfig('gemma-2-2b', 3).num_hidden_layers, 3);
});

const CASES = [
  {
    name: 'pythia-1b' as const,
    check: (model: unknown) => {
      assert.ok(model instanceof HookedGPTNeoX);
      const c = model.cfg;
      assert.deepEqual([c.dModel, c.nHeads, c.dHead, c.dMlp, c.nCtx, c.parallelResidual, c.rope.rotaryDim, c.rope.base], [2048, 8, 256, 8192, 2048, true, 64, 10000]);
      const attn = model.blocks[0]!.attn;
      assert.deepEqual([attn.W_Q.shape, attn.W_K.shape, attn.W_O.shape], [[2048, 2048], [2048, 2048], [2048, 2048]]);
    },
  },
  {
    name: 'gemma-2-2b' as const,
    check: (model: unknown) => {
      assert.ok(model instanceof HookedGemma);
      const c = model.cfg;
      assert.deepEqual([c.dModel, c.nHeads, c.nKvHeads, c.dHead, c.dMlp, c.nCtx, c.queryPreAttnScalar, c.slidingWindow, c.attnSoftcap, c.finalSoftcap], [2304, 8, 4, 256, 9216, 8192, 256, 4096, 50, 30]);
      assert.deepEqual(c.layerTypes, ['sliding_attention']);
      const attn = model.blocks[0]!.attn;
      assert.deepEqual([attn.W_Q.shape, attn.W_K.shape, attn.W_V.shape, attn.W_O.shape], [[2304, 2048], [2304, 1024], [2304, 1024], [2048, 2304]]);
    },
  },
];

for (const { name, check } of CASES) {
  test(`${name}: one block of the published shapes builds with the estimated weights, runs and benches on wasm without leaks`, async () => {
    const config = { ...benchConfig(name, 1), vocab_size: 512 };
    const before = tf.memory().numTensors;
    const target = targetFromConfig(name, config, 3);
    try {
      check(target.model);
      assert.equal(target.params, estimateParams(config));
      const withWeights = tf.memory().numTensors;
      const logits = await target.model.forward([[5, 17, 200, 2, 9, 41]] as never);
      assert.deepEqual(logits.shape, [1, 6, 512]);
      assert.ok((await logits.data()).every(Number.isFinite));
      logits.dispose();
      const r = await runBench(target, { batch: 1, seq: 4, warmup: 0, iters: 1, layers: [0], memory: false });
      assert.doesNotThrow(() => benchResultSchema.parse(r));
      assert.equal(r.model.family, name === 'pythia-1b' ? 'gpt_neox' : 'gemma');
      assert.deepEqual(r.blocks.map((b) => b.name), ['blocks.0']);
      assert.deepEqual(r.blocks[0]!.parts.map((p) => p.part), ['attn', 'mlp']);
      assert.equal(tf.memory().numTensors, withWeights, 'forward / runBench leaked tensors');
    } finally {
      target.dispose();
    }
    assert.equal(tf.memory().numTensors, before, 'the target leaked tensors');
  });
}

test('bench takes GPT-NeoX and Gemma checkpoints (pythia-tiny, gemma2-tiny)', async () => {
  for (const [name, family] of [['pythia-tiny', 'gpt_neox'], ['gemma2-tiny', 'gemma']] as const) {
    const before = tf.memory().numTensors;
    const target = await buildBenchTarget(fixtureDir(name));
    try {
      assert.equal(target.family, family);
      assert.equal(target.source, 'checkpoint');
      const r = await runBench(target, { batch: 1, seq: 4, warmup: 0, iters: 1, layers: [0], memory: false });
      assert.equal(r.model.family, family);
      assert.deepEqual(r.blocks[0]!.parts.map((p) => p.part), ['attn', 'mlp']);
    } finally {
      target.dispose();
    }
    assert.equal(tf.memory().numTensors, before, `${name}: leaked tensors`);
  }
});
