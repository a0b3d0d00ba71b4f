/**
 * The run folder of a sharded collection and the manifest of each shard:
 *
 * ```
 * RUN_DIR/
 *   shards/
 *     0-of-4/  <data files of shard 0>  manifest.json
 *     1-of-4/  …
 * ```
 *
 * A shard writes its data files first and its `manifest.json` last (each atomically), so a folder with a
 * manifest holds a complete shard and one without is a task that did not finish. `merge` goes by the
 * manifests, not the folder names: a copied or renamed folder (`1-of-4.old`) counts as a second shard 1. `readRunShards` checks that
 * the manifests make one run: every shard 0 … n−1 present exactly once, the same command, options, input
 * hash, shard count and software; problems are `ShardMergeError`s naming the shards concerned.
 */
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { z } from 'zod';
import { ShardMergeError } from '../errors.js';
import { writeFileAtomic } from './atomic-write.js';
import { shardLabel, shardRange, type Shard } from './shard.js';

/** The `format` of manifests this version writes and reads. */
export const SHARD_MANIFEST_FORMAT = 'tfjs-lens-shard/1';

/** The manifest's file name inside a shard folder. */
export const SHARD_MANIFEST_FILE = 'manifest.json';

const manifestSchema = z.object({
  format: z.literal(SHARD_MANIFEST_FORMAT),
  command: z.string(),
  options: z.record(z.string(), z.unknown()),
  input: z.object({ hash: z.string(), files: z.array(z.string()) }),
  shard: z.object({ index: z.number().int().nonnegative(), count: z.number().int().positive() }),
  items: z.object({ total: z.number().int().nonnegative(), start: z.number().int().nonnegative(), end: z.number().int().nonnegative() }),
  software: z.record(z.string(), z.string()),
  backend: z.string(),
  files: z.array(z.string()),
  createdAt: z.string(),
});

/**
 * What one shard computed and from what. Two shards belong to one run when `command`, `options`,
 * `input.hash`, `shard.count`, `items.total` and `software` are equal.
 */
export interface ShardManifest {
  /** `SHARD_MANIFEST_FORMAT`. */
  format: typeof SHARD_MANIFEST_FORMAT;
  /** The subcommand, e.g. `'shortcuts'`. */
  command: string;
  /** The options that decide the result (JSON values), without --shard, --run-dir, --backend, --json. */
  options: Record<string, unknown>;
  /** `'sha256:<hex>'` of the input files' bytes (`hashFiles`), and the files as given. */
  input: { hash: string; files: string[] };
  /** This shard. */
  shard: Shard;
  /** The run's item count and this shard's block [start, end) (`shardRange`). */
  items: { total: number; start: number; end: number };
  /** Versions of Node, tfjs and tfjs-lens that computed it. */
  software: Record<string, string>;
  /** The backend that computed it (may differ between shards; recorded, not checked). */
  backend: string;
  /** The data files of this shard, relative to its folder. */
  files: string[];
  /** ISO time the shard finished. */
  createdAt: string;
}

/** `RUN_DIR/shards`. */
export function shardsDir(runDir: string): string {
  return join(runDir, 'shards');
}

/** `RUN_DIR/shards/<i>-of-<n>`: the folder of one shard. */
export function shardDir(runDir: string, shard: Shard): string {
  return join(shardsDir(runDir), shardLabel(shard));
}

/**
 * SHA-256 over the files' bytes, each preceded by its length (so `['ab', 'c']` ≠ `['a', 'bc']`); the paths
 * themselves do not enter, so tasks that see the same data under different mount points agree.
 * @returns `'sha256:<64 hex digits>'`
 */
export function hashFiles(paths: readonly string[]): string {
  const hash = createHash('sha256');
  const chunk = Buffer.alloc(1 << 20);
  for (const path of paths) {
    hash.update(`${statSync(path).size}:`);
    const fd = openSync(path, 'r');
    try {
      for (let n = readSync(fd, chunk); n > 0; n = readSync(fd, chunk)) hash.update(chunk.subarray(0, n));
    } finally {
      closeSync(fd);
    }
  }
  return `sha256:${hash.digest('hex')}`;
}

/**
 * Writes `manifest` as `RUN_DIR/shards/<i>-of-<n>/manifest.json` (atomically); call it after the shard's
 * data files are written — its presence marks the shard complete.
 * @returns the manifest's path.
 */
export function writeShardManifest(runDir: string, manifest: ShardManifest): string {
  const path = join(shardDir(runDir, manifest.shard), SHARD_MANIFEST_FILE);
  writeFileAtomic(path, `${JSON.stringify(manifest, null, 1)}\n`);
  return path;
}

