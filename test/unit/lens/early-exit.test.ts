import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { setBackend } from '../../../lib/backend/index.js';
import { loadModel } from '../../../lib/nn/load.js';
import type { HookedGPT2 } from '../../../lib/nn/gpt2.js';
import { ShapeMismatchError } from '../../../lib/errors.js';
import { COSINE_THRESHOLDS, SOFTMAX_MARGIN_THRESHOLDS, earlyExit, earlyExitInputs, summarizeEarlyExit, type EarlyExitData } from '../../../lib/lens/early-exit.js';
import { fixtureDir, readFixture } from '../../helpers/fixtures.js';
import { testBackend } from '../../helpers/backend.js';

/**
 * Hand-built article: L = 4 layers (j = 0 … 3 meaning h_1 … h_4), N = 3 positions.
 * Final top-1 = [6, 8, 3], labels [6, 8, 4] → baseline accuracy 2/3.
 * Top-1 saturation: t0 → 2 (j1 = 5 ≠ 6), t1 → 1 (j0 = 7 ≠ 8), t2 → 3 (j2 = 2 ≠ 3).
 */
function article(): EarlyExitData {
  const L = 4;
  const N = 3;
  return {
    L,
    N,
    // prettier-ignore
    top1: Int32Array.from([
      5, 7, 9,
      5, 8, 9,
      6, 8, 2,
      6, 8, 3,
    ]),
    // prettier-ignore
    margin: Float64Array.from([
      0.1, 0.2, 0.95,
      0.45, 0.3, 0.1,
      0.6, 0.91, 0.2,
      0.7, 0.93, 0.3,
    ]),
    // Row 0 must be ignored by the state rule (it would make everything exit at j = 0).
    // prettier-ignore
    cosine: Float64Array.from([
      0.999, 0.999, 0.999,
      0.98, 0.987, 0.5,
      0.99, 0.995, 0.5,
      0.996, 0.9, 0.5,
    ]),
    labels: Int32Array.from([6, 8, 4]),
    // prettier-ignore
    probeTask: Int32Array.from([
      0, 0, 0,
      1, 0, 0,
      1, 1, 0,
      1, 1, 0,
    ]),
  };
}

const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-12, `${a} vs ${b}`);

test('earlyExit on a hand-built rank table: baseline, oracle, probe, softmax and cosine by hand', () => {
  const r = earlyExit(article());
  close(r.baseline.accuracy, 2 / 3);
  assert.equal(r.baseline.totalCost, 12);
  assert.equal(r.baseline.speedup, 1);
  assert.deepEqual(Array.from(r.baseline.exitLayer), [4, 4, 4]);

  // Oracle: exits at s_0 = [2, 1, 3], cost (index) 6 → speedup 2, predictions = baseline.
  assert.deepEqual(Array.from(r.oracle.exitLayer), [2, 1, 3]);
  assert.deepEqual(Array.from(r.oracle.predictions), [6, 8, 3]);
  close(r.oracle.accuracy, 2 / 3);
  assert.equal(r.oracle.speedup, 2);

  // Probe: task 1 first at j = 1 (t0 → 5, wrong), j = 2 (t1 → 8), never (t2 → 3, cost 4). Cost 7.
  assert.deepEqual(Array.from(r.probe!.predictions), [5, 8, 3]);
  close(r.probe!.accuracy, 1 / 3);
  close(r.probe!.speedup, 12 / 7);

  assert.deepEqual(
    r.softmax.map((s) => s.theta),
    [...SOFTMAX_MARGIN_THRESHOLDS],
  );
  const at = (theta: number) => r.softmax.find((s) => s.theta === theta)!;
  // θ 0.4: t0 j1 (0.45 → 5), t1 j2 (0.91 → 8), t2 j0 (0.95 → 9): acc 1/3, cost 1+2+0 = 3.
  assert.deepEqual(Array.from(at(0.4).predictions), [5, 8, 9]);
  close(at(0.4).accuracy, 1 / 3);
  close(at(0.4).speedup, 4);
  // θ 0.92: t0 never (6), t1 j3 (0.93 → 8), t2 j0 (9): acc 2/3, cost 4+3+0 = 7.
  assert.deepEqual(Array.from(at(0.92).exitLayer), [4, 3, 0]);
  close(at(0.92).accuracy, 2 / 3);
  close(at(0.92).speedup, 12 / 7);
  // θ 0.94: t0, t1 never, t2 j0: cost 8.
  close(at(0.94).speedup, 1.5);
  close(at(0.94).accuracy, 2 / 3);
  // Margin ≥ θ is inclusive: θ 0.91 exits t1 at j2 (margin exactly 0.91).
  assert.deepEqual(Array.from(earlyExit(article(), { softmaxThresholds: [0.91] }).softmax[0]!.exitLayer), [4, 2, 0]);

  assert.deepEqual(
    r.cosine!.map((s) => s.theta),
    [...COSINE_THRESHOLDS],
  );
  const cos = (theta: number) => r.cosine!.find((s) => s.theta === theta)!;
  // θ 0.986: t0 j2 (0.99), t1 j1 (0.987), t2 never: preds [6, 8, 3], cost 2+1+4 = 7.
  assert.deepEqual(Array.from(cos(0.986).exitLayer), [2, 1, 4]);
  close(cos(0.986).accuracy, 2 / 3);
  close(cos(0.986).speedup, 12 / 7);
  // θ 0.995: t0 j3 (0.996), t1 j2 (0.995, inclusive), t2 never: cost 3+2+4 = 9.
  assert.deepEqual(Array.from(cos(0.995).exitLayer), [3, 2, 4]);
  close(cos(0.995).speedup, 12 / 9);
});

