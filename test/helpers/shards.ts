/** Helpers of the sharded-run tests: run every shard of a command, and compare reports without their paths. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { isShardDone, type ShardDone } from '../../lib/cli/shard.js';

/**
 * Runs every shard `i/n` of `run` (in-process) into the run folder `dir/name-n`; each must write its shard and
 * no report.
 * @returns the run folder and each shard's block of items.
 */
export async function shardAll(dir: string, name: string, n: number, run: (shard: string, runDir: string) => Promise<object>): Promise<{ runDir: string; blocks: ShardDone['items'][] }> {
  const runDir = join(dir, `${name}-${n}`);
  const blocks: ShardDone['items'][] = [];
  for (let i = 0; i < n; i++) {
    const done = await run(`${i}/${n}`, runDir);
    assert.ok(isShardDone(done), 'a sharded run writes its shard and no report');
    assert.match(done.message, /does no final analysis.*tfjs-lens merge/);
    blocks.push(done.items);
  }
  return { runDir, blocks };
}

/** A report as JSON without the paths that differ between runs (written files, figures; `inputFile`: input.file too). */
export function withoutPaths(report: object, opts: { inputFile?: boolean } = {}): Record<string, unknown> {
  const r = JSON.parse(JSON.stringify(report)) as Record<string, unknown>;
  delete r.files;
  delete r.figures;
  if (opts.inputFile) delete (r.input as Record<string, unknown>).file;
  return r;
}
