/**
 * `evaluateMappings`: fixed-exit predictions of §8 for every mapping and exit layer ℓ = 0 … L, with
 * Precision@{1,5,10} (the mapping's **top-1** among the model's final **top-k**) and mean surprisal
 * −ln p_final(mapped top-1).
 *
 * Mappings (estimate of the final state at the sampled position t, then the model's lens readout
 * `lensLogits`: GPT-2 ln_f + tied unembedding, BERT the MLM head):
 * - `id`: h_ℓ.
 * - `mat`: A_{L,ℓ}·h_ℓ (ℓ = L: h_L).
 * - `mat_attn`, `mat_ffn`, `mat_ln1_ln2` (GPT-2 only): blocks ℓ … L−1 run on the true h_ℓ of all prefix
 *   positions with that sub-module replaced by its π (`runBlocksReplaced`). `mat_attn` never mixes
 *   positions, so it runs on position t alone (same result, less work).
 *
 * Per batch, the residual stream h_0 … h_L is computed once (the model's embedding and blocks, no
 * hooks), the final logits at t are `lensLogits(h_L[t])` (= the model's output at t), and each mapping's
 * L+1 estimates are ranked in one tie-safe top-k call (`topKTieSafe`, ties → lower id). Besides the
 * metrics, per-sample top-1 ids and confidences p₍₁₎ − p₍₂₎ are returned for the early-exit curves (§9).
 */
import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError } from '../errors.js';
import { topKTieSafe } from '../lens/topk.js';
import { precisionAtK, surprisal } from '../linreg/metrics.js';
import { batchGroups, buildBatch, checkSamples, deviceBatch, matModelInfo, type BatchOptions, type MatModel } from './model-adapter.js';
import { shortcutTo, type MatMaps } from './maps.js';
import { PiTensors, runBlocksReplaced, type SubmoduleVariant } from './replaced-blocks.js';

/** The five mappings of §8 (names as plotted). */
export type MappingName = 'id' | 'mat' | 'mat_attn' | 'mat_ffn' | 'mat_ln1_ln2';

/** All mappings, in the order of §8. */
export const MAPPINGS: readonly MappingName[] = Object.freeze(['id', 'mat', 'mat_attn', 'mat_ffn', 'mat_ln1_ln2']);

/** Width of the final top-k that Precision@k reads. */
export const FINAL_TOP_K = 10;

/** Options of `evaluateMappings`. */
export interface EvaluateMappingsOptions extends BatchOptions {
  /** Mappings to evaluate (default: all five for GPT-2 maps with π, else `['id', 'mat']`; BERT: id and mat only). */
  mappings?: readonly MappingName[];
  /** Samples per forward pass. Default 16. */
  batchSize?: number;
  /** Order samples by input length so batches pad little (default true). */
  sortByLength?: boolean;
}

/** Metrics of one mapping, one value per exit layer ℓ = 0 … L. */
export interface MappingMetrics {
  precisionAt1: number[];
  precisionAt5: number[];
  precisionAt10: number[];
  /** Mean −ln p_final(mapped top-1), nats. */
  surprisal: number[];
}

/** Result of `evaluateMappings`. */
export interface MappingEvaluation {
  nLayers: number;
  nSamples: number;
  /** `[N]` sampled positions. */
  positions: Int32Array;
  /** Metrics per evaluated mapping. */
  metrics: Partial<Record<MappingName, MappingMetrics>>;
  /** `[N, 10]` the model's final top-10 ids per sample (best first). */
  finalTop: Int32Array;
  /** Per mapping `[L+1, N]`: the mapping's top-1 id at exit layer ℓ. */
  top1: Partial<Record<MappingName, Int32Array>>;
  /** Per mapping `[L+1, N]`: confidence p₍₁₎ − p₍₂₎ of the mapped distribution. */
  confidence: Partial<Record<MappingName, Float32Array>>;
  /** Per mapping `[L+1, N]`: −ln p_final(mapped top-1). */
  surprisal: Partial<Record<MappingName, Float64Array>>;
}

