/**
 * Runs GPT-2 blocks b = from … L−1 with one kind of sub-module replaced by its per-position linear map
 * π (ALGORITHMS.md §8): `mat_attn` (attention ← π_{b,1→2} on the ln_1 output), `mat_ffn` (MLP ←
 * π_{b,4→5} on the ln_2 output), `mat_ln1_ln2` (ln_1 ← π_{b,0→1}, ln_2 ← π_{b,3→4}). Everything else —
 * the other sub-modules and both residual additions — is the block's own computation, with the
 * components' `forward(x, NO_HOOKS)` in the order of `TransformerBlock.forward`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError } from '../../errors.js';
import { NO_HOOKS } from '../../nn/hook-point.js';
import { TransformerBlock } from '../../nn/components/block.js';
import type { AttentionMask } from '../../nn/components/attention.js';
import { submoduleMap, type MatMaps } from './maps.js';

/** Sub-module replacements (`'none'` runs the blocks unchanged, for checks). */
export type SubmoduleVariant = 'mat_attn' | 'mat_ffn' | 'mat_ln1_ln2' | 'none';

/** Registries a whose π a variant uses. */
export function variantSources(variant: SubmoduleVariant): number[] {
  return variant === 'mat_attn' ? [1] : variant === 'mat_ffn' ? [4] : variant === 'mat_ln1_ln2' ? [0, 3] : [];
}

/** π maps of one variant as float32 device tensors `[dOut, dIn]`, per block and source registry. */
export class PiTensors {
  private readonly tensors = new Map<string, tf.Tensor2D>();

  /** Uploads the π maps `variant` needs for blocks 0 … L−1. */
  constructor(maps: MatMaps, variant: SubmoduleVariant) {
    for (let b = 0; b < maps.nLayers; b++) {
      for (const a of variantSources(variant)) {
        const map = submoduleMap(maps, b, a);
        const w = map.weight instanceof Float32Array ? map.weight : Float32Array.from(map.weight);
        this.tensors.set(`${b}_${a}`, tf.tensor2d(w, map.shape));
      }
    }
  }

  /** `x [..., dIn]` → `x·πᵀ [..., dOut]` for π_{b,a→a+1}. */
  apply(block: number, from: number, x: tf.Tensor): tf.Tensor {
    const w = this.tensors.get(`${block}_${from}`);
    if (!w) throw new InvalidArgumentError(`PiTensors: π_{${block},${from}→${from + 1}} was not uploaded`);
    const lead = x.shape.slice(0, -1);
    return tf.reshape(tf.matMul(tf.reshape(x, [-1, w.shape[1]]), w, false, true), [...lead, w.shape[0]]);
  }

  /** Frees the uploaded maps. */
  dispose(): void {
    for (const t of this.tensors.values()) t.dispose();
    this.tensors.clear();
  }
}

/**
 * Runs blocks `from` … L−1 on `residPre [B, T, dModel]` with the variant's sub-modules replaced.
 * Returns h_L `[B, T, dModel]` (before the final LN). Each block runs in its own `tf.tidy`.
 * @param mask the blocks' attention mask (unused by `mat_attn`, whose positions never mix).
 */
export function runBlocksReplaced(blocks: readonly unknown[], residPre: tf.Tensor, from: number, variant: SubmoduleVariant, mask: AttentionMask | undefined, pi: PiTensors | undefined): tf.Tensor {
  let x = residPre;
  for (let b = from; b < blocks.length; b++) {
    const block = blocks[b];
    if (!(block instanceof TransformerBlock)) throw new InvalidArgumentError(`sub-module replacement (${variant}) needs pre-LN GPT-2 blocks; block ${b} is not one`);
    if (variant !== 'none' && !pi) throw new InvalidArgumentError(`runBlocksReplaced: ${variant} needs its π maps`);
    const input = x;
    x = tf.tidy(() => {
      const ln1Out = variant === 'mat_ln1_ln2' ? pi!.apply(b, 0, input) : block.ln1.forward(input, NO_HOOKS);
      const attnOut = variant === 'mat_attn' ? pi!.apply(b, 1, ln1Out) : block.attn.forward(ln1Out, ln1Out, mask, NO_HOOKS);
      const residMid = tf.add(input, attnOut);
      const ln2Out = variant === 'mat_ln1_ln2' ? pi!.apply(b, 3, residMid) : block.ln2.forward(residMid, NO_HOOKS);
      const mlpOut = variant === 'mat_ffn' ? pi!.apply(b, 4, ln2Out) : block.mlp.forward(ln2Out, NO_HOOKS);
      return tf.add(residMid, mlpOut);
    });
    if (input !== residPre) input.dispose();
  }
  return x === residPre ? tf.clone(residPre) : x;
}
