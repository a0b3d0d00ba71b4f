/**
 * TransformerLens-layout weight views built from per-block input-major weights:
 * `W_Q/W_K/W_V [L, H, dModel, dHead]`, `W_O [L, H, dHead, dModel]`, `b_Q/b_K/b_V [L, H, dHead]`,
 * `b_O [L, dModel]`, `W_in [L, dModel, dMlp]`, `W_out [L, dMlp, dModel]`, `b_in [L, dMlp]`, `b_out [L, dModel]`.
 * Built lazily on first access and owned by the model (freed by `model.dispose()`).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Attention } from './components/attention.js';
import type { Mlp } from './components/mlp.js';

/** Names of the stacked TransformerLens weights. */
export type StackedWeightName = 'W_Q' | 'W_K' | 'W_V' | 'W_O' | 'b_Q' | 'b_K' | 'b_V' | 'b_O' | 'W_in' | 'W_out' | 'b_in' | 'b_out';

/** Lazily stacked TL weights of a list of blocks. */
export class StackedWeights {
  private readonly built = new Map<StackedWeightName, tf.Tensor>();

  constructor(private readonly blocks: () => readonly { attn: Attention; mlp: Mlp }[]) {}

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

function perBlock(name: StackedWeightName, attn: Attention, mlp: Mlp): tf.Tensor {
  const h = attn.nHeads;
  const dh = attn.dHead;
  switch (name) {
    case 'W_Q': return heads(attn.W_Q, h);
    case 'W_K': return heads(attn.W_K, h);
    case 'W_V': return heads(attn.W_V, h);
    case 'W_O': return tf.reshape(attn.W_O, [h, dh, attn.W_O.shape[1]]);
    case 'b_Q': return headBias(attn.b_Q, h, dh);
    case 'b_K': return headBias(attn.b_K, h, dh);
    case 'b_V': return headBias(attn.b_V, h, dh);
    case 'b_O': return attn.b_O ? tf.clone(attn.b_O) : tf.zeros([attn.W_O.shape[1]]);
    case 'W_in': return tf.clone(mlp.W_in);
    case 'W_out': return tf.clone(mlp.W_out);
    case 'b_in': return tf.clone(mlp.b_in);
    case 'b_out': return tf.clone(mlp.b_out);
  }
}
