/**
 * Hugging Face `config.json` objects of the models `bench` builds with random weights: the four GPT-2
 * sizes (from `GPT2_SIZES`), ViT-L/16 (`google/vit-large-patch16-224`), Whisper large-v3
 * (`openai/whisper-large-v3`), Llama 3.2 1B (`meta-llama/Llama-3.2-1B`: GQA 32/8 heads, llama3 rope, tied embeddings),
 * Pythia 1B (`EleutherAI/pythia-1b`: GPT-NeoX, parallel residual, 25 % rotary, untied), Gemma 2 2B (`google/gemma-2-2b`:
 * GQA 8/4 heads of 256, sandwich norms, soft-capping, alternating 4096-token sliding window, tied) and a 2-layer tiny
 * GPT-2 for tests. The PyTorch reference scripts build
 * the same configs (`bench/reference/configs.py`).
 */
import { GPT2_SIZES } from '../io/config/gpt2.js';
import { InvalidArgumentError } from '../errors.js';

/** Names `bench --model` accepts besides a checkpoint directory. */
export const BENCH_MODEL_NAMES = ['gpt2', 'gpt2-medium', 'gpt2-large', 'gpt2-xl', 'vit-l16', 'whisper-large', 'tiny-gpt2', 'llama-3.2-1b', 'pythia-1b', 'gemma-2-2b'] as const;
/** A named benchmark model. */
export type BenchModelName = (typeof BENCH_MODEL_NAMES)[number];

/** True when `name` is one of `BENCH_MODEL_NAMES`. */
export function isBenchModelName(name: string): name is BenchModelName {
  return (BENCH_MODEL_NAMES as readonly string[]).includes(name);
}

function gpt2Config(size: keyof typeof GPT2_SIZES): Record<string, unknown> {
  const s = GPT2_SIZES[size]!;
  return {
    model_type: 'gpt2',
    n_layer: s.nLayers,
    n_embd: s.dModel,
    n_head: s.nHeads,
    n_inner: null,
    n_positions: s.nCtx,
    vocab_size: s.dVocab,
    activation_function: 'gelu_new',
    layer_norm_epsilon: 1e-5,
    tie_word_embeddings: true,
    bos_token_id: 50256,
    eos_token_id: 50256,
  };
}

/**
 * The config of a named model; `nLayers` overrides the block count (GPT-2 `n_layer`, ViT
 * `num_hidden_layers`, Whisper `encoder_layers` and `decoder_layers`, Llama, Pythia and Gemma `num_hidden_layers`) for quick runs.
 */
export function benchConfig(name: BenchModelName, nLayers?: number): Record<string, unknown> {
  if (nLayers !== undefined && (!Number.isInteger(nLayers) || nLayers <= 0)) throw new InvalidArgumentError(`--n-layers ${nLayers} is not a positive integer`);
  switch (name) {
    case 'gpt2':
    case 'gpt2-medium':
    case 'gpt2-large':
    case 'gpt2-xl': {
      const cfg = gpt2Config(name);
      return nLayers ? { ...cfg, n_layer: nLayers } : cfg;
    }
    case 'tiny-gpt2':
      return {
        model_type: 'gpt2', n_layer: nLayers ?? 2, n_embd: 64, n_head: 4, n_inner: null, n_positions: 128, vocab_size: 512,
        activation_function: 'gelu_new', layer_norm_epsilon: 1e-5, tie_word_embeddings: true,
      };
    case 'vit-l16':
      return {
        model_type: 'vit', hidden_size: 1024, num_hidden_layers: nLayers ?? 24, num_attention_heads: 16, intermediate_size: 4096,
        hidden_act: 'gelu', layer_norm_eps: 1e-12, image_size: 224, patch_size: 16, num_channels: 3, qkv_bias: true, num_labels: 1000,
      };
    case 'whisper-large':
      return {
        model_type: 'whisper', d_model: 1280, encoder_layers: nLayers ?? 32, decoder_layers: nLayers ?? 32,
        encoder_attention_heads: 20, decoder_attention_heads: 20, encoder_ffn_dim: 5120, decoder_ffn_dim: 5120,
        num_mel_bins: 128, max_source_positions: 1500, max_target_positions: 448, vocab_size: 51866,
        activation_function: 'gelu', scale_embedding: false, tie_word_embeddings: true,
        decoder_start_token_id: 50258, eos_token_id: 50257, pad_token_id: 50256,
      };
    case 'llama-3.2-1b':
      return {
        model_type: 'llama', hidden_size: 2048, intermediate_size: 8192, num_hidden_layers: nLayers ?? 16, num_attention_heads: 32,
        num_key_value_heads: 8, head_dim: 64, vocab_size: 128256, max_position_embeddings: 131072, rms_norm_eps: 1e-5, hidden_act: 'silu',
        rope_parameters: { rope_type: 'llama3', rope_theta: 500000, factor: 32, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192 },
        tie_word_embeddings: true, bos_token_id: 128000, eos_token_id: 128001,
      };
    case 'pythia-1b':
      return {
        model_type: 'gpt_neox', hidden_size: 2048, intermediate_size: 8192, num_hidden_layers: nLayers ?? 16, num_attention_heads: 8,
        vocab_size: 50304, max_position_embeddings: 2048, layer_norm_eps: 1e-5, hidden_act: 'gelu', rotary_pct: 0.25, rotary_emb_base: 10000,
        use_parallel_residual: true, tie_word_embeddings: false, bos_token_id: 0, eos_token_id: 0,
      };
    case 'gemma-2-2b':
      return {
        model_type: 'gemma2', hidden_size: 2304, intermediate_size: 9216, num_hidden_layers: nLayers ?? 26, num_attention_heads: 8,
        num_key_value_heads: 4, head_dim: 256, vocab_size: 256000, max_position_embeddings: 8192, rms_norm_eps: 1e-6,
        hidden_activation: 'gelu_pytorch_tanh', query_pre_attn_scalar: 256, sliding_window: 4096, attn_logit_softcapping: 50,
        final_logit_softcapping: 30, rope_theta: 10000, tie_word_embeddings: true, bos_token_id: 2, eos_token_id: 1, pad_token_id: 0,
      };
  }
}