function checkMappings(mappings: readonly MappingName[], kind: 'gpt2' | 'bert'): void {
  if (!mappings.length) throw new InvalidArgumentError('evaluateMappings: no mappings requested');
  for (const m of mappings) {
    if (!MAPPINGS.includes(m)) throw new InvalidArgumentError(`evaluateMappings: unknown mapping '${String(m)}'`, `use ${MAPPINGS.join(', ')}`);
    if (kind === 'bert' && m !== 'id' && m !== 'mat') throw new InvalidArgumentError(`evaluateMappings: mapping '${m}' is defined for GPT-2 only (the BERT variant of §10 has id and mat)`);
  }
}

/**
 * Evaluates the mappings on validation samples.
 * @param model `HookedGPT2` or `HookedBert`.
 * @param sentences validation token ids per sentence.
 * @param positions `[N]` sampled positions.
 * @param maps fitted maps (A_{L,ℓ} for `mat`, π for the sub-module mappings).
 */
export async function evaluateMappings(model: MatModel, sentences: readonly ArrayLike<number>[], positions: ArrayLike<number>, maps: MatMaps, opts: EvaluateMappingsOptions = {}): Promise<MappingEvaluation> {
  const info = matModelInfo(model);
  checkSamples(info, sentences, positions, opts);
  const mappings = [...(opts.mappings ?? (info.kind === 'gpt2' && maps.submodules.size ? MAPPINGS : ['id', 'mat']))] as MappingName[];
  checkMappings(mappings, info.kind);
  const L = info.nLayers;
  const d = info.dModel;
  const V = info.dVocab;
  const N = sentences.length;
  if (V < FINAL_TOP_K) throw new InvalidArgumentError(`evaluateMappings: the vocabulary (${V}) is smaller than the final top-${FINAL_TOP_K}`);
  if (maps.nLayers !== L || maps.dModel !== d) throw new InvalidArgumentError(`evaluateMappings: maps are for L = ${maps.nLayers}, d = ${maps.dModel}; the model has L = ${L}, d = ${d}`);

  const finalTop = new Int32Array(N * FINAL_TOP_K);
  const top1: Partial<Record<MappingName, Int32Array>> = {};
  const confidence: Partial<Record<MappingName, Float32Array>> = {};
  const surprisals: Partial<Record<MappingName, Float64Array>> = {};
  for (const m of mappings) {
    top1[m] = new Int32Array((L + 1) * N);
    confidence[m] = new Float32Array((L + 1) * N);
    surprisals[m] = new Float64Array((L + 1) * N);
  }

  const shortcutTensors: tf.Tensor2D[] = [];
  const pis = new Map<MappingName, PiTensors>();
  try {
    if (mappings.includes('mat')) {
      for (let l = 0; l < L; l++) {
        const map = shortcutTo(maps, l, L);
        shortcutTensors.push(tf.tensor2d(map.weight instanceof Float32Array ? map.weight : Float32Array.from(map.weight), map.shape));
      }
    }
    for (const m of mappings) if (m !== 'id' && m !== 'mat') pis.set(m, new PiTensors(maps, m as SubmoduleVariant));
    const needFull = mappings.includes('mat_ffn') || mappings.includes('mat_ln1_ln2');

    for (const indices of batchGroups(info, sentences, positions, opts.batchSize ?? 16, opts.sortByLength ?? true)) {
      const B = indices.length;
      const device = await deviceBatch(model, buildBatch(model, info, sentences, positions, indices, opts));
      const full: tf.Tensor[] = [];
      const atT: tf.Tensor[] = [];
      try {
        // Residual stream h_0 … h_L (all positions kept only while a mapping needs them).
        let resid = device.h0;
        atT.push(tf.gatherND(resid, device.gatherIndices));
        for (let b = 0; b < L; b++) {
          const input = resid;
          resid = model.runBlocks(input, { from: b, to: b + 1, inputs: device.inputs });
          if (needFull) full.push(input);
          else if (input !== device.h0) input.dispose();
          atT.push(tf.gatherND(resid, device.gatherIndices));
        }
        resid.dispose();

        /** Estimate of the final state at t `[B, d]` of mapping m from exit layer l. */
        const estimate = (m: MappingName, l: number): tf.Tensor => {
          if (m === 'id' || l === L) return tf.clone(atT[l]!);
          if (m === 'mat') return tf.matMul(atT[l]!, shortcutTensors[l]!, false, true);
          if (m === 'mat_attn') return tf.squeeze(runBlocksReplaced(model, tf.expandDims(atT[l]!, 1), l, m, undefined, pis.get(m)), [1]);
          return tf.gatherND(runBlocksReplaced(model, full[l]!, l, m, device.inputs, pis.get(m)), device.gatherIndices);
        };

        // Final distribution at t.
        const finalLogits = model.lensLogits(atT[L]!);
        let finalLogProbs: Float32Array;
        try {
          const top = await topKTieSafe(finalLogits, FINAL_TOP_K);
          for (let r = 0; r < B; r++) finalTop.set(top.ids.subarray(r * FINAL_TOP_K, (r + 1) * FINAL_TOP_K), indices[r]! * FINAL_TOP_K);
          const logp = tf.logSoftmax(finalLogits);
          finalLogProbs = (await logp.data()) as Float32Array;
          logp.dispose();
        } finally {
          finalLogits.dispose();
        }

        for (const m of mappings) {
          const estimates = tf.tidy(() => {
            const perLayer = Array.from({ length: L + 1 }, (_, l) => tf.tidy(() => estimate(m, l)));
            return tf.reshape(tf.stack(perLayer), [(L + 1) * B, d]);
          });
          const logits = model.lensLogits(estimates);
          estimates.dispose();
          let ranked: Awaited<ReturnType<typeof topKTieSafe>>;
          try {
            ranked = await topKTieSafe(logits, 2);
          } finally {
            logits.dispose();
          }
          for (let l = 0; l <= L; l++) {
            const ids = new Int32Array(B);
            for (let r = 0; r < B; r++) {
              const row = l * B + r;
              ids[r] = ranked.ids[row * 2]!;
              top1[m]![l * N + indices[r]!] = ids[r]!;
              confidence[m]![l * N + indices[r]!] = ranked.probs[row * 2]! - ranked.probs[row * 2 + 1]!;
            }
            const s = surprisal(ids, finalLogProbs, V).perSample;
            for (let r = 0; r < B; r++) surprisals[m]![l * N + indices[r]!] = s[r]!;
          }
        }

      } finally {
        tf.dispose([...full.filter((t) => t !== device.h0), ...atT]);
        device.dispose();
      }
    }
  } finally {
    tf.dispose(shortcutTensors);
    for (const p of pis.values()) p.dispose();
  }

  const metrics: Partial<Record<MappingName, MappingMetrics>> = {};
  for (const m of mappings) {
    const out: MappingMetrics = { precisionAt1: [], precisionAt5: [], precisionAt10: [], surprisal: [] };
    for (let l = 0; l <= L; l++) {
      const ids = top1[m]!.subarray(l * N, (l + 1) * N);
      out.precisionAt1.push(precisionAtK(ids, finalTop, 1));
      out.precisionAt5.push(precisionAtK(ids, finalTop, 5));
      out.precisionAt10.push(precisionAtK(ids, finalTop, 10));
      const s = surprisals[m]!.subarray(l * N, (l + 1) * N);
      let sum = 0;
      for (let k = 0; k < N; k++) sum += s[k]!;
      out.surprisal.push(N ? sum / N : NaN);
    }
    metrics[m] = out;
  }
  return { nLayers: L, nSamples: N, positions: Int32Array.from(positions), metrics, finalTop, top1, confidence, surprisal: surprisals };
}
