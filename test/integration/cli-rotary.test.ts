/**
 * The CLI on the rotary decoder fixtures (pythia-tiny, gemma2-tiny, gemma3-tiny; id inputs, they have no tokenizer):
 * `lens` prints the lens top-k the library computes (the family's final norm and final soft-capping), `heads` scores
 * equal the cached attention patterns, `patch` values equal `patchScan` and patching the residual at the only
 * changed position restores the clean run; `hooks` lists the family's hooks with their shapes.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { setBackend } from '../../lib/backend/index.js';
import { loadModel } from '../../lib/nn/load.js';
import { HookedRotaryLM, type RotaryLmConfig } from '../../lib/nn/rotary-lm.js';
import { patchScan } from '../../lib/lens/patching.js';
import { logitDiffMetric } from '../../lib/lens/metrics.js';
import { repeatedRandomTokens } from '../../lib/lens/attention.js';
import { fixtureDir } from '../helpers/fixtures.js';
import { hostLensTopK, patternScores } from '../helpers/lens-reference.js';
import { cli, cliJson } from '../helpers/cli.js';
import { testBackend } from '../helpers/backend.js';

const FIXTURES = ['pythia-tiny', 'gemma2-tiny', 'gemma3-tiny'] as const;

let dir: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tfjs-lens-cli-rotary-'));
  await setBackend(testBackend('cpu'));
});

after(() => rmSync(dir, { recursive: true, force: true }));

async function load(name: string): Promise<HookedRotaryLM<RotaryLmConfig>> {
  const model = await loadModel(fixtureDir(name));
  assert.ok(model instanceof HookedRotaryLM);
  return model as HookedRotaryLM<RotaryLmConfig>;
}

function close(actual: number, expected: number, tol: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected)), `${what}: ${actual} vs ${expected}`);
}

for (const name of FIXTURES) {
  test(`${name}: lens --json prints the library's lens top-k at the last position`, async () => {
    const ids = [5, 17, 200, 2, 9];
    const table = cliJson<{ position: number; layers: { layer: string; top: { id: number; prob: number }[] }[] }>('lens', '--model', fixtureDir(name), '--ids', ids.join(','), '--top', '3');
    const model = await load(name);
    assert.deepEqual(table.layers.map((l) => l.layer), ['embed', ...Array.from({ length: model.nLayers }, (_, l) => `L${l + 1}`)]);
    const expected = await hostLensTopK(model, ids, 4, 3);
    expected.forEach((order, l) => {
      assert.deepEqual(table.layers[l]!.top.map((t) => t.id), order.map((o) => o.id), `layer ${l}`);
      table.layers[l]!.top.forEach((t, r) => close(t.prob, order[r]!.p, 1e-5, `layer ${l} rank ${r}`));
    });
    model.dispose();
  });

  test(`${name}: heads --json induction and previous-token scores equal the cached patterns`, async () => {
    const N = 8;
    const r = cliJson<{ tokens: { bos: number }; scores: Record<'induction' | 'previousToken', number[][]>; files: string[] }>('heads', '--model', fixtureDir(name), '--n-tokens', String(N), '--batch', '2', '--seed', '3', '--out', join(dir, `heads-${name}`));
    const model = await load(name);
    const tokens = repeatedRandomTokens({ nTokens: N, batch: 2, vocab: model.cfg.dVocab, bos: r.tokens.bos, seed: 3 });
    const names = Array.from({ length: model.nLayers }, (_, l) => `blocks.${l}.attn.hook_pattern`);
    const { output, cache } = await model.runWithCache(tokens, { namesFilter: names });
    for (let l = 0; l < model.nLayers; l++) {
      const pattern = (await cache.get(names[l]!).array()) as number[][][][];
      for (let h = 0; h < model.cfg.nHeads; h++) {
        const ref = patternScores(pattern, h, N);
        close(r.scores.induction[l]![h]!, ref.induction, 1e-5, `induction L${l}H${h}`);
        close(r.scores.previousToken[l]![h]!, ref.previousToken, 1e-5, `previous-token L${l}H${h}`);
      }
    }
    tf.dispose([output, tokens]);
    cache.dispose();
    model.dispose();
    assert.equal(r.files.length, 5);
  });

  test(`${name}: patch --json equals patchScan; the residual at the changed position restores the clean run`, async () => {
    const clean = [5, 17, 200, 2, 9, 41];
    const corrupt = [5, 17, 201, 2, 9, 41];
    const r = cliJson<{ layers: number[]; columns: number[]; values: number[][]; normalized: number[][] }>('patch', '--model', fixtureDir(name), '--ids-clean', clean.join(','), '--ids-corrupt', corrupt.join(','), '--answer-id', '12', '--wrong-id', '40', '--hook', 'resid_pre', '--out', join(dir, `patch-${name}`));
    const model = await load(name);
    const scan = await patchScan(model, [clean], [corrupt], { hook: 'resid_pre', by: 'pos', metric: logitDiffMetric(12, 40) });
    const C = r.columns.length;
    for (let i = 0; i < scan.values.length; i++) close(r.values[Math.floor(i / C)]![i % C]!, scan.values[i]!, 1e-6, `entry ${i}`);
    close(r.normalized[0]![2]!, 1, 1e-4, 'block 0, position 2');
    close(r.normalized[0]![0]!, 0, 1e-4, 'block 0, position 0');
    model.dispose();
  });
}

test('hooks lists the Gemma 3 hooks with their shapes (GQA key heads, q/k norms, sandwich norms)', () => {
  const r = cli('hooks', '--model', fixtureDir('gemma3-tiny'), '--json');
  assert.equal(r.status, 0, r.stderr);
  const shapes = JSON.parse(r.stdout) as Record<string, string>;
  assert.equal(shapes['blocks.0.attn.hook_q'], shapes['blocks.0.attn.hook_rot_q']);
  assert.match(shapes['blocks.0.attn.hook_k']!, /^\[1, \d+, 1, 24\]$/);
  assert.match(shapes['blocks.0.attn.q_norm.hook_scale']!, /^\[1, \d+, 4, 1\]$/);
  for (const hook of ['ln1_post.hook_normalized', 'ln2_post.hook_scale', 'mlp.hook_pre_linear', 'hook_resid_mid']) assert.ok(shapes[`blocks.2.${hook}`], hook);
  const pythia = JSON.parse(cli('hooks', '--model', fixtureDir('pythia-tiny'), '--json').stdout) as Record<string, string>;
  assert.equal(pythia['blocks.0.hook_resid_mid'], undefined, 'parallel blocks have no resid_mid');
});
