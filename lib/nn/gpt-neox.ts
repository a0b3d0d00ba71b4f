/**
 * HookedGPTNeoX: GPT-NeoX / Pythia (`GPTNeoXForCausalLM`) with TransformerLens hooks. LayerNorm blocks with
 * partial rotary attention (the first `rotary_pct` of each head's dims rotate), exact-GELU MLP, parallel residual
 * (`use_parallel_residual`, Pythia) or sequential, untied unembedding. Load with `loadModel(dir)`.
 *
 * Hooks (forward order): `hook_embed`, per block `blocks.{i}.hook_resid_pre`, `hook_attn_in`, `hook_q/k/v_input`
 * (opt-in), `ln1.hook_scale`,
 * `ln1.hook_normalized`, `attn.hook_q/k/v`, `attn.hook_rot_q/k`, `attn.hook_attn_scores`, `attn.hook_pattern`,
 * `attn.hook_z`, `attn.hook_result` (lazy), `hook_attn_out`, `hook_resid_mid` (sequential blocks only), `ln2.*`,
 * `mlp.hook_pre`, `mlp.hook_post`, `hook_mlp_out`, `hook_resid_post`; then `ln_final.hook_scale`,
 * `ln_final.hook_normalized`.
 */
import { HookedRotaryLM } from './rotary-lm.js';
import { LayerNorm } from './components/layer-norm.js';
import { GroupedQueryAttention } from './components/gqa-attention.js';
import { Mlp } from './components/mlp.js';
import { RotaryBlock } from './components/rotary-block.js';
import type { GptNeoXConfig } from '../io/config/gpt-neox.js';
import type { GptNeoXWeights } from '../io/convert/gpt-neox.js';

/** GPT-NeoX / Pythia with hooks. */
export class HookedGPTNeoX extends HookedRotaryLM<GptNeoXConfig> {
  constructor(cfg: GptNeoXConfig, weights: GptNeoXWeights) {
    super(cfg, {
      W_E: weights.W_E,
      blocks: weights.blocks.map(
        (w) =>
          new RotaryBlock({
            ln1: new LayerNorm(w.ln1.w, w.ln1.b, cfg.eps),
            attn: new GroupedQueryAttention(w.attn, { nHeads: cfg.nHeads, nKvHeads: cfg.nHeads, dHead: cfg.dHead }),
            ln2: new LayerNorm(w.ln2.w, w.ln2.b, cfg.eps),
            mlp: new Mlp(w.mlp, cfg.act),
            parallel: cfg.parallelResidual,
            rope: cfg.rope,
          }),
      ),
      lnFinal: new LayerNorm(weights.lnFinal.w, weights.lnFinal.b, cfg.eps),
      unembed: weights.unembed,
      unembedBias: weights.unembedBias,
    });
  }

  /** Without ids: describes the model. With ids: `decode(ids)`. */
  override toString(ids?: readonly number[]): string {
    return ids ? this.decode(ids) : `HookedGPTNeoX(${this.cfg.nLayers} layers, d=${this.cfg.dModel}, ${this.cfg.parallelResidual ? 'parallel' : 'sequential'} residual)`;
  }
}
