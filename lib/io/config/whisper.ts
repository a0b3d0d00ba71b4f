/** Typed Whisper config parsed from a Hugging Face `config.json` (`WhisperForConditionalGeneration`). */
import { z } from 'zod';
import { ConfigError } from '../../errors.js';
import { parseConfig } from './parse.js';
import { parseActivation, type ActivationName } from './activation.js';

/** Whisper hyper-parameters. Encoder and decoder share `dModel`. */
export interface WhisperConfig {
  modelType: 'whisper';
  dModel: number;
  /** Decoder blocks (the lensed stack). */
  nLayers: number;
  encoderLayers: number;
  encoderHeads: number;
  decoderHeads: number;
  encoderDMlp: number;
  decoderDMlp: number;
  /** Mel bins of the input features (80, or 128 for large-v3). */
  nMels: number;
  /** Encoder positions after the stride-2 conv (1500 for 30 s); the input has twice as many frames. */
  maxSourcePositions: number;
  /** Decoder context length (448). */
  maxTargetPositions: number;
  dVocab: number;
  /** Layer-norm ε (PyTorch `nn.LayerNorm` default; Whisper configs do not set it). */
  eps: number;
  act: ActivationName;
  /** Multiply decoder token embeddings by √dModel (`scale_embedding`, false for released models). */
  scaleEmbedding: boolean;
  tieWordEmbeddings: boolean;
  decoderStartTokenId: number;
  eosTokenId?: number;
  padTokenId?: number;
  /** Token ids the reference generator suppresses at every step (`suppress_tokens`). */
  suppressTokens: number[];
  /** Token ids suppressed at the first generated step only (`begin_suppress_tokens`). */
  beginSuppressTokens: number[];
}

const ids = z.array(z.number().int()).nullish();

const schema = z.looseObject({
  model_type: z.literal('whisper'),
  d_model: z.number().int().positive(),
  encoder_layers: z.number().int().positive(),
  decoder_layers: z.number().int().positive(),
  encoder_attention_heads: z.number().int().positive(),
  decoder_attention_heads: z.number().int().positive(),
  encoder_ffn_dim: z.number().int().positive(),
  decoder_ffn_dim: z.number().int().positive(),
  num_mel_bins: z.number().int().positive().default(80),
  max_source_positions: z.number().int().positive().default(1500),
  max_target_positions: z.number().int().positive().default(448),
  vocab_size: z.number().int().positive(),
  activation_function: z.string().default('gelu'),
  scale_embedding: z.boolean().default(false),
  tie_word_embeddings: z.boolean().default(true),
  decoder_start_token_id: z.number().int().default(50257),
  eos_token_id: z.number().int().nullish(),
  pad_token_id: z.number().int().nullish(),
  suppress_tokens: ids,
  begin_suppress_tokens: ids,
});

/** Parses and validates a Whisper `config.json` object. */
export function parseWhisperConfig(json: Record<string, unknown>, where = 'config.json'): WhisperConfig {
  const c = parseConfig(schema, json, where, 'Whisper', 'expected the Hugging Face WhisperConfig fields d_model, encoder_layers, decoder_layers, … vocab_size');
  for (const [heads, name] of [[c.encoder_attention_heads, 'encoder_attention_heads'], [c.decoder_attention_heads, 'decoder_attention_heads']] as const) {
    if (c.d_model % heads !== 0) throw new ConfigError(`${where}: d_model ${c.d_model} is not divisible by ${name} ${heads}`);
  }
  return {
    modelType: 'whisper',
    dModel: c.d_model,
    nLayers: c.decoder_layers,
    encoderLayers: c.encoder_layers,
    encoderHeads: c.encoder_attention_heads,
    decoderHeads: c.decoder_attention_heads,
    encoderDMlp: c.encoder_ffn_dim,
    decoderDMlp: c.decoder_ffn_dim,
    nMels: c.num_mel_bins,
    maxSourcePositions: c.max_source_positions,
    maxTargetPositions: c.max_target_positions,
    dVocab: c.vocab_size,
    eps: 1e-5,
    act: parseActivation(c.activation_function, where),
    scaleEmbedding: c.scale_embedding,
    tieWordEmbeddings: c.tie_word_embeddings,
    decoderStartTokenId: c.decoder_start_token_id,
    eosTokenId: c.eos_token_id ?? undefined,
    padTokenId: c.pad_token_id ?? undefined,
    suppressTokens: c.suppress_tokens ?? [],
    beginSuppressTokens: c.begin_suppress_tokens ?? [],
  };
}
