/** Llama-family config parsing: head sizes, rope dicts old and new, per-layer sliding windows, biases, typed errors. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseLlamaConfig } from '../../../lib/io/config/llama.js';
import { ConfigError } from '../../../lib/errors.js';

const BASE = { vocab_size: 100, hidden_size: 64, intermediate_size: 128, num_hidden_layers: 4, num_attention_heads: 8, max_position_embeddings: 32 };

test('llama: GQA heads, head_dim, rope_theta + rope_scaling (transformers 4 layout) and rope_parameters (5) give the same rope', () => {
  const old = parseLlamaConfig({ ...BASE, model_type: 'llama', num_key_value_heads: 2, rope_theta: 500000, rope_scaling: { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192 } });
  const neu = parseLlamaConfig({ ...BASE, model_type: 'llama', num_key_value_heads: 2, rope_parameters: { rope_type: 'llama3', rope_theta: 500000, factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192 } });
  assert.deepEqual(old.rope, neu.rope);
  assert.equal(old.rope.base, 500000);
  assert.equal(old.nKvHeads, 2);
  assert.equal(old.dHead, 8);
  assert.equal(parseLlamaConfig({ ...BASE, model_type: 'llama', head_dim: 16 }).dHead, 16);
  assert.equal(parseLlamaConfig({ ...BASE, model_type: 'llama' }).rope.base, 10000);
  assert.deepEqual(parseLlamaConfig({ ...BASE, model_type: 'llama', attention_bias: true }).qkvBias, true);
  assert.equal(parseLlamaConfig({ ...BASE, model_type: 'llama', eos_token_id: [128001, 128009] }).eosTokenId, 128001);
});

test('sliding windows: Mistral on every layer, Qwen2 only on its sliding layers and only with use_sliding_window', () => {
  assert.deepEqual(parseLlamaConfig({ ...BASE, model_type: 'mistral', sliding_window: 16 }).slidingWindows, [16, 16, 16, 16]);
  assert.deepEqual(parseLlamaConfig({ ...BASE, model_type: 'mistral', sliding_window: null }).slidingWindows, [undefined, undefined, undefined, undefined]);
  assert.deepEqual(parseLlamaConfig({ ...BASE, model_type: 'qwen2', sliding_window: 16 }).slidingWindows, [undefined, undefined, undefined, undefined]);
  assert.deepEqual(parseLlamaConfig({ ...BASE, model_type: 'qwen2', sliding_window: 16, use_sliding_window: true, max_window_layers: 2 }).slidingWindows, [undefined, undefined, 16, 16]);
  const q = parseLlamaConfig({ ...BASE, model_type: 'qwen2' });
  assert.equal(q.qkvBias, true);
  assert.equal(q.oBias, false);
});

test('bad configs are ConfigErrors naming the problem', () => {
  assert.throws(() => parseLlamaConfig({ ...BASE, model_type: 'llama', num_key_value_heads: 3 }), (e: unknown) => e instanceof ConfigError && /num_key_value_heads 3/.test(e.message));
  assert.throws(() => parseLlamaConfig({ ...BASE, model_type: 'llama', rope_scaling: { rope_type: 'longrope' } }), (e: unknown) => e instanceof ConfigError && /'longrope'/.test(e.message));
  assert.throws(() => parseLlamaConfig({ ...BASE, model_type: 'llama', hidden_act: 'swish2' }), ConfigError);
  assert.throws(() => parseLlamaConfig({ ...BASE, model_type: 'llama', hidden_size: undefined }), ConfigError);
});
