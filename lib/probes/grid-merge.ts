/**
 * `probe-grid` shards → one log: the shards' `probe-grid.jsonl` files concatenated in shard order (each
 * shard ran a contiguous block of the grid's cells, so the result is the log of one full run), checked
 * against the grid the manifests describe, and written atomically to `RUN_DIR/probe-grid.jsonl`.
 * For `tfjs-lens merge RUN_DIR` on a probe-grid run.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ShardMergeError } from '../errors.js';
import { readRunShards } from '../io/shard-run.js';
import { writeFileAtomic } from '../io/atomic-write.js';
import { shardLabel } from '../io/shard.js';
import { enumerateGridCells, gridCellKey, type GridAxes, type GridRecord } from './grid.js';

/** The log file a probe-grid shard writes into its folder. */
export const PROBE_GRID_LOG = 'probe-grid.jsonl';

/**
 * Merges the shards of a probe-grid run folder.
 * @returns the merged records (grid order) and the path written.
 * @throws ShardMergeError when a shard is not a probe-grid shard, its log is missing, torn or holds other
 *   cells than its block (plus every error of `readRunShards`).
 */
export function mergeProbeGridShards(runDir: string): { records: GridRecord[]; path: string } {
  const shards = readRunShards(runDir);
  const first = shards[0]!.manifest;
  if (first.command !== 'probe-grid') throw new ShardMergeError(runDir, 'mismatch', [shardLabel(first.shard)], `the shards are from '${first.command}', not probe-grid`);
  const axes = (first.options as { axes?: GridAxes }).axes;
  if (!axes) throw new ShardMergeError(runDir, 'invalid', [shardLabel(first.shard)], 'the manifest names no grid axes', 'rerun the shards with this version of tfjs-lens');
  const cells = enumerateGridCells(axes);
  const lines: string[] = [];
  const records: GridRecord[] = [];
  for (const { dir, manifest } of shards) {
    const label = shardLabel(manifest.shard);
    const path = join(dir, PROBE_GRID_LOG);
    if (!existsSync(path)) throw new ShardMergeError(runDir, 'incomplete', [label], `shard ${label} has no ${PROBE_GRID_LOG}`);
    const text = readFileSync(path, 'utf8');
    if (text.length && !text.endsWith('\n')) throw new ShardMergeError(runDir, 'incomplete', [label], `the log of shard ${label} ends in a torn line`, 'rerun that shard: it resumes and completes its log');
    const own = text.split('\n').filter(Boolean);
    const expected = cells.slice(manifest.items.start, manifest.items.end).map(gridCellKey);
    const got = own.map((l) => gridCellKey(JSON.parse(l) as GridRecord));
    const bad = got.length !== expected.length || got.some((k, i) => k !== expected[i]);
    if (bad) throw new ShardMergeError(runDir, 'invalid', [label], `the log of shard ${label} holds ${got.length} cells, not its block of ${expected.length} cells [${manifest.items.start}, ${manifest.items.end}) in grid order`, 'rerun that shard into a fresh --run-dir');
    lines.push(...own);
    records.push(...own.map((l) => JSON.parse(l) as GridRecord));
  }
  const out = join(runDir, PROBE_GRID_LOG);
  writeFileAtomic(out, lines.map((l) => `${l}\n`).join(''));
  return { records, path: out };
}
