/**
 * Shards of a collecting run: which part `i` of `n` this process computes. The shard comes from
 * `--shard i/n`, else from a Slurm job array (`SLURM_ARRAY_TASK_ID` with `SLURM_ARRAY_TASK_COUNT`, or
 * `SLURM_ARRAY_TASK_MIN`/`MAX`/`STEP`; arrays need not start at 0), else from a Kubernetes Indexed Job
 * (`JOB_COMPLETION_INDEX` with `--shard-count` or `TFJS_LENS_SHARD_COUNT`). Items are assigned to shards
 * in contiguous blocks whose sizes differ by at most one, so concatenating the shards in index order
 * gives the items in their original order. Bad values are `InvalidArgumentError`s naming the source.
 */
import { InvalidArgumentError } from '../errors.js';

/** Shard `index` of `count` (0 ≤ index < count). */
export interface Shard {
  index: number;
  count: number;
}

/** Where a resolved shard came from. */
export type ShardSource = '--shard' | 'slurm' | 'kubernetes';

/** A shard and where it came from. */
export interface ResolvedShard extends Shard {
  source: ShardSource;
}

/** The environment variable that gives a Kubernetes Indexed Job's shard count (its `completions`). */
export const SHARD_COUNT_ENV = 'TFJS_LENS_SHARD_COUNT';

/** `s` as a non-negative integer when it is plain decimal digits (`'0'`, `'12'`), else undefined. */
function digits(s: string | undefined): number | undefined {
  if (s === undefined || !/^\s*\d+\s*$/.test(s)) return undefined;
  const n = Number(s.trim());
  return Number.isSafeInteger(n) ? n : undefined;
}

/** Checks 0 ≤ index < count; `where` names the source in the message. */
function checkedShard(index: number, count: number, where: string, hint: string): Shard {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(count) || index < 0) throw new InvalidArgumentError(`${where}: the shard index and count must be integers with index ≥ 0, got ${index} and ${count}`, hint);
  if (count < 1) throw new InvalidArgumentError(`${where}: the shard count must be at least 1, got ${count}`, hint);
  if (index >= count) throw new InvalidArgumentError(`${where}: shard index ${index} is not below the shard count ${count} (indices run 0 … ${count - 1})`, hint);
  return { index, count };
}

/**
 * Parses `'i/n'` (e.g. `'2/4'`: the third of four shards).
 * @throws InvalidArgumentError unless i and n are decimal integers with 0 ≤ i < n.
 */
export function parseShard(text: string, where = '--shard'): Shard {
  const hint = 'write the shard as i/n with 0 ≤ i < n, e.g. --shard 0/4 … --shard 3/4';
  const m = /^\s*([^/]*)\/([^/]*)$/.exec(text);
  const index = digits(m?.[1]);
  const count = digits(m?.[2]);
  if (index === undefined || count === undefined) throw new InvalidArgumentError(`${where} must be i/n with decimal integers, got '${text}'`, hint);
  return checkedShard(index, count, `${where} ${text.trim()}`, hint);
}

/** Reads one integer environment variable (undefined when unset or empty). */
function envInt(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  const n = digits(raw);
  if (n === undefined) throw new InvalidArgumentError(`${name}='${raw}' is not a non-negative integer`, 'unset it, or pass --shard i/n');
  return n;
}

/**
 * The shard of a Slurm job-array task, or undefined outside an array. The index is
 * (SLURM_ARRAY_TASK_ID − MIN) / STEP, so `--array=1-4` gives shards 0 … 3 of 4; the count is
 * SLURM_ARRAY_TASK_COUNT, else (MAX − MIN) / STEP + 1.
 * @throws InvalidArgumentError for an array with gaps (`--array=0,2,7`) or an inconsistent environment.
 */
