/**
 * HookedViT: `ViTForImageClassification` reimplemented in tfjs with TransformerLens hooks. The blocks are
 * the shared pre-LN `TransformerBlock` (no causal mask, exact GELU); the patch convolution is an exact
 * reshape-into-patches + matmul. The forward pass returns class logits `[batch, numLabels]`, read from
 * the CLS position (index 0) after the final layer norm.
 *
 * Hooks (forward order): `hook_patch_embed` `[B, P, d]` (patch projection, before CLS and positions),
 * per block `blocks.{i}.hook_resid_pre` (block 0: CLS + patches + positions) … `hook_resid_post` exactly as
 * GPT-2, then `ln_final.hook_scale` / `ln_final.hook_normalized` (all positions). See docs/models/vit.md.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Embedded } from './hooked-root.js';
import { HookedTransformerRoot } from './hooked-transformer.js';
import { HookPoint, NO_HOOKS, type RunContext } from './hook-point.js';
import type { LensModel, OriginalProbeFeatures } from './lens-model.js';
import { LayerNorm } from './components/layer-norm.js';
import { Attention } from './components/attention.js';
import { Mlp } from './components/mlp.js';
import { TransformerBlock } from './components/block.js';
import { PatchEmbed } from './components/patch-embed.js';
import { linear } from './components/linear.js';
import { StackedWeights } from './tl-weights.js';
import type { ViTConfig } from '../io/config/vit.js';
import type { ViTWeights } from '../io/convert/vit.js';
import { InvalidArgumentError, ShapeMismatchError } from '../errors.js';

/** Pixel input: a `[batch, channels, H, W]` float tensor, the same as typed array + shape, or `{ pixelValues }`. */
export type ImageInput =
  | tf.Tensor
  | { data: Float32Array; shape: readonly [number, number, number, number] }
  | { pixelValues: tf.Tensor };

/** Pixels ready for the forward pass. */
export interface PreparedImage {
  /** `[batch, channels, H, W]` float32. */
  pixels: tf.Tensor4D;
  /** Tensors created by `prepare` (freed after the run); user tensors are never disposed. */
  owned: tf.Tensor[];
}

/** ViT image classifier with hooks. */
export class HookedViT extends HookedTransformerRoot<ImageInput, PreparedImage> implements LensModel {
  readonly residPrefix = '';
  readonly lensPositions = 'cls' as const;
  readonly originalProbeFeatures: OriginalProbeFeatures = { below: 'lnFinal', last: 'resid' };
  readonly patchEmbed: PatchEmbed;
  readonly hookPatchEmbed = new HookPoint(); // [batch, nPatches, dModel]
  readonly blocks: TransformerBlock[];
  readonly lnFinal: LayerNorm;
  /** CLS token `[dModel]`. */
  readonly clsToken: tf.Tensor1D;
  /** Position embeddings `[nPatches + 1, dModel]` (row 0 = CLS). */
  readonly W_pos: tf.Tensor2D;
  /** Classifier `[dModel, numLabels]` (input-major). */
  readonly W_cls: tf.Tensor2D;
  /** Classifier bias `[numLabels]`. */
  readonly b_cls: tf.Tensor1D;
  protected readonly tlStack = new StackedWeights(() => this.blocks);

  constructor(
    readonly cfg: ViTConfig,
    weights: ViTWeights,
  ) {
    super();
    this.patchEmbed = PatchEmbed.fromConv2d(weights.patch.weight, weights.patch.bias);
    weights.patch.weight.dispose();
    this.clsToken = weights.clsToken;
    this.W_pos = weights.W_pos;
    this.blocks = weights.blocks.map(
      (w) =>
        new TransformerBlock({
          ln1: new LayerNorm(w.ln1.w, w.ln1.b, cfg.eps),
          attn: new Attention(w.attn, cfg.nHeads),
          ln2: new LayerNorm(w.ln2.w, w.ln2.b, cfg.eps),
          mlp: new Mlp(w.mlp, cfg.act),
        }),
    );
    this.lnFinal = new LayerNorm(weights.lnFinal.w, weights.lnFinal.b, cfg.eps);
    this.W_cls = weights.classifier.W;
    this.b_cls = weights.classifier.b;
    this.hookPointMap();
  }

