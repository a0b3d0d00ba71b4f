import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { setBackend } from '../../../lib/backend/index.js';
import { loadModel } from '../../../lib/nn/load.js';
import type { HookedGPT2 } from '../../../lib/nn/gpt2.js';
import { residName } from '../../../lib/nn/lens-model.js';
import { logitLens, residNamesFilter } from '../../../lib/lens/logit-lens.js';
import { saturationLayers } from '../../../lib/lens/saturation.js';
import { createRng } from '../../../lib/math/rng.js';
import { buildProbeDataset, probeDatasetExperiment, runProbeExperiment, type ProbeReport } from '../../../lib/probes/index.js';
import type { CrossValidationResult } from '../../../lib/probes/kfold.js';
import { fixtureDir } from '../../helpers/fixtures.js';
import { InvalidArgumentError } from '../../../lib/errors.js';
import { testBackend } from '../../helpers/backend.js';

const N = 8;
const T = 16;
const rng = createRng(0);
const ids = Array.from({ length: N }, () => Array.from({ length: T }, () => rng.uniformInt(1000)));

/** Reference top-k of one row: full sort by (value desc, id asc). */
function refTopK(row: ArrayLike<number>, k: number): number[] {
  const idx = Array.from({ length: row.length }, (_, i) => i);
  idx.sort((a, b) => row[b]! - row[a]! || a - b);
  return idx.slice(0, k);
}

test('buildProbeDataset on gpt2-tiny: saturation from a full-sort lens, features = cached residuals (resid, original)', async () => {
  await setBackend(testBackend('cpu'));
  const model = (await loadModel(fixtureDir('gpt2-tiny'))) as HookedGPT2;
  const L = model.nLayers;
  const before = tf.memory().numTensors;
  const opts = { J0: 0, K: 3, minPerLayer: 3 };
  const resid = await buildProbeDataset(model, ids, { ...opts, batchSize: 3 });
  const original = await buildProbeDataset(model, ids, { ...opts, featureSpace: 'original', batchSize: 5 });
  assert.equal(tf.memory().numTensors, before, 'buildProbeDataset leaked tensors');

  // Independent saturation layers: full-vocabulary lens of every residual, sorted on the host.
  const input = tf.tensor2d(ids, undefined, 'int32');
  const { output, cache } = await model.runWithCache(input, { namesFilter: residNamesFilter(model) });
  const lens = logitLens(model, cache);
  const V = 1000;
  const logits = (await lens.data()) as Float32Array;
  lens.dispose();
  assert.equal(resid.saturation.length, N * T);
  for (let b = 0; b < N; b++) {
    for (let p = 0; p < T; p++) {
      const ranks = Array.from({ length: L }, (_, j) => refTopK(logits.subarray((((j + 1) * N + b) * T + p) * V, (((j + 1) * N + b) * T + p + 1) * V), 5));
      assert.deepEqual(resid.saturation[b * T + p], saturationLayers(ranks));
      assert.equal(resid.exampleRow[b * T + p], b);
      assert.equal(resid.examplePosition[b * T + p], p);
    }
  }

  // Features: h_{j+1}[row, pos] read straight from the cache; LN_f by hand on the host.
  const d = model.cfg.dModel;
  const residHost = await Promise.all(Array.from({ length: L }, (_, j) => cache.get(residName(model, j + 1)).data()));
  const w = model.lnFinal.w.dataSync();
  const bias = model.lnFinal.b.dataSync();
  const layerNorm = (x: ArrayLike<number>): number[] => {
    let m = 0;
    for (let c = 0; c < d; c++) m += x[c]!;
    m /= d;
    let v = 0;
    for (let c = 0; c < d; c++) v += (x[c]! - m) ** 2;
    const s = Math.sqrt(v / d + model.cfg.eps);
    return Array.from({ length: d }, (_, c) => ((x[c]! - m) / s) * w[c]! + bias[c]!);
  };
  assert.ok(resid.y.length > 0, 'the fixture run produced no probe samples');
  // 'original' for GPT-2 = raw h_{j+1}, except LN_f(h_L) at j = L−1 (HF's last hidden state).
  for (const [name, ds] of [['resid', resid], ['original', original]] as const) {
    assert.deepEqual(ds.X.shape, [ds.y.length, d]);
    assert.deepEqual(Array.from(ds.examples), Array.from(resid.examples), `${name}: same items`);
    for (let i = 0; i < ds.y.length; i++) {
      const e = ds.examples[i]!;
      const j = ds.layers[i]!;
      const raw = residHost[j]!.subarray(e * d, (e + 1) * d); // example e = b·T + p = flat row of [N·T, d]
      const useLn = name === 'original' && j === L - 1;
      const want = useLn ? layerNorm(raw) : Array.from(raw);
      const got = ds.X.data.subarray(i * d, (i + 1) * d);
      for (let c = 0; c < d; c++) assert.ok(Math.abs(got[c]! - want[c]!) <= 1e-4 * (1 + Math.abs(want[c]!)), `${name} item ${i} feature ${c}: ${got[c]} vs ${want[c]}`);
    }
  }
  output.dispose();
  cache.dispose();
  input.dispose();
  // Balanced: every kept layer contributes m_j items per task.
  for (const pl of resid.perLayer.filter((p) => p.kept)) {
    for (let t = 0; t < 3; t++) assert.equal(resid.y.filter((v, i) => v === t && resid.layers[i] === pl.layer).length, pl.m);
  }
  await assert.rejects(buildProbeDataset(model, ids, { J0: 3 }), InvalidArgumentError); // J0 must be ≤ L−1
  await assert.rejects(buildProbeDataset(model, ids, { k: 2, K: 3 }), InvalidArgumentError);
});

