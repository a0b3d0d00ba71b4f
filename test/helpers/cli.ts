/** Runs the built `tfjs-lens` CLI (dist/lib/cli/main.js) in a child process on the tier's backend (cpu by default). */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './fixtures.js';
import { testBackend } from './backend.js';

/** Path of the built CLI entry point. */
export const CLI = join(ROOT, 'dist', 'lib', 'cli', 'main.js');

/** What a CLI run returned. */
export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Options of `runCli`: extra environment variables and node flags (e.g. `--import` a preload). */
export interface CliRunOptions {
  env?: Record<string, string>;
  nodeArgs?: string[];
}

/** Runs `tfjs-lens ...args` from the repository root with `TFJS_LENS_BACKEND` = the tier's backend (cpu by default). */
export function runCli(args: readonly string[], opts: CliRunOptions = {}): CliRun {
  const r = spawnSync(process.execPath, [...(opts.nodeArgs ?? []), CLI, ...args], { encoding: 'utf8', cwd: ROOT, env: { ...process.env, TFJS_LENS_BACKEND: testBackend('cpu'), ...opts.env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs `tfjs-lens …args` (`runCli` with the arguments spread). */
export function cli(...args: string[]): CliRun {
  return runCli(args);
}

/** Runs `tfjs-lens …args --json`, asserts exit 0 and parses stdout. */
export function cliJson<T>(...args: string[]): T {
  const r = cli(...args, '--json');
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as T;
}
