/**
 * HookedBert: `BertForMaskedLM` (bert-base-uncased layout) reimplemented in tfjs with hooks. The blocks
 * are post-LN (`PostLnBlock`, built from the shared LayerNorm / Attention / Mlp); attention is
 * bidirectional with a key-padding mask. The forward pass returns MLM logits `[batch, pos, dVocab]`.
 *
 * Hooks (forward order): `hook_embed`, `hook_token_type_embed`, `hook_pos_embed` (each `[B, T, d]`),
 * `ln_embed.hook_scale` / `ln_embed.hook_normalized` (the embedding LayerNorm), per block
 * `blocks.{i}.hook_resid_pre` (block 0: embedding output after its LayerNorm = HF `hidden_states[0]`),
 * `attn.*`, `hook_attn_out`, `hook_resid_mid` (resid_pre + attn_out, before ln1), `ln1.*`, `mlp.*`,
 * `hook_mlp_out`, `hook_resid_post_pre_ln` (ln1 output + mlp_out), `ln2.*`, `hook_resid_post` (block
 * output = HF `hidden_states[i+1]`), then the MLM head `mlm_head.hook_pre`, `mlm_head.hook_post`,
 * `mlm_head.ln.hook_scale` / `mlm_head.ln.hook_normalized`. See docs/models/bert.md.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Embedded } from './hooked-root.js';
import { HookedTransformerRoot } from './hooked-transformer.js';
import { HookedModule } from './hooked-module.js';
import { HookPoint, NO_HOOKS, type RunContext } from './hook-point.js';
import type { LensModel } from './lens-model.js';
import { LayerNorm } from './components/layer-norm.js';
import { Attention, buildAttentionMask } from './components/attention.js';
import { Mlp } from './components/mlp.js';
import { PostLnBlock } from './components/post-ln-block.js';
import { linear } from './components/linear.js';
import { activation, type ActivationName } from './components/activations.js';
import { Unembed } from './components/unembed.js';
import { StackedWeights } from './tl-weights.js';
import { padSequences, prepareTokens, prepareTokensAsync, type PreparedTokens, type TokenInput, type TokenInputOptions } from './token-input.js';
import { requireTokenizer, strTokens, type LmTokenizer } from './text.js';
import type { BertConfig } from '../io/config/bert.js';
import type { BertWeights } from '../io/convert/bert.js';
import { InvalidArgumentError, ShapeMismatchError } from '../errors.js';

/** Token input of BERT: any `TokenInput`, or ids with an attention mask and token-type (segment) ids. */
export type BertInput =
  | TokenInput
  | {
      inputIds: tf.Tensor | readonly (readonly number[])[];
      attentionMask?: tf.Tensor | readonly (readonly number[])[];
      /** Segment ids `[batch, pos]` (default all 0). */
      tokenTypeIds?: tf.Tensor | readonly (readonly number[])[];
    };

/** Prepared BERT input: ids, optional padding mask, token-type ids. */
export interface PreparedBert extends PreparedTokens {
  tokenTypeIds?: tf.Tensor2D;
}

/** The MLM head `cls.predictions`: dense → activation → LayerNorm → tied decoder + bias. */
export class MlmHead extends HookedModule {
  readonly hookPre = new HookPoint(); // [batch, pos, dModel] dense output, before the activation
  readonly hookPost = new HookPoint(); // [batch, pos, dModel] after the activation
  readonly ln: LayerNorm;

  constructor(
    /** Dense `[dModel, dModel]` (input-major) and bias `[dModel]`. */
    readonly W: tf.Tensor2D,
    readonly b: tf.Tensor1D,
    readonly act: ActivationName,
    ln: LayerNorm,
    /** Decoder, vocab-major `[dVocab, dModel]` (tied: the word embeddings), with its bias `[dVocab]`. */
    readonly decoder: Unembed,
  ) {
    super();
    this.ln = ln;
  }

  /** `h [..., dModel]` → MLM logits `[..., dVocab]`. */
  forward(h: tf.Tensor, ctx: RunContext): tf.Tensor {
    const pre = ctx.apply(this.hookPre, linear(h, this.W, this.b));
    const post = ctx.apply(this.hookPost, activation(this.act, pre));
    return this.decoder.forward(this.ln.forward(post, ctx));
  }
}