test("costConvention 'blocks' counts j + 1 per exit (never exiting still costs L)", () => {
  const r = earlyExit(article(), { costConvention: 'blocks', softmaxThresholds: [0.92] });
  assert.equal(r.oracle.totalCost, 3 + 2 + 4);
  close(r.oracle.speedup, 12 / 9);
  assert.equal(r.softmax[0]!.totalCost, 4 + 4 + 1);
  assert.equal(r.baseline.totalCost, 12);
});

test('each method starts from a fresh copy of the final predictions (fails with the original aliasing bug)', () => {
  const data = article();
  const topBefore = Int32Array.from(data.top1);
  // Softmax θ 0.94 never exits t0, t1. The probe before it exits t0 at j1 with the wrong token 5.
  const fixed = earlyExit(data, { softmaxThresholds: [0.94], cosineThresholds: [0.995] });
  assert.deepEqual(Array.from(fixed.softmax[0]!.predictions), [6, 8, 9]);
  close(fixed.softmax[0]!.accuracy, 2 / 3);
  // Cosine θ 0.995 never exits t2: its prediction is the final top-1 3, not softmax's 9.
  assert.deepEqual(Array.from(fixed.cosine![0]!.predictions), [6, 8, 3]);

  // The original behaviour, reproduced on request: t0 inherits the probe's 5.
  const quirk = earlyExit(data, { softmaxThresholds: [0.94], cosineThresholds: [0.995], quirkAliasedPredictions: true });
  assert.deepEqual(Array.from(quirk.softmax[0]!.predictions), [5, 8, 9]);
  close(quirk.softmax[0]!.accuracy, 1 / 3);
  // Cosine θ 0.995 exits t0 at the last layer j = 3, whose row *is* the aliased buffer (now 5), and t2
  // never exits (keeps softmax's 9).
  assert.deepEqual(Array.from(quirk.cosine![0]!.predictions), [5, 8, 9]);
  // Baseline and oracle come first and are unaffected; costs never depend on the bug.
  close(quirk.baseline.accuracy, 2 / 3);
  assert.equal(quirk.softmax[0]!.totalCost, fixed.softmax[0]!.totalCost);
  // The caller's table is never written.
  assert.deepEqual(data.top1, topBefore);
});

test('a probe function on features gives the same exits as precomputed tasks; summary averages articles', () => {
  const data = article();
  const { probeTask, ...rest } = data;
  // Features [L, N, 2]: (task, 0.5) — the probe rounds the first component.
  const features = new Float32Array(data.L * data.N * 2);
  for (let i = 0; i < data.L * data.N; i++) {
    features[2 * i] = probeTask![i]!;
    features[2 * i + 1] = 0.5;
  }
  const seen: number[] = [];
  const probe = (f: Float32Array, layer: number) => {
    seen.push(layer);
    assert.equal(f.length, data.N * 2);
    return Array.from({ length: data.N }, (_, t) => Math.round(f[2 * t]!));
  };
  const r = earlyExit({ ...rest, features }, { probe });
  assert.deepEqual(seen, [0, 1, 2, 3]);
  assert.deepEqual(Array.from(r.probe!.exitLayer), [1, 2, 4]);
  // No probe at all: no "ours" point.
  assert.equal(earlyExit(rest).probe, undefined);

  const other = earlyExit({ ...data, labels: Int32Array.from([6, 8, 3]) });
  const summary = summarizeEarlyExit([earlyExit(data), other]);
  assert.equal(summary.articles, 2);
  close(summary.baseline.accuracy, (2 / 3 + 1) / 2);
  close(summary.oracle.speedup, 2);
  close(summary.probe!.accuracy, (1 / 3 + 2 / 3) / 2);
  assert.equal(summary.softmax.length, SOFTMAX_MARGIN_THRESHOLDS.length);
  assert.throws(() => earlyExit({ ...data, margin: new Float64Array(5) }), ShapeMismatchError);
});

