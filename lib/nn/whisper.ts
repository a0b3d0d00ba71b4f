/**
 * HookedWhisper: `WhisperForConditionalGeneration` reimplemented in tfjs with hooks. Encoder and decoder
 * use the shared pre-LN `TransformerBlock` (decoder blocks with cross-attention); the two-convolution
 * stem is an im2col `Conv1d`. The forward pass returns decoder logits `[batch, decPos, dVocab]`.
 *
 * Hook names follow the field tree: `encoder.hook_conv1`, `encoder.hook_conv2` (`[B, d, frames]`, conv
 * outputs before GELU), `encoder.blocks.{i}.*`, `encoder.ln_final.*`, then `decoder.hook_embed`,
 * `decoder.hook_pos_embed`, `decoder.blocks.{i}.*` (with `ln_cross.*`, `cross_attn.*`,
 * `hook_cross_attn_out`, `hook_resid_mid_cross`), `decoder.ln_final.*`. See docs/models/whisper.md.
 *
 * Many decoder runs can share one encoder pass: `encode(features)` then `forward({ encoderOutput,
 * decoderInputIds })` (the encoder hooks do not fire in such runs).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Embedded } from './hooked-root.js';
import { HookedTransformerRoot } from './hooked-transformer.js';
import { HookedModule } from './hooked-module.js';
import { HookPoint, NO_HOOKS, type RunContext } from './hook-point.js';
import type { LensModel, OriginalProbeFeatures } from './lens-model.js';
import { requireTokenizer, strTokens } from './text.js';
import { InvalidArgumentError } from '../errors.js';
import { LayerNorm } from './components/layer-norm.js';
import { Attention, buildAttentionMask } from './components/attention.js';
import { Mlp } from './components/mlp.js';
import { TransformerBlock } from './components/block.js';
import { Conv1d } from './components/conv-stem.js';
import { activation, type ActivationName } from './components/activations.js';
import { Unembed } from './components/unembed.js';
import { StackedWeights, type StackedWeightName } from './tl-weights.js';
import type { WhisperConfig } from '../io/config/whisper.js';
import type { WhisperBlockWeights, WhisperWeights } from '../io/convert/whisper.js';
import type { Tokenizer } from '../data/tokenizer-types.js';
import { prepareFeatures, prepareWhisperInput, type FeatureInput, type PreparedWhisper, type WhisperInput } from './whisper-input.js';
import { greedyGenerate, type WhisperGenerateOptions } from './whisper-generate.js';
import { applyTokenHook } from './input-checks.js';

export type { FeatureInput, DecoderIds, WhisperInput, PreparedWhisper } from './whisper-input.js';
export type { WhisperGenerateOptions } from './whisper-generate.js';

function block(w: WhisperBlockWeights, nHeads: number, eps: number, act: ActivationName): TransformerBlock {
  return new TransformerBlock({
    ln1: new LayerNorm(w.ln1.w, w.ln1.b, eps),
    attn: new Attention(w.attn, nHeads),
    ln2: new LayerNorm(w.ln2.w, w.ln2.b, eps),
    mlp: new Mlp(w.mlp, act),
    cross: w.crossAttn && w.lnCross ? { lnCross: new LayerNorm(w.lnCross.w, w.lnCross.b, eps), crossAttn: new Attention(w.crossAttn, nHeads) } : undefined,
  });
}

/** Transposes `[batch, a, b]` → `[batch, b, a]` only when someone reads or patches the hook (it wants channels first). */
function applyChannelsFirst(ctx: RunContext, point: HookPoint, channelsLast: tf.Tensor): tf.Tensor {
  if (!ctx.wants(point.name)) return channelsLast;
  const hooked = ctx.apply(point, tf.transpose(channelsLast, [0, 2, 1]));
  return tf.transpose(hooked, [0, 2, 1]);
}

/** The audio encoder: conv stem, positions, pre-LN blocks, final LN. */
export class WhisperEncoder extends HookedModule {
  readonly conv1: Conv1d;
  readonly hookConv1 = new HookPoint(); // [batch, dModel, frames] before GELU
  readonly conv2: Conv1d;
  readonly hookConv2 = new HookPoint(); // [batch, dModel, frames/2] before GELU
  readonly blocks: TransformerBlock[];
  readonly lnFinal: LayerNorm;
  /** Sinusoidal positions `[maxSourcePositions, dModel]`. */
  readonly W_pos: tf.Tensor2D;

