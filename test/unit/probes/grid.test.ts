/**
 * The probe grid without a model: cell order, shards that partition the cells, resume from a log, and
 * records equal to the classifiers called directly on the same fold.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { setBackend } from '../../../lib/backend/index.js';
import { enumerateGridCells, gridCellKey, runProbeGrid, type GridAxes, type GridFeatures, type GridRecord } from '../../../lib/probes/grid.js';
import { openJsonlLog } from '../../../lib/io/jsonl-log.js';
import { kFoldSplits, selectRows } from '../../../lib/probes/kfold.js';
import { fitStandardScaler, transformStandard } from '../../../lib/probes/scaler.js';
import { fitLda, predictLda } from '../../../lib/probes/lda.js';
import { createRng } from '../../../lib/math/rng.js';
import { testBackend } from '../../helpers/backend.js';

before(async () => {
  await setBackend(testBackend('cpu'));
});

const axes: GridAxes = { datasets: ['a', 'b'], layers: [0, 3], poolers: ['mean', 'max'], classifiers: ['lda', 'logistic', 'linear'], folds: 3 };

/** Two Gaussian classes whose separation grows with the layer. */
function features(dataset: string, layer: number, pooler: string): GridFeatures {
  const rng = createRng(dataset.charCodeAt(0) * 100 + layer * 10 + pooler.length);
  const [n, d] = [48, 5];
  const X = new Float64Array(n * d);
  const y = Int32Array.from({ length: n }, (_, i) => i % 2);
  for (let i = 0; i < n; i++) for (let c = 0; c < d; c++) X[i * d + c] = rng.normal() + (y[i] ? 0.4 * (layer + 1) : 0);
  return { X: { data: X, shape: [n, d] }, y, nClasses: 2 };
}

test('cells come in dataset, layer, pooler, classifier, fold order', () => {
  const cells = enumerateGridCells(axes);
  assert.equal(cells.length, 2 * 2 * 2 * 3 * 3);
  assert.deepEqual(cells[0], { dataset: 'a', layer: 0, pooler: 'mean', classifier: 'lda', fold: 0 });
  assert.deepEqual(cells[1], { dataset: 'a', layer: 0, pooler: 'mean', classifier: 'lda', fold: 1 });
  assert.deepEqual(cells[3], { dataset: 'a', layer: 0, pooler: 'mean', classifier: 'logistic', fold: 0 });
  assert.equal(cells[cells.length - 1]!.dataset, 'b');
  assert.throws(() => enumerateGridCells({ ...axes, folds: 1 }), /folds must be an integer ≥ 2/);
});

test('a resumed run adds only the missing cells; three shards partition the grid; LDA lines equal a direct fit', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tfjs-lens-grid-'));
  const params = { neural: { epochs: 20 } };
  const before = tf.memory().numTensors;
  // first: run only the first shard of two, then the whole grid into the same log
  const log1 = openJsonlLog<GridRecord>(join(dir, 'full.jsonl'));
  const part = await runProbeGrid({ axes, seed: 3, params, features, log: log1, shard: { index: 0, count: 2 } });
  log1.close();
  const total = enumerateGridCells(axes).length;
  assert.equal(part.added.length, total / 2);
  const log2 = openJsonlLog<GridRecord>(join(dir, 'full.jsonl'));
  const rest = await runProbeGrid({ axes, seed: 3, params, features, log: log2 });
  log2.close();
  assert.equal(rest.skipped, total / 2);
  assert.equal(rest.added.length, total / 2);
  assert.equal(tf.memory().numTensors, before, 'no tensor leaks');
  const all = openJsonlLog<GridRecord>(join(dir, 'full.jsonl'));
  all.close();
  assert.deepEqual(all.records.map(gridCellKey), enumerateGridCells(axes).map(gridCellKey));
  // shards of three
  const sharded: GridRecord[] = [];
  for (let i = 0; i < 3; i++) {
    const log = openJsonlLog<GridRecord>(join(dir, `shard-${i}.jsonl`));
    const r = await runProbeGrid({ axes, seed: 3, params, features, log, shard: { index: i, count: 3 } });
    log.close();
    sharded.push(...r.added);
  }
  assert.deepEqual(sharded.map((r) => [gridCellKey(r), r.scores]), all.records.map((r) => [gridCellKey(r), r.scores]));
  // an LDA line against a direct fit
  const line = all.records.find((r) => r.dataset === 'b' && r.layer === 3 && r.pooler === 'max' && r.classifier === 'lda' && r.fold === 2)!;
  const f = features('b', 3, 'max');
  const { train, test } = kFoldSplits(48, 3, 3)[2]!;
  const sc = fitStandardScaler(selectRows(f.X, train));
  const model = fitLda(transformStandard(sc, selectRows(f.X, train)), Int32Array.from(train, (i) => f.y[i]!), { shrinkage: 1e-3 });
  const pred = predictLda(model, transformStandard(sc, selectRows(f.X, test)));
  const acc = pred.reduce((s, p, i) => s + (p === f.y[test[i]!] ? 1 : 0), 0) / test.length;
  assert.equal(line.scores.accuracy, acc);
  assert.equal(line.nTrain, 32);
  assert.equal(line.params.shrinkage, 1e-3);
  // separation grows with the layer: layer 3 beats layer 0 for every classifier (mean over folds)
  for (const c of axes.classifiers) {
    const m = (layer: number) => all.records.filter((r) => r.classifier === c && r.layer === layer).reduce((s, r) => s + r.scores.balancedAccuracy, 0) / 12;
    assert.ok(m(3) > m(0) + 0.2, `${c}: layer 3 ${m(3)} vs layer 0 ${m(0)}`);
  }
});

test('resuming a log written with other settings is an error, not a silent mix', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tfjs-lens-grid-'));
  const small: GridAxes = { datasets: ['a'], layers: [0], poolers: ['mean'], classifiers: ['lda'], folds: 2 };
  const log = openJsonlLog<GridRecord>(join(dir, 'log.jsonl'));
  await runProbeGrid({ axes: small, seed: 0, params: { shrinkage: 0.01 }, features, log });
  log.close();
  for (const [params, seed] of [[{ shrinkage: 0.1 }, 0], [{ shrinkage: 0.01 }, 1]] as const) {
    const again = openJsonlLog<GridRecord>(join(dir, 'log.jsonl'));
    await assert.rejects(runProbeGrid({ axes: small, seed, params, features, log: again }), /computed with other settings/);
    again.close();
  }
  const same = openJsonlLog<GridRecord>(join(dir, 'log.jsonl'));
  const r = await runProbeGrid({ axes: small, seed: 0, params: { shrinkage: 0.01 }, features, log: same });
  same.close();
  assert.equal(r.skipped, 2);
});
