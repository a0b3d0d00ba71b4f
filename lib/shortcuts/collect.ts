/**
 * `collectStates`: the hidden states of the mat pipeline (docs/methods.md §7, §8, §10) at one sampled
 * position per sentence. Samples are run in right-padded batches (GPT-2: the prefix x_0 … x_t; BERT: the
 * whole sentence with x_t replaced by [MASK]); the model's blocks (`model.runBlocks`) run with hooks that reduce every
 * activation to the sampled position **inside the hook** (`tf.gatherND`), so at most one batch of full
 * activations `[B, T, d]` exists at a time and what is kept per sample is `[d]` per state.
 *
 * What is collected per sample:
 * - `states[ℓ]`, ℓ = 0 … L: h_0 = `blocks.0.hook_resid_pre`, h_ℓ = `blocks.{ℓ−1}.hook_resid_post`
 *   (before the final LN; the model's unembedding is never run).
 * - with `registries` (pre-norm decoders: GPT-2, the Llama family), per block b the seven registries of §8:
 *   0 block input (`hook_resid_pre`), 1 ln_1 output with gain and bias (`ln1.hook_normalized`·w + b; RMS norms: ·gain),
 *   2 attention output (`hook_attn_out`), 3 = 0 + 2 (`hook_resid_mid`), 4 ln_2 output with gain and bias,
 *   5 MLP output (`hook_mlp_out`), 6 = 3 + 5 (`hook_resid_post`). Registries 0 and 6 are the same
 *   arrays as `states[b]` and `states[b+1]`.
 *
 * Where results go (any combination): `onBatch` (e.g. a `ShortcutAccumulator`, memory independent of
 * the number of samples), host buffers in the result (`keep`, default true; N·d floats per state), and
 * a `ShardedCacheWriter` (`writer`).
 */
import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError } from '../errors.js';
import { TransformerBlock } from '../nn/components/block.js';
import type { PostLnBlock } from '../nn/components/post-ln-block.js';
import { RotaryBlock } from '../nn/components/rotary-block.js';
import { LayerNorm } from '../nn/components/layer-norm.js';
import type { RmsNorm } from '../nn/components/rms-norm.js';
import type { HookFn, HookPoint } from '../nn/hook-point.js';
import type { ShardedCacheWriter } from '../io/cache-writer.js';
import { batchGroups, buildBatch, checkSamples, deviceBatch, matModelInfo, type BatchOptions, type MatModel } from './model-adapter.js';

/** What each of the seven registries of a block holds (index = registry number of §8). */
export const REGISTRY_NAMES: readonly string[] = Object.freeze(['block input', 'ln_1 output', 'attention output', 'block input + attention output', 'ln_2 output', 'MLP output', 'block output']);

/** States of one batch, handed to `onBatch`. Arrays are owned by the receiver. */
export interface StateBatch {
  /** `[B]` sample indices (into the sentence list) of the rows. */
  indices: Int32Array;
  /** `[B]` sampled positions t of the rows. */
  positions: Int32Array;
  /** L+1 arrays `[B, dModel]`: h_ℓ at t, ℓ = 0 … L. */
  states: Float32Array[];
  /** With `registries`: L × 7 arrays `[B, dModel]` (`[b][0]` is `states[b]`, `[b][6]` is `states[b+1]`). */
  registries?: Float32Array[][];
}

/** Options of `collectStates`. */
export interface CollectStatesOptions extends BatchOptions {
  /** Samples per forward pass (bounds memory: one batch of activations `[B, T, d]`). Default 16. */
  batchSize?: number;
  /** Also collect the sub-module registries 0 … 6 of every block (GPT-2 only). Default false. */
  registries?: boolean;
  /** Called with every batch, in run order (awaited before the next batch starts). */
  onBatch?: (batch: StateBatch) => void | Promise<void>;
  /** Keep all states in host buffers in the result (N·d floats per state). Default true. */
  keep?: boolean;
  /**
   * Also stream to an activation cache on disk: entries `h.{ℓ}` `[N, d]`, with registries
   * `blocks.{b}.registry.{a}` `[N, d]` for a = 1 … 5, and `sample_index` / `position` `[N]` int32
   * (rows are in run order; `sample_index` maps them back). The caller closes the writer.
   */
  writer?: ShardedCacheWriter;
  /** Order samples by input length so batches pad little (default true). */
  sortByLength?: boolean;
  /**
   * Run only batches start … end−1 of the full batch plan (`stateBatchCount` of them): a shard of a
   * sharded run. Every sample is then computed in the same batch as in the whole run, so its states are
   * the same numbers. Default: all batches.
   */
  batches?: { start: number; end: number };
}

