/**
 * Sequence-level features for probes: run token sequences through a hooked language model, read the
 * residual states h_ℓ (ℓ = 0 … L; h_0 = `blocks.0.hook_resid_pre`, h_ℓ = `blocks.{ℓ−1}.hook_resid_post`,
 * before any final layer norm) of every position, and pool each sequence's positions into one vector per
 * layer and pooler (`poolTokens`). Sequences of equal length share a forward pass, so nothing is padded.
 */
import { InvalidArgumentError } from '../errors.js';
import { residName } from '../nn/lens-model.js';
import type { HookedLensModel } from '../lens/logit-lens.js';
import { poolTokens, type Pooler } from './pooling.js';

/** Pooled features: `get(layer, pooler)` → `[n, dModel]` row-major float32, rows in sequence order. */
export interface PooledFeatures {
  n: number;
  dModel: number;
  get(layer: number, pooler: string): Float32Array;
}

/**
 * Computes pooled features of `sequences` at `layers` for every pooler.
 * @param model a language model taking `[batch, T]` token-id arrays (GPT-2).
 * @param sequences token ids per sequence, each non-empty and within the model's context.
 * @param layers residual state indices ℓ in 0 … L.
 * @param batchSize sequences of equal length per forward pass (default 16).
 */
export async function pooledResidFeatures(
  model: HookedLensModel<readonly (readonly number[])[]>, sequences: readonly (readonly number[])[], layers: readonly number[], poolers: readonly Pooler[], batchSize = 16,
): Promise<PooledFeatures> {
  const L = model.nLayers;
  for (const l of layers) if (!Number.isInteger(l) || l < 0 || l > L) throw new InvalidArgumentError(`pooledResidFeatures: layer ${l} is outside 0 … L = ${L} (ℓ means h_ℓ)`);
  if (!poolers.length || !layers.length) throw new InvalidArgumentError('pooledResidFeatures: needs at least one layer and one pooler');
  sequences.forEach((s, i) => {
    if (!s.length) throw new InvalidArgumentError(`pooledResidFeatures: sequence ${i} is empty`);
  });
  const n = sequences.length;
  const out = new Map<string, Float32Array>();
  let d = 0;
  const byLength = new Map<number, number[]>();
  sequences.forEach((s, i) => byLength.set(s.length, [...(byLength.get(s.length) ?? []), i]));
  const names = layers.map((l) => residName(model, l));
  for (const [T, members] of byLength) {
    for (let start = 0; start < members.length; start += batchSize) {
      const group = members.slice(start, start + batchSize);
      const { output, cache } = await model.runWithCache(group.map((i) => sequences[i]!), { namesFilter: names });
      output.dispose();
      try {
        for (let li = 0; li < layers.length; li++) {
          const h = cache.get(names[li]!);
          d = h.shape[2]!;
          const data = (await h.data()) as Float32Array;
          for (const pooler of poolers) {
            const key = `${layers[li]}|${pooler.name}`;
            if (!out.has(key)) out.set(key, new Float32Array(n * d));
            const dst = out.get(key)!;
            group.forEach((seq, b) => poolTokens(pooler, data.subarray(b * T * d, (b + 1) * T * d), T, d, dst.subarray(seq * d, (seq + 1) * d)));
          }
        }
      } finally {
        cache.dispose();
      }
    }
  }
  return {
    n,
    dModel: d,
    get(layer, pooler) {
      const f = out.get(`${layer}|${pooler}`);
      if (!f) throw new InvalidArgumentError(`pooledResidFeatures: no features for layer ${layer} and pooler '${pooler}'`);
      return f;
    },
  };
}
