import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { availableMemory, checkMemoryFor, parseMemAvailable } from '../../../lib/backend/memory-budget.js';
import { InsufficientMemoryError } from '../../../lib/errors.js';

test('the budget is the smallest of MemAvailable and the cgroup limit minus usage', () => {
  const root = mkdtempSync(join(tmpdir(), 'tfjs-lens-mem-'));
  mkdirSync(join(root, 'proc'));
  mkdirSync(join(root, 'sys', 'fs', 'cgroup'), { recursive: true });
  writeFileSync(join(root, 'proc', 'meminfo'), 'MemTotal:       24000000 kB\nMemAvailable:   20000000 kB\n');
  assert.deepEqual(availableMemory(root), { availableBytes: 20000000 * 1024, source: 'MemAvailable' });
  writeFileSync(join(root, 'sys', 'fs', 'cgroup', 'memory.max'), `${8 * 2 ** 30}\n`);
  writeFileSync(join(root, 'sys', 'fs', 'cgroup', 'memory.current'), `${2 * 2 ** 30}\n`);
  assert.deepEqual(availableMemory(root), { availableBytes: 6 * 2 ** 30, source: 'cgroup memory.max' });
  writeFileSync(join(root, 'sys', 'fs', 'cgroup', 'memory.max'), 'max\n');
  assert.equal(availableMemory(root).source, 'MemAvailable', "'max' is no limit");
  assert.equal(parseMemAvailable('MemFree: 1 kB\n'), undefined);
  rmSync(root, { recursive: true, force: true });
});

test('checkMemoryFor raises a typed error naming both sizes; TFJS_LENS_MEMORY_CHECK=0 turns it off', () => {
  const budget = { availableBytes: 2 * 2 ** 30, source: 'test' };
  assert.doesNotThrow(() => checkMemoryFor(2 ** 30, 'x', budget));
  assert.throws(() => checkMemoryFor(6 * 2 ** 30, 'gpt2-xl weights', budget), (e: unknown) => e instanceof InsufficientMemoryError && e.code === 'E_OUT_OF_MEMORY' && /gpt2-xl weights need 6\.00 GiB but only 2\.00 GiB is available \(test\)/.test((e as Error).message));
  process.env.TFJS_LENS_MEMORY_CHECK = '0';
  try {
    assert.doesNotThrow(() => checkMemoryFor(6 * 2 ** 30, 'x', budget));
  } finally {
    delete process.env.TFJS_LENS_MEMORY_CHECK;
  }
});
