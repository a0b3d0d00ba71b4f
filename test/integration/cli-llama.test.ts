/**
 * Every CLI command on a Llama-family checkpoint (the llama-tiny fixture: GQA, llama3 rope, untied lm_head, a tiny
 * tokenizer.json): `lens`, `hooks`, `heads`, `patch`, `saturation`, `shortcuts`, `probe` and `bench` run with
 * `--json`, and their key numbers are compared with the library called in this process.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { setBackend } from '../../lib/backend/index.js';
import { loadModel } from '../../lib/nn/load.js';
import { HookedLlama } from '../../lib/nn/llama.js';
import { logitLens, residNamesFilter } from '../../lib/lens/logit-lens.js';
import { repeatedRandomTokens } from '../../lib/lens/attention.js';
import { patchScan } from '../../lib/lens/patching.js';
import { logitDiffMetric } from '../../lib/lens/metrics.js';
import { runMatPipeline } from '../../lib/shortcuts/index.js';
import { runProbeExperiment } from '../../lib/probes/index.js';
import { createRng } from '../../lib/math/rng.js';
import { estimateParams } from '../../lib/bench/targets.js';
import { benchConfig } from '../../lib/bench/configs.js';
import { fixtureDir } from '../helpers/fixtures.js';
import { cli, cliJson } from '../helpers/cli.js';
import { testBackend } from '../helpers/backend.js';

const FIXTURE = fixtureDir('llama-tiny');
let dir: string;
let model: HookedLlama;

function close(actual: number | null, expected: number, tol: number, what: string): void {
  if (Number.isNaN(expected)) return assert.equal(actual, null, `${what}: NaN prints as null`);
  assert.ok(actual !== null && Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected)), `${what}: ${actual} vs ${expected}`);
}

/** Random id sequences (vocab 256, ids ≥ 3) of lengths minLen … maxLen, one per line. */
function idFile(name: string, seed: number, count: number, minLen: number, maxLen: number): { file: string; seqs: number[][] } {
  const rng = createRng(seed);
  const seqs = Array.from({ length: count }, () => Array.from({ length: minLen + rng.uniformInt(maxLen - minLen + 1) }, () => 3 + rng.uniformInt(253)));
  const file = join(dir, name);
  writeFileSync(file, `${seqs.map((s) => s.join(',')).join('\n')}\n`);
  return { file, seqs };
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tfjs-lens-cli-llama-'));
  await setBackend(testBackend('cpu'));
  const loaded = await loadModel(FIXTURE);
  assert.ok(loaded instanceof HookedLlama);
  model = loaded;
});

after(() => {
  model.dispose();
  rmSync(dir, { recursive: true, force: true });
});

test('lens --json on a Llama checkpoint: top-1 per layer equals the logit lens (final RMS norm + lm_head) in process', async () => {
  const ids = [5, 17, 100, 2, 9];
  const r = cliJson<{ position: number; layers: { layer: string; top: { id: number; prob: number }[] }[] }>('lens', '--model', FIXTURE, '--ids', ids.join(','), '--top', '2');
  assert.equal(r.position, 4);
  const { output, cache } = await model.runWithCache([ids], { namesFilter: residNamesFilter(model) });
  const lens = logitLens(model, cache);
  const last = tf.tidy(() => tf.softmax(tf.reshape(tf.slice(lens, [0, 0, 4, 0], [-1, 1, 1, -1]), [model.nLayers + 1, -1])));
  const probs = (await last.array()) as number[][];
  tf.dispose([output, lens, last]);
  cache.dispose();
  assert.equal(r.layers.length, model.nLayers + 1);
  r.layers.forEach((layer, l) => {
    const best = probs[l]!.indexOf(Math.max(...probs[l]!));
    assert.equal(layer.top[0]!.id, best, `layer ${layer.layer}`);
    close(layer.top[0]!.prob, probs[l]![best]!, 1e-5, `layer ${layer.layer} prob`);
  });
  // Text goes through the checkpoint's tokenizer.json.
  const text = cliJson<{ tokens: string[] }>('lens', '--model', FIXTURE, '--text', 'The cat sat on the mat', '--top', '1');
  assert.deepEqual(text.tokens, model.toStrTokens('The cat sat on the mat'));
});

test('hooks --json on a Llama checkpoint lists the rotary and grouped-query hooks with their shapes', () => {
  const r = cli('hooks', '--model', FIXTURE, '--json');
  assert.equal(r.status, 0, r.stderr);
  const rows = JSON.parse(r.stdout) as { hooks: { name: string; shape: string }[] } | { name: string; shape: string }[];
  const text = JSON.stringify(rows);
  for (const [name, shape] of [['blocks.0.attn.hook_k', '[1, 4, 2, 16]'], ['blocks.0.attn.hook_rot_q', '[1, 4, 4, 16]'], ['blocks.2.mlp.hook_pre_linear', '[1, 4, 128]'], ['ln_final.hook_scale', '[1, 4, 1]']]) {
    assert.ok(text.includes(name) && text.includes(shape), `${name} ${shape}`);
  }
});

