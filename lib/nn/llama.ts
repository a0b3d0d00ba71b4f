/**
 * HookedLlama: the Llama family (Llama 2, 3, 3.x; Mistral; Qwen2, Qwen2.5) reimplemented in tfjs with TransformerLens
 * hooks: token embedding → blocks (RMS pre-norm, rotary grouped-query attention, gated MLP) → final RMS norm →
 * unembedding. Load with `loadModel(dir)`; the forward pass returns logits `[batch, pos, dVocab]`.
 *
 * Hooks (forward order): `hook_embed`, per block `blocks.{i}.hook_resid_pre`, `ln1.hook_scale`, `ln1.hook_normalized`,
 * `attn.hook_q` `[B,T,H,dh]`, `attn.hook_k`/`attn.hook_v` `[B,T,Hkv,dh]`, `attn.hook_rot_q`, `attn.hook_rot_k`,
 * `attn.hook_attn_scores`, `attn.hook_pattern`, `attn.hook_z`, `attn.hook_result` (lazy), `hook_attn_out`,
 * `hook_resid_mid`, `hook_mlp_in` (opt-in), `ln2.*`, `mlp.hook_pre` (gate), `mlp.hook_pre_linear`, `mlp.hook_post`,
 * `hook_mlp_out`, `hook_resid_post`; then `ln_final.hook_scale`, `ln_final.hook_normalized`.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Embedded } from './hooked-root.js';
import { CausalLmRoot } from './causal-lm.js';
import { HookPoint, type RunContext } from './hook-point.js';
import { RmsNorm } from './components/rms-norm.js';
import { GroupedQueryAttention } from './components/gqa-attention.js';
import { buildAttentionMask } from './components/attention.js';
import { GatedMlp } from './components/gated-mlp.js';
import { RotaryBlock } from './components/rotary-block.js';
import { Unembed } from './components/unembed.js';
import { StackedWeights } from './tl-weights.js';
import { positionIds, type PreparedTokens, type TokenInputOptions } from './token-input.js';
import { applyTokenHook } from './input-checks.js';
import type { LlamaConfig } from '../io/config/llama.js';
import type { LlamaWeights } from '../io/convert/llama.js';

/** Llama, Mistral or Qwen2 with hooks. */
export class HookedLlama extends CausalLmRoot {
  readonly hookTokens = new HookPoint(); // [batch, pos] int32 token ids (opt-in)
  readonly hookEmbed = new HookPoint(); // [batch, pos, dModel]
  readonly blocks: RotaryBlock[];
  readonly lnFinal: RmsNorm;
  readonly hookUnembedIn = new HookPoint('unembed.hook_in'); // [batch, pos, dModel] ln_final output (opt-in)
  readonly hookUnembedOut = new HookPoint('unembed.hook_out'); // [batch, pos, dVocab] logits (opt-in)
  /** Token embedding `[dVocab, dModel]`. */
  readonly W_E: tf.Tensor2D;
  /** The unembedding (tied to `W_E` when config.json says `tie_word_embeddings`, else the checkpoint's `lm_head`). */
  readonly unembedding: Unembed;
  protected readonly tlStack = new StackedWeights(() => this.blocks);

  constructor(
    readonly cfg: LlamaConfig,
    weights: LlamaWeights,
  ) {
    super();
    this.W_E = weights.W_E;
    this.blocks = weights.blocks.map((w, i) => new RotaryBlock({
      ln1: new RmsNorm(w.ln1, { eps: cfg.eps }),
      attn: new GroupedQueryAttention(w.attn, { nHeads: cfg.nHeads, nKvHeads: cfg.nKvHeads, dHead: cfg.dHead, slidingWindow: cfg.slidingWindows[i] }),
      ln2: new RmsNorm(w.ln2, { eps: cfg.eps }),
      mlp: new GatedMlp(w.mlp, cfg.act),
      rope: cfg.rope,
    }));
    this.lnFinal = new RmsNorm(weights.lnFinal, { eps: cfg.eps });
    this.unembedding = new Unembed(weights.unembed ?? weights.W_E, weights.unembedBias);
    this.hookPointMap();
  }

  /** Number of blocks. */
  get nLayers(): number {
    return this.cfg.nLayers;
  }

  /** Describes the model. */
  override toString(): string {
    return `HookedLlama(${this.cfg.modelType}, ${this.cfg.nLayers} layers, d=${this.cfg.dModel}, ${this.cfg.nHeads} heads / ${this.cfg.nKvHeads} kv)`;
  }

  /** BOS (when asked) is config.json's `bos_token_id`; padding uses `pad_token_id` (else `eos_token_id`). */
  protected tokenOptions(prependBos = false): TokenInputOptions {
    return {
      vocabSize: this.cfg.dVocab,
      maxPositions: this.cfg.nCtx,
      tokenizer: this.tokenizer,
      prependBos: prependBos ? (this.cfg.bosTokenId ?? 1) : undefined,
      padId: this.cfg.padTokenId ?? this.cfg.eosTokenId ?? 0,
    };
  }

  protected get stack(): readonly RotaryBlock[] {
    return this.blocks;
  }

  protected get finalNorm(): RmsNorm {
    return this.lnFinal;
  }

  protected embedPrepared(p: PreparedTokens, ctx: RunContext): Embedded {
    const [batch, pos] = p.inputIds.shape;
    const ids = applyTokenHook(ctx, this.hookTokens, p.inputIds, this.cfg.dVocab);
    const embed = ctx.apply(this.hookEmbed, tf.gather(this.W_E, ids));
    const mask = buildAttentionMask(pos, { causal: true, attentionMask: p.attentionMask });
    // Rotary position ids: each row's count restarts at its first real token (left padding), as HF generation does.
    return { resid: embed, inputs: { mask, positions: positionIds(batch, pos, p.attentionMask) } };
  }
}
