/**
 * Conformance: tfjs-core's own op suite (~4 200 jasmine specs from the npm package) on the tier's backend
 * (`TFJS_LENS_TEST_BACKEND`; the cpu backend in the default tier), with tfjs-lens's kernel patches in place.
 * Every failure must be listed in excluded.ts with its reason, and every listed spec must still fail (a fixed
 * one is taken off the list). Runs in a child process: the suite changes global tfjs flags.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { testBackend } from '../helpers/backend.js';
import { EXCLUDED, exclusionFor, specKey } from './excluded.js';
import type { SuiteResult } from './run-suite.js';

const backend = testBackend('cpu');
const runner = join(dirname(fileURLToPath(import.meta.url)), 'run-suite.js');

test(`tfjs-core's op suite on ${backend}: every failure is a listed exclusion with a reason`, (t) => {
  const r = spawnSync(process.execPath, [runner, backend], { encoding: 'utf8', timeout: 10 * 60_000, maxBuffer: 64 << 20 });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  assert.ok(line.startsWith('{'), `the suite did not report (exit ${r.status}): ${r.stderr.slice(-2000)}`);
  const result = JSON.parse(line) as SuiteResult;
  t.diagnostic(`${backend}: ${result.total} specs, ${result.passed} passed, ${result.failed.length} failed (${EXCLUDED[backend]?.length ?? 0} excluded with reasons)`);
  assert.ok(result.total >= 4000, `only ${result.total} specs ran`);
  const unexplained = result.failed.filter((f) => !exclusionFor(backend, f.name));
  assert.deepEqual(unexplained.map((f) => `${specKey(f.name)}: ${f.message.slice(0, 160)}`), [], 'failures not in excluded.ts');
  const failing = new Set(result.failed.map((f) => specKey(f.name)));
  const stale = (EXCLUDED[backend] ?? []).filter((e) => ![...failing].some((k) => k.startsWith(e.prefix)));
  assert.deepEqual(stale.map((e) => e.prefix), [], 'excluded specs that pass now: take them off the list');
});