export function slurmShard(env: NodeJS.ProcessEnv = process.env): Shard | undefined {
  const id = envInt(env, 'SLURM_ARRAY_TASK_ID');
  if (id === undefined) return undefined;
  const min = envInt(env, 'SLURM_ARRAY_TASK_MIN') ?? 0;
  const max = envInt(env, 'SLURM_ARRAY_TASK_MAX');
  const step = envInt(env, 'SLURM_ARRAY_TASK_STEP') ?? 1;
  const given = envInt(env, 'SLURM_ARRAY_TASK_COUNT');
  const hint = 'submit the array as a range, e.g. sbatch --array=0-3, or pass --shard i/n';
  const where = `Slurm array task ${id} (SLURM_ARRAY_TASK_MIN ${min}, MAX ${max ?? 'unset'}, STEP ${step}, COUNT ${given ?? 'unset'})`;
  if (step < 1) throw new InvalidArgumentError(`${where}: the step must be at least 1`, hint);
  if (id < min || (id - min) % step !== 0) throw new InvalidArgumentError(`${where}: the task id is not min + k·step`, hint);
  const spanned = max === undefined ? undefined : max < min || (max - min) % step !== 0 ? NaN : (max - min) / step + 1;
  if (Number.isNaN(spanned)) throw new InvalidArgumentError(`${where}: MAX is not MIN + k·STEP`, hint);
  const count = given ?? spanned;
  if (count === undefined) throw new InvalidArgumentError(`${where}: neither SLURM_ARRAY_TASK_COUNT nor SLURM_ARRAY_TASK_MAX is set, so the shard count is unknown`, hint);
  if (spanned !== undefined && spanned !== count) throw new InvalidArgumentError(`${where}: the array has gaps (${count} tasks spread over ${spanned} indices), so task ids do not map onto shards 0 … ${count - 1}`, hint);
  return checkedShard((id - min) / step, count, where, hint);
}

/**
 * The shard of a Kubernetes Indexed Job pod (`JOB_COMPLETION_INDEX`), or undefined outside one. The count
 * is `shardCount` (from `--shard-count`), else `TFJS_LENS_SHARD_COUNT`; Kubernetes does not export the
 * Job's `completions`, so one of the two must say it.
 */
export function kubernetesShard(env: NodeJS.ProcessEnv = process.env, shardCount?: string): Shard | undefined {
  const index = envInt(env, 'JOB_COMPLETION_INDEX');
  if (index === undefined) return undefined;
  const hint = `set ${SHARD_COUNT_ENV} in the pod template (or pass --shard-count) to the Job's completions`;
  const countText = shardCount ?? env[SHARD_COUNT_ENV];
  if (countText === undefined || countText.trim() === '') throw new InvalidArgumentError(`JOB_COMPLETION_INDEX=${index} is set but the shard count is not (--shard-count or ${SHARD_COUNT_ENV})`, hint);
  const count = digits(countText);
  const where = shardCount !== undefined ? '--shard-count' : SHARD_COUNT_ENV;
  if (count === undefined) throw new InvalidArgumentError(`${where} must be a positive integer, got '${countText}'`, hint);
  return checkedShard(index, count, `Kubernetes index ${index} of ${where} ${count}`, hint);
}

/** Options of `resolveShard`: the command's `--shard` and `--shard-count` values. */
export interface ShardFlags {
  shard?: string;
  shardCount?: string;
}

/**
 * This process's shard: `--shard i/n` first, else a Slurm array task, else a Kubernetes Indexed Job pod;
 * undefined when none applies (an unsharded run).
 * @throws InvalidArgumentError for a malformed value, or `--shard-count` without `JOB_COMPLETION_INDEX`.
 */
export function resolveShard(flags: ShardFlags, env: NodeJS.ProcessEnv = process.env): ResolvedShard | undefined {
  if (flags.shard !== undefined) {
    const shard = parseShard(flags.shard);
    if (flags.shardCount !== undefined && digits(flags.shardCount) !== shard.count) {
      throw new InvalidArgumentError(`--shard ${flags.shard} and --shard-count ${flags.shardCount} disagree`, '--shard i/n already gives the count; drop --shard-count');
    }
    return { ...shard, source: '--shard' };
  }
  const slurm = slurmShard(env);
  if (slurm) return { ...slurm, source: 'slurm' };
  const k8s = kubernetesShard(env, flags.shardCount);
  if (k8s) return { ...k8s, source: 'kubernetes' };
  if (flags.shardCount !== undefined) throw new InvalidArgumentError('--shard-count is given but JOB_COMPLETION_INDEX is not set', 'use --shard i/n outside a Kubernetes Indexed Job');
  return undefined;
}

/**
 * The items of shard `index` of `count` among `nItems`: the contiguous block
 * [⌊index·nItems/count⌋, ⌊(index+1)·nItems/count⌋). Blocks cover 0 … nItems−1 once, in order, and
 * differ in size by at most one; a shard may be empty when count > nItems.
 */
export function shardRange(nItems: number, shard: Shard): { start: number; end: number } {
  if (!Number.isSafeInteger(nItems) || nItems < 0) throw new InvalidArgumentError(`shardRange: nItems must be a non-negative integer, got ${nItems}`);
  checkedShard(shard.index, shard.count, 'shardRange', 'pass 0 ≤ index < count');
  const at = (k: number) => Math.floor((k * nItems) / shard.count);
  return { start: at(shard.index), end: at(shard.index + 1) };
}

/** `'2-of-4'`: the folder name of a shard. */
export function shardLabel(shard: Shard): string {
  return `${shard.index}-of-${shard.count}`;
}