/** BERT masked language model with hooks. */
export class HookedBert extends HookedTransformerRoot<BertInput, PreparedBert> implements LensModel {
  readonly residPrefix = '';
  readonly lensPositions = 'all' as const;
  readonly hookEmbed = new HookPoint(); // [batch, pos, dModel]
  readonly hookTokenTypeEmbed = new HookPoint(); // [batch, pos, dModel]
  readonly hookPosEmbed = new HookPoint(); // [batch, pos, dModel]
  readonly lnEmbed: LayerNorm;
  readonly blocks: PostLnBlock[];
  readonly mlmHead: MlmHead;
  /** Word embeddings `[dVocab, dModel]`. */
  readonly W_E: tf.Tensor2D;
  /** Position embeddings `[nCtx, dModel]`. */
  readonly W_pos: tf.Tensor2D;
  /** Token-type embeddings `[nTokenTypes, dModel]`. */
  readonly W_tokenType: tf.Tensor2D;
  protected readonly tlStack = new StackedWeights(() => this.blocks);
  /** Tokenizer for text input (set by `loadModel` when the checkpoint has one). Its `encode` should add [CLS]/[SEP]. */
  tokenizer?: LmTokenizer;

  constructor(
    readonly cfg: BertConfig,
    weights: BertWeights,
  ) {
    super();
    this.W_E = weights.W_E;
    this.W_pos = weights.W_pos;
    this.W_tokenType = weights.W_tokenType;
    this.lnEmbed = new LayerNorm(weights.lnEmbed.w, weights.lnEmbed.b, cfg.eps);
    this.blocks = weights.blocks.map(
      (w) =>
        new PostLnBlock({
          attn: new Attention(w.attn, cfg.nHeads),
          ln1: new LayerNorm(w.ln1.w, w.ln1.b, cfg.eps),
          mlp: new Mlp(w.mlp, cfg.act),
          ln2: new LayerNorm(w.ln2.w, w.ln2.b, cfg.eps),
        }),
    );
    const h = weights.head;
    this.mlmHead = new MlmHead(h.W, h.b, cfg.act, new LayerNorm(h.ln.w, h.ln.b, cfg.eps), new Unembed(h.decoder, h.decoderBias));
    this.hookPointMap();
  }

  /** Number of blocks. */
  get nLayers(): number {
    return this.cfg.nLayers;
  }


  /** MLM decoder as `[dModel, dVocab]` (a transposed copy of the tied word embeddings, built on first use). */
  get W_U(): tf.Tensor2D {
    return this.mlmHead.decoder.W_U;
  }

  /** MLM decoder bias `[dVocab]` (`cls.predictions.bias`). */
  get b_U(): tf.Tensor1D {
    return this.mlmHead.decoder.b_U;
  }