  constructor(
    private readonly cfg: WhisperConfig,
    w: WhisperWeights['encoder'],
  ) {
    super();
    this.conv1 = Conv1d.fromTorch(w.conv1.weight, w.conv1.bias, 1, 1);
    this.conv2 = Conv1d.fromTorch(w.conv2.weight, w.conv2.bias, 2, 1);
    w.conv1.weight.dispose();
    w.conv2.weight.dispose();
    this.blocks = w.blocks.map((b) => block(b, cfg.encoderHeads, cfg.eps, cfg.act));
    this.lnFinal = new LayerNorm(w.lnFinal.w, w.lnFinal.b, cfg.eps);
    this.W_pos = w.W_pos;
  }

  /** `features [batch, nMels, frames]` → encoder output `[batch, frames/2, dModel]` (after the final LN). */
  forward(features: tf.Tensor3D, ctx: RunContext): tf.Tensor3D {
    const channelsLast = tf.transpose(features, [0, 2, 1]);
    const conv1 = applyChannelsFirst(ctx, this.hookConv1, this.conv1.forward(channelsLast));
    const conv2 = applyChannelsFirst(ctx, this.hookConv2, this.conv2.forward(activation(this.cfg.act, conv1)));
    const srcPos = conv2.shape[1]!;
    let resid = tf.add(activation(this.cfg.act, conv2), tf.slice(this.W_pos, [0, 0], [srcPos, this.cfg.dModel]));
    for (const [i, b] of this.blocks.entries()) {
      const x = resid;
      resid = ctx.block(() => ctx.call(b, x, () => b.forward(x, undefined, ctx)));
      if (i > 0 && resid !== x) ctx.release(x); // the previous block's output
    }
    return this.lnFinal.forward(resid, ctx) as tf.Tensor3D;
  }
}

/** The text decoder: token + learned position embeddings, pre-LN blocks with cross-attention, final LN, tied unembedding. */
export class WhisperDecoder extends HookedModule {
  readonly hookTokens = new HookPoint(); // [batch, pos] int32 decoder token ids (opt-in)
  readonly hookEmbed = new HookPoint(); // [batch, pos, dModel]
  readonly hookPosEmbed = new HookPoint(); // [batch, pos, dModel]
  readonly blocks: TransformerBlock[];
  readonly lnFinal: LayerNorm;
  readonly hookUnembedIn = new HookPoint('unembed.hook_in'); // [batch, pos, dModel] ln_final output (opt-in)
  readonly hookUnembedOut = new HookPoint('unembed.hook_out'); // [batch, pos, dVocab] logits (opt-in)
  /** Token embedding `[dVocab, dModel]`. */
  readonly W_E: tf.Tensor2D;
  /** Learned positions `[maxTargetPositions, dModel]`. */
  readonly W_pos: tf.Tensor2D;
  /** Unembedding (`proj_out`, the same tensor as `W_E` when tied; no bias). */
  readonly unembedding: Unembed;

  constructor(
    private readonly cfg: WhisperConfig,
    w: WhisperWeights['decoder'],
  ) {
    super();
    this.blocks = w.blocks.map((b) => block(b, cfg.decoderHeads, cfg.eps, cfg.act));
    this.lnFinal = new LayerNorm(w.lnFinal.w, w.lnFinal.b, cfg.eps);
    this.W_E = w.W_E;
    this.W_pos = w.W_pos;
    this.unembedding = new Unembed(w.unembed);
  }

  /** TransformerLens 3.x names of the head: `ln_final.hook_in` is the last block's output, `ln_final.hook_out` what the unembedding reads. */
  override canonicalHooks(): Record<string, HookPoint | undefined> {
    return { 'ln_final.hook_in': this.blocks.at(-1)?.hookResidPost, 'ln_final.hook_out': this.hookUnembedIn };
  }

  /** `normalized [..., dModel]` (after the final LN) → logits `[..., dVocab]` (`proj_out`, no bias). */
  unembed(normalized: tf.Tensor): tf.Tensor {
    return this.unembedding.forward(normalized);
  }

