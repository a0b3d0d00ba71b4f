/**
 * Runs GPT-2 blocks b = from … L−1 with one kind of sub-module replaced by its per-position linear map
 * π (docs/methods.md §8): `mat_attn` (attention ← π_{b,1→2} on the ln_1 output), `mat_ffn` (MLP ←
 * π_{b,4→5} on the ln_2 output), `mat_ln1_ln2` (ln_1 ← π_{b,0→1}, ln_2 ← π_{b,3→4}). The replacement is a
 * run override of the model's own forward (`model.runBlocks(h, { overrides })`); everything else — the
 * other sub-modules and both residual additions — is the block's own computation.
 */
import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError } from '../errors.js';
import type { ModuleOverride } from '../nn/hook-point.js';
import type { BlockInputs, ModuleOverrides } from '../nn/hooked-root.js';
import { submoduleMap, type MatMaps } from './maps.js';
import { matModelInfo, type MatModel } from './model-adapter.js';

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
 * The run overrides of a variant: block b's attention ← π_{b,1→2} (`mat_attn`), MLP ← π_{b,4→5}
 * (`mat_ffn`), or ln_1 ← π_{b,0→1} and ln_2 ← π_{b,3→4} (`mat_ln1_ln2`), for blocks 0 … L−1.
 */
export function piOverrides(variant: SubmoduleVariant, pi: PiTensors | undefined, nLayers: number): ModuleOverrides {
  if (variant === 'none') return [];
  if (!pi) throw new InvalidArgumentError(`runBlocksReplaced: ${variant} needs its π maps`);
  const modules: Record<Exclude<SubmoduleVariant, 'none'>, [string, number][]> = {
    mat_attn: [['attn', 1]],
    mat_ffn: [['mlp', 4]],
    mat_ln1_ln2: [['ln1', 0], ['ln2', 3]],
  };
  const out: [string, ModuleOverride][] = [];
  for (let b = 0; b < nLayers; b++) for (const [module, a] of modules[variant]) out.push([`blocks.${b}.${module}`, (x) => pi.apply(b, a, x)]);
  return out;
}

/**
 * Runs blocks `from` … L−1 of `model` on `residPre [B, T, dModel]` with the variant's sub-modules
 * replaced (the model's own `runBlocks` with `piOverrides`). Returns h_L `[B, T, dModel]` (before the
 * final LN). Each block runs in its own `tf.tidy`.
 * @param inputs the attention mask of the batch (`model.embed(input).inputs`; unused by `mat_attn`,
 *   whose positions never mix).
 */
export function runBlocksReplaced(model: MatModel, residPre: tf.Tensor, from: number, variant: SubmoduleVariant, inputs: BlockInputs | undefined, pi: PiTensors | undefined): tf.Tensor {
  if (variant !== 'none' && matModelInfo(model).kind !== 'gpt2') throw new InvalidArgumentError(`sub-module replacement (${variant}) needs pre-LN GPT-2 blocks`);
  return model.runBlocks(residPre, { from, inputs, overrides: piOverrides(variant, pi, model.nLayers) });
}
