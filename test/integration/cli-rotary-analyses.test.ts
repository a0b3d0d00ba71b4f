/**
 * `intervene` and the token-level `early-exit` on the rotary decoder fixtures (llama-tiny, pythia-tiny, gemma2-tiny;
 * `--ids-file`, `--json`), checked against computations done here: the pairs' saturation layers and final top-1
 * from a host softmax of the lens, every implanted run redone with `runWithCache` + a hook, and the early-exit
 * baseline, oracle and softmax-margin points recomputed from the lens (host softmax) and the model's own logits.
 * The articles are mostly the model's own greedy continuations, so that next-token accuracy is not trivially 0.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setBackend } from '../../lib/backend/index.js';
import { loadModel } from '../../lib/nn/load.js';
import { CausalLmRoot } from '../../lib/nn/causal-lm.js';
import type { InterveneReport } from '../../lib/cli/intervene.js';
import type { EarlyExitReport } from '../../lib/cli/early-exit.js';
import type { DemoResult } from '../../lib/cli/demo.js';
import type { ProbeGridReport } from '../../lib/cli/probe-grid.js';
import { topKPerLayer } from '../../lib/lens/topk.js';
import { tokenString } from '../../lib/data/token-string.js';
import { inductionScores, repeatedRandomTokens } from '../../lib/lens/attention.js';
import { fixtureDir } from '../helpers/fixtures.js';
import { cliJson } from '../helpers/cli.js';
import { testBackend } from '../helpers/backend.js';
import { argmax, assertInterveneReport, hostLensMargins, saturationOf } from '../helpers/intervention-reference.js';

const FIXTURES = ['llama-tiny', 'pythia-tiny', 'gemma2-tiny'] as const;
const THETAS = [0.005, 0.02, 0.1];

let dir: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tfjs-lens-cli-rotary-analyses-'));
  await setBackend(testBackend('cpu'));
});

after(() => rmSync(dir, { recursive: true, force: true }));

async function load(name: string): Promise<CausalLmRoot> {
  const model = await loadModel(fixtureDir(name));
  assert.ok(model instanceof CausalLmRoot);
  return model;
}

/** `count` articles: 3 seeded random tokens, then the model's greedy next token (a seeded random one every 4th step). */
async function greedyArticles(model: CausalLmRoot, count: number, length: number, seed: number): Promise<number[][]> {
  let state = seed;
  const rand = (n: number): number => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state % n;
  };
  const V = model.cfg.dVocab;
  const articles: number[][] = [];
  for (let a = 0; a < count; a++) {
    const ids = [rand(V), rand(V), rand(V)];
    while (ids.length < length) {
      if (ids.length % 4 === 0) {
        ids.push(rand(V));
        continue;
      }
      const logits = await model.forward([ids]);
      const last = (await logits.data()).subarray((ids.length - 1) * V, ids.length * V);
      logits.dispose();
      ids.push(argmax(last));
    }
    articles.push(ids);
  }
  return articles;
}

function idsFile(name: string, articles: readonly (readonly number[])[]): string {
  const path = join(dir, `${name}-ids.txt`);
  writeFileSync(path, `${articles.map((a) => a.join(',')).join('\n')}\n`);
  return path;
}

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