  /** `ids [batch, pos]` → h_0 `[batch, pos, dModel]` (token embedding, scaled when configured, + positions). */
  embed(ids: tf.Tensor2D, ctx: RunContext): tf.Tensor {
    const [batch, pos] = ids.shape;
    let tokens = tf.gather(this.W_E, applyTokenHook(ctx, this.hookTokens, ids, this.W_E.shape[0]));
    if (this.cfg.scaleEmbedding) tokens = tf.mul(tokens, Math.sqrt(this.cfg.dModel));
    const embed = ctx.apply(this.hookEmbed, tokens);
    const posEmbed = ctx.apply(this.hookPosEmbed, tf.broadcastTo(tf.slice(this.W_pos, [0, 0], [pos, this.cfg.dModel]), [batch, pos, this.cfg.dModel]));
    return tf.add(embed, posEmbed);
  }
}

/** Whisper speech-to-text model with hooks. */
export class HookedWhisper extends HookedTransformerRoot<WhisperInput, PreparedWhisper> implements LensModel {
  readonly residPrefix = 'decoder.';
  readonly lensPositions = 'all' as const;
  readonly originalProbeFeatures: OriginalProbeFeatures = { below: 'lnFinal', last: 'lnFinal' };
  readonly encoder: WhisperEncoder;
  readonly decoder: WhisperDecoder;
  private readonly stackedDecoder: StackedWeights;
  private readonly stackedEncoder: StackedWeights;
  /** The checkpoint's tokenizer (`tokenizer.json`), set by `loadModel` when present. */
  tokenizer?: Tokenizer;
  private readonly stackedCross: StackedWeights;

  constructor(
    readonly cfg: WhisperConfig,
    weights: WhisperWeights,
  ) {
    super();
    this.encoder = new WhisperEncoder(cfg, weights.encoder);
    this.decoder = new WhisperDecoder(cfg, weights.decoder);
    this.stackedDecoder = new StackedWeights(() => this.decoder.blocks);
    this.stackedEncoder = new StackedWeights(() => this.encoder.blocks);
    this.stackedCross = new StackedWeights(() => this.decoder.blocks.map((b) => ({ attn: b.crossAttn!, mlp: b.mlp })));
    this.hookPointMap();
  }

  /** Number of decoder blocks (the lensed stack). The encoder has `cfg.encoderLayers`. */
  get nLayers(): number {
    return this.cfg.nLayers;
  }

  /** The TransformerLens weight views (`W_Q`, `weight(name)`, …) describe the decoder's self-attention and MLPs. */
  protected get tlStack(): StackedWeights {
    return this.stackedDecoder;
  }
  /** Stacked weights of the encoder blocks. */
  encoderWeight(name: StackedWeightName): tf.Tensor {
    return this.stackedEncoder.get(name);
  }
  /** Stacked weights of the decoder's cross-attention (`W_Q`, `W_K`, `W_V`, `W_O`, biases; `b_K` is zeros). */
  crossWeight(name: Exclude<StackedWeightName, 'W_in' | 'W_out' | 'b_in' | 'b_out'>): tf.Tensor {
    return this.stackedCross.get(name);
  }

  /** Decoder token embedding `[dVocab, dModel]`. */
  get W_E(): tf.Tensor2D {
    return this.decoder.W_E;
  }

  /** Decoder position embedding `[maxTargetPositions, dModel]`. */
  get W_pos(): tf.Tensor2D {
    return this.decoder.W_pos;
  }

  /** Unembedding `[dModel, dVocab]` (a transposed copy of `proj_out`, built on first use). */
  get W_U(): tf.Tensor2D {
    return this.decoder.unembedding.W_U;
  }

  /** Unembedding bias `[dVocab]` (Whisper has none: zeros). */
  get b_U(): tf.Tensor1D {
    return this.decoder.unembedding.b_U;
  }

