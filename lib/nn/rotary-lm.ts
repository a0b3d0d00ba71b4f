/**
 * `HookedRotaryLM`: the rotary decoder language models (Llama, Mistral, Qwen2, GPT-NeoX / Pythia, Gemma 2, Gemma 3)
 * on top of `CausalLmRoot`: token embedding (optionally × a scale: Gemma's √dModel), a stack of `RotaryBlock`s
 * reading the input's position ids, a final norm, the unembedding and optional final logit soft-capping (Gemma; the
 * lens applies it too). Families subclass it with their config and blocks. The forward pass returns logits
 * `[batch, pos, dVocab]`.
 *
 * Hooks: `hook_embed` (after the scale), the blocks' hooks, `ln_final.hook_scale`, `ln_final.hook_normalized`;
 * opt-in `hook_tokens`, `unembed.hook_in`, `unembed.hook_out` (logits before the final soft-capping, as
 * TransformerLens).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Embedded } from './hooked-root.js';
import { CausalLmRoot, type CausalLmConfig } from './causal-lm.js';
import { HookPoint, type RunContext } from './hook-point.js';
import { buildAttentionMask } from './components/attention.js';
import type { RotaryBlock, BlockNorm } from './components/rotary-block.js';
import { Unembed } from './components/unembed.js';
import { StackedWeights } from './tl-weights.js';
import { positionIds, type PreparedTokens, type TokenInputOptions } from './token-input.js';
import { applyTokenHook } from './input-checks.js';

/** What the base (and the analyses) read of a family's config (TransformerLens names). */
export interface RotaryLmConfig extends CausalLmConfig {
  padTokenId?: number;
}

/** The parts a family builds for the base. */
export interface RotaryLmParts {
  /** Token embedding `[dVocab, dModel]` as stored. */
  W_E: tf.Tensor2D;
  /** Multiplier of the gathered embedding (Gemma: √dModel; default 1). */
  embedScale?: number;
  blocks: RotaryBlock[];
  lnFinal: BlockNorm;
  /** Unembedding `[dVocab, dModel]`; default the tied `W_E`. */
  unembed?: tf.Tensor2D;
  /** Unembedding bias `[dVocab]` (none in the checkpoints; `processWeights` may add one). */
  unembedBias?: tf.Tensor1D;
  /** Final logit soft-capping: logits → cap · tanh(logits / cap) (Gemma). */
  finalSoftcap?: number;
  /** BOS id of `toTokens(…, { prependBos: true })` when config.json has none. */
  fallbackBosId?: number;
}

/** A rotary decoder language model with hooks. */
export abstract class HookedRotaryLM<Cfg extends RotaryLmConfig = RotaryLmConfig> extends CausalLmRoot {
  readonly hookTokens = new HookPoint(); // [batch, pos] int32 token ids (opt-in)
  readonly hookEmbed = new HookPoint(); // [batch, pos, dModel]
  readonly blocks: RotaryBlock[];
  readonly lnFinal: BlockNorm;
  readonly hookUnembedIn = new HookPoint('unembed.hook_in'); // [batch, pos, dModel] ln_final output (opt-in)
  readonly hookUnembedOut = new HookPoint('unembed.hook_out'); // [batch, pos, dVocab] logits before soft-capping (opt-in)
  /** Token embedding `[dVocab, dModel]` as stored (before any `embedScale`). */
  readonly W_E: tf.Tensor2D;
  readonly embedScale: number;
  /** The unembedding (tied to `W_E` unless the checkpoint has its own `lm_head`). */
  readonly unembedding: Unembed;
  /** Final logit soft-capping (undefined: none). */
  readonly finalSoftcap?: number;
  protected readonly tlStack = new StackedWeights(() => this.blocks);
  private readonly fallbackBosId: number;

  constructor(
    readonly cfg: Cfg,
    parts: RotaryLmParts,
  ) {
    super();
    this.W_E = parts.W_E;
    this.embedScale = parts.embedScale ?? 1;
    this.blocks = parts.blocks;
    this.lnFinal = parts.lnFinal;
    this.unembedding = new Unembed(parts.unembed ?? parts.W_E, parts.unembedBias);
    this.finalSoftcap = parts.finalSoftcap;
    this.fallbackBosId = parts.fallbackBosId ?? 0;
    this.hookPointMap();
  }

  /** Number of blocks. */
  get nLayers(): number {
    return this.cfg.nLayers;
  }

  /** The unembedding and the final soft-capping: normalized `[..., dModel]` → logits `[..., dVocab]` (the lens readout uses it). */
  override unembed(normalized: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.softcap(this.unembedding.forward(normalized)));
  }

  private softcap(logits: tf.Tensor): tf.Tensor {
    const cap = this.finalSoftcap;
    return cap === undefined ? logits : tf.mul(tf.tanh(tf.div(logits, cap)), cap);
  }

  /** BOS (when asked) is config.json's `bos_token_id`; padding uses `pad_token_id` (else `eos_token_id`). */
  protected tokenOptions(prependBos = false): TokenInputOptions {
    return {
      vocabSize: this.cfg.dVocab,
      maxPositions: this.cfg.nCtx,
      tokenizer: this.tokenizer,
      prependBos: prependBos ? (this.cfg.bosTokenId ?? this.fallbackBosId) : undefined,
      padId: this.cfg.padTokenId ?? this.cfg.eosTokenId ?? 0,
    };
  }

  protected get stack(): readonly RotaryBlock[] {
    return this.blocks;
  }

  protected get finalNorm(): BlockNorm {
    return this.lnFinal;
  }

  protected embedPrepared(p: PreparedTokens, ctx: RunContext): Embedded {
    const [batch, pos] = p.inputIds.shape;
    const ids = applyTokenHook(ctx, this.hookTokens, p.inputIds, this.cfg.dVocab);
    const gathered = tf.gather(this.W_E, ids);
    const embed = ctx.apply(this.hookEmbed, this.embedScale === 1 ? gathered : tf.mul(gathered, this.embedScale));
    const mask = buildAttentionMask(pos, { causal: true, attentionMask: p.attentionMask });
    // Rotary position ids: each row's count restarts at its first real token (left padding), as HF generation does.
    return { resid: embed, inputs: { mask, positions: positionIds(batch, pos, p.attentionMask) } };
  }

  /** ln_final → `unembed.hook_in` → unembedding → `unembed.hook_out` → final soft-capping. */
  protected override head(resid: tf.Tensor, _p: PreparedTokens, ctx: RunContext): tf.Tensor {
    const normalized = ctx.apply(this.hookUnembedIn, this.lnFinal.forward(resid, ctx));
    return this.softcap(ctx.apply(this.hookUnembedOut, this.unembedding.forward(normalized)));
  }
}
