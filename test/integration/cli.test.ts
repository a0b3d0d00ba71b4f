import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs-core';
import { setBackend } from '../../lib/backend/index.js';
import { loadModel } from '../../lib/nn/load.js';
import type { HookedGPT2 } from '../../lib/nn/gpt2.js';
import { hostLensTopK } from '../helpers/lens-reference.js';
import { ROOT, fixtureDir } from '../helpers/fixtures.js';
import { runCli, type CliRun } from '../helpers/cli.js';
import { defaultTierOnly, testBackend } from '../helpers/backend.js';


function cli(...args: string[]): CliRun {
  return runCli(args);
}

test('tfjs-lens lens --json prints the per-layer top-k that the library computes', async () => {
  const ids = [5, 17, 300, 2, 9];
  const r = cli('lens', '--model', fixtureDir('gpt2-tiny'), '--ids', ids.join(','), '--top', '3', '--json');
  assert.equal(r.status, 0, r.stderr);
  const table = JSON.parse(r.stdout) as { position: number; layers: { layer: string; top: { id: number; prob: number }[] }[] };
  assert.equal(table.position, 4);
  assert.deepEqual(table.layers.map((l) => l.layer), ['embed', 'L1', 'L2', 'L3']);
  // independent reference: the full logit lens from a cache, softmax and sort on the host
  await setBackend(testBackend('cpu'));
  const model = (await loadModel(fixtureDir('gpt2-tiny'))) as HookedGPT2;
  const expected = await hostLensTopK(model, ids, 4, 3);
  expected.forEach((order, l) => {
    assert.deepEqual(table.layers[l]!.top.map((t) => t.id), order.map((o) => o.id), `layer ${l}`);
    table.layers[l]!.top.forEach((t, r) => assert.ok(Math.abs(t.prob - order[r]!.p) < 1e-5));
  });
  model.dispose();
});

test('tfjs-lens lens prints a table; hooks lists every hook with its shape', () => {
  const table = cli('lens', '--model', fixtureDir('gpt2-tiny'), '--ids', '1,2,3');
  assert.equal(table.status, 0, table.stderr);
  assert.match(table.stdout, /^layer\s+top-1\s+top-2/m);
  assert.match(table.stdout, /^L3\s/m);
  const hooks = cli('hooks', '--model', fixtureDir('vit-tiny'), '--json');
  assert.equal(hooks.status, 0, hooks.stderr);
  const shapes = JSON.parse(hooks.stdout) as Record<string, string>;
  assert.equal(shapes['hook_patch_embed'], '[1, 16, 64]');
  assert.equal(shapes['blocks.1.attn.hook_pattern'], '[1, 4, 17, 17]');
});

test('tfjs-lens lens --image runs the ViT lens on the CLS position (one row per residual state)', () => {
  const r = cli('lens', '--model', fixtureDir('vit-tiny'), '--image', join(ROOT, 'test', 'fixtures', 'hf', 'vit-preprocess', 'image.png'), '--top', '2', '--json');
  assert.equal(r.status, 0, r.stderr);
  const table = JSON.parse(r.stdout) as { layers: { layer: string; top: { label: string; prob: number }[] }[] };
  assert.deepEqual(table.layers.map((l) => l.layer), ['embed', 'L1', 'L2']);
  for (const l of table.layers) {
    assert.match(l.top[0]!.label, /^LABEL_\d$/);
    assert.ok(l.top[0]!.prob >= l.top[1]!.prob && l.top[0]!.prob <= 1);
  }
});

test('CLI errors are typed messages with a hint and exit code 1, not stack traces', () => {
  const missing = cli('lens', '--model', '/nonexistent/model-dir', '--ids', '1');
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /tfjs-lens: .*nonexistent/);
  assert.doesNotMatch(missing.stderr, /at .*\.js:\d+/);
  const noTokenizer = cli('lens', '--model', fixtureDir('gpt2-tiny'), '--text', 'hello');
  assert.equal(noTokenizer.status, 1);
  assert.match(noTokenizer.stderr, /no tokenizer[\s\S]*hint: pass token ids/);
  const badBackend = cli('lens', '--model', fixtureDir('gpt2-tiny'), '--ids', '1', '--backend', 'tpu');
  assert.equal(badBackend.status, 1);
  assert.match(badBackend.stderr, /unknown backend 'tpu'/);
  const badCount = cli('demo', '--heldout-tokens', '12.5', '--out', join(ROOT, 'scratch', 'demo-bad-count'));
  assert.equal(badCount.status, 1);
  assert.match(badCount.stderr, /--heldout-tokens must be an integer, got '12\.5'/);
});

test('the README\'s `npx tfjs-lens` resolves the package bin: built executable, runs, prints the version', defaultTierOnly(), () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; bin: Record<string, string> };
  const bin = join(ROOT, pkg.bin['tfjs-lens']!);
  // npm links the bin before `prepare` builds it, so the build itself must set the mode (scripts/bin-executable.mjs)
  assert.equal(statSync(bin).mode & 0o111, 0o111, `${bin} is not executable`);
  assert.ok(readFileSync(bin, 'utf8').startsWith('#!/usr/bin/env node\n'));
  const viaNpx = spawnSync('npx', ['--no-install', 'tfjs-lens', '--version'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(viaNpx.status, 0, viaNpx.stderr);
  assert.equal(viaNpx.stdout.trim(), pkg.version);
});
