/**
 * BERT weight conversion (`BertForMaskedLM`, bert-base-uncased layout): Hugging Face checkpoint keys →
 * input-major tensors per component. Layer norms may be stored as `weight/bias` or (older checkpoints,
 * including bert-base-uncased's own safetensors) `gamma/beta`. The MLM decoder is tied to the word
 * embeddings unless the config unties it (then `cls.predictions.decoder.weight` must be present). Pooler,
 * next-sentence head and `position_ids` buffers are ignored (`bertIgnorableKey`).
 */
import * as tf from '@tensorflow/tfjs-core';
import { CheckpointError } from '../../errors.js';
import type { Checkpoint } from '../checkpoint.js';
import type { BertConfig } from '../config/bert.js';
import type { AttentionWeights, LnWeights, MlpWeights } from './weights.js';
import { WeightReader, readBlocks, readLinear } from './common.js';

/** All BERT weights, input-major. */
export interface BertWeights {
  /** Word embeddings `[dVocab, dModel]`. */
  W_E: tf.Tensor2D;
  /** Position embeddings `[nCtx, dModel]`. */
  W_pos: tf.Tensor2D;
  /** Token-type (segment) embeddings `[nTokenTypes, dModel]`. */
  W_tokenType: tf.Tensor2D;
  /** Embedding layer norm. */
  lnEmbed: LnWeights;
  blocks: { attn: AttentionWeights; ln1: LnWeights; mlp: MlpWeights; ln2: LnWeights }[];
  /** MLM head: dense `[dModel, dModel]` + act + layer norm, decoder (vocab-major, tied = W_E) + bias. */
  head: { W: tf.Tensor2D; b: tf.Tensor1D; ln: LnWeights; decoder: tf.Tensor2D; decoderBias: tf.Tensor1D };
}

/** Reads a LayerNorm stored as `weight/bias` or `gamma/beta`. */
async function readLn(r: WeightReader, prefix: string, d: number, naming?: 'weight'): Promise<LnWeights> {
  const [wName, bName] = naming || r.has(`${prefix}.weight`) ? ['weight', 'bias'] : r.has(`${prefix}.gamma`) ? ['gamma', 'beta'] : [undefined, undefined];
  if ((!wName || !bName) && r.collectsMissing) return readLn(r, prefix, d, 'weight');
  if (!wName || !bName) throw new CheckpointError(`checkpoint has no layer norm '${prefix}.weight' (nor '${prefix}.gamma')`, 'is this a BertForMaskedLM checkpoint?');
  return { w: (await r.float(`${prefix}.${wName}`, [d])) as tf.Tensor1D, b: (await r.float(`${prefix}.${bName}`, [d])) as tf.Tensor1D };
}

/**
 * Checkpoint keys a BERT MLM may leave unread: the pooler (transformers' `_keys_to_ignore_on_load_unexpected`
 * for BertForMaskedLM), the next-sentence head `cls.seq_relationship` of BertForPreTraining checkpoints, the
 * `position_ids` / `token_type_ids` buffers, the decoder bias copy (tied to `cls.predictions.bias`) and, when
 * tied, a stored `cls.predictions.decoder.weight` (transformers' `_tied_weights_keys`).
 */
export function bertIgnorableKey(key: string, cfg: BertConfig): boolean {
  return (
    /^(bert\.)?pooler\./.test(key) ||
    key.startsWith('cls.seq_relationship.') ||
    /^(bert\.)?embeddings\.(position_ids|token_type_ids)$/.test(key) ||
    key === 'cls.predictions.decoder.bias' ||
    (cfg.tieWordEmbeddings && key === 'cls.predictions.decoder.weight')
  );
}

/** Reads BERT weights from an open checkpoint. */
export async function convertBert(ckpt: Checkpoint, cfg: BertConfig): Promise<BertWeights> {
  const r = new WeightReader(ckpt, ['bert.', '']);
  const d = cfg.dModel;
  const blocks = await readBlocks(cfg.nLayers, async (i): Promise<BertWeights['blocks'][number]> => {
    const p = `encoder.layer.${i}`;
    const q = await readLinear(r, `${p}.attention.self.query`, d, d);
    const k = await readLinear(r, `${p}.attention.self.key`, d, d);
    const v = await readLinear(r, `${p}.attention.self.value`, d, d);
    const o = await readLinear(r, `${p}.attention.output.dense`, d, d);
    const fc1 = await readLinear(r, `${p}.intermediate.dense`, d, cfg.dMlp);
    const fc2 = await readLinear(r, `${p}.output.dense`, cfg.dMlp, d);
    return {
      attn: { W_Q: q.W, b_Q: q.b, W_K: k.W, b_K: k.b, W_V: v.W, b_V: v.b, W_O: o.W, b_O: o.b },
      ln1: await readLn(r, `${p}.attention.output.LayerNorm`, d),
      mlp: { W_in: fc1.W, b_in: fc1.b!, W_out: fc2.W, b_out: fc2.b! },
      ln2: await readLn(r, `${p}.output.LayerNorm`, d),
    };
  });
  const W_E = (await r.float('embeddings.word_embeddings.weight', [cfg.dVocab, d])) as tf.Tensor2D;
  const cls = new WeightReader(ckpt, ['']);
  if (!cls.has('cls.predictions.transform.dense.weight')) {
    throw new CheckpointError(`checkpoint ${ckpt.dir} has no MLM head ('cls.predictions.transform.dense.weight')`, 'tfjs-lens loads BertForMaskedLM / BertForPreTraining checkpoints (the MLM head gives logits and the lens)');
  }
  const dense = await readLinear(cls, 'cls.predictions.transform.dense', d, d);
  const untied = !cfg.tieWordEmbeddings;
  const biasName = !cls.has('cls.predictions.bias') && cls.has('cls.predictions.decoder.bias') ? 'cls.predictions.decoder.bias' : 'cls.predictions.bias';
  return {
    W_E,
    W_pos: (await r.float('embeddings.position_embeddings.weight', [cfg.nCtx, d])) as tf.Tensor2D,
    W_tokenType: (await r.float('embeddings.token_type_embeddings.weight', [cfg.nTokenTypes, d])) as tf.Tensor2D,
    lnEmbed: await readLn(r, 'embeddings.LayerNorm', d),
    blocks,
    head: {
      W: dense.W,
      b: dense.b!,
      ln: await readLn(cls, 'cls.predictions.transform.LayerNorm', d),
      decoder: untied ? ((await cls.float('cls.predictions.decoder.weight', [cfg.dVocab, d])) as tf.Tensor2D) : W_E,
      decoderBias: (await cls.float(biasName, [cfg.dVocab])) as tf.Tensor1D,
    },
  };
}
