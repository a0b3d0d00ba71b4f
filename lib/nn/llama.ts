/**
 * HookedLlama: the Llama family (Llama 2, 3, 3.x; Mistral; Qwen2, Qwen2.5) reimplemented in tfjs with TransformerLens
 * hooks: token embedding → blocks (RMS pre-norm, rotary grouped-query attention, gated MLP) → final RMS norm →
 * unembedding. Load with `loadModel(dir)`; the forward pass returns logits `[batch, pos, dVocab]`.
 *
 * Hooks (forward order): `hook_embed`, per block `blocks.{i}.hook_resid_pre`, `hook_q_input` `[B,T,H,d]`,
 * `hook_k_input`/`hook_v_input` `[B,T,Hkv,d]` (opt-in; `hook_attn_in` where Hkv = H), `ln1.hook_scale`, `ln1.hook_normalized`,
 * `attn.hook_q` `[B,T,H,dh]`, `attn.hook_k`/`attn.hook_v` `[B,T,Hkv,dh]`, `attn.hook_rot_q`, `attn.hook_rot_k`,
 * `attn.hook_attn_scores`, `attn.hook_pattern`, `attn.hook_z`, `attn.hook_result` (lazy), `hook_attn_out`,
 * `hook_resid_mid`, `hook_mlp_in` (opt-in), `ln2.*`, `mlp.hook_pre` (gate), `mlp.hook_pre_linear`, `mlp.hook_post`,
 * `hook_mlp_out`, `hook_resid_post`; then `ln_final.hook_scale`, `ln_final.hook_normalized`.
 */
import { HookedRotaryLM } from './rotary-lm.js';
import { RmsNorm } from './components/rms-norm.js';
import { GroupedQueryAttention } from './components/gqa-attention.js';
import { GatedMlp } from './components/gated-mlp.js';
import { RotaryBlock } from './components/rotary-block.js';
import type { LlamaConfig } from '../io/config/llama.js';
import type { LlamaWeights } from '../io/convert/llama.js';

/** Llama, Mistral or Qwen2 with hooks. */
export class HookedLlama extends HookedRotaryLM<LlamaConfig> {
  constructor(cfg: LlamaConfig, weights: LlamaWeights) {
    super(cfg, {
      W_E: weights.W_E,
      blocks: weights.blocks.map((w, i) => new RotaryBlock({
        ln1: new RmsNorm(w.ln1, { eps: cfg.eps }),
        attn: new GroupedQueryAttention(w.attn, { nHeads: cfg.nHeads, nKvHeads: cfg.nKvHeads, dHead: cfg.dHead, slidingWindow: cfg.slidingWindows[i] }),
        ln2: new RmsNorm(w.ln2, { eps: cfg.eps }),
        mlp: new GatedMlp(w.mlp, cfg.act),
        rope: cfg.rope,
      })),
      lnFinal: new RmsNorm(weights.lnFinal, { eps: cfg.eps }),
      unembed: weights.unembed,
      unembedBias: weights.unembedBias,
      fallbackBosId: 1,
    });
  }

  /** Describes the model. */
  override toString(): string {
    return `HookedLlama(${this.cfg.modelType}, ${this.cfg.nLayers} layers, d=${this.cfg.dModel}, ${this.cfg.nHeads} heads / ${this.cfg.nKvHeads} kv)`;
  }
}
