/**
 * A shard of `shortcuts`, and its merge. The items of a `shortcuts` run are its training batches (the batch
 * plan of the whole run, so every sample is computed in the same batch as in a single process); a shard
 * collects the float64 Gram sums of its contiguous block of batches into `statistics.safetensors` (F64) and
 * `statistics.json` (counts). `merge` adds the shards' sums in index order and runs the rest of the
 * pipeline (fit, validation, r², Precision@1, figures) as the single-process command does.
 */
import { join } from 'node:path';
import { ensureOutputDir, writeFileAtomic } from '../io/atomic-write.js';
import type { RunShard } from '../io/shard-run.js';
import { collectMatStatistics, type MatModel } from '../shortcuts/index.js';
import { addShortcutStatistics, type ShortcutStatistics } from '../shortcuts/accumulate.js';
import { readShortcutStatistics, saveShortcutStatistics } from '../shortcuts/statistics-file.js';
import { finishShard, shardItems, type ShardDone, type ShardRun } from './shard.js';
import type { TokenSequences } from './text-input.js';

/** The statistics file of a `shortcuts` shard. */
export const SHORTCUT_STATISTICS_FILE = 'statistics.safetensors';

/**
 * Collects this shard's training sums and writes them, then the manifest.
 * @param plan the run's resolved split and batching.
 */
export async function writeShortcutsShard(
  run: ShardRun,
  model: MatModel,
  input: TokenSequences,
  plan: { nTrain: number; nVal: number; seed: number; batchSize: number },
  ctx: { options: Record<string, unknown>; backend: string },
): Promise<ShardDone> {
  process.stderr.write(`shortcuts: shard ${run.shard.index}/${run.shard.count}: train states…\n`);
  const { statistics, batches } = await collectMatStatistics(model, input.sequences, { ...plan, batches: (total) => shardItems(run, total) });
  ensureOutputDir(run.dir);
  await saveShortcutStatistics(join(run.dir, SHORTCUT_STATISTICS_FILE), statistics);
  writeFileAtomic(join(run.dir, 'statistics.json'), `${JSON.stringify({ samples: statistics.count, batches, nLayers: statistics.nLayers, dModel: statistics.dModel, submodules: statistics.submodules }, null, 1)}\n`);
  return finishShard(run, {
    command: 'shortcuts',
    options: ctx.options,
    inputFiles: [input.file],
    total: batches.total,
    files: [SHORTCUT_STATISTICS_FILE, 'statistics.json'],
    backend: ctx.backend,
  });
}

/** The training sums of all shards, added in index order (float64). */
export async function mergeShortcutStatistics(shards: readonly RunShard[]): Promise<ShortcutStatistics> {
  const parts: ShortcutStatistics[] = [];
  for (const s of shards) parts.push(await readShortcutStatistics(join(s.dir, SHORTCUT_STATISTICS_FILE)));
  return addShortcutStatistics(parts);
}
