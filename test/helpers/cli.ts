/** Runs the built CLI (dist/lib/cli/main.js) in a child process on the cpu backend. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './fixtures.js';

/** The compiled CLI entry point. */
export const CLI = join(ROOT, 'dist', 'lib', 'cli', 'main.js');

/** Runs `tfjs-lens …args` (TFJS_LENS_BACKEND=cpu unless `--backend` says otherwise). */
export function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: ROOT, env: { ...process.env, TFJS_LENS_BACKEND: 'cpu' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs `tfjs-lens …args --json`, asserts exit 0 and parses stdout. */
export function cliJson<T>(...args: string[]): T {
  const r = cli(...args, '--json');
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as T;
}
