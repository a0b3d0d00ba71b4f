/**
 * ViT weight conversion (`ViTForImageClassification`): Hugging Face checkpoint keys → input-major
 * tensors per component. The published layout (`vit.encoder.layer.N.attention.attention.query`, …) is
 * what transformers 4.x and 5.x write; the alternative names in `VIT_KEYS` (`vit.layers.N.attention.q_proj`,
 * `mlp.fc1`, …) are accepted too, the first name present wins.
 */
import * as tf from '@tensorflow/tfjs-core';
import { CheckpointError } from '../../errors.js';
import type { Checkpoint } from '../checkpoint.js';
import type { ViTConfig } from '../config/vit.js';
import type { AttentionWeights, LnWeights, MlpWeights } from './weights.js';
import { WeightReader, readBlocks, readLinear, readLayerNorm } from './common.js';

/** Candidate key names (without the `vit.` prefix) per weight, published layout first. */
export const VIT_KEYS = {
  layer: ['encoder.layer.{i}', 'layers.{i}', 'encoder.layers.{i}'],
  query: ['attention.attention.query', 'attention.q_proj', 'self_attn.q_proj'],
  key: ['attention.attention.key', 'attention.k_proj', 'self_attn.k_proj'],
  value: ['attention.attention.value', 'attention.v_proj', 'self_attn.v_proj'],
  attnOut: ['attention.output.dense', 'attention.o_proj', 'attention.out_proj', 'self_attn.out_proj'],
  fc1: ['intermediate.dense', 'mlp.fc1'],
  fc2: ['output.dense', 'mlp.fc2'],
  lnBefore: ['layernorm_before', 'layer_norm1', 'norm1'],
  lnAfter: ['layernorm_after', 'layer_norm2', 'norm2'],
  lnFinal: ['layernorm', 'layer_norm', 'norm'],
  clsToken: ['embeddings.cls_token'],
  positions: ['embeddings.position_embeddings'],
  patch: ['embeddings.patch_embeddings.projection'],
  classifier: ['classifier'],
} as const;

/** All ViT weights, input-major. */
export interface ViTWeights {
  /** Patch conv weight `[dModel, channels, p, p]` (PyTorch layout) and bias `[dModel]`. */
  patch: { weight: tf.Tensor4D; bias: tf.Tensor1D };
  /** CLS token `[dModel]`. */
  clsToken: tf.Tensor1D;
  /** Position embeddings `[nPatches + 1, dModel]` (index 0 = CLS). */
  W_pos: tf.Tensor2D;
  blocks: { ln1: LnWeights; attn: AttentionWeights; ln2: LnWeights; mlp: MlpWeights }[];
  lnFinal: LnWeights;
  /** Classifier `W [dModel, numLabels]`, `b [numLabels]`. */
  classifier: { W: tf.Tensor2D; b: tf.Tensor1D };
}

/** The first candidate `name` (for which `probe` names a stored tensor) that the checkpoint holds. */
export function firstPresent(reader: WeightReader, candidates: readonly string[], probe: (name: string) => string, what: string): string {
  for (const c of candidates) if (reader.has(probe(c))) return c;
  if (reader.collectsMissing) return candidates[0]!; // recorded as missing when read, listed with the others
  throw new CheckpointError(`checkpoint has none of the names for ${what}: ${candidates.map((c) => `'${probe(c)}'`).join(', ')}`, 'is this checkpoint of the model type its config.json says?');
}

/**
 * Checkpoint keys a ViT classifier may leave unread: the pooler of a ViTModel backbone
 * (ViTForImageClassification builds its ViT without one; transformers loads such checkpoints with a warning).
 */
export function vitIgnorableKey(key: string): boolean {
  return /^(vit\.)?pooler\./.test(key);
}

