/** Typed ViT config parsed from a Hugging Face `config.json` (`ViTForImageClassification`). */
import { z } from 'zod';
import { ConfigError } from '../../errors.js';
import { parseConfig } from './parse.js';
import { parseActivation, type ActivationName } from './activation.js';

/** ViT hyper-parameters (TransformerLens names where they exist). */
export interface ViTConfig {
  modelType: 'vit';
  nLayers: number;
  dModel: number;
  nHeads: number;
  dHead: number;
  dMlp: number;
  eps: number;
  act: ActivationName;
  /** Input image height and width in pixels. */
  imageHeight: number;
  imageWidth: number;
  /** Side of a square patch in pixels. */
  patchSize: number;
  /** Input channels (3 for RGB). */
  numChannels: number;
  /** Number of patches `(H/p)·(W/p)`; the sequence has one more position (CLS). */
  nPatches: number;
  /** Query/key/value projections have a bias (HF `qkv_bias`, default true). */
  qkvBias: boolean;
  /** Number of classes of the classifier head. */
  numLabels: number;
  /** Class index → label (from `id2label`; `LABEL_i` when the config has none). */
  id2label: string[];
}

const sizePair = z.union([z.number().int().positive(), z.tuple([z.number().int().positive(), z.number().int().positive()])]);

const schema = z.looseObject({
  model_type: z.literal('vit'),
  hidden_size: z.number().int().positive(),
  num_hidden_layers: z.number().int().positive(),
  num_attention_heads: z.number().int().positive(),
  intermediate_size: z.number().int().positive(),
  hidden_act: z.string().default('gelu'),
  layer_norm_eps: z.number().positive().default(1e-12),
  image_size: sizePair.default(224),
  patch_size: sizePair.default(16),
  num_channels: z.number().int().positive().default(3),
  qkv_bias: z.boolean().default(true),
  id2label: z.record(z.string(), z.string()).nullish(),
  num_labels: z.number().int().positive().nullish(),
});

/** Parses and validates a ViT `config.json` object. */
export function parseVitConfig(json: Record<string, unknown>, where = 'config.json'): ViTConfig {
  const c = parseConfig(schema, json, where, 'ViT', 'expected the Hugging Face ViTConfig fields hidden_size, num_hidden_layers, num_attention_heads, intermediate_size');
  if (c.hidden_size % c.num_attention_heads !== 0) {
    throw new ConfigError(`${where}: hidden_size ${c.hidden_size} is not divisible by num_attention_heads ${c.num_attention_heads}`);
  }
  const [imageHeight, imageWidth] = typeof c.image_size === 'number' ? [c.image_size, c.image_size] : c.image_size;
  const [patchH, patchW] = typeof c.patch_size === 'number' ? [c.patch_size, c.patch_size] : c.patch_size;
  if (patchH !== patchW) throw new ConfigError(`${where}: non-square patches ${patchH}×${patchW} are not supported`);
  if (imageHeight % patchH !== 0 || imageWidth % patchH !== 0) {
    throw new ConfigError(`${where}: image size ${imageHeight}×${imageWidth} is not a multiple of patch_size ${patchH}`);
  }
  const id2label = labelsFrom(c.id2label ?? undefined, c.num_labels ?? undefined, where);
  return {
    modelType: 'vit',
    nLayers: c.num_hidden_layers,
    dModel: c.hidden_size,
    nHeads: c.num_attention_heads,
    dHead: c.hidden_size / c.num_attention_heads,
    dMlp: c.intermediate_size,
    eps: c.layer_norm_eps,
    act: parseActivation(c.hidden_act, where),
    imageHeight,
    imageWidth,
    patchSize: patchH,
    numChannels: c.num_channels,
    nPatches: (imageHeight / patchH) * (imageWidth / patchH),
    qkvBias: c.qkv_bias,
    numLabels: id2label.length,
    id2label,
  };
}

/** `id2label` (`{"0": "tench", …}`) as a dense array; `LABEL_i` for a config with only `num_labels` (HF default 2). */
function labelsFrom(map: Record<string, string> | undefined, numLabels: number | undefined, where: string): string[] {
  if (!map || Object.keys(map).length === 0) return Array.from({ length: numLabels ?? 2 }, (_, i) => `LABEL_${i}`);
  const n = Object.keys(map).length;
  const labels: string[] = [];
  for (let i = 0; i < n; i++) {
    const label = map[String(i)];
    if (label === undefined) throw new ConfigError(`${where}: id2label has ${n} entries but no entry for class ${i}`);
    labels.push(label);
  }
  return labels;
}
