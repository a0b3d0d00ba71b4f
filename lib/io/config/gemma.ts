/**
 * Typed Gemma 2 / Gemma 3 (text) config parsed from a Hugging Face `config.json` (`Gemma2ForCausalLM`,
 * `Gemma3ForCausalLM`: model_type `gemma2`, `gemma3_text`; a `gemma3` checkpoint's `text_config`). Accepts the
 * published checkpoints' fields (`rope_theta`, `rope_local_base_freq`, `rope_scaling`, `sliding_window_pattern`)
 * and transformers 5's (`rope_parameters` per layer type, `layer_types`).
 */
import { z } from 'zod';
import { ConfigError } from '../../errors.js';
import { parseConfig } from './parse.js';
import { parseActivation, type ActivationName } from './activation.js';
import { parseRopeScaling, type RopeParams } from './rope.js';
import type { DecoderLmDims } from './decoder.js';

/** Attention kind of one layer: a sliding window of `slidingWindow` keys, or every earlier key. */
export type GemmaLayerType = 'sliding_attention' | 'full_attention';

/** Gemma hyper-parameters (TransformerLens names where they exist). */
/** `dHead` is `head_dim` (Gemma: nHeads · dHead need not equal dModel). */
export interface GemmaConfig extends DecoderLmDims {
  modelType: 'gemma2' | 'gemma3_text';
  /** Key/value heads (grouped-query attention). */
  nKvHeads: number;
  eps: number;
  /** GeGLU gate activation (`hidden_activation`, gelu_pytorch_tanh). */
  act: ActivationName;
  /** Scores are q·k / √queryPreAttnScalar. */
  queryPreAttnScalar: number;
  /** Keys a sliding-window layer sees (itself included); undefined: no window. */
  slidingWindow?: number;
  /** Each layer's attention kind. */
  layerTypes: GemmaLayerType[];
  /** Attention logit soft-capping (Gemma 2; transformers does not apply it for Gemma 3). */
  attnSoftcap?: number;
  /** Final logit soft-capping: logits → cap · tanh(logits / cap). */
  finalSoftcap?: number;
  /** Per-head RMS norms of q and k before the rotary embedding (Gemma 3). */
  qkNorm: boolean;
  /** Rotary embedding of each layer kind (Gemma 3: a local base for sliding layers; Gemma 2: the same). */
  rope: Record<GemmaLayerType, RopeParams>;
  tieWordEmbeddings: boolean;
  padTokenId?: number;
}

const ropeDict = z.looseObject({ rope_theta: z.number().positive().optional() });

const schema = z.looseObject({
  model_type: z.enum(['gemma2', 'gemma3_text']),
  vocab_size: z.number().int().positive(),
  hidden_size: z.number().int().positive(),
  intermediate_size: z.number().int().positive(),
  num_hidden_layers: z.number().int().positive(),
  num_attention_heads: z.number().int().positive(),
  num_key_value_heads: z.number().int().positive().optional(),
  head_dim: z.number().int().positive().default(256),
  hidden_activation: z.string().nullish(),
  hidden_act: z.string().nullish(),
  max_position_embeddings: z.number().int().positive().default(8192),
  rms_norm_eps: z.number().positive().default(1e-6),
  query_pre_attn_scalar: z.number().positive().default(256),
  sliding_window: z.number().int().positive().nullish(),
  sliding_window_pattern: z.number().int().positive().optional(),
  layer_types: z.array(z.enum(['sliding_attention', 'full_attention'])).nullish(),
  attn_logit_softcapping: z.number().positive().nullish(),
  final_logit_softcapping: z.number().positive().nullish(),
  rope_theta: z.number().positive().optional(),
  rope_local_base_freq: z.number().positive().optional(),
  rope_scaling: z.looseObject({}).nullish(),
  rope_parameters: z.looseObject({}).nullish(),
  attention_bias: z.boolean().default(false),
  use_bidirectional_attention: z.boolean().nullish(),
  tie_word_embeddings: z.boolean().default(true),
  bos_token_id: z.number().int().nullish(),
  eos_token_id: z.union([z.number().int(), z.array(z.number().int())]).nullish(),
  pad_token_id: z.number().int().nullish(),
});

type Raw = z.infer<typeof schema>;

/** HF's defaults: every other layer sliding (Gemma 2), or all but every `sliding_window_pattern`-th (Gemma 3, 6). */
function layerTypes(c: Raw, where: string): GemmaLayerType[] {
  if (c.layer_types) {
    if (c.layer_types.length !== c.num_hidden_layers) throw new ConfigError(`${where}: layer_types has ${c.layer_types.length} entries for ${c.num_hidden_layers} layers`);
    return c.layer_types;
  }
  const pattern = c.model_type === 'gemma2' ? 2 : (c.sliding_window_pattern ?? 6);
  return Array.from({ length: c.num_hidden_layers }, (_, i) => ((i + 1) % pattern ? 'sliding_attention' : 'full_attention'));
}