/** Reads ViT weights from an open checkpoint. */
export async function convertVit(ckpt: Checkpoint, cfg: ViTConfig): Promise<ViTWeights> {
  const r = new WeightReader(ckpt, ['vit.', '']);
  const d = cfg.dModel;
  const p = cfg.patchSize;
  const keys = ckpt.keys();
  const layerPattern = VIT_KEYS.layer.find((c) => {
    const block0 = `${c.replace('{i}', '0')}.`;
    return keys.some((k) => k.startsWith(block0) || k.startsWith(`vit.${block0}`));
  });
  if (!layerPattern) {
    throw new CheckpointError(`checkpoint ${ckpt.dir} has no ViT block 0 (tried ${VIT_KEYS.layer.map((c) => `'vit.${c.replace('{i}', '0')}.*'`).join(', ')})`, 'is this a ViTForImageClassification checkpoint?');
  }
  const blocks = await readBlocks(cfg.nLayers, async (i): Promise<ViTWeights['blocks'][number]> => {
    const lp = layerPattern.replace('{i}', String(i));
    const name = (candidates: readonly string[], suffix: string, what: string) => `${lp}.${firstPresent(r, candidates, (c) => `${lp}.${c}.${suffix}`, `${what} of block ${i}`)}`;
    const q = await readLinear(r, name(VIT_KEYS.query, 'weight', 'the query projection'), d, d, cfg.qkvBias);
    const k = await readLinear(r, name(VIT_KEYS.key, 'weight', 'the key projection'), d, d, cfg.qkvBias);
    const v = await readLinear(r, name(VIT_KEYS.value, 'weight', 'the value projection'), d, d, cfg.qkvBias);
    const o = await readLinear(r, name(VIT_KEYS.attnOut, 'weight', 'the attention output projection'), d, d);
    const fc1 = await readLinear(r, name(VIT_KEYS.fc1, 'weight', 'the first MLP projection'), d, cfg.dMlp);
    const fc2 = await readLinear(r, name(VIT_KEYS.fc2, 'weight', 'the second MLP projection'), cfg.dMlp, d);
    return {
      ln1: await readLayerNorm(r, name(VIT_KEYS.lnBefore, 'weight', 'layernorm_before'), d),
      attn: { W_Q: q.W, b_Q: q.b, W_K: k.W, b_K: k.b, W_V: v.W, b_V: v.b, W_O: o.W, b_O: o.b },
      ln2: await readLayerNorm(r, name(VIT_KEYS.lnAfter, 'weight', 'layernorm_after'), d),
      mlp: { W_in: fc1.W, b_in: fc1.b!, W_out: fc2.W, b_out: fc2.b! },
    };
  });
  const top = (candidates: readonly string[], suffix: string, what: string) => firstPresent(r, candidates, (c) => `${c}${suffix}`, what);
  const clsToken = await r.float(top(VIT_KEYS.clsToken, '', 'the CLS token'), [1, 1, d]);
  const positions = await r.float(top(VIT_KEYS.positions, '', 'the position embeddings'), [1, cfg.nPatches + 1, d]);
  const patchName = top(VIT_KEYS.patch, '.weight', 'the patch projection');
  const weights: ViTWeights = {
    patch: {
      weight: (await r.float(`${patchName}.weight`, [d, cfg.numChannels, p, p])) as tf.Tensor4D,
      bias: (await r.float(`${patchName}.bias`, [d])) as tf.Tensor1D,
    },
    clsToken: tf.reshape(clsToken, [d]) as tf.Tensor1D,
    W_pos: tf.reshape(positions, [cfg.nPatches + 1, d]) as tf.Tensor2D,
    blocks,
    lnFinal: await readLayerNorm(r, top(VIT_KEYS.lnFinal, '.weight', 'the final layer norm'), d),
    classifier: await readClassifier(ckpt, cfg),
  };
  clsToken.dispose();
  positions.dispose();
  return weights;
}

async function readClassifier(ckpt: Checkpoint, cfg: ViTConfig): Promise<{ W: tf.Tensor2D; b: tf.Tensor1D }> {
  if (!ckpt.has('classifier.weight')) {
    throw new CheckpointError(`checkpoint ${ckpt.dir} has no 'classifier.weight'`, 'tfjs-lens loads ViTForImageClassification checkpoints (a classifier head is needed for logits and the lens)');
  }
  const { W, b } = await readLinear(new WeightReader(ckpt, ['']), 'classifier', cfg.dModel, cfg.numLabels);
  return { W, b: b! };
}