test('heads --json on a Llama checkpoint: induction scores equal the cached attention patterns (BOS from config.json)', async () => {
  const N = 6;
  const r = cliJson<{ tokens: { bos: number }; scores: { induction: number[][] } }>('heads', '--model', FIXTURE, '--n-tokens', String(N), '--batch', '2', '--seed', '5', '--out', join(dir, 'heads'));
  assert.equal(r.tokens.bos, 1);
  const tokens = repeatedRandomTokens({ nTokens: N, batch: 2, vocab: 256, bos: 1, seed: 5 });
  const names = Array.from({ length: model.nLayers }, (_, l) => `blocks.${l}.attn.hook_pattern`);
  const { output, cache } = await model.runWithCache(tokens, { namesFilter: names });
  for (let l = 0; l < model.nLayers; l++) {
    const pattern = (await cache.get(names[l]!).array()) as number[][][][];
    for (let h = 0; h < model.cfg.nHeads; h++) {
      let induction = 0;
      for (const row of pattern) for (let q = N - 1; q <= 2 * N; q++) induction += row[h]![q]![q - N + 1]!;
      close(r.scores.induction[l]![h]!, induction / (2 * (N + 2)), 1e-5, `induction L${l}H${h}`);
    }
  }
  tf.dispose([output, tokens]);
  cache.dispose();
});

test('patch --json on a Llama checkpoint (per head through hook_z): equals patchScan', async () => {
  const clean = [5, 17, 30, 2, 9];
  const corrupt = [5, 17, 31, 2, 9];
  const r = cliJson<{ values: number[][]; cleanLogitDiff: number }>('patch', '--model', FIXTURE, '--ids-clean', clean.join(','), '--ids-corrupt', corrupt.join(','), '--answer-id', '12', '--wrong-id', '40', '--hook', 'z', '--by', 'head', '--out', join(dir, 'patch'));
  const scan = await patchScan(model, [clean], [corrupt], { hook: 'z', by: 'head', metric: logitDiffMetric(12, 40) });
  assert.deepEqual([r.values.length, r.values[0]!.length], scan.shape);
  scan.values.forEach((v, i) => close(r.values[Math.floor(i / scan.shape[1])]![i % scan.shape[1]]!, v, 1e-6, `entry ${i}`));
});

test('saturation, shortcuts and probe --json run on a Llama checkpoint; shortcuts and probe equal the library', async () => {
  const sat = idFile('sat.txt', 3, 12, 4, 12);
  const s = cliJson<{ L: number; positions: number }>('saturation', '--model', FIXTURE, '--ids-file', sat.file, '--reps', '10', '--k', '2', '--out', join(dir, 'sat'));
  assert.deepEqual([s.L, s.positions], [model.nLayers, sat.seqs.reduce((a, q) => a + q.length, 0)]);
  const mat = idFile('mat.txt', 11, 40, 3, 12);
  const m = cliJson<{ r2: { mat: number[][] } }>('shortcuts', '--model', FIXTURE, '--ids-file', mat.file, '--n-train', '30', '--n-val', '10', '--seed', '2', '--batch', '8', '--out', join(dir, 'shortcuts'));
  const lib = await runMatPipeline(model, mat.seqs, { nTrain: 30, nVal: 10, seed: 2, batchSize: 8 });
  for (let i = 0; i <= model.nLayers; i++) for (let j = 0; j <= model.nLayers; j++) close(m.r2.mat[i]![j]!, lib.r2.mat[i]![j]!, 1e-9, `r² [${i}][${j}]`);
  const pr = idFile('probe.txt', 21, 20, 6, 12);
  const p = cliJson<{ probe: { meanBalancedAccuracy: number } }>('probe', '--model', FIXTURE, '--ids-file', pr.file, '--J0', '0', '--K', '3', '--probe-k', '3', '--min-per-layer', '3', '--folds', '3', '--seed', '4');
  const probeLib = await runProbeExperiment(model, pr.seqs, { J0: 0, K: 3, probeK: 3, k: 5, minPerLayer: 3, folds: 3, seed: 4, batchSize: 1 });
  close(p.probe.meanBalancedAccuracy, probeLib.probe.meanBalancedAccuracy, 1e-12, 'probe');
});

test('bench --json on a Llama checkpoint: family llama, the parameter count of the config, every block timed', () => {
  const r = cliJson<{ model: { family: string; params: number; config: Record<string, unknown> }; blocks: unknown[] }>('bench', '--model', FIXTURE, '--seq', '8', '--iters', '1', '--warmup', '0', '--no-memory');
  assert.equal(r.model.family, 'llama');
  assert.equal(r.model.params, estimateParams(r.model.config));
  assert.equal(r.blocks.length, model.nLayers);
  // The named llama-3.2-1b config has Llama 3.2 1B's published parameter count (tied embeddings).
  assert.equal(estimateParams(benchConfig('llama-3.2-1b')), 1_235_814_400);
});
