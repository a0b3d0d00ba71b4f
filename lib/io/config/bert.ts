/** Typed BERT config parsed from a Hugging Face `config.json` (`BertForMaskedLM`). */
import { z } from 'zod';
import { ConfigError } from '../../errors.js';
import { parseConfig } from './parse.js';
import { parseActivation, type ActivationName } from './activation.js';

/** BERT hyper-parameters (TransformerLens names where they exist). */
export interface BertConfig {
  modelType: 'bert';
  nLayers: number;
  dModel: number;
  nHeads: number;
  dHead: number;
  dMlp: number;
  /** Maximum sequence length (`max_position_embeddings`). */
  nCtx: number;
  dVocab: number;
  /** Number of token types (segments), `type_vocab_size`. */
  nTokenTypes: number;
  eps: number;
  act: ActivationName;
  tieWordEmbeddings: boolean;
  padTokenId: number;
}

const schema = z.looseObject({
  model_type: z.literal('bert'),
  vocab_size: z.number().int().positive(),
  hidden_size: z.number().int().positive(),
  num_hidden_layers: z.number().int().positive(),
  num_attention_heads: z.number().int().positive(),
  intermediate_size: z.number().int().positive(),
  hidden_act: z.string().default('gelu'),
  max_position_embeddings: z.number().int().positive().default(512),
  type_vocab_size: z.number().int().positive().default(2),
  layer_norm_eps: z.number().positive().default(1e-12),
  pad_token_id: z.number().int().nullish(),
  position_embedding_type: z.string().default('absolute'),
  tie_word_embeddings: z.boolean().default(true),
  is_decoder: z.boolean().default(false),
});

/** Parses and validates a BERT `config.json` object. */
export function parseBertConfig(json: Record<string, unknown>, where = 'config.json'): BertConfig {
  const c = parseConfig(schema, json, where, 'BERT', 'expected the Hugging Face BertConfig fields vocab_size, hidden_size, num_hidden_layers, num_attention_heads, intermediate_size');
  if (c.hidden_size % c.num_attention_heads !== 0) {
    throw new ConfigError(`${where}: hidden_size ${c.hidden_size} is not divisible by num_attention_heads ${c.num_attention_heads}`);
  }
  if (c.position_embedding_type !== 'absolute') {
    throw new ConfigError(`${where}: position_embedding_type '${c.position_embedding_type}' is not supported`, "only 'absolute' position embeddings (bert-base/large) are implemented");
  }
  if (c.is_decoder) throw new ConfigError(`${where}: is_decoder=true (causal BERT) is not supported`, 'load a BertForMaskedLM encoder checkpoint');
  return {
    modelType: 'bert',
    nLayers: c.num_hidden_layers,
    dModel: c.hidden_size,
    nHeads: c.num_attention_heads,
    dHead: c.hidden_size / c.num_attention_heads,
    dMlp: c.intermediate_size,
    nCtx: c.max_position_embeddings,
    dVocab: c.vocab_size,
    nTokenTypes: c.type_vocab_size,
    eps: c.layer_norm_eps,
    act: parseActivation(c.hidden_act, where),
    tieWordEmbeddings: c.tie_word_embeddings,
    padTokenId: c.pad_token_id ?? 0,
  };
}