function checkCv(cv: CrossValidationResult, K: number): void {
  assert.equal(cv.folds.length, 5);
  const unit = (v: number, what: string): void => assert.ok(Number.isFinite(v) && v >= 0 && v <= 1, `${what} = ${v}`);
  unit(cv.meanBalancedAccuracy, 'mean balanced accuracy');
  assert.ok(Number.isFinite(cv.semBalancedAccuracy) && cv.semBalancedAccuracy >= 0);
  assert.equal(cv.perClassRecall.length, K);
  assert.equal(cv.perClassAuc.length, K);
  cv.perClassRecall.forEach((v, c) => unit(v, `recall ${c}`));
  cv.perClassAuc.forEach((v, c) => unit(v, `auc ${c}`));
  for (const f of cv.folds) unit(f.balancedAccuracy, `fold ${f.fold}`);
}

test('runProbeExperiment on gpt2-tiny: report structure, finite numbers in [0, 1], no tensor growth', async () => {
  await setBackend(testBackend('cpu'));
  const model = (await loadModel(fixtureDir('gpt2-tiny'))) as HookedGPT2;
  const before = tf.memory().numTensors;
  const report = await runProbeExperiment(model, ids, { J0: 0, K: 3, minPerLayer: 3, batchSize: 4, seed: 1, featureSpace: 'lnFinal' });
  assert.equal(tf.memory().numTensors, before, 'runProbeExperiment leaked tensors');
  assert.deepEqual(report.examples, { total: N * T, kept: N * T }); // floor(0.85·3) = 2 = L−1 keeps all
  assert.equal(report.featureSpace, 'lnFinal');
  assert.equal(report.data.K, 3);
  assert.equal(report.data.probeK, 3);
  assert.equal(report.data.nFeatures, 64);
  assert.equal(report.data.L, 3);
  assert.equal(report.chance, 1 / 3);
  assert.equal(report.seed, 1);
  assert.ok(report.data.nSamples >= 15);
  assert.deepEqual(report.data.classCounts, [report.data.nSamples / 3, report.data.nSamples / 3, report.data.nSamples / 3]);
  checkCv(report.probe, 3);
  checkCv(report.controls.randomEmbeddings!, 3);
  checkCv(report.controls.labelShuffle!, 3);
  assert.ok(report.probe.bestProbe && !report.controls.labelShuffle!.bestProbe);
  const line = (name: string, cv: CrossValidationResult): string => `${name} ${cv.meanBalancedAccuracy.toFixed(3)} ± ${cv.semBalancedAccuracy.toFixed(3)}`;
  console.log(`  gpt2-tiny: n=${report.data.nSamples}, ${line('probe', report.probe)}, ${line('random', report.controls.randomEmbeddings!)}, ${line('shuffled', report.controls.labelShuffle!)}`);
});

test('probeDatasetExperiment: probeK < K keeps only labels < probeK; empty datasets give a clear error', () => {
  const r = createRng(4);
  const n = 90;
  const d = 4;
  const data = new Float32Array(n * d);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % 3;
    for (let t = 0; t < d; t++) data[i * d + t] = r.normal() + (t === y[i] ? 3 : 0);
  }
  const dataset = { X: { data, shape: [n, d] as [number, number] }, y, nClasses: 3, L: 6, J0: 2, perLayer: [] };
  const report: ProbeReport = probeDatasetExperiment(dataset, { probeK: 2, controls: ['labelShuffle'] });
  assert.equal(report.data.nSamples, 60);
  assert.equal(report.data.probeK, 2);
  assert.equal(report.chance, 0.5);
  assert.deepEqual(report.probe.classCounts, [30, 30]);
  assert.equal(report.controls.randomEmbeddings, undefined);
  assert.ok(report.probe.meanBalancedAccuracy > 0.9);
  assert.throws(() => probeDatasetExperiment(dataset, { probeK: 4 }), InvalidArgumentError);
  const empty = { ...dataset, X: { data: new Float32Array(0), shape: [0, 0] as [number, number] }, y: new Int32Array(0) };
  assert.throws(() => probeDatasetExperiment(empty), InvalidArgumentError);
});
