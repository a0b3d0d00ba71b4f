/**
 * GPT-NeoX and Gemma config parsing (published and transformers-5 field layouts give the same typed config, HF's
 * defaults for layer kinds and rope bases, typed errors) and a multimodal `gemma3` checkpoint whose text model is
 * the gemma3-tiny fixture under `model.language_model.` with a vision tower beside it: it loads and computes the
 * fixture's logits.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { parseGptNeoXConfig } from '../../../lib/io/config/gpt-neox.js';
import { parseGemmaConfig, parseGemma3MultimodalConfig } from '../../../lib/io/config/gemma.js';
import { ConfigError } from '../../../lib/errors.js';
import { setBackend } from '../../../lib/backend/index.js';
import { loadModel } from '../../../lib/nn/load.js';
import { HookedGemma } from '../../../lib/nn/gemma.js';
import { readAllSafetensors } from '../../../lib/io/safetensors.js';
import { saveSafetensors } from '../../../lib/io/safetensors-writer.js';
import { fixtureDir, intRows, readFixture, relError } from '../../helpers/fixtures.js';
import { PARITY_TOL } from '../../helpers/parity.js';
import { testBackend } from '../../helpers/backend.js';

const NEOX = { model_type: 'gpt_neox', vocab_size: 100, hidden_size: 64, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 128 };
const GEMMA = { vocab_size: 100, hidden_size: 64, intermediate_size: 128, num_hidden_layers: 6, num_attention_heads: 4, num_key_value_heads: 2, head_dim: 16 };

test('gpt_neox: rotary_pct / rotary_emb_base and rope_parameters give the same rope; HF defaults; bad rotary dims are ConfigErrors', () => {
  const old = parseGptNeoXConfig({ ...NEOX, rotary_pct: 0.5, rotary_emb_base: 500 });
  const neu = parseGptNeoXConfig({ ...NEOX, rope_parameters: { rope_type: 'default', rope_theta: 500, partial_rotary_factor: 0.5 } });
  assert.deepEqual(old.rope, neu.rope);
  assert.deepEqual(old.rope, { base: 500, rotaryDim: 8, scaling: { type: 'default' } });
  const defaults = parseGptNeoXConfig(NEOX);
  assert.deepEqual([defaults.rope.base, defaults.rope.rotaryDim, defaults.parallelResidual, defaults.attentionBias, defaults.act, defaults.tieWordEmbeddings], [10000, 4, true, true, 'gelu', false]);
  assert.throws(() => parseGptNeoXConfig({ ...NEOX, rotary_pct: 0.1 }), (e: unknown) => e instanceof ConfigError && /gives 1 rotary dims/.test(e.message));
  assert.throws(() => parseGptNeoXConfig({ ...NEOX, hidden_size: 66 }), (e: unknown) => e instanceof ConfigError && /not divisible/.test(e.message));
});

test('gemma2: layers alternate sliding/full from layer 0; one rope for both kinds; soft-caps and query_pre_attn_scalar read', () => {
  const c = parseGemmaConfig({ ...GEMMA, model_type: 'gemma2', rope_theta: 5000, sliding_window: 8, attn_logit_softcapping: 50, final_logit_softcapping: 30, query_pre_attn_scalar: 24 });
  assert.deepEqual(c.layerTypes, ['sliding_attention', 'full_attention', 'sliding_attention', 'full_attention', 'sliding_attention', 'full_attention']);
  assert.deepEqual(c.rope.sliding_attention, c.rope.full_attention);
  assert.equal(c.rope.full_attention.base, 5000);
  assert.deepEqual([c.attnSoftcap, c.finalSoftcap, c.queryPreAttnScalar, c.slidingWindow, c.qkNorm, c.act], [50, 30, 24, 8, false, 'gelu_pytorch_tanh']);
  assert.equal(parseGemmaConfig({ ...GEMMA, model_type: 'gemma2', rope_parameters: { rope_type: 'default', rope_theta: 5000 } }).rope.full_attention.base, 5000);
});

test('gemma3_text: published fields (sliding_window_pattern, rope_local_base_freq, rope_scaling) equal transformers-5 layer_types / rope_parameters', () => {
  const published = parseGemmaConfig({ ...GEMMA, model_type: 'gemma3_text', sliding_window_pattern: 3, rope_theta: 1e6, rope_local_base_freq: 1e4, rope_scaling: { rope_type: 'linear', factor: 8 }, attn_logit_softcapping: 50 });
  const v5 = parseGemmaConfig({
    ...GEMMA,
    model_type: 'gemma3_text',
    layer_types: ['sliding_attention', 'sliding_attention', 'full_attention', 'sliding_attention', 'sliding_attention', 'full_attention'],
    rope_parameters: { full_attention: { rope_type: 'linear', factor: 8, rope_theta: 1e6 }, sliding_attention: { rope_type: 'default', rope_theta: 1e4 } },
    attn_logit_softcapping: 50,
  });
  assert.deepEqual(published, v5);
  assert.deepEqual(published.rope.full_attention.scaling, { type: 'linear', factor: 8 });
  assert.deepEqual(published.rope.sliding_attention, { base: 1e4, rotaryDim: 16, scaling: { type: 'default' } });
  assert.equal(published.attnSoftcap, undefined, 'transformers does not soft-cap Gemma 3 attention');
  assert.equal(published.qkNorm, true);
  // Defaults: every 6th layer global, global base 1e6, local base 1e4.
  const d = parseGemmaConfig({ ...GEMMA, model_type: 'gemma3_text' });
  assert.deepEqual(d.layerTypes.map((t) => t[0]).join(''), 'sssssf');
  assert.deepEqual([d.rope.full_attention.base, d.rope.sliding_attention.base], [1e6, 1e4]);
});

test('gemma configs that tfjs-lens does not implement are ConfigErrors naming the field', () => {
  assert.throws(() => parseGemmaConfig({ ...GEMMA, model_type: 'gemma3_text', use_bidirectional_attention: true }), (e: unknown) => e instanceof ConfigError && /use_bidirectional_attention/.test(e.message));
  assert.throws(() => parseGemmaConfig({ ...GEMMA, model_type: 'gemma2', num_key_value_heads: 3 }), (e: unknown) => e instanceof ConfigError && /num_key_value_heads 3/.test(e.message));
  assert.throws(() => parseGemmaConfig({ ...GEMMA, model_type: 'gemma2', layer_types: ['full_attention'] }), (e: unknown) => e instanceof ConfigError && /layer_types has 1 entries for 6 layers/.test(e.message));
  assert.throws(() => parseGemma3MultimodalConfig({ model_type: 'gemma3' }), (e: unknown) => e instanceof ConfigError && /text_config/.test(e.message));
});

test('a multimodal gemma3 checkpoint loads its text model (language_model prefix, vision tower ignored) and computes the text fixture logits', async () => {
  await setBackend(testBackend('cpu'));
  const dir = await mkdtemp(join(tmpdir(), 'gemma3-mm-'));
  try {
    const text = JSON.parse(await readFile(join(fixtureDir('gemma3-tiny'), 'config.json'), 'utf8')) as Record<string, unknown>;
    const { architectures: _a, tie_word_embeddings: tie, ...textConfig } = text;
    await writeFile(join(dir, 'config.json'), JSON.stringify({ model_type: 'gemma3', architectures: ['Gemma3ForConditionalGeneration'], tie_word_embeddings: tie, text_config: textConfig, vision_config: { hidden_size: 8 } }));
    const weights = await readAllSafetensors(join(fixtureDir('gemma3-tiny'), 'model.safetensors'));
    const renamed = new Map([...weights].map(([k, v]) => [k.replace(/^model\./, 'model.language_model.'), { data: v.data as Float32Array, shape: v.shape }]));
    renamed.set('model.vision_tower.vision_model.embeddings.patch_embedding.weight', { data: new Float32Array(8), shape: [2, 4] });
    await saveSafetensors(join(dir, 'model.safetensors'), renamed);
    const model = await loadModel(dir);
    assert.ok(model instanceof HookedGemma && model.cfg.modelType === 'gemma3_text');
    const { inputs, expected } = await readFixture('gemma3-tiny');
    const logits = await model.forward(intRows(inputs.get('input_ids')!));
    const err = relError(await logits.data(), expected.get('logits')!.data);
    tf.dispose(logits);
    model.dispose();
    assert.ok(err <= PARITY_TOL, `rel err ${err}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