  /** Lens readout on decoder states: `decoder.layer_norm` (own statistics) then `proj_out`. `[..., dModel]` → `[..., dVocab]`. */
  lensLogits(resid: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.decoder.unembed(this.decoder.lnFinal.forward(resid, NO_HOOKS)));
  }

  /**
   * Runs the encoder alone (no hooks): `features [batch, nMels, frames]` → `[batch, frames/2, dModel]`
   * (after the encoder's final LN). Caller disposes the result; pass it as `{ encoderOutput }`.
   */
  encode(features: FeatureInput): tf.Tensor3D {
    const owned: tf.Tensor[] = [];
    try {
      const x = prepareFeatures(features, this.cfg, owned);
      return tf.tidy(() => this.encoder.forward(x, NO_HOOKS));
    } finally {
      for (const t of owned) t.dispose();
    }
  }

  /**
   * Greedy decoding (`greedyGenerate`): encodes once, then re-runs the decoder on the whole prefix at
   * every step. Returns one id list per batch row, starting with the forced prefix.
   */
  async generate(features: FeatureInput, opts: WhisperGenerateOptions = {}): Promise<number[][]> {
    return greedyGenerate(this, features, opts);
  }

  /** Decoder ids → text (needs the checkpoint's tokenizer). */
  decode(ids: readonly number[]): string {
    return requireTokenizer(this).decode(ids);
  }

  /**
   * Transcript text → decoder ids `[batch, decPos]`: the decoder prompt (default `[decoder_start_token_id]`,
   * e.g. `<|startoftranscript|>`; pass `prefix` for language/task tokens) followed by the text's tokens.
   * Several texts must tokenise to the same length (the decoder takes no padding mask). Ids are checked
   * against the vocabulary and the length against `max_target_positions`; nothing is truncated.
   */
  toTokens(text: string | readonly string[], opts: { prefix?: readonly number[] } = {}): number[][] {
    const tokenizer = requireTokenizer(this);
    const texts = typeof text === 'string' ? [text] : [...text];
    if (texts.length === 0) throw new InvalidArgumentError('toTokens needs at least one text');
    const prefix = [...(opts.prefix ?? [this.cfg.decoderStartTokenId])];
    const rows = texts.map((t) => {
      if (typeof t !== 'string') throw new InvalidArgumentError(`toTokens takes text, got ${typeof t}`);
      return [...prefix, ...tokenizer.encode(t)];
    });
    for (const id of rows.flat()) {
      if (!Number.isInteger(id) || id < 0 || id >= this.cfg.dVocab) throw new InvalidArgumentError(`decoder id ${id} is outside the vocabulary 0..${this.cfg.dVocab - 1}`);
    }
    const lengths = new Set(rows.map((r) => r.length));
    if (lengths.size > 1) throw new InvalidArgumentError(`the texts tokenise to different lengths (${[...lengths].join(', ')})`, 'the Whisper decoder takes no padding mask: pass texts one at a time');
    const n = rows[0]!.length;
    if (n > this.cfg.maxTargetPositions) throw new InvalidArgumentError(`${n} decoder tokens exceed max_target_positions ${this.cfg.maxTargetPositions}`, 'nothing is truncated: shorten the transcript');
    return rows;
  }

  /** One string per decoder token (each id decoded on its own). */
  toStrTokens(input: string | readonly number[]): string[] {
    return strTokens(requireTokenizer(this), input);
  }

  override toString(): string {
    return `HookedWhisper(${this.cfg.encoderLayers}+${this.cfg.nLayers} layers, d=${this.cfg.dModel}, ${this.cfg.nMels} mels)`;
  }

  protected prepare(input: WhisperInput): Promise<PreparedWhisper> {
    return prepareWhisperInput(input, this.cfg);
  }

  protected release(prepared: PreparedWhisper): void {
    for (const t of prepared.owned) t.dispose();
  }

  protected get stack(): readonly TransformerBlock[] {
    return this.decoder.blocks;
  }

  protected get finalNorm(): LayerNorm {
    return this.decoder.lnFinal;
  }

  protected embedPrepared(p: PreparedWhisper, ctx: RunContext): Embedded {
    const encoderOut = p.encoderOutput ?? this.encoder.forward(p.features!, ctx);
    const pos = p.decoderInputIds.shape[1];
    return { resid: this.decoder.embed(p.decoderInputIds, ctx), inputs: { mask: buildAttentionMask(pos, { causal: true }), encoderOut } };
  }

  protected head(resid: tf.Tensor, _p: PreparedWhisper, ctx: RunContext): tf.Tensor {
    const { decoder } = this;
    return ctx.apply(decoder.hookUnembedOut, decoder.unembed(ctx.apply(decoder.hookUnembedIn, decoder.lnFinal.forward(resid, ctx))));
  }

  /** Frees every weight tensor. */
  override dispose(): void {
    this.stackedDecoder.dispose();
    this.stackedEncoder.dispose();
    this.stackedCross.dispose();
    super.dispose();
  }
}
