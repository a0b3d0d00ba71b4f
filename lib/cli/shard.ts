/**
 * The sharding options every collecting command takes (`--shard i/n`, `--shard-count n`, `--run-dir DIR`),
 * and the end of a sharded run: the shard's manifest and the message that says which `merge` to run.
 * A command calls `shardRunFromOptions` once its input is known, collects only `shardRange(total, shard)`,
 * writes its data files into `run.dir`, then calls `finishShard`.
 */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { InvalidArgumentError } from '../errors.js';
import { resolveShard, SHARD_COUNT_ENV, shardRange, type ResolvedShard } from '../io/shard.js';
import { hashFiles, shardDir, SHARD_MANIFEST_FORMAT, writeShardManifest, type ShardManifest } from '../io/shard-run.js';
import { versions } from '../bench/host.js';

/** The sharding options as commander gives them. */
export interface ShardCliOptions {
  shard?: string;
  shardCount?: string;
  runDir?: string;
}

/** Adds `--shard`, `--shard-count` and `--run-dir` to a command. */
export function addShardOptions(command: Command): Command {
  return command
    .option('--shard <i/n>', 'compute shard i of n only (0 ≤ i < n) into --run-dir; default: the Slurm array task or Kubernetes Indexed Job index')
    .option('--shard-count <n>', `the shard count of a Kubernetes Indexed Job (with JOB_COMPLETION_INDEX; or set ${SHARD_COUNT_ENV})`)
    .option('--run-dir <dir>', 'write this shard (safetensors + JSON + manifest) under DIR/shards/<i>-of-<n>/ and skip the final analysis; combine with `tfjs-lens merge DIR`');
}

/** File and folder options whose names do not end in File / Dir (`--images`, `--audio`, `--synsets`). */
const PATH_OPTIONS = new Set(['images', 'audio', 'synsets']);

/** Options that say where or how a run goes, not what it computes: left out of a manifest. */
const UNRECORDED = new Set(['shard', 'shardCount', 'runDir', 'backend', 'json', 'out']);

/**
 * The options of a command that decide its result, as a manifest records them: every option but
 * --shard, --shard-count, --run-dir, --backend, --json and --out; file and folder options (`…File`,
 * `…Dir`, `images`, `audio`, `synsets`) and the model folder made absolute, so `merge` finds them from any working directory.
 */
export function recordedOptions(opts: object, modelDir: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(opts)) {
    if (UNRECORDED.has(key) || value === undefined) continue;
    out[key] = typeof value === 'string' && (/(File|Dir)$/.test(key) || PATH_OPTIONS.has(key)) ? resolve(value) : value;
  }
  out.model = existsSync(modelDir) ? resolve(modelDir) : modelDir;
  return out;
}

/** A sharded run: the run folder, this process's shard, and the shard's folder. */
export interface ShardRun {
  runDir: string;
  shard: ResolvedShard;
  /** `RUN_DIR/shards/<i>-of-<n>`. */
  dir: string;
}

/**
 * The shard this process computes, or undefined for an ordinary (unsharded) run. `--run-dir` without a
 * shard is shard 0 of 1; a shard (from `--shard` or a job array of more than one task) needs `--run-dir`.
 * @throws InvalidArgumentError for a malformed shard, or a shard without `--run-dir`.
 */
export function shardRunFromOptions(opts: ShardCliOptions, env: NodeJS.ProcessEnv = process.env): ShardRun | undefined {
  const resolved = resolveShard(opts, env);
  if (opts.runDir === undefined) {
    if (resolved === undefined || (resolved.source !== '--shard' && resolved.count === 1)) return undefined;
    const from = resolved.source === '--shard' ? `--shard ${opts.shard}` : `this ${resolved.source === 'slurm' ? 'Slurm array task' : 'Kubernetes Indexed Job pod'} (shard ${resolved.index} of ${resolved.count})`;
    throw new InvalidArgumentError(`${from} needs --run-dir: a shard is written into the run folder, not analysed on its own`, 'pass --run-dir DIR (the same shared folder for every shard), then run tfjs-lens merge DIR');
  }
  const shard: ResolvedShard = resolved ?? { index: 0, count: 1, source: '--shard' };
  return { runDir: opts.runDir, shard, dir: shardDir(opts.runDir, shard) };
}

/** `[start, end)` of the items of this shard among `total` (see `shardRange`). */
export function shardItems(run: ShardRun, total: number): { start: number; end: number } {
  return shardRange(total, run.shard);
}

/** What `finishShard` records besides the shard itself. */
export interface ShardResult {
  command: string;
  /** The options that decide the result (JSON values); not --shard, --run-dir, --backend or --json. */
  options: Record<string, unknown>;
  /** The input files whose bytes are hashed (data file, …). */
  inputFiles: string[];
  /** The run's item count (sentences, examples, positions). */
  total: number;
  /** The data files written into `run.dir`, relative to it. */
  files: string[];
  backend: string;
}

/** What a sharded run prints (`--json`: this object; else `message`). */
export interface ShardDone {
  shard: { index: number; count: number };
  /** The shard's folder and its manifest. */
  dir: string;
  manifest: string;
  /** The items of this shard: [start, end) of total. */
  items: { start: number; end: number; total: number };
  /** The command that combines the shards. */
  merge: string;
  message: string;
}

/**
 * Writes the shard's manifest (last, so its presence marks the shard complete).
 * @returns what was written and the `merge` to run once every shard is done.
 */
export function finishShard(run: ShardRun, result: ShardResult): ShardDone {
  const items = { total: result.total, ...shardItems(run, result.total) };
  const manifest: ShardManifest = {
    format: SHARD_MANIFEST_FORMAT,
    command: result.command,
    options: JSON.parse(JSON.stringify(result.options)) as Record<string, unknown>,
    input: { hash: hashFiles(result.inputFiles), files: result.inputFiles.map((f) => resolve(f)) },
    shard: { index: run.shard.index, count: run.shard.count },
    items,
    software: versions(),
    backend: result.backend,
    files: result.files,
    createdAt: new Date().toISOString(),
  };
  const path = writeShardManifest(run.runDir, manifest);
  const { index, count } = run.shard;
  const merge = `tfjs-lens merge ${run.runDir}`;
  const message = `${result.command}: shard ${index}/${count} (items [${items.start}, ${items.end}) of ${items.total}) written to ${run.dir}; a sharded run does no final analysis — when all ${count} shard${count === 1 ? ' is' : 's are'} done, run: ${merge}`;
  return { shard: { index, count }, dir: run.dir, manifest: path, items, merge, message };
}

/** Prints a `ShardDone` (JSON with `--json`). */
export function printShardDone(done: ShardDone, json: boolean | undefined): string {
  return json ? JSON.stringify(done, null, 2) : done.message;
}

/** True for the result of a sharded run (as opposed to a command's report). */
export function isShardDone(x: object): x is ShardDone {
  return 'manifest' in x && 'merge' in x;
}
