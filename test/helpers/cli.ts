/** Runs the built `tfjs-lens` CLI (dist/lib/cli/main.js) in a child process on the cpu backend. */
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

/** Runs `tfjs-lens ...args` from the repository root with `TFJS_LENS_BACKEND=cpu`. */
export function runCli(args: readonly string[], opts: CliRunOptions = {}): CliRun {
  const r = spawnSync(process.execPath, [...(opts.nodeArgs ?? []), CLI, ...args], { encoding: 'utf8', cwd: ROOT, env: { ...process.env, TFJS_LENS_BACKEND: testBackend('cpu'), ...opts.env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