for (const name of FIXTURES) {
  test(`${name}: intervene --json pairs from the host lens, every implant redone with a hook`, async () => {
    const model = await load(name);
    const articles = await greedyArticles(model, 8, 20, 7);
    const L = model.nLayers;
    // L = 2: only d = 0 (s_early 0, m 1); L = 3: d = −1 … 1 with m up to L (the implant at blocks.{L−1}.hook_resid_post).
    const n = L >= 3 ? 1 : 0;
    const r = cliJson<InterveneReport>('intervene', '--model', fixtureDir(name), '--ids-file', idsFile(name, articles), '--delta', '1', '--half-width', String(n), '--min-s', String(n), '--n-pairs', '4', '--out', join(dir, `intervene-${name}`));
    assert.ok(r.pairs.length >= 2, `pairs found: ${r.pairs.length}`);
    assert.equal(r.examples, articles.reduce((s, a) => s + a.length, 0));
    for (const pair of r.pairs) {
      // the pair's saturation layers and final top-1, from a host softmax of the clean lens (all T positions)
      const { top1 } = await hostLensMargins(model, [...articles[pair.article]!, 0]);
      const at = (p: number) => top1.map((row) => row[p]!);
      assert.equal(pair.early.s, saturationOf(at(pair.early.position)));
      assert.equal(pair.late.s, saturationOf(at(pair.late.position)));
      assert.equal(pair.y, at(pair.late.position)[L - 1]);
      assert.equal(pair.y, at(pair.early.position)[L - 1]);
      assert.ok(pair.late.s - pair.early.s >= 1 && pair.early.s >= n);
      assert.equal(pair.runs.length + pair.skipped.length, 2 * n + 1);
    }
    await assertInterveneReport(model, r, (article) => articles[article]!);
    model.dispose();
  });

  test(`${name}: early-exit --json baseline, oracle and softmax-margin points from the host lens and the model's logits`, async () => {
    const model = await load(name);
    const articles = await greedyArticles(model, 9, 16, 11);
    const L = model.nLayers;
    const r = cliJson<EarlyExitReport>('early-exit', '--model', fixtureDir(name), '--ids-file', idsFile(name, articles), '--articles', '5', '--probe-articles', '4', '--J0', '0', '--K', '2', '--softmax-thetas', THETAS.join(','), '--calm', 'none', '--out', join(dir, `early-exit-${name}`));
    const t = r.tokens!;
    assert.equal(r.L, L);
    assert.equal(r.calm, null);
    assert.ok(t.probeTraining && t.probeTraining.samples > 0, 'the probe was trained');
    const evaluated = articles.slice(4, 9);
    assert.equal(t.articles, 5);
    assert.equal(t.positions, evaluated.reduce((s, a) => s + a.length - 1, 0));
    const baseline: number[] = [];
    const oracleSpeedup: number[] = [];
    const softmax = THETAS.map(() => ({ acc: [] as number[], speedup: [] as number[] }));
    for (const ids of evaluated) {
      const N = ids.length - 1;
      const { top1, margin } = await hostLensMargins(model, ids);
      // the final lens row is the model's own next-token prediction
      const logits = await model.forward([ids]);
      const V = logits.shape[2]!;
      const data = await logits.data();
      logits.dispose();
      for (let p = 0; p < N; p++) assert.equal(top1[L - 1]![p], argmax(data.subarray(p * V, (p + 1) * V)), `final lens = logits at ${p}`);
      const hits = (pred: (p: number) => number) => Array.from({ length: N }, (_, p) => (pred(p) === ids[p + 1] ? 1 : 0) as number).reduce((a, b) => a + b, 0) / N;
      baseline.push(hits((p) => top1[L - 1]![p]!));
      const sat = Array.from({ length: N }, (_, p) => saturationOf(top1.map((row) => row[p]!)));
      oracleSpeedup.push((L * N) / sat.reduce((a, b) => a + b, 0));
      THETAS.forEach((theta, i) => {
        const exit = Array.from({ length: N }, (_, p) => {
          const j = margin.findIndex((row) => row[p]! >= theta);
          return j < 0 ? L : j;
        });
        softmax[i]!.acc.push(hits((p) => top1[Math.min(exit[p]!, L - 1)]![p]!));
        softmax[i]!.speedup.push((L * N) / exit.reduce((a, b) => a + b, 0));
      });
    }
    assert.ok(mean(baseline) > 0.3, `greedy articles: baseline accuracy ${mean(baseline)}`);
    assert.ok(Math.abs(t.baseline.accuracy - mean(baseline)) < 1e-12);
    assert.equal(t.oracle.accuracy, t.baseline.accuracy);
    assert.ok(Math.abs(t.oracle.speedup - mean(oracleSpeedup)) < 1e-9, `oracle speedup ${t.oracle.speedup} vs ${mean(oracleSpeedup)}`);
    THETAS.forEach((theta, i) => {
      const point = t.softmax[i]!;
      assert.equal(point.theta, theta);
      assert.ok(Math.abs(point.accuracy - mean(softmax[i]!.acc)) < 1e-12, `θ ${theta}: accuracy ${point.accuracy} vs ${mean(softmax[i]!.acc)}`);
      assert.ok(Math.abs(point.speedup - mean(softmax[i]!.speedup)) < 1e-9, `θ ${theta}: speedup ${point.speedup} vs ${mean(softmax[i]!.speedup)}`);
    });
    model.dispose();
  });
}

