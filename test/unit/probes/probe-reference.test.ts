/**
 * `trainProbe` and `runProbeExperiment` (which `probe --json` reports, see cli-analyses.test.ts) against a
 * re-derivation written here: the lens ranking from the raw HF weights in float64, saturation layers, the task
 * buckets and their balancing as the dataset docs define them, the shuffled folds from a BigInt xoshiro128**,
 * and the probe fitted by Newton's method (test/helpers/reference.ts) instead of L-BFGS.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { setBackend } from '../../../lib/backend/index.js';
import { loadModel } from '../../../lib/nn/load.js';
import type { HookedGPT2 } from '../../../lib/nn/gpt2.js';
import { readAllSafetensors } from '../../../lib/io/safetensors.js';
import { applyProbe, runProbeExperiment, trainProbe } from '../../../lib/probes/index.js';
import { fixtureDir } from '../../helpers/fixtures.js';
import { ReferenceXoshiro, newtonLogistic, newtonOvR, referenceBalancedAccuracy, referencePermutation, standardize } from '../../helpers/reference.js';
import { testBackend } from '../../helpers/backend.js';

test('trainProbe (scaler + OvR L-BFGS) reaches the Newton optimum of the same L2 logistic objective', () => {
  const rng = new ReferenceXoshiro(3);
  const u = () => Number(rng.next()) / 2 ** 32 - 0.5;
  const n = 90;
  const d = 4;
  // Three overlapping classes with different feature scales (so standardisation matters).
  const y = Array.from({ length: n }, (_, i) => i % 3);
  const X = y.map((c) => [3 * u() + c, 10 * u() - 5 * c, 0.1 * u() + 0.05 * (c === 1 ? 1 : 0), 2 * u()]);
  const flat = { data: Float64Array.from(X.flat()), shape: [n, d] as [number, number] };
  for (const C of [1, 0.05]) {
    const probe = trainProbe(flat, y, { C, tol: 1e-10, maxIter: 5000 });
    assert.ok(probe.model.converged.every(Boolean));
    const Z = standardize(X, X);
    for (let cls = 0; cls < 3; cls++) {
      const ref = newtonLogistic(Z, y.map((v) => (v === cls ? 1 : -1)), C);
      const w = probe.model.weights.subarray(cls * d, (cls + 1) * d);
      for (let c = 0; c < d; c++) assert.ok(Math.abs(w[c]! - ref.w[c]!) < 1e-6 * (1 + Math.abs(ref.w[c]!)), `C=${C} class ${cls} w[${c}] ${w[c]} vs Newton ${ref.w[c]}`);
      assert.ok(Math.abs(probe.model.intercepts[cls]! - ref.b) < 1e-6 * (1 + Math.abs(ref.b)), `C=${C} class ${cls} b ${probe.model.intercepts[cls]} vs ${ref.b}`);
    }
    // Probabilities: the K sigmoids renormalised (sklearn's OvR convention).
    const proba = applyProbe(probe, flat).proba.data;
    const decide = newtonOvR(Z, y, 3, C);
    for (let i = 0; i < n; i += 7) {
      const s = decide(Z[i]!).map((z) => 1 / (1 + Math.exp(-z)));
      const tot = s.reduce((a, b) => a + b, 0);
      for (let c = 0; c < 3; c++) assert.ok(Math.abs(proba[i * 3 + c]! - s[c]! / tot) < 1e-6, `proba[${i},${c}]`);
    }
  }
  // Two classes: one binary problem, class 1 against class 0.
  const y2 = y.map((v) => (v === 2 ? 1 : 0));
  const p2 = trainProbe(flat, y2, { tol: 1e-10 });
  const ref2 = newtonLogistic(standardize(X, X), y2.map((v) => (v ? 1 : -1)));
  assert.equal(p2.model.weights.length, d);
  for (let c = 0; c < d; c++) assert.ok(Math.abs(p2.model.weights[c]! - ref2.w[c]!) < 1e-6 * (1 + Math.abs(ref2.w[c]!)));
});

/** Float64 logit lens of h [d] at the final layer norm and the tied unembedding, top-k ids (ties → lower id). */
function lensTopK(h: ArrayLike<number>, w: { lnW: ArrayLike<number>; lnB: ArrayLike<number>; wte: ArrayLike<number>; V: number; d: number }, k: number): number[] {
  const { d, V } = w;
  let mean = 0;
  for (let c = 0; c < d; c++) mean += h[c]! / d;
  let v = 0;
  for (let c = 0; c < d; c++) v += (h[c]! - mean) ** 2 / d;
  const x = Array.from({ length: d }, (_, c) => ((h[c]! - mean) / Math.sqrt(v + 1e-5)) * w.lnW[c]! + w.lnB[c]!);
  const logits = Array.from({ length: V }, (_, t) => {
    let s = 0;
    for (let c = 0; c < d; c++) s += x[c]! * w.wte[t * d + c]!;
    return s;
  });
  return Array.from({ length: V }, (_, t) => t).sort((a, b) => logits[b]! - logits[a]! || a - b).slice(0, k);
}

