/**
 * `intervene`, `early-exit` and `probe-grid` end to end on the shipped tiny GPT-2 (`--json`), checked
 * against computations done here: the implanted runs redone with `runWithCache` + a hook and the lens read
 * off by a host argmax; the early-exit baseline accuracy from the model's own logits; the CALM curves of a
 * `shortcuts` run; probe-grid log lines against features pooled here and the classifiers called directly;
 * a killed probe-grid run resumed (torn last line included) and a 2-shard run, both equal to one full run.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setBackend } from '../../lib/backend/index.js';
import { loadModel } from '../../lib/nn/load.js';
import { HookedGPT2 } from '../../lib/nn/gpt2.js';
import { residName } from '../../lib/nn/lens-model.js';
import { kFoldSplits, selectRows } from '../../lib/probes/kfold.js';
import { fitStandardScaler, transformStandard } from '../../lib/probes/scaler.js';
import { fitLogisticOvR, predictLogistic } from '../../lib/probes/logistic.js';
import { fitLda, predictLda } from '../../lib/probes/lda.js';
import type { InterveneReport } from '../../lib/cli/intervene.js';
import type { EarlyExitReport } from '../../lib/cli/early-exit.js';
import type { ProbeGridReport } from '../../lib/cli/probe-grid.js';
import type { GridRecord } from '../../lib/probes/grid.js';
import { mergeProbeGridShards } from '../../lib/probes/grid-merge.js';
import { ROOT } from '../helpers/fixtures.js';
import { CLI, cliJson } from '../helpers/cli.js';
import { defaultTierOnly, testBackend } from '../helpers/backend.js';
import { argmax, assertInterveneReport } from '../helpers/intervention-reference.js';

const SENTENCES = join(ROOT, 'data', 'text', 'sentences.txt');
const lines = readFileSync(SENTENCES, 'utf8').split('\n').filter((l) => l.trim());
let model: HookedGPT2;
const tmp = () => mkdtempSync(join(tmpdir(), 'tfjs-lens-cli-commands-'));

before(async () => {
  await setBackend(testBackend('cpu'));
  const loaded = await loadModel(join(ROOT, 'weights', 'tiny-gpt2'));
  assert.ok(loaded instanceof HookedGPT2);
  model = loaded;
});

test('intervene: success per d recomputed from the pairs, each run\'s lens redone with a hook here', defaultTierOnly(), async () => {
  const out = tmp();
  const r = cliJson<InterveneReport>('intervene', '--text-file', SENTENCES, '--max-examples', '40', '--delta', '2', '--half-width', '1', '--min-s', '1', '--n-pairs', '3', '--out', out);
  const L = model.cfg.nLayers;
  assert.equal(r.L, L);
  assert.ok(r.pairs.length >= 2, `pairs found: ${r.pairs.length}`);
  for (const pair of r.pairs) assert.ok(pair.late.s - pair.early.s >= 2 && pair.early.s >= 1 && Math.abs(pair.late.position - pair.early.position) <= 30);
  await assertInterveneReport(model, r, (article) => model.tokenizer!.encode(lines[article]!));
  assert.ok(existsSync(r.files[0]!));
});

test('early-exit: oracle = baseline predictions, baseline accuracy from the model\'s logits, CALM curves equal those of a shortcuts run', defaultTierOnly(), async () => {
  const out = tmp();
  const r = cliJson<EarlyExitReport>('early-exit', '--text-file', SENTENCES, '--articles', '6', '--probe-articles', '30', '--J0', '0', '--K', '3', '--n-train', '60', '--n-val', '30', '--out', out);
  const t = r.tokens!;
  assert.equal(t.oracleAgreement, 1);
  assert.equal(t.oracle.accuracy, t.baseline.accuracy);
  assert.equal(t.baseline.speedup, 1);
  assert.ok(t.oracle.speedup >= 1);
  assert.ok(t.probe && t.probeTraining && t.probeTraining.classes === 3);
  // baseline = the model's own next-token predictions
  const accs: number[] = [];
  let positions = 0;
  for (const line of lines.slice(30)) {
    const ids = model.tokenizer!.encode(line);
    if (ids.length < 2) continue;
    const logits = await model.forward([ids]);
    const V = logits.shape[2]!;
    const data = await logits.data();
    logits.dispose();
    let hits = 0;
    for (let p = 0; p < ids.length - 1; p++) if (argmax(data.subarray(p * V, (p + 1) * V)) === ids[p + 1]) hits++;
    accs.push(hits / (ids.length - 1));
    positions += ids.length - 1;
    if (accs.length === 6) break;
  }
  assert.equal(t.positions, positions);
  assert.ok(Math.abs(t.baseline.accuracy - accs.reduce((a, b) => a + b, 0) / accs.length) < 1e-12, `baseline ${t.baseline.accuracy}`);
  const c = r.calm!;
  const L = r.L;
  const last = (xs: number[]) => xs[xs.length - 1]!;
  for (const curve of [c.curves.id, c.curves.mat]) {
    assert.equal(curve.lambdas[0], -1.112);
    assert.equal(curve.meanLayers[0], 1, 'λ = −1.112 exits at layer 1');
    assert.equal(last(curve.meanLayers), L, 'λ = 1.112 never exits');
    assert.equal(last(curve.precisionAt1), 1);
  }
  const sc = tmp();
  cliJson('shortcuts', '--text-file', SENTENCES, '--n-train', '60', '--n-val', '30', '--out', sc);
  const fromRun = cliJson<EarlyExitReport>('early-exit', '--text-file', SENTENCES, '--articles', '0', '--calm', sc, '--out', out);
  assert.equal(fromRun.tokens, null);
  assert.deepEqual(fromRun.calm!.curves, c.curves);
  assert.deepEqual(fromRun.calm!.fixedExit, c.fixedExit);
});

const GRID = ['--dataset', 'source', '--max-examples', '60', '--layers', '0,4', '--poolers', 'mean,quantile:0.5', '--classifiers', 'logistic,lda,linear,mlp', '--folds', '3', '--epochs', '25', '--hidden', '8'];
let full: GridRecord[] = [];
let fullReport: ProbeGridReport | undefined;

const readLog = (path: string): GridRecord[] => readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as GridRecord);
const key = (r: GridRecord) => JSON.stringify([r.dataset, r.layer, r.pooler, r.classifier, r.fold]);
const scoresOf = (rs: GridRecord[]) => new Map(rs.map((r) => [key(r), r.scores]));

test('probe-grid: one log line per cell; logistic and LDA lines equal the classifiers run here on features pooled here', defaultTierOnly(), async () => {
  const out = tmp();
  const r = cliJson<ProbeGridReport>('probe-grid', ...GRID, '--out', out);
  full = readLog(r.log);
  fullReport = r;
  assert.equal(full.length, 2 * 2 * 4 * 3);
  assert.equal(new Set(full.map(key)).size, full.length);
  assert.equal(r.run.added, full.length);
  assert.equal(r.summary.length, 2 * 2 * 4);
  // features: h_4 (and h_0) of the first 60 sentences, pooled here
  const labelRows = readFileSync(join(ROOT, 'data', 'text', 'sentences-labels.tsv'), 'utf8').split('\n').filter(Boolean).slice(1);
  const y = Int32Array.from(labelRows.slice(0, 60), (row) => (row.startsWith('prose') ? 0 : 1));
  assert.deepEqual(r.datasets[0]!.labels, ['prose', 'synthetic']);
  for (const layer of [0, 4]) {
    const d = model.cfg.dModel;
    const mean = new Float64Array(60 * d);
    const median = new Float64Array(60 * d);
    for (let i = 0; i < 60; i++) {
      const ids = model.tokenizer!.encode(lines[i]!);
      const { output, cache } = await model.runWithCache([ids], { namesFilter: [residName(model, layer)] });
      output.dispose();
      const h = await cache.get(residName(model, layer)).data();
      cache.dispose();
      const T = ids.length;
      for (let c = 0; c < d; c++) {
        const col = Array.from({ length: T }, (_, t) => h[t * d + c]!).sort((a, b) => a - b);
        mean[i * d + c] = col.reduce((a, b) => a + b, 0) / T;
        median[i * d + c] = T % 2 ? col[(T - 1) / 2]! : (col[T / 2 - 1]! + col[T / 2]!) / 2;
      }
    }
    for (const [pooler, X] of [['mean', mean], ['quantile:0.5', median]] as const) {
      const splits = kFoldSplits(60, 3, 0);
      for (let fold = 0; fold < 3; fold++) {
        const { train, test } = splits[fold]!;
        const Xf = { data: Float64Array.from(X, (v) => Math.fround(v)), shape: [60, d] as const };
        const sc = fitStandardScaler(selectRows(Xf, train));
        const xtr = transformStandard(sc, selectRows(Xf, train));
        const xte = transformStandard(sc, selectRows(Xf, test));
        const ytr = Int32Array.from(train, (i) => y[i]!);
        const acc = (p: Int32Array) => p.reduce((s, v, i) => s + (v === y[test[i]!] ? 1 : 0), 0) / test.length;
        const expected = { logistic: acc(predictLogistic(fitLogisticOvR(xtr, ytr, { nClasses: 2 }), xte)), lda: acc(predictLda(fitLda(xtr, ytr, { nClasses: 2 }), xte)) };
        for (const classifier of ['logistic', 'lda'] as const) {
          const line = full.find((l) => l.layer === layer && l.pooler === pooler && l.classifier === classifier && l.fold === fold)!;
          assert.equal(line.nTrain, train.length);
          assert.equal(line.nTest, test.length);
          assert.equal(line.nFeatures, d);
          assert.ok(Math.abs(line.scores.accuracy - expected[classifier]) < 1e-12, `h${layer} ${pooler} ${classifier} fold ${fold}: ${line.scores.accuracy} vs ${expected[classifier]}`);
        }
      }
    }
  }
});

test('probe-grid: a killed run resumes (torn last line cut off) and two shards give the same lines as one run', defaultTierOnly(), async () => {
  assert.ok(full.length, 'needs the full run of the previous test');
  const out = tmp();
  const log = join(out, 'probe-grid.jsonl');
  const child = spawn(process.execPath, [CLI, 'probe-grid', ...GRID, '--out', out], { cwd: ROOT, env: { ...process.env, TFJS_LENS_BACKEND: testBackend('cpu') }, stdio: 'ignore' });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  let before = 0;
  for (let i = 0; i < 1200 && before < 30; i++) {
    await new Promise((res) => setTimeout(res, 50));
    before = existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean).length : 0;
  }
  child.kill('SIGKILL');
  await exited;
  const kept = readLog(log).length;
  assert.ok(kept >= 1 && kept < full.length, `killed after ${kept} of ${full.length} lines`);
  const torn = '{"dataset":"source","layer":4,"poo'; // what a write cut short leaves
  appendFileSync(log, torn);
  const r = cliJson<ProbeGridReport>('probe-grid', ...GRID, '--out', out);
  assert.equal(r.run.skipped, kept);
  assert.equal(r.run.added, full.length - kept);
  assert.equal(r.run.repairedBytes, Buffer.byteLength(torn));
  const resumed = readLog(log);
  assert.equal(resumed.length, full.length);
  assert.deepEqual(scoresOf(resumed), scoresOf(full));
  // two shards into one run folder
  const runDir = tmp();
  const shardLines: GridRecord[] = [];
  for (const shard of ['0/2', '1/2']) {
    const s = cliJson<ProbeGridReport>('probe-grid', ...GRID, '--shard', shard, '--run-dir', runDir);
    assert.equal(s.run.shard, shard);
    shardLines.push(...readLog(s.log));
    assert.ok(existsSync(join(runDir, 'shards', `${shard.replace('/', '-of-')}`, 'manifest.json')));
  }
  assert.deepEqual(shardLines.map(key), full.map(key), 'the shards cover the cells in order, once each');
  assert.deepEqual(scoresOf(shardLines), scoresOf(full));
  const merged = mergeProbeGridShards(runDir);
  assert.deepEqual(readLog(merged.path).map(key), full.map(key));
  // `tfjs-lens merge` on the same folder: the merged log and the summary of one full run.
  const viaCli = cliJson<{ log: string; cells: number; summary: ProbeGridReport['summary'] }>('merge', runDir);
  assert.equal(viaCli.cells, full.length);
  assert.deepEqual(readLog(viaCli.log).map(key), full.map(key));
  assert.deepEqual(viaCli.summary.map((r) => [r.dataset, r.layer, r.pooler, r.classifier, r.balancedAccuracy.mean]), fullReport!.summary.map((r) => [r.dataset, r.layer, r.pooler, r.classifier, r.balancedAccuracy.mean]));
});
