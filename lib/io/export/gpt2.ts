/**
 * GPT-2 export: input-major weights → a Hugging Face checkpoint directory (published key layout without
 * the `transformer.` prefix, Conv1D `[in, out]` matrices, fused `c_attn`) that `loadModel` and
 * Python's `GPT2LMHeadModel.from_pretrained` both read.
 */
import * as tf from '@tensorflow/tfjs-core';
import { writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { GPT2Config } from '../config/gpt2.js';
import type { GPT2Weights } from '../convert/gpt2.js';
import { saveSafetensors, type SaveValue } from '../safetensors-writer.js';

/** HF state dict of GPT-2 weights (tensors are new; caller disposes them). */
export function gpt2StateDict(w: GPT2Weights): Map<string, tf.Tensor> {
  const out = new Map<string, tf.Tensor>();
  out.set('wte.weight', tf.clone(w.W_E));
  out.set('wpe.weight', tf.clone(w.W_pos));
  w.blocks.forEach((b, i) => {
    const p = `h.${i}`;
    const d = b.attn.W_Q.shape[0];
    const zeros = () => tf.zeros([b.attn.W_Q.shape[1]]);
    out.set(`${p}.ln_1.weight`, tf.clone(b.ln1.w));
    out.set(`${p}.ln_1.bias`, tf.clone(b.ln1.b));
    out.set(`${p}.attn.c_attn.weight`, tf.concat([b.attn.W_Q, b.attn.W_K, b.attn.W_V], 1));
    out.set(`${p}.attn.c_attn.bias`, tf.tidy(() => tf.concat([b.attn.b_Q ?? zeros(), b.attn.b_K ?? zeros(), b.attn.b_V ?? zeros()], 0)));
    out.set(`${p}.attn.c_proj.weight`, tf.clone(b.attn.W_O));
    out.set(`${p}.attn.c_proj.bias`, b.attn.b_O ? tf.clone(b.attn.b_O) : tf.zeros([d]));
    out.set(`${p}.ln_2.weight`, tf.clone(b.ln2.w));
    out.set(`${p}.ln_2.bias`, tf.clone(b.ln2.b));
    out.set(`${p}.mlp.c_fc.weight`, tf.clone(b.mlp.W_in));
    out.set(`${p}.mlp.c_fc.bias`, tf.clone(b.mlp.b_in));
    out.set(`${p}.mlp.c_proj.weight`, tf.clone(b.mlp.W_out));
    out.set(`${p}.mlp.c_proj.bias`, tf.clone(b.mlp.b_out));
  });
  out.set('ln_f.weight', tf.clone(w.lnFinal.w));
  out.set('ln_f.bias', tf.clone(w.lnFinal.b));
  return out;
}

/** HF `config.json` object of a GPT-2 config. */
export function gpt2ConfigJson(cfg: GPT2Config): Record<string, unknown> {
  return {
    architectures: ['GPT2LMHeadModel'],
    model_type: 'gpt2',
    n_layer: cfg.nLayers,
    n_embd: cfg.dModel,
    n_head: cfg.nHeads,
    n_inner: cfg.dMlp === 4 * cfg.dModel ? null : cfg.dMlp,
    n_positions: cfg.nCtx,
    vocab_size: cfg.dVocab,
    layer_norm_epsilon: cfg.eps,
    activation_function: cfg.act,
    scale_attn_weights: cfg.scaleAttnWeights,
    scale_attn_by_inverse_layer_idx: cfg.scaleAttnByInverseLayerIdx,
    tie_word_embeddings: true,
    bos_token_id: cfg.bosTokenId ?? null,
    eos_token_id: cfg.eosTokenId ?? null,
    attn_pdrop: 0,
    embd_pdrop: 0,
    resid_pdrop: 0,
  };
}

/** Writes `config.json` + `model.safetensors` for GPT-2 weights into `dir`. */
export async function saveGpt2Checkpoint(dir: string, cfg: GPT2Config, w: GPT2Weights, metadata: Record<string, string> = {}): Promise<void> {
  await mkdir(dir, { recursive: true });
  const state = gpt2StateDict(w);
  try {
    await saveSafetensors(join(dir, 'model.safetensors'), state as Map<string, SaveValue>, { format: 'pt', ...metadata });
  } finally {
    for (const t of state.values()) t.dispose();
  }
  await writeFile(join(dir, 'config.json'), `${JSON.stringify(gpt2ConfigJson(cfg), null, 2)}\n`);
}