/** One shard found in a run folder. */
export interface RunShard {
  /** The shard's folder. */
  dir: string;
  manifest: ShardManifest;
}

function readManifest(runDir: string, name: string): RunShard {
  const dir = join(shardsDir(runDir), name);
  const path = join(dir, SHARD_MANIFEST_FILE);
  if (!existsSync(path)) throw new ShardMergeError(runDir, 'incomplete', [name], `shard folder ${name} has no ${SHARD_MANIFEST_FILE}: its task did not finish`, `rerun that shard (its manifest is written last), or remove the folder if it is left over from another run`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ShardMergeError(runDir, 'invalid', [name], `${name}/${SHARD_MANIFEST_FILE} is not readable JSON: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`, 'rerun that shard');
  }
  const result = manifestSchema.safeParse(parsed);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new ShardMergeError(runDir, 'invalid', [name], `${name}/${SHARD_MANIFEST_FILE} is not a ${SHARD_MANIFEST_FORMAT} manifest: ${issue.path.join('.') || '(root)'}: ${issue.message}`, 'rerun that shard with this version of tfjs-lens');
  }
  const manifest = result.data as ShardManifest;
  const { index, count } = manifest.shard;
  if (index >= count) throw new ShardMergeError(runDir, 'invalid', [name], `${name}/${SHARD_MANIFEST_FILE} names shard ${index} of ${count}`, 'rerun that shard');
  const block = shardRange(manifest.items.total, manifest.shard);
  if (block.start !== manifest.items.start || block.end !== manifest.items.end) {
    throw new ShardMergeError(runDir, 'invalid', [name], `${name} holds items [${manifest.items.start}, ${manifest.items.end}) but shard ${index} of ${count} over ${manifest.items.total} items is [${block.start}, ${block.end})`, 'rerun that shard with this version of tfjs-lens');
  }
  return { dir, manifest };
}

/** The fields two manifests of one run must share, with their names for messages. */
const RUN_FIELDS: [string, (m: ShardManifest) => unknown][] = [
  ['command', (m) => m.command],
  ['options', (m) => m.options],
  ['input hash', (m) => m.input.hash],
  ['shard count', (m) => m.shard.count],
  ['item count', (m) => m.items.total],
  ['software', (m) => m.software],
];

/**
 * Reads and checks every shard of a run folder.
 * @returns the shards in index order (0 … n−1).
 * @throws ShardMergeError when there are no shards, a shard is incomplete, invalid, missing or duplicated,
 *   or two manifests disagree on a run field (the message names the field, the shards and both values).
 */
export function readRunShards(runDir: string): RunShard[] {
  const root = shardsDir(runDir);
  const names = existsSync(root) ? readdirSync(root, { withFileTypes: true }).filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name).sort() : [];
  if (names.length === 0) throw new ShardMergeError(runDir, 'no-shards', [], `no shards under ${root}`, 'run the collecting command with --run-dir RUN_DIR (and --shard i/n or a job array) first');
  const shards = names.map((name) => readManifest(runDir, name));
  const first = shards[0]!;
  for (const [field, get] of RUN_FIELDS) {
    const other = shards.find((s) => !isDeepStrictEqual(get(s.manifest), get(first.manifest)));
    if (other) {
      const a = shardLabel(first.manifest.shard);
      const b = shardLabel(other.manifest.shard);
      throw new ShardMergeError(runDir, 'mismatch', [a, b], `shards ${a} and ${b} differ in their ${field}: ${JSON.stringify(get(first.manifest))} vs ${JSON.stringify(get(other.manifest))}`, 'every shard of a run must run the same command with the same options, input and software; use a fresh --run-dir per run');
    }
  }
  const n = first.manifest.shard.count;
  const byIndex = Array.from({ length: n }, (): RunShard[] => []);
  for (const s of shards) byIndex[s.manifest.shard.index]!.push(s);
  const missing = byIndex.flatMap((list, i) => (list.length === 0 ? [shardLabel({ index: i, count: n })] : []));
  if (missing.length) throw new ShardMergeError(runDir, 'missing', missing, `${missing.length} of ${n} shards missing: ${missing.join(', ')}`, 'run the missing shards (e.g. --shard i/n, or resubmit those array indices), then merge again');
  const duplicate = byIndex.flatMap((list) => (list.length > 1 ? list.map((s) => s.dir) : []));
  if (duplicate.length) throw new ShardMergeError(runDir, 'duplicate', duplicate, `a shard is present more than once: ${duplicate.join(', ')}`, 'keep one folder per shard');
  return byIndex.map((list) => list[0]!);
}