test('earlyExitInputs on gpt2-tiny matches the fixture lens logits and residual states', async () => {
  await setBackend(testBackend('cpu'));
  const { inputs, expected } = await readFixture('gpt2-tiny');
  const model = (await loadModel(fixtureDir('gpt2-tiny'))) as HookedGPT2;
  const ids = Array.from(inputs.get('input_ids')!.data as Int32Array).slice(0, 9);
  const L = model.nLayers;
  const N = ids.length - 1;
  await earlyExitInputs(model, ids); // warm-up (lazily built weights)
  const before = tf.memory().numTensors;
  const probeLayers: number[] = [];
  const data = await earlyExitInputs(model, ids, {
    keepFeatures: true,
    probe: (f, layer) => {
      probeLayers.push(layer);
      return Array.from({ length: N }, (_, t) => (f[t * 64]! > 0 ? 1 : 0));
    },
  });
  assert.equal(tf.memory().numTensors, before, 'earlyExitInputs leaked tensors');
  assert.equal(data.L, L);
  assert.equal(data.N, N);
  assert.deepEqual(Array.from(data.labels), ids.slice(1));
  assert.deepEqual(probeLayers, [0, 1, 2]);

  // Reference: fixture lens.logits [4, 2, 9, V] (HF), softmax in float64, row j = h_{j+1}.
  const lens = expected.get('lens.logits')!;
  const [, B, T, V] = lens.shape as number[];
  for (let j = 0; j < L; j++) {
    for (let t = 0; t < N; t++) {
      const base = (((j + 1) * B! + 0) * T! + t) * V!;
      const row = Array.from(lens.data.subarray(base, base + V!));
      const order = row.map((_, i) => i).sort((a, b) => row[b]! - row[a]! || a - b);
      const max = row[order[0]!]!;
      const z = row.reduce((s, x) => s + Math.exp(x - max), 0);
      const margin = (1 - Math.exp(row[order[1]!]! - max)) / z;
      assert.equal(data.top1[j * N + t], order[0], `top-1 at j ${j}, t ${t}`);
      assert.ok(Math.abs(data.margin[j * N + t]! - margin) < 1e-5, `margin at j ${j}, t ${t}: ${data.margin[j * N + t]} vs ${margin}`);
    }
  }
  // Cosine and features: fixture resid_post of blocks j and j − 1 (raw residual h_{j+1}, h_j).
  const d = 64;
  const feat = (j: number, t: number) => {
    const h = expected.get(`blocks.${j}.hook_resid_post`)!;
    return Array.from(h.data.subarray(t * d, (t + 1) * d));
  };
  for (let j = 0; j < L; j++) {
    for (let t = 0; t < N; t++) {
      const ref = feat(j, t);
      const got = data.features!.subarray((j * N + t) * d, (j * N + t + 1) * d);
      for (let k = 0; k < d; k++) assert.ok(Math.abs(got[k]! - ref[k]!) < 1e-4 * Math.max(1, Math.abs(ref[k]!)));
      if (j === 0) {
        assert.ok(Number.isNaN(data.cosine![t]!));
        continue;
      }
      const a = ref;
      const b = feat(j - 1, t);
      const dot = a.reduce((s, x, k) => s + x * b[k]!, 0);
      const cos = dot / Math.sqrt(a.reduce((s, x) => s + x * x, 0) * b.reduce((s, x) => s + x * x, 0));
      assert.ok(Math.abs(data.cosine![j * N + t]! - cos) < 1e-5, `cos at j ${j}, t ${t}`);
    }
  }
  // The probe saw the raw residual features: its tasks follow the sign of component 0.
  for (let j = 0; j < L; j++) for (let t = 0; t < N; t++) assert.equal(data.probeTask![j * N + t], feat(j, t)[0]! > 0 ? 1 : 0);

  // featureSpace 'original': the last layer's features are LN_f(h_L) (the fixture's ln_final output).
  const orig = await earlyExitInputs(model, ids, { featureSpace: 'original', keepFeatures: true });
  const lnOut = expected.get('ln_final.hook_normalized')!;
  const w = model.lnFinal.w.dataSync();
  const bias = model.lnFinal.b.dataSync();
  for (let t = 0; t < N; t++) {
    for (let k = 0; k < d; k++) {
      const ref = lnOut.data[t * d + k]! * w[k]! + bias[k]!;
      const got = orig.features![((L - 1) * N + t) * d + k]!;
      assert.ok(Math.abs(got - ref) < 1e-4 * Math.max(1, Math.abs(ref)), `LN_f feature t ${t}, k ${k}`);
    }
  }
  // The whole comparison runs on these arrays.
  const result = earlyExit(data);
  assert.equal(result.baseline.speedup, 1);
  assert.ok(result.oracle.speedup >= 1);
});
