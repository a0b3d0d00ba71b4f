/**
 * Benchmark inputs and the calls that are timed: random token ids / pixels / log-mel features of the
 * requested shape, the plain forward, the cached forward, and the block stacks whose blocks are
 * replayed one by one.
 */
import * as tf from '@tensorflow/tfjs-core';
import { CausalLmRoot } from '../nn/causal-lm.js';
import { HookedViT } from '../nn/vit.js';
import { HookedWhisper } from '../nn/whisper.js';
import { buildAttentionMask, type AttentionMask } from '../nn/components/attention.js';
import type { TransformerBlock } from '../nn/components/block.js';
import type { RotaryBlock } from '../nn/components/rotary-block.js';
import type { CacheRun, NamesFilter } from '../nn/hooked-root.js';
import { createRng } from '../math/rng.js';
import { InvalidArgumentError } from '../errors.js';
import type { BenchTarget } from './targets.js';

/** Input shape of a run. */
export interface WorkloadShape {
  batch: number;
  /** Token positions (GPT-2, Whisper decoder); ignored by ViT. */
  seq: number;
  /** Seed of the random inputs (default 0). */
  seed?: number;
}

/** A stack of blocks the benchmark replays (GPT-2 and ViT have one, Whisper an encoder and a decoder stack). */
export interface BlockStack {
  /** Hook-name prefix: `''`, `'encoder.'` or `'decoder.'`. */
  prefix: string;
  blocks: readonly (TransformerBlock | RotaryBlock)[];
  /** Positions one block call processes: batch × sequence length. */
  tokens: number;
  /** Self-attention mask (causal stacks), built once and disposed with the workload. */
  mask?: AttentionMask;
  /** Cross-attention input `[batch, srcPos, dModel]` (Whisper decoder: the encoder output). */
  crossInput?: tf.Tensor;
}

/** What a benchmark times for one target and input shape. */
export interface Workload {
  /** Positions the blocks process per input item. */
  tokensPerItem: number;
  /** Input items per call (the batch). */
  items: number;
  /** Plain forward pass (no hooks); the caller disposes the output. */
  forward(): Promise<tf.Tensor>;
  /** Forward pass keeping the activations `filter` selects. */
  runWithCache(filter: NamesFilter): Promise<CacheRun>;
  /** All hook names of the model. */
  hookNames(): string[];
  /** Block stacks, in forward order (built on first call: the Whisper decoder stack runs the encoder once). */
  stacks(): BlockStack[];
  /** Frees the inputs, masks and encoder output (not the model). */
  dispose(): void;
}

function randomIds(batch: number, seq: number, vocab: number, seed: number): tf.Tensor2D {
  const rng = createRng(seed);
  const ids = new Int32Array(batch * seq);
  for (let i = 0; i < ids.length; i++) ids[i] = rng.uniformInt(vocab);
  return tf.tensor2d(ids, [batch, seq], 'int32');
}

function checkShape(shape: WorkloadShape, maxSeq: number | undefined, what: string): void {
  if (!Number.isInteger(shape.batch) || shape.batch <= 0) throw new InvalidArgumentError(`--batch ${shape.batch} is not a positive integer`);
  if (maxSeq !== undefined && (!Number.isInteger(shape.seq) || shape.seq <= 0 || shape.seq > maxSeq)) {
    throw new InvalidArgumentError(`--seq ${shape.seq} is outside 1..${maxSeq} (${what})`);
  }
}

/** Random inputs of `shape` for `target` and the timed calls on them. */
export function makeWorkload(target: BenchTarget, shape: WorkloadShape): Workload {
  const { batch, seq } = shape;
  const seed = shape.seed ?? 0;
  const model = target.model;
  const owned: tf.Tensor[] = [];
  let stacks: BlockStack[] | undefined;
  const common = {
    items: batch,
    hookNames: () => model.hookNames(),
    dispose: () => {
      for (const t of owned) t.dispose();
      for (const s of stacks ?? []) s.mask?.additive.dispose();
      stacks = undefined;
    },
  };
  const causal = (pos: number) => tf.tidy(() => {
    const mask = buildAttentionMask(pos, { causal: true })!;
    return { additive: tf.keep(mask.additive), hasEmptyRows: mask.hasEmptyRows };
  });
  if (model instanceof CausalLmRoot) {
    checkShape(shape, model.cfg.nCtx, "the model's n_positions / max_position_embeddings");
    const ids = randomIds(batch, seq, model.cfg.dVocab, seed);
    owned.push(ids);
    return {
      ...common,
      tokensPerItem: seq,
      forward: () => model.forward(ids),
      runWithCache: (filter) => model.runWithCache(ids, { namesFilter: filter }),
      stacks: () => (stacks ??= [{ prefix: '', blocks: model.blocks, tokens: batch * seq, mask: causal(seq) }]),
    };
  }
  if (model instanceof HookedViT) {
    checkShape(shape, undefined, '');
    const { numChannels, imageHeight, imageWidth } = model.cfg;
    const pixels = tf.randomNormal([batch, numChannels, imageHeight, imageWidth], 0, 1, 'float32', seed) as tf.Tensor4D;
    owned.push(pixels);
    const positions = model.cfg.nPatches + 1;
    return {
      ...common,
      tokensPerItem: positions,
      forward: () => model.forward(pixels),
      runWithCache: (filter) => model.runWithCache(pixels, { namesFilter: filter }),
      stacks: () => (stacks ??= [{ prefix: '', blocks: model.blocks, tokens: batch * positions }]),
    };
  }
  if (model instanceof HookedWhisper) {
    checkShape(shape, model.cfg.maxTargetPositions, "the model's max_target_positions");
    const cfg = model.cfg;
    const features = tf.randomNormal([batch, cfg.nMels, 2 * cfg.maxSourcePositions], 0, 1, 'float32', seed) as tf.Tensor3D;
    const ids = randomIds(batch, seq, cfg.dVocab, seed + 1);
    owned.push(features, ids);
    const input = { inputFeatures: features, decoderInputIds: ids };
    return {
      ...common,
      tokensPerItem: cfg.maxSourcePositions + seq,
      forward: () => model.forward(input),
      runWithCache: (filter) => model.runWithCache(input, { namesFilter: filter }),
      stacks: () => {
        if (!stacks) {
          const encoderOut = model.encode(features);
          owned.push(encoderOut);
          stacks = [
            { prefix: 'encoder.', blocks: model.encoder.blocks, tokens: batch * cfg.maxSourcePositions },
            { prefix: 'decoder.', blocks: model.decoder.blocks, tokens: batch * seq, mask: causal(seq), crossInput: encoderOut },
          ];
        }
        return stacks;
      },
    };
  }
  throw new InvalidArgumentError('bench: unsupported model class');
}