  /**
   * Lens readout (spec §10, no final LN in BERT): the full MLM head (dense, activation, LayerNorm, tied
   * decoder + bias) on any layer's state `[..., dModel]` → `[..., dVocab]`.
   */
  lensLogits(resid: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.mlmHead.forward(resid, NO_HOOKS));
  }

  /** Ids → text. */
  decode(ids: readonly number[]): string {
    return requireTokenizer(this).decode(ids);
  }

  /** Without ids: describes the model. With ids: `decode(ids)` (kept for compatibility; use `decode`). */
  override toString(ids?: readonly number[]): string {
    return ids ? this.decode(ids) : `HookedBert(${this.cfg.nLayers} layers, d=${this.cfg.dModel})`;
  }

  /** One string per token (each id decoded on its own). */
  toStrTokens(input: string | readonly number[]): string[] {
    return strTokens(requireTokenizer(this), input);
  }

  /** Tokenises text (the tokenizer's own [CLS]/[SEP]; several texts right-padded) → ids `[batch, pos]` and mask. The caller disposes `owned`. */
  toTokens(text: string | readonly string[]): PreparedBert {
    // text reaches no tensor input, so prepareTokens reads nothing from the device here
    return prepareTokens(this.rightPaddedText(typeof text === 'string' ? [text] : text), this.tokenOptions());
  }

  private tokenOptions(): TokenInputOptions {
    return { vocabSize: this.cfg.dVocab, maxPositions: this.cfg.nCtx, tokenizer: this.tokenizer, padId: this.cfg.padTokenId };
  }

  /** Checks the input; tensor ids, masks and token types are read from the device asynchronously (webgpu in Node has no synchronous read). */
  protected async prepare(input: BertInput): Promise<PreparedBert> {
    let tokenInput: TokenInput = input as TokenInput;
    if (typeof input === 'string' || (Array.isArray(input) && input.length > 0 && typeof input[0] === 'string')) {
      tokenInput = this.rightPaddedText(typeof input === 'string' ? [input] : (input as readonly string[]));
    }
    const prepared: PreparedBert = await prepareTokensAsync(tokenInput, this.tokenOptions());
    const types = typeof input === 'object' && !(input instanceof tf.Tensor) && !Array.isArray(input) ? (input as { tokenTypeIds?: tf.Tensor | readonly (readonly number[])[] }).tokenTypeIds : undefined;
    if (types === undefined) return prepared;
    try {
      let t: tf.Tensor;
      if (types instanceof tf.Tensor) t = types;
      else prepared.owned.push((t = tf.tensor2d(types as number[][], undefined, 'int32')));
      if (!tf.util.arraysEqual(t.shape, prepared.inputIds.shape)) throw new ShapeMismatchError('token type ids', `[${prepared.inputIds.shape.join(',')}] like the ids`, t.shape);
      if (t.dtype !== 'int32') prepared.owned.push((t = tf.cast(t, 'int32')));
      const values = await t.data();
      for (let i = 0; i < values.length; i++) {
        if (!Number.isInteger(values[i]) || values[i]! < 0 || values[i]! >= this.cfg.nTokenTypes) {
          throw new InvalidArgumentError(`token type id ${values[i]} at flat index ${i} is outside [0, ${this.cfg.nTokenTypes})`);
        }
      }
      prepared.tokenTypeIds = t as tf.Tensor2D;
      return prepared;
    } catch (err) {
      this.release(prepared);
      throw err;
    }
  }

  /** Tokenises texts and right-pads them (BERT's convention: positions always start at 0). */
  private rightPaddedText(texts: readonly string[]): { inputIds: number[][]; attentionMask?: number[][] } {
    if (!this.tokenizer) throw new InvalidArgumentError('text input needs a tokenizer, and this model has none', 'pass token ids, or load a checkpoint directory with tokenizer files');
    if (texts.length === 0) throw new InvalidArgumentError('text input is an empty list', 'pass at least one text');
    const seqs = texts.map((t) => this.tokenizer!.encode(t));
    if (seqs.some((s) => s.length === 0)) throw new InvalidArgumentError('an input text tokenised to zero tokens');
    const { ids, mask } = padSequences(seqs, { side: 'right', padId: this.cfg.padTokenId });
    return { inputIds: ids, attentionMask: mask };
  }

  protected release(prepared: PreparedBert): void {
    for (const t of prepared.owned) t.dispose();
  }

  protected get stack(): readonly PostLnBlock[] {
    return this.blocks;
  }

  protected get finalNorm(): undefined {
    return undefined;
  }

  protected embedPrepared(p: PreparedBert, ctx: RunContext): Embedded {
    const [batch, pos] = p.inputIds.shape;
    const embed = ctx.apply(this.hookEmbed, tf.gather(this.W_E, p.inputIds));
    const tokenTypes = p.tokenTypeIds ?? tf.zeros([batch, pos], 'int32');
    const typeEmbed = ctx.apply(this.hookTokenTypeEmbed, tf.gather(this.W_tokenType, tokenTypes));
    const posEmbed = ctx.apply(this.hookPosEmbed, tf.broadcastTo(tf.slice(this.W_pos, [0, 0], [pos, this.cfg.dModel]), [batch, pos, this.cfg.dModel]));
    const resid = this.lnEmbed.forward(tf.add(tf.add(embed, typeEmbed), posEmbed), ctx);
    return { resid, inputs: { mask: buildAttentionMask(pos, { causal: false, attentionMask: p.attentionMask }) } };
  }

  protected head(resid: tf.Tensor, _p: PreparedBert, ctx: RunContext): tf.Tensor {
    return this.mlmHead.forward(resid, ctx);
  }

  /** Frees every weight tensor. */
  override dispose(): void {
    this.tlStack.dispose();
    super.dispose();
  }
}