/** Per-layer-kind rope as transformers standardises it (Gemma 3: full 1e6 / local 1e4 bases unless given; scaling on full layers only). */
function ropes(c: Raw, where: string): Record<GemmaLayerType, RopeParams> {
  const rotaryDim = c.head_dim;
  const params = (raw: Record<string, unknown> | null | undefined, base: number): RopeParams => {
    const r = ropeDict.safeParse(raw ?? {});
    if (!r.success) throw new ConfigError(`${where}: rope parameters are not valid (${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')})`);
    return { base: r.data.rope_theta ?? base, rotaryDim, scaling: parseRopeScaling(raw, where, c.max_position_embeddings) };
  };
  const rp = c.rope_parameters as Record<string, Record<string, unknown> | null | undefined> | null | undefined;
  if (c.model_type === 'gemma2') {
    const one = params(c.rope_scaling ?? rp, c.rope_theta ?? 10000);
    return { sliding_attention: one, full_attention: one };
  }
  if (rp && ('full_attention' in rp || 'sliding_attention' in rp)) {
    return { full_attention: params(rp.full_attention, c.rope_theta ?? 1e6), sliding_attention: params(rp.sliding_attention, c.rope_local_base_freq ?? 1e4) };
  }
  return { full_attention: params({ ...(c.rope_scaling ?? {}), rope_theta: c.rope_theta ?? 1e6 }, 1e6), sliding_attention: params({ rope_theta: c.rope_local_base_freq ?? 1e4 }, 1e4) };
}

/** Parses and validates a Gemma 2 / Gemma 3 text `config.json` object. */
export function parseGemmaConfig(json: Record<string, unknown>, where = 'config.json'): GemmaConfig {
  const c = parseConfig(schema, json, where, 'Gemma', 'expected the Hugging Face Gemma2Config / Gemma3TextConfig fields vocab_size, hidden_size, intermediate_size, num_hidden_layers, num_attention_heads');
  const nKvHeads = c.num_key_value_heads ?? c.num_attention_heads;
  if (c.num_attention_heads % nKvHeads !== 0) throw new ConfigError(`${where}: num_key_value_heads ${nKvHeads} does not divide num_attention_heads ${c.num_attention_heads}`);
  if (c.use_bidirectional_attention) throw new ConfigError(`${where}: use_bidirectional_attention=true is not supported`, 'tfjs-lens implements the causal Gemma language models');
  if (c.attention_bias) throw new ConfigError(`${where}: attention_bias=true is not supported`, 'published Gemma 2 and Gemma 3 checkpoints have no attention biases');
  if (c.head_dim % 2) throw new ConfigError(`${where}: head_dim ${c.head_dim} must be even (rotary embedding)`);
  const eos = Array.isArray(c.eos_token_id) ? c.eos_token_id[0] : c.eos_token_id;
  return {
    modelType: c.model_type,
    nLayers: c.num_hidden_layers,
    dModel: c.hidden_size,
    nHeads: c.num_attention_heads,
    nKvHeads,
    dHead: c.head_dim,
    dMlp: c.intermediate_size,
    nCtx: c.max_position_embeddings,
    dVocab: c.vocab_size,
    eps: c.rms_norm_eps,
    act: parseActivation(c.hidden_activation ?? c.hidden_act ?? 'gelu_pytorch_tanh', where),
    queryPreAttnScalar: c.query_pre_attn_scalar,
    slidingWindow: c.sliding_window ?? undefined,
    layerTypes: layerTypes(c, where),
    // transformers' Gemma 3 attention never passes the soft-cap to its attention function.
    attnSoftcap: c.model_type === 'gemma2' ? (c.attn_logit_softcapping ?? undefined) : undefined,
    finalSoftcap: c.final_logit_softcapping ?? undefined,
    qkNorm: c.model_type === 'gemma3_text',
    rope: ropes(c, where),
    tieWordEmbeddings: c.tie_word_embeddings,
    bosTokenId: c.bos_token_id ?? undefined,
    eosTokenId: eos ?? undefined,
    padTokenId: c.pad_token_id ?? undefined,
  };
}

/**
 * A multimodal `gemma3` checkpoint's config (`Gemma3ForConditionalGeneration`) → its text model's config
 * (`text_config`, model_type `gemma3_text`); the vision tower is not loaded.
 */
export function parseGemma3MultimodalConfig(json: Record<string, unknown>, where = 'config.json'): GemmaConfig {
  const text = json.text_config;
  if (!text || typeof text !== 'object' || Array.isArray(text)) throw new ConfigError(`${where}: a gemma3 config needs a text_config object`);
  // Published gemma3 configs leave Gemma3TextConfig's defaults out of text_config.
  const defaults = { vocab_size: 262208, hidden_size: 2304, intermediate_size: 9216, num_hidden_layers: 26, num_attention_heads: 8, num_key_value_heads: 4 };
  return parseGemmaConfig({ ...defaults, model_type: 'gemma3_text', ...(text as Record<string, unknown>), ...(json.tie_word_embeddings === undefined ? {} : { tie_word_embeddings: json.tie_word_embeddings }) }, `${where} text_config`);
}
