/**
 * A tiny benchmark run end to end on the default backend: every number is finite and positive, the
 * cache sizes match their closed forms, the result validates against the schema, and no tensor leaks.
 * No wall-clock assertions.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { ensureBackend } from '../../../lib/backend/index.js';
import { targetFromConfig, buildBenchTarget, estimateParams } from '../../../lib/bench/targets.js';
import { benchConfig } from '../../../lib/bench/configs.js';
import { runBench } from '../../../lib/bench/run-bench.js';
import { benchResultSchema, type BenchResult } from '../../../lib/bench/schema.js';
import { formatBenchReport } from '../../../lib/bench/report.js';
import type { Stats } from '../../../lib/bench/stats.js';
import { InvalidArgumentError } from '../../../lib/errors.js';

function assertPositiveStats(s: Stats | null, what: string): void {
  assert.ok(s, `${what} missing`);
  for (const key of ['min', 'median', 'max', 'mean'] as const) assert.ok(Number.isFinite(s[key]) && s[key] > 0, `${what}.${key} = ${s[key]}`);
  assert.ok(s.min <= s.median && s.median <= s.max, `${what} out of order`);
}

function assertAllPositive(r: BenchResult): void {
  assertPositiveStats(r.forward.ms, 'forward.ms');
  assertPositiveStats(r.forward.tokensPerSecond, 'forward.tokensPerSecond');
  for (const c of r.cache) {
    assertPositiveStats(c.ms, `cache ${c.mode}`);
    assert.ok(c.slowdown > 0 && Number.isFinite(c.slowdown));
  }
  for (const b of r.blocks) {
    assertPositiveStats(b.ms, b.name);
    assertPositiveStats(b.tokensPerSecond, `${b.name} tokens/s`);
    for (const p of b.parts) assertPositiveStats(p.ms, `${b.name} ${p.part}`);
  }
  assert.ok(r.memory.peakBytes! > r.memory.weightsBytes!);
  assert.ok(r.memory.rssPeakBytes! > 0);
}

test('tiny GPT-2 (2 blocks, 1 iter): finite positive numbers, exact cache sizes, no leaks', async () => {
  await ensureBackend();
  const config = benchConfig('tiny-gpt2');
  const before = tf.memory().numTensors;
  const target = targetFromConfig('tiny-gpt2', config, 0);
  // 2·(4d² + 2·d·dMlp + 9d + dMlp) + (vocab + nCtx)·d + 2d with d = 64, dMlp = 256, vocab 512, nCtx 128.
  assert.equal(target.params, 141056);
  assert.equal(estimateParams(config), 141056);
  const withWeights = tf.memory().numTensors;
  try {
    const batch = 2;
    const seq = 8;
    const r = await runBench(target, { batch, seq, warmup: 0, iters: 1, cache: ['states', 'resid', 'all'] });
    assert.equal(tf.memory().numTensors, withWeights, 'runBench leaked tensors');
    assert.doesNotThrow(() => benchResultSchema.parse(r));
    assertAllPositive(r);
    assert.equal(r.tokensPerItem, seq);
    assert.deepEqual(r.cache.map((c) => c.mode), ['none', 'states', 'resid', 'all']);
    // states: h_0 … h_2 = blocks.0.hook_resid_pre and the 2 hook_resid_post (HF's hidden states), [batch, seq, 64] float32.
    const states = r.cache[1]!;
    assert.equal(states.names, 3);
    assert.equal(states.bytes, 3 * batch * seq * 64 * 4);
    // resid: resid_pre, resid_mid, resid_post of 2 blocks.
    const resid = r.cache[2]!;
    assert.equal(resid.names, 6);
    assert.equal(resid.bytes, 6 * batch * seq * 64 * 4);
    // all: every hook but attn.hook_result (2 lazy ones).
    assert.equal(r.cache[3]!.names, target.model.hookNames().length - 2);
    assert.deepEqual(r.blocks.map((b) => [b.name, b.tokens, b.parts.map((p) => p.part)]), [
      ['blocks.0', batch * seq, ['attn', 'mlp']],
      ['blocks.1', batch * seq, ['attn', 'mlp']],
    ]);
    assert.equal(r.memory.weightsBytes, 4 * 141056);
    // The idle process's RSS (before the weights) is recorded and below the peak; the report gives both ratios.
    assert.ok(r.memory.rssBaseBytes! > 0 && r.memory.rssBaseBytes! <= r.memory.rssPeakBytes!, `base ${r.memory.rssBaseBytes} peak ${r.memory.rssPeakBytes}`);
    assert.equal(r.memory.rssBaseBytes, target.rssBeforeBytes);
    const report = formatBenchReport(r);
    assert.match(report, /blocks\.1/);
    const ratio = /process RSS peak [\d.]+ MB = ([\d.]+)× the weights; ([\d.]+)× above the idle process/.exec(report);
    assert.ok(ratio, report.split('\n').at(-2));
    assert.ok(Math.abs(Number(ratio[1]) - r.memory.rssPeakBytes! / r.memory.weightsBytes!) < 0.01);
    assert.ok(Math.abs(Number(ratio[2]) - (r.memory.rssPeakBytes! - r.memory.rssBaseBytes!) / r.memory.weightsBytes!) < 0.01);
  } finally {
    target.dispose();
  }
  assert.equal(tf.memory().numTensors, before, 'the target left tensors behind');
});

test('tiny Whisper: encoder and decoder stacks, cross-attention timed, no leaks', async () => {
  await ensureBackend();
  const config = {
    model_type: 'whisper', d_model: 32, encoder_layers: 1, decoder_layers: 1, encoder_attention_heads: 2, decoder_attention_heads: 2,
    encoder_ffn_dim: 64, decoder_ffn_dim: 64, num_mel_bins: 8, max_source_positions: 16, max_target_positions: 8, vocab_size: 64,
  };
  const before = tf.memory().numTensors;
  const target = targetFromConfig('tiny-whisper', config, 1);
  try {
    const r = await runBench(target, { batch: 1, seq: 4, warmup: 0, iters: 1, memory: false, cache: ['states'] });
    assertPositiveStats(r.forward.ms, 'forward');
    assert.equal(r.tokensPerItem, 16 + 4);
    // states: encoder h_0, h_1 [1, 16, 32] and decoder h_0, h_1 [1, 4, 32] (HF's encoder and decoder hidden states).
    assert.equal(r.cache[1]!.names, 4);
    assert.equal(r.cache[1]!.bytes, (2 * 16 + 2 * 4) * 32 * 4);
    assert.deepEqual(r.blocks.map((b) => [b.name, b.tokens, b.parts.map((p) => p.part)]), [
      ['encoder.blocks.0', 16, ['attn', 'mlp']],
      ['decoder.blocks.0', 4, ['attn', 'cross_attn', 'mlp']],
    ]);
    for (const b of r.blocks) for (const p of b.parts) assertPositiveStats(p.ms, `${b.name} ${p.part}`);
    assert.equal(r.memory.peakBytes, null);
  } finally {
    target.dispose();
  }
  assert.equal(tf.memory().numTensors, before);
});

test('tiny ViT: fixed sequence of patches + CLS, selected block only', async () => {
  await ensureBackend();
  const config = {
    model_type: 'vit', hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 64,
    image_size: 16, patch_size: 8, num_channels: 3, num_labels: 5,
  };
  const before = tf.memory().numTensors;
  const target = targetFromConfig('tiny-vit', config, 2);
  try {
    const r = await runBench(target, { batch: 2, seq: 1, warmup: 0, iters: 1, layers: [1], memory: false });
    assert.equal(r.tokensPerItem, 5);
    assert.deepEqual(r.blocks.map((b) => [b.name, b.tokens]), [['blocks.1', 10]]);
    await assert.rejects(runBench(target, { batch: 1, seq: 1, iters: 1, layers: [2] }), InvalidArgumentError);
  } finally {
    target.dispose();
  }
  assert.equal(tf.memory().numTensors, before);
});

test('bad settings and unknown models are refused before any work', async () => {
  await ensureBackend();
  await assert.rejects(buildBenchTarget('gpt5'), InvalidArgumentError);
  const target = targetFromConfig('tiny-gpt2', benchConfig('tiny-gpt2'));
  try {
    await assert.rejects(runBench(target, { batch: 1, seq: 129, iters: 1 }), InvalidArgumentError);
    await assert.rejects(runBench(target, { batch: 1, seq: 4, iters: 0 }), InvalidArgumentError);
  } finally {
    target.dispose();
  }
});
