/** `--model` names of the shipped models (lib/io/shipped-models.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_MODEL_DIR, SHIPPED_MODELS, resolveModelArg } from '../../lib/io/shipped-models.js';
import { ROOT } from '../helpers/fixtures.js';

test('shipped model names map to their folders; paths, hub ids and a local folder of the same name are kept', () => {
  assert.equal(resolveModelArg(undefined), DEFAULT_MODEL_DIR);
  assert.equal(DEFAULT_MODEL_DIR, join(ROOT, 'weights', 'tiny-gpt2'));
  assert.equal(resolveModelArg('tiny-gpt2'), join(ROOT, 'weights', 'tiny-gpt2'));
  assert.equal(resolveModelArg('tiny-gpt2-deep'), join(ROOT, 'weights', 'tiny-gpt2-deep'));
  assert.deepEqual(Object.keys(SHIPPED_MODELS), ['tiny-gpt2', 'tiny-gpt2-deep']);
  assert.equal(resolveModelArg('openai-community/gpt2'), 'openai-community/gpt2');
  assert.equal(resolveModelArg('gpt2'), 'gpt2');
  assert.equal(resolveModelArg('toString'), 'toString'); // no prototype keys
  const cwd = process.cwd();
  const dir = mkdtempSync(join(tmpdir(), 'tfjs-lens-shipped-'));
  try {
    mkdirSync(join(dir, 'tiny-gpt2-deep'));
    process.chdir(dir);
    assert.equal(resolveModelArg('tiny-gpt2-deep'), 'tiny-gpt2-deep');
  } finally {
    process.chdir(cwd);
    rmSync(dir, { recursive: true, force: true });
  }
});
