"""Hugging Face config dicts of the benchmark models: the same values as lib/bench/configs.ts.

GPT-2 small/medium/large/xl, ViT-L/16 (google/vit-large-patch16-224), Whisper large-v3
(openai/whisper-large-v3), Llama 3.2 1B (meta-llama/Llama-3.2-1B: GQA 32/8 heads, llama3 rope, tied embeddings),
Pythia 1B (EleutherAI/pythia-1b), Gemma 2 2B (google/gemma-2-2b) and the 2-layer tiny GPT-2 used by the unit tests.
"""

GPT2_SIZES = {
    # name: (n_layer, n_embd, n_head)
    "gpt2": (12, 768, 12),
    "gpt2-medium": (24, 1024, 16),
    "gpt2-large": (36, 1280, 20),
    "gpt2-xl": (48, 1600, 25),
}

MODEL_NAMES = [*GPT2_SIZES, "vit-l16", "whisper-large", "tiny-gpt2", "llama-3.2-1b", "pythia-1b", "gemma-2-2b"]


def bench_config(name, n_layers=None):
    """The config dict of a named model; n_layers overrides the block count (as `--n-layers`)."""
    if name in GPT2_SIZES:
        n_layer, n_embd, n_head = GPT2_SIZES[name]
        return {
            "model_type": "gpt2", "n_layer": n_layers or n_layer, "n_embd": n_embd, "n_head": n_head, "n_inner": None,
            "n_positions": 1024, "vocab_size": 50257, "activation_function": "gelu_new", "layer_norm_epsilon": 1e-5,
            "tie_word_embeddings": True, "bos_token_id": 50256, "eos_token_id": 50256,
        }
    if name == "tiny-gpt2":
        return {
            "model_type": "gpt2", "n_layer": n_layers or 2, "n_embd": 64, "n_head": 4, "n_inner": None, "n_positions": 128,
            "vocab_size": 512, "activation_function": "gelu_new", "layer_norm_epsilon": 1e-5, "tie_word_embeddings": True,
        }
    if name == "vit-l16":
        return {
            "model_type": "vit", "hidden_size": 1024, "num_hidden_layers": n_layers or 24, "num_attention_heads": 16,
            "intermediate_size": 4096, "hidden_act": "gelu", "layer_norm_eps": 1e-12, "image_size": 224, "patch_size": 16,
            "num_channels": 3, "qkv_bias": True, "num_labels": 1000,
        }
    if name == "whisper-large":
        return {
            "model_type": "whisper", "d_model": 1280, "encoder_layers": n_layers or 32, "decoder_layers": n_layers or 32,
            "encoder_attention_heads": 20, "decoder_attention_heads": 20, "encoder_ffn_dim": 5120, "decoder_ffn_dim": 5120,
            "num_mel_bins": 128, "max_source_positions": 1500, "max_target_positions": 448, "vocab_size": 51866,
            "activation_function": "gelu", "scale_embedding": False, "tie_word_embeddings": True,
            "decoder_start_token_id": 50258, "eos_token_id": 50257, "pad_token_id": 50256,
        }
    if name == "llama-3.2-1b":
        return {
            "model_type": "llama", "hidden_size": 2048, "intermediate_size": 8192, "num_hidden_layers": n_layers or 16,
            "num_attention_heads": 32, "num_key_value_heads": 8, "head_dim": 64, "vocab_size": 128256,
            "max_position_embeddings": 131072, "rms_norm_eps": 1e-5, "hidden_act": "silu",
            "rope_parameters": {"rope_type": "llama3", "rope_theta": 500000.0, "factor": 32.0, "low_freq_factor": 1.0,
                                "high_freq_factor": 4.0, "original_max_position_embeddings": 8192},
            "tie_word_embeddings": True, "bos_token_id": 128000, "eos_token_id": 128001,
        }
    if name == "pythia-1b":
        return {
            "model_type": "gpt_neox", "hidden_size": 2048, "intermediate_size": 8192, "num_hidden_layers": n_layers or 16,
            "num_attention_heads": 8, "vocab_size": 50304, "max_position_embeddings": 2048, "layer_norm_eps": 1e-5,
            "hidden_act": "gelu", "rotary_pct": 0.25, "rotary_emb_base": 10000, "use_parallel_residual": True,
            "tie_word_embeddings": False, "bos_token_id": 0, "eos_token_id": 0,
        }
    if name == "gemma-2-2b":
        return {
            "model_type": "gemma2", "hidden_size": 2304, "intermediate_size": 9216, "num_hidden_layers": n_layers or 26,
            "num_attention_heads": 8, "num_key_value_heads": 4, "head_dim": 256, "vocab_size": 256000,
            "max_position_embeddings": 8192, "rms_norm_eps": 1e-6, "hidden_activation": "gelu_pytorch_tanh",
            "query_pre_attn_scalar": 256, "sliding_window": 4096, "attn_logit_softcapping": 50.0,
            "final_logit_softcapping": 30.0, "rope_theta": 10000.0, "tie_word_embeddings": True, "bos_token_id": 2,
            "eos_token_id": 1, "pad_token_id": 0,
        }
    raise SystemExit(f"unknown model {name!r}; choose one of {', '.join(MODEL_NAMES)}")
