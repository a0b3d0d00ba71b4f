/**
 * Typed GPT-NeoX / Pythia config parsed from a Hugging Face `config.json` (`GPTNeoXForCausalLM`). Accepts both
 * the published checkpoints' fields (`rotary_pct`, `rotary_emb_base`, `rope_scaling`) and transformers 5's
 * `rope_parameters` (`rope_theta`, `partial_rotary_factor`, `rope_type`).
 */
import { z } from 'zod';
import { ConfigError } from '../../errors.js';
import { parseConfig } from './parse.js';
import { parseActivation, type ActivationName } from './activation.js';
import { parseRopeScaling, type RopeParams } from './rope.js';
import type { DecoderLmDims } from './decoder.js';

/** GPT-NeoX hyper-parameters (TransformerLens names). */
export interface GptNeoXConfig extends DecoderLmDims {
  modelType: 'gpt_neox';
  eps: number;
  act: ActivationName;
  /** The rotary embedding: the first `rotaryDim = ⌊dHead · rotary_pct⌋` dims of each head rotate. */
  rope: RopeParams;
  /** Attention and MLP both read resid_pre and add to it (`use_parallel_residual`, Pythia: true). */
  parallelResidual: boolean;
  /** q/k/v and output projections have biases (`attention_bias`, default true). */
  attentionBias: boolean;
  tieWordEmbeddings: boolean;
}

const ropeDict = z.looseObject({ rope_theta: z.number().positive().optional(), partial_rotary_factor: z.number().positive().max(1).optional() });

const schema = z.looseObject({
  model_type: z.literal('gpt_neox'),
  vocab_size: z.number().int().positive(),
  hidden_size: z.number().int().positive(),
  num_hidden_layers: z.number().int().positive(),
  num_attention_heads: z.number().int().positive(),
  intermediate_size: z.number().int().positive(),
  max_position_embeddings: z.number().int().positive().default(2048),
  layer_norm_eps: z.number().positive().default(1e-5),
  hidden_act: z.string().default('gelu'),
  rotary_pct: z.number().positive().max(1).optional(),
  rotary_emb_base: z.number().positive().optional(),
  rope_parameters: ropeDict.nullish(),
  rope_scaling: ropeDict.nullish(),
  use_parallel_residual: z.boolean().default(true),
  attention_bias: z.boolean().default(true),
  tie_word_embeddings: z.boolean().default(false),
  bos_token_id: z.number().int().nullish(),
  eos_token_id: z.number().int().nullish(),
});

/** Parses and validates a GPT-NeoX `config.json` object. */
export function parseGptNeoXConfig(json: Record<string, unknown>, where = 'config.json'): GptNeoXConfig {
  const c = parseConfig(schema, json, where, 'GPT-NeoX', 'expected the Hugging Face GPTNeoXConfig fields vocab_size, hidden_size, num_hidden_layers, num_attention_heads, intermediate_size');
  if (c.hidden_size % c.num_attention_heads !== 0) throw new ConfigError(`${where}: hidden_size ${c.hidden_size} is not divisible by num_attention_heads ${c.num_attention_heads}`);
  const dHead = c.hidden_size / c.num_attention_heads;
  // As transformers' GPTNeoXConfig: rope_scaling or rope_parameters, with rotary_emb_base / rotary_pct as fallbacks.
  const rope = c.rope_scaling ?? c.rope_parameters ?? {};
  const fraction = rope.partial_rotary_factor ?? c.rotary_pct ?? 0.25;
  const rotaryDim = Math.floor(dHead * fraction);
  if (rotaryDim < 2 || rotaryDim % 2) throw new ConfigError(`${where}: rotary_pct ${fraction} of head size ${dHead} gives ${rotaryDim} rotary dims`, 'the rotated part of each head must be a positive even number of dims');
  return {
    modelType: 'gpt_neox',
    nLayers: c.num_hidden_layers,
    dModel: c.hidden_size,
    nHeads: c.num_attention_heads,
    dHead,
    dMlp: c.intermediate_size,
    nCtx: c.max_position_embeddings,
    dVocab: c.vocab_size,
    eps: c.layer_norm_eps,
    act: parseActivation(c.hidden_act, where),
    rope: { base: rope.rope_theta ?? c.rotary_emb_base ?? 10000, rotaryDim, scaling: parseRopeScaling(rope, where, c.max_position_embeddings) },
    parallelResidual: c.use_parallel_residual,
    attentionBias: c.attention_bias,
    tieWordEmbeddings: c.tie_word_embeddings,
    bosTokenId: c.bos_token_id ?? undefined,
    eosTokenId: c.eos_token_id ?? undefined,
  };
}