  /** Number of blocks. */
  get nLayers(): number {
    return this.cfg.nLayers;
  }

  /** Class index → label, from the config's `id2label`. */
  get id2label(): readonly string[] {
    return this.cfg.id2label;
  }


  /** The classifier alone: `normalized [..., dModel]` (after the final LN) → logits `[..., numLabels]`. */
  classify(normalized: tf.Tensor): tf.Tensor {
    return linear(normalized, this.W_cls, this.b_cls);
  }

  /**
   * Lens readout: final layer norm (with this input's own statistics) then the classifier, on any
   * residual state `[..., dModel]` → `[..., numLabels]`. The ViT lens reads the CLS position only:
   * pass `resid[:, 0]` (`[batch, dModel]`) to get `[batch, numLabels]`.
   */
  lensLogits(resid: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.classify(this.lnFinal.forward(resid, NO_HOOKS)));
  }

  override toString(): string {
    return `HookedViT(${this.cfg.nLayers} layers, d=${this.cfg.dModel}, ${this.cfg.imageHeight}×${this.cfg.imageWidth}/${this.cfg.patchSize}, ${this.cfg.numLabels} classes)`;
  }

  protected prepare(input: ImageInput): PreparedImage {
    const owned: tf.Tensor[] = [];
    let pixels: tf.Tensor;
    if (input instanceof tf.Tensor) pixels = input;
    else if ('pixelValues' in input && input.pixelValues instanceof tf.Tensor) pixels = input.pixelValues;
    else if ('data' in input && input.data instanceof Float32Array && Array.isArray(input.shape)) {
      const shape = [...input.shape];
      if (shape.length !== 4 || shape.reduce((a, b) => a * b, 1) !== input.data.length) {
        throw new ShapeMismatchError('pixel values (typed array)', `a [batch, channels, H, W] shape with ${input.data.length} elements`, shape);
      }
      owned.push((pixels = tf.tensor4d(input.data, shape as [number, number, number, number])));
    } else {
      throw new InvalidArgumentError('ViT input must be a [batch, channels, H, W] tensor, { data: Float32Array, shape }, or { pixelValues }');
    }
    const { numChannels: c, imageHeight: h, imageWidth: w } = this.cfg;
    if (pixels.rank === 3) owned.push((pixels = tf.expandDims(pixels, 0)));
    if (pixels.rank !== 4 || pixels.shape[1] !== c || pixels.shape[2] !== h || pixels.shape[3] !== w) {
      throw new ShapeMismatchError('pixel values', `[batch, ${c}, ${h}, ${w}] (the config's image_size; resize with vitPixelValues)`, pixels.shape);
    }
    if (pixels.dtype !== 'float32') owned.push((pixels = tf.cast(pixels, 'float32')));
    return { pixels: pixels as tf.Tensor4D, owned };
  }

  protected release(prepared: PreparedImage): void {
    for (const t of prepared.owned) t.dispose();
  }

  protected get stack(): readonly TransformerBlock[] {
    return this.blocks;
  }

  protected get finalNorm(): LayerNorm {
    return this.lnFinal;
  }

  protected embedPrepared(p: PreparedImage, ctx: RunContext): Embedded {
    const batch = p.pixels.shape[0];
    const d = this.cfg.dModel;
    const patches = ctx.apply(this.hookPatchEmbed, this.patchEmbed.forward(p.pixels));
    const cls = tf.broadcastTo(tf.reshape(this.clsToken, [1, 1, d]), [batch, 1, d]);
    return { resid: tf.add(tf.concat([cls, patches], 1), this.W_pos), inputs: {} };
  }

  protected head(resid: tf.Tensor, p: PreparedImage, ctx: RunContext): tf.Tensor {
    const batch = p.pixels.shape[0];
    const d = this.cfg.dModel;
    const normalized = this.lnFinal.forward(resid, ctx);
    const clsState = tf.reshape(tf.slice(normalized, [0, 0, 0], [batch, 1, d]), [batch, d]);
    return this.classify(clsState);
  }

  /** Frees every weight tensor. */
  override dispose(): void {
    this.tlStack.dispose();
    super.dispose();
  }
}