test('gemma2-tiny: early-exit --feature-space original trains the probe on the final norm\'s output at the last layer', async () => {
  const model = await load('gemma2-tiny');
  const articles = await greedyArticles(model, 6, 14, 5);
  model.dispose();
  const r = cliJson<EarlyExitReport>('early-exit', '--model', fixtureDir('gemma2-tiny'), '--ids-file', idsFile('gemma2-original', articles), '--articles', '2', '--probe-articles', '4', '--J0', '0', '--K', '2', '--feature-space', 'original', '--calm', 'none', '--out', join(dir, 'early-exit-original'));
  assert.equal(r.tokens!.featureSpace, 'original');
  assert.ok(r.tokens!.probeTraining && r.tokens!.probeTraining.samples > 0);
});

test('demo on llama-tiny: the lens rows are topKPerLayer of the tokenised sentence and the heads ranked are inductionScores', async () => {
  const model = await load('llama-tiny');
  const text = 'The capital city of France is';
  const out = join(dir, 'demo-llama');
  const demo = cliJson<DemoResult>('demo', '--model', fixtureDir('llama-tiny'), '--text', text, '--heldout-tokens', '32', '--out', out);
  const ids = model.tokenizer!.encode(text);
  const top = await topKPerLayer(model, [ids], { k: 3, includeEmbedding: true, positions: [ids.length - 1] });
  assert.equal(demo.lens.rows.length, top.layers.length);
  demo.lens.rows.forEach((row, r) => {
    row.top.forEach((t, j) => {
      assert.equal(t.token, tokenString(model.tokenizer!, top.ids[r * 3 + j]!), `row ${r} rank ${j}`);
      assert.ok(Math.abs(t.prob - top.probs[r * 3 + j]!) <= 1e-5, `row ${r} rank ${j} prob`);
    });
  });
  const tokens = repeatedRandomTokens({ nTokens: demo.repeated.nTokens, batch: demo.repeated.batch, vocab: model.cfg.dVocab, bos: model.cfg.bosTokenId ?? 0, seed: demo.repeated.seed });
  const scores = await inductionScores(model, tokens);
  tokens.dispose();
  for (const h of demo.induction) assert.ok(Math.abs(h.score - scores.data[h.layer * scores.shape[1] + h.head]!) <= 1e-5, `L${h.layer}H${h.head}`);
  assert.equal(demo.induction.length, model.cfg.nLayers * model.cfg.nHeads);
  model.dispose();
});

test('probe-grid on llama-tiny: one log line per cell of the grid, accuracies in [0, 1]', () => {
  const out = join(dir, 'grid-llama');
  const report = cliJson<ProbeGridReport>('probe-grid', '--model', fixtureDir('llama-tiny'), '--dataset', 'source', '--max-examples', '24', '--layers', '0,2', '--poolers', 'mean,last', '--classifiers', 'logistic', '--folds', '2', '--out', out);
  assert.equal(report.run.total, 1 * 2 * 2 * 1 * 2);
  assert.equal(report.run.added, report.run.total);
  assert.equal(report.summary.length, 2 * 2);
  for (const row of report.summary) {
    assert.equal(row.folds, 2);
    for (const v of [row.accuracy.mean, row.balancedAccuracy.mean]) assert.ok(v >= 0 && v <= 1, JSON.stringify(row));
  }
});