/** Result of `collectStates`. */
export interface CollectedStates {
  nSamples: number;
  nLayers: number;
  dModel: number;
  /** `[N]` sampled positions. */
  positions: Int32Array;
  /** With `keep`: L+1 arrays `[N, dModel]` in sample order; else null. */
  states: Float32Array[] | null;
  /** With `keep` and `registries`: L × 7 arrays `[N, dModel]` (0 and 6 shared with `states`); else null. */
  registries: Float32Array[][] | null;
  /** Number of forward passes run. */
  batches: number;
}

/** Slot of h_ℓ and of registry a (1 … 5) of block b in a batch's capture list. */
function registrySlot(L: number, b: number, a: number): number {
  return L + 1 + b * 5 + (a - 1);
}

/** The number of forward passes `collectStates` runs for these samples and options (its batch plan). */
export function stateBatchCount(model: MatModel, sentences: readonly ArrayLike<number>[], positions: ArrayLike<number>, opts: Pick<CollectStatesOptions, 'batchSize' | 'sortByLength'> = {}): number {
  return batchGroups(matModelInfo(model), sentences, positions, opts.batchSize ?? 16, opts.sortByLength ?? true).length;
}

/** A norm's output from its normalized input: `x·w + b` (layer norm) or `x·gain` (RMS norm). */
function normAffine(norm: LayerNorm | RmsNorm, normalized: tf.Tensor): tf.Tensor {
  return norm instanceof LayerNorm ? tf.add(tf.mul(normalized, norm.w), norm.b) : tf.mul(normalized, norm.gain());
}

/**
 * Collects h_0 … h_L (and, with `registries`, the sub-module registries) at one position per sentence.
 * @param model `HookedGPT2` or `HookedBert`.
 * @param sentences token ids per sentence (no padding).
 * @param positions `[N]` sampled positions (`sampleShortcutPositions`).
 */
