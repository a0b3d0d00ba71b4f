/**
 * TransformerLens-layout weight views built from per-block input-major weights:
 * `W_Q/W_K/W_V [L, H, dModel, dHead]`, `W_O [L, H, dHead, dModel]`, `b_Q/b_K/b_V [L, H, dHead]`,
 * `b_O [L, dModel]`, `W_in [L, dModel, dMlp]`, `W_out [L, dMlp, dModel]`, `b_in [L, dMlp]`, `b_out [L, dModel]`,
 * `W_gate [L, dModel, dMlp]` (gated MLPs). With grouped-query attention (`nKvHeads < nHeads`) `W_K`, `W_V`, `b_K`,
 * `b_V` are expanded to one entry per query head, as TransformerLens's `W_K` property (`repeat_interleave`).
 * Built lazily on first access and owned by the model (freed by `model.dispose()`).
 */
import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError } from '../errors.js';
import type { Attention } from './components/attention.js';
import type { GatedMlp } from './components/gated-mlp.js';

/** Names of the stacked TransformerLens weights. */
export type StackedWeightName = 'W_Q' | 'W_K' | 'W_V' | 'W_O' | 'b_Q' | 'b_K' | 'b_V' | 'b_O' | 'W_in' | 'W_out' | 'b_in' | 'b_out' | 'W_gate';

/** What the views read of an attention layer (`Attention`, `GroupedQueryAttention`; `nKvHeads` defaults to nHeads). */
export type AttentionLike = Pick<Attention, 'W_Q' | 'b_Q' | 'W_K' | 'b_K' | 'W_V' | 'b_V' | 'W_O' | 'b_O' | 'nHeads' | 'dHead'> & { readonly nKvHeads?: number };

/** What the views read of an MLP (`Mlp`, `GatedMlp`). */
export type MlpLike = Pick<GatedMlp, 'W_in' | 'b_in' | 'W_out' | 'b_out'> & { readonly W_gate?: tf.Tensor2D };

/** Lazily stacked TL weights of a list of blocks. */
export class StackedWeights {
  private readonly built = new Map<StackedWeightName, tf.Tensor>();

  constructor(private readonly blocks: () => readonly { attn: AttentionLike; mlp: MlpLike }[]) {}

  /** The stacked weight `name` (owned here; do not dispose). */
  get(name: StackedWeightName): tf.Tensor {
    let t = this.built.get(name);
    if (!t) {
      // kept: the first read may happen inside a caller's tf.tidy, which must not free a model-owned tensor
      t = tf.keep(tf.tidy(() => tf.stack(this.blocks().map((b) => perBlock(name, b.attn, b.mlp)))));
      this.built.set(name, t);
    }
    return t;
  }

  /** Frees every built view. */
  dispose(): void {
    for (const t of this.built.values()) t.dispose();
    this.built.clear();
  }
}

function heads(W: tf.Tensor2D, nHeads: number): tf.Tensor {
  const [dModel, width] = W.shape;
  return tf.transpose(tf.reshape(W, [dModel, nHeads, width / nHeads]), [1, 0, 2]);
}

function headBias(b: tf.Tensor1D | undefined, nHeads: number, dHead: number): tf.Tensor {
  return b ? tf.reshape(b, [nHeads, dHead]) : tf.zeros([nHeads, dHead]);
}

/** `[kvHead, …]` → `[head, …]`: kv head j serves query heads j·g … (j+1)·g − 1 (TransformerLens's repeat_interleave). */
function expandKv(x: tf.Tensor, nHeads: number, nKvHeads: number): tf.Tensor {
  if (nKvHeads === nHeads) return x;
  const group = nHeads / nKvHeads;
  return tf.gather(x, tf.tensor1d(Array.from({ length: nHeads }, (_, h) => Math.floor(h / group)), 'int32'));
}

function perBlock(name: StackedWeightName, attn: AttentionLike, mlp: MlpLike): tf.Tensor {
  const h = attn.nHeads;
  const kv = attn.nKvHeads ?? h;
  const dh = attn.dHead;
  switch (name) {
    case 'W_Q': return heads(attn.W_Q, h);
    case 'W_K': return expandKv(heads(attn.W_K, kv), h, kv);
    case 'W_V': return expandKv(heads(attn.W_V, kv), h, kv);
    case 'W_O': return tf.reshape(attn.W_O, [h, dh, attn.W_O.shape[1]]);
    case 'b_Q': return headBias(attn.b_Q, h, dh);
    case 'b_K': return expandKv(headBias(attn.b_K, kv, dh), h, kv);
    case 'b_V': return expandKv(headBias(attn.b_V, kv, dh), h, kv);
    case 'b_O': return attn.b_O ? tf.clone(attn.b_O) : tf.zeros([attn.W_O.shape[1]]);
    case 'W_in': return tf.clone(mlp.W_in);
    case 'W_out': return tf.clone(mlp.W_out);
    case 'b_in': return mlp.b_in ? tf.clone(mlp.b_in) : tf.zeros([mlp.W_in.shape[1]]);
    case 'b_out': return mlp.b_out ? tf.clone(mlp.b_out) : tf.zeros([mlp.W_out.shape[1]]);
    case 'W_gate':
      if (!mlp.W_gate) throw new InvalidArgumentError('W_gate: this model\'s MLPs have no gate', 'W_gate exists on gated-MLP models (Llama, Mistral, Qwen2, Gemma)');
      return tf.clone(mlp.W_gate);
  }
}
