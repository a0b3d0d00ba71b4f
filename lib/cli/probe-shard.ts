/**
 * A shard of `probe`, and its merge. The items of a `probe` run are its sentences (each is its own forward
 * pass), or for ViT / Whisper its chunks (`--batch` images, or one clip, per pass). A shard runs a contiguous
 * block of them and writes (`rows.safetensors`) the saturation layers
 * of all their positions and the features of every bucket item of the kept positions — unbalanced, since the
 * balance (the first m_j items of each (layer, task) bucket) depends on all examples. `merge` concatenates
 * the shards' saturation rows in sentence order, applies the §1 filter and the §3 balance to all of them
 * (`selectProbeItems`), takes each chosen item's features from its shard, and runs the cross-validated
 * probe and controls as the single-process command does.
 */
import { join } from 'node:path';
import { ShardMergeError } from '../errors.js';
import { ensureOutputDir } from '../io/atomic-write.js';
import { readAllSafetensors } from '../io/safetensors.js';
import { saveSafetensors } from '../io/safetensors-writer.js';
import type { RunShard } from '../io/shard-run.js';
import type { HookedLensModel } from '../lens/logit-lens.js';
import type { InputChunks } from '../lens/topk.js';
import { buildProbeDataset, probeDatasetExperiment, selectProbeItems, type FeatureSpace, type ModelProbeReport, type RunProbeExperimentOptions } from '../probes/index.js';
import { finishShard, shardItems, type ShardDone, type ShardRun } from './shard.js';

/** The rows file of a `probe` shard. */
export const PROBE_ROWS_FILE = 'rows.safetensors';

/** The items of a `probe` shard: the shard's block of examples, and what its manifest records. */
export interface ProbeShardInput<I> {
  /** The block's sentences (text: `[start, end)` of them) or ViT / Whisper chunks (made with the shard's range). */
  part: I | InputChunks<I>;
  /** Items of the whole run (sentences, or chunks); the shard's block is `shardItems(run, total)`. */
  total: number;
  /** Files whose bytes the manifest hashes. */
  inputFiles: string[];
}

/** Builds this shard's saturation rows and candidate features, writes them, then the manifest. */
export async function writeProbeShard<I>(run: ShardRun, model: HookedLensModel<I>, input: ProbeShardInput<I>, opts: RunProbeExperimentOptions, ctx: { options: Record<string, unknown>; backend: string }): Promise<ShardDone> {
  const { start, end } = shardItems(run, input.total);
  process.stderr.write(`probe: shard ${run.shard.index}/${run.shard.count}: items [${start}, ${end}) of ${input.total}…\n`);
  const data = end > start ? await buildProbeDataset(model, input.part, { ...opts, allItems: true }) : undefined;
  const k = opts.k ?? 5;
  const S = data?.saturation ?? [];
  const n = data?.y.length ?? 0;
  const d = data ? data.X.shape[1] : 0;
  ensureOutputDir(run.dir);
  await saveSafetensors(join(run.dir, PROBE_ROWS_FILE), {
    saturation: { shape: [S.length, k], data: Int32Array.from(S.flat()) },
    example: { shape: [n], data: data?.examples ?? new Int32Array(0) },
    layer: { shape: [n], data: data?.layers ?? new Int32Array(0) },
    task: { shape: [n], data: data?.y ?? new Int32Array(0) },
    features: { shape: [n, d], data: (data?.X.data as Float32Array | undefined) ?? new Float32Array(0) },
  }, { format: 'tfjs-lens probe rows', layout: 'saturation [positions, k] of every position of the shard\'s sentences; example / layer / task / features [items, d] of every bucket item of the kept positions (example indexes the shard\'s saturation rows)' });
  return finishShard(run, { command: 'probe', options: ctx.options, inputFiles: input.inputFiles, total: input.total, files: [PROBE_ROWS_FILE], backend: ctx.backend });
}

/** The merged, balanced dataset of a `probe` run, ready for `probeDatasetExperiment`. */
export interface MergedProbeData {
  dataset: Parameters<typeof probeDatasetExperiment>[0];
  examples: { total: number; kept: number };
  featureSpace: FeatureSpace;
}

/**
 * Combines the shards' rows: saturation rows concatenated in sentence order, then the §1 filter and §3 balance
 * over all of them, and each chosen item's features from the shard that computed them.
 * @throws ShardMergeError when a chosen item's features are in no shard (files from another run).
 */
export async function mergeProbeData(runDir: string, shards: readonly RunShard[], opts: RunProbeExperimentOptions & { featureSpace: FeatureSpace; L: number }): Promise<MergedProbeData> {
  const saturation: number[][] = [];
  const features = new Map<string, Float32Array>();
  let d = 0;
  for (const shard of shards) {
    const t = await readAllSafetensors(join(shard.dir, PROBE_ROWS_FILE));
    const get = (name: string) => {
      const v = t.get(name);
      if (!v) throw new ShardMergeError(runDir, 'invalid', [shard.dir], `${PROBE_ROWS_FILE} has no '${name}'`, 'rerun that shard');
      return v;
    };
    const sat = get('saturation');
    const k = sat.shape[1] ?? 0;
    const offset = saturation.length;
    for (let r = 0; r < sat.shape[0]!; r++) saturation.push(Array.from((sat.data as Int32Array).subarray(r * k, (r + 1) * k)));
    const [example, layer] = [get('example').data as Int32Array, get('layer').data as Int32Array];
    const X = get('features');
    if (example.length) d = X.shape[1]!;
    example.forEach((e, i) => features.set(`${offset + e}:${layer[i]}`, (X.data as Float32Array).subarray(i * d, (i + 1) * d)));
  }
  const K = opts.K ?? 5;
  const J0 = opts.J0 ?? 5;
  const { items, perLayer, keptIdx } = selectProbeItems(saturation, opts.L, { K, J0, minPerLayer: opts.minPerLayer, filterFraction: opts.filterFraction });
  const data = new Float32Array(items.length * d);
  items.forEach((it, i) => {
    const f = features.get(`${it.example}:${it.layer}`);
    if (!f) throw new ShardMergeError(runDir, 'invalid', [], `no shard holds the features of position ${it.example} at layer ${it.layer}`, 'rerun the shards with the same options');
    data.set(f, i * d);
  });
  return {
    dataset: { X: { data, shape: [items.length, d] }, y: Int32Array.from(items, (it) => it.task), nClasses: K, L: opts.L, J0, perLayer },
    examples: { total: saturation.length, kept: keptIdx.length },
    featureSpace: opts.featureSpace,
  };
}

/** How `merge` hands the shards' data to `probe` once the model's L is known. */
export type MergeProbeData = (opts: RunProbeExperimentOptions & { featureSpace: FeatureSpace; L: number }) => Promise<MergedProbeData>;

/** `runProbeExperiment`'s report from merged data (the cross-validation and controls only). */
export function mergedProbeReport(merged: MergedProbeData, opts: RunProbeExperimentOptions): ModelProbeReport {
  return { ...probeDatasetExperiment(merged.dataset, opts), examples: merged.examples, featureSpace: merged.featureSpace };
}