test('runProbeExperiment: dataset, folds and per-fold balanced accuracy equal a from-the-definitions re-derivation', async (t) => {
  await setBackend(testBackend('cpu'));
  const model = (await loadModel(fixtureDir('gpt2-tiny'))) as HookedGPT2;
  const L = model.nLayers;
  const rng = new ReferenceXoshiro(11);
  const N = 40;
  const T = 12;
  const ids = Array.from({ length: N }, () => Array.from({ length: T }, () => rng.below(1000)));
  const opts = { J0: 0, K: 3, probeK: 3, k: 3, minPerLayer: 3, folds: 3, seed: 4, tol: 1e-10, maxIter: 5000 };
  const t0 = Date.now();
  const report = await runProbeExperiment(model, ids, opts);
  const t1 = Date.now();

  // Lens ranks and residual states, read from the model's cache and the raw HF weights.
  const raw = await readAllSafetensors(join(fixtureDir('gpt2-tiny'), 'model.safetensors'));
  const get = (k: string) => (raw.get(`transformer.${k}`) ?? raw.get(k)!).data;
  const w = { lnW: get('ln_f.weight'), lnB: get('ln_f.bias'), wte: get('wte.weight'), V: 1000, d: 64 };
  const { output, cache } = await model.runWithCache(ids, { namesFilter: (n) => n.endsWith('hook_resid_post') });
  output.dispose();
  const resid = Array.from({ length: L }, (_, j) => cache.get(`blocks.${j}.hook_resid_post`).dataSync());
  cache.dispose();
  const feature = (e: number, j: number) => Array.from(resid[j]!.subarray(e * 64, (e + 1) * 64));
  const examples = N * T; // example e = row * T + position
  const S: number[][] = [];
  for (let e = 0; e < examples; e++) {
    const ranks = Array.from({ length: L }, (_, j) => lensTopK(feature(e, j), w, opts.k));
    // s_r = first layer from which rank r's token equals the final one for good (0 when it always agreed).
    S.push(Array.from({ length: opts.k }, (_, r) => {
      let s = 0;
      for (let j = L - 2; j >= 0; j--) if (ranks[j]![r] !== ranks[L - 1]![r]) { s = j + 1; break; }
      return s;
    }));
  }
  const kept = S.map((_, e) => e).filter((e) => S[e]![0]! <= Math.floor(0.85 * L));
  assert.deepEqual([report.examples.total, report.examples.kept], [examples, kept.length]);
  // Buckets (layer j, task t): tasks with s_t > J0 cover layers max(J0, s_{t−1}+1) … min(s_t, L−1).
  const buckets = Array.from({ length: L - opts.J0 }, () => Array.from({ length: opts.K }, () => [] as number[]));
  for (const e of kept) {
    for (let task = 0; task < opts.K; task++) {
      const s = S[e]!;
      if (!(s[task]! > opts.J0)) continue;
      const from = task === 0 ? opts.J0 : Math.max(opts.J0, s[task - 1]! + 1);
      for (let j = from; j <= Math.min(s[task]!, L - 1); j++) buckets[j - opts.J0]![task]!.push(e);
    }
  }
  const X: number[][] = [];
  const y: number[] = [];
  buckets.forEach((byTask, jj) => {
    const m = Math.min(...byTask.map((b) => b.length));
    const layer = jj + opts.J0;
    assert.deepEqual(report.data.perLayer[jj], { layer, counts: byTask.map((b) => b.length), m, kept: m >= opts.minPerLayer });
    if (m < opts.minPerLayer) return;
    byTask.forEach((b, task) => b.slice(0, m).forEach((e) => { X.push(feature(e, layer)); y.push(task); }));
  });
  assert.equal(report.data.nSamples, y.length);
  assert.deepEqual(report.data.classCounts, [0, 1, 2].map((c) => y.filter((v) => v === c).length));
  t.diagnostic(`dataset ${y.length} samples (${report.data.classCounts.join('/')}) from ${kept.length}/${examples} kept positions`);
  assert.ok(y.length >= 30, 'enough samples for a meaningful check');

  // Folds: a seeded permutation cut into F nearly equal consecutive blocks (the first n mod F one longer).
  const crossValidate = (labels: number[]) => {
    const n = labels.length;
    const perm = referencePermutation(opts.seed, n);
    const out: number[] = [];
    let start = 0;
    for (let f = 0; f < opts.folds; f++) {
      const size = Math.floor(n / opts.folds) + (f < n % opts.folds ? 1 : 0);
      const test = perm.slice(start, start + size);
      const train = [...perm.slice(0, start), ...perm.slice(start + size)];
      start += size;
      const Xtr = train.map((i) => X[i]!);
      const decide = newtonOvR(standardize(Xtr, Xtr), train.map((i) => labels[i]!), 3);
      const pred = standardize(Xtr, test.map((i) => X[i]!)).map((x) => {
        const z = decide(x);
        return z.indexOf(Math.max(...z));
      });
      out.push(referenceBalancedAccuracy(test.map((i) => labels[i]!), pred));
    }
    return out;
  };
  const t2 = Date.now();
  const want = crossValidate(y);
  t.diagnostic(`timing: library ${t1 - t0} ms, reference dataset ${t2 - t1} ms, reference CV ${Date.now() - t2} ms`);
  const got = report.probe.folds.map((f) => f.balancedAccuracy);
  t.diagnostic(`per-fold balanced accuracy ${got.map((v) => v.toFixed(4)).join(', ')} (reference ${want.map((v) => v.toFixed(4)).join(', ')})`);
  assert.deepEqual(got.map((v) => v.toFixed(12)), want.map((v) => v.toFixed(12)));
  assert.ok(Math.abs(report.probe.meanBalancedAccuracy - want.reduce((a, b) => a + b, 0) / want.length) < 1e-12);
  // Label-shuffle control: the same folds on labels shuffled with seed + 2.
  const shuffled = new ReferenceXoshiro(opts.seed + 2).shuffle([...y]);
  assert.deepEqual(report.controls.labelShuffle!.folds.map((f) => f.balancedAccuracy.toFixed(12)), crossValidate(shuffled).map((v) => v.toFixed(12)));
  model.dispose();
});