export async function collectStates(model: MatModel, sentences: readonly ArrayLike<number>[], positions: ArrayLike<number>, opts: CollectStatesOptions = {}): Promise<CollectedStates> {
  const info = matModelInfo(model);
  checkSamples(info, sentences, positions, opts);
  const withRegistries = opts.registries ?? false;
  const blocks: readonly (TransformerBlock | PostLnBlock | RotaryBlock)[] = model.blocks;
  if (withRegistries && !blocks.every((b) => b instanceof TransformerBlock || b instanceof RotaryBlock)) {
    throw new InvalidArgumentError('collectStates: registries (the sub-module maps of §8) are defined for pre-norm decoder blocks only (GPT-2, Llama family)', 'collect BERT states without { registries: true }');
  }
  const L = info.nLayers;
  const d = info.dModel;
  const N = sentences.length;
  const keep = opts.keep ?? true;
  const states = keep ? Array.from({ length: L + 1 }, () => new Float32Array(N * d)) : null;
  const registries = keep && withRegistries
    ? Array.from({ length: L }, (_, b) => Array.from({ length: 7 }, (_, a) => (a === 0 ? states![b]! : a === 6 ? states![b + 1]! : new Float32Array(N * d))))
    : null;
  const nSlots = L + 1 + (withRegistries ? 5 * L : 0);
  const plan = batchGroups(info, sentences, positions, opts.batchSize ?? 16, opts.sortByLength ?? true);
  const range = opts.batches ?? { start: 0, end: plan.length };
  if (!Number.isInteger(range.start) || !Number.isInteger(range.end) || range.start < 0 || range.end < range.start || range.end > plan.length) {
    throw new InvalidArgumentError(`collectStates: batches [${range.start}, ${range.end}) are not within the ${plan.length} batches of the run`);
  }
  const groups = plan.slice(range.start, range.end);

  for (const indices of groups) {
    const padded = buildBatch(model, info, sentences, positions, indices, opts);
    const B = indices.length;
    const slots: (tf.Tensor | undefined)[] = new Array(nSlots);
    const device = await deviceBatch(model, padded);
    let values: Float32Array;
    try {
      const hooks: [string, HookFn][] = [];
      const capture = (point: HookPoint, slot: number, norm?: LayerNorm | RmsNorm): void => {
        hooks.push([
          point.name,
          (activation) => {
            const atT = tf.gatherND(activation, device.gatherIndices);
            slots[slot]?.dispose();
            slots[slot] = tf.keep(norm ? normAffine(norm, atT) : atT);
          },
        ]);
      };
      capture(blocks[0]!.hookResidPre, 0);
      blocks.forEach((block, b) => {
        capture(block.hookResidPost, b + 1);
        if (withRegistries && (block instanceof TransformerBlock || block instanceof RotaryBlock)) {
          capture(block.ln1.hookNormalized, registrySlot(L, b, 1), block.ln1);
          capture(block.hookAttnOut, registrySlot(L, b, 2));
          // Parallel-residual blocks (GPT-NeoX) have no resid_mid: their ln2 reads resid_pre.
          capture(block.hookResidMid ?? block.hookResidPre, registrySlot(L, b, 3));
          capture(block.ln2.hookNormalized, registrySlot(L, b, 4), block.ln2);
          capture(block.hookMlpOut, registrySlot(L, b, 5));
        }
      });
      model.runBlocks(device.h0, { inputs: device.inputs, fwdHooks: hooks }).dispose();
      const missing = slots.findIndex((s) => s === undefined);
      if (missing >= 0 || slots.length !== nSlots) throw new InvalidArgumentError(`collectStates: a capture hook did not run (slot ${missing})`);
      const stacked = tf.stack(slots as tf.Tensor[]);
      try {
        values = (await stacked.data()) as Float32Array;
      } finally {
        stacked.dispose();
      }
    } finally {
      tf.dispose(slots.filter((s): s is tf.Tensor => s !== undefined));
      device.dispose();
    }
    const slotArray = (slot: number): Float32Array => values.slice(slot * B * d, (slot + 1) * B * d);
    const batchStates = Array.from({ length: L + 1 }, (_, l) => slotArray(l));
    const batchRegistries = withRegistries
      ? Array.from({ length: L }, (_, b) => Array.from({ length: 7 }, (_, a) => (a === 0 ? batchStates[b]! : a === 6 ? batchStates[b + 1]! : slotArray(registrySlot(L, b, a)))))
      : undefined;
    if (states) {
      for (let r = 0; r < B; r++) {
        const at = indices[r]! * d;
        for (let l = 0; l <= L; l++) states[l]!.set(batchStates[l]!.subarray(r * d, (r + 1) * d), at);
        if (registries && batchRegistries) {
          for (let b = 0; b < L; b++) for (let a = 1; a <= 5; a++) registries[b]![a]!.set(batchRegistries[b]![a]!.subarray(r * d, (r + 1) * d), at);
        }
      }
    }
    if (opts.writer) {
      const w = opts.writer;
      const writes: Promise<void>[] = [w.append('sample_index', { shape: [B], data: Int32Array.from(indices) }), w.append('position', { shape: [B], data: Int32Array.from(padded.positions) })];
      for (let l = 0; l <= L; l++) writes.push(w.append(`h.${l}`, { shape: [B, d], data: batchStates[l]! }));
      if (batchRegistries) for (let b = 0; b < L; b++) for (let a = 1; a <= 5; a++) writes.push(w.append(`blocks.${b}.registry.${a}`, { shape: [B, d], data: batchRegistries[b]![a]! }));
      await Promise.all(writes);
    }
    if (opts.onBatch) await opts.onBatch({ indices: Int32Array.from(indices), positions: Int32Array.from(padded.positions), states: batchStates, registries: batchRegistries });
  }
  return { nSamples: N, nLayers: L, dModel: d, positions: Int32Array.from(positions), states, registries, batches: groups.length };
}
