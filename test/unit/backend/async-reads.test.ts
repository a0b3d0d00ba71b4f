/**
 * The paths that read tensors asynchronously now (they used `dataSync`, which tfjs-webgpu cannot do in Node)
 * give the numbers they gave before: BERT and Whisper inputs given as device tensors = the same inputs as
 * arrays = the HF fixture; an `ActivationCache` with `device: 'cpu'` = the device cache; `FactoredMatrix`'s
 * SVD, singular values and eigenvalues against the dense product; composition scores against dense norms;
 * neural-probe probabilities against a float64 host softmax; `toHostArrayAsync` = the host values. Every input
 * tensor is computed on the backend (not just uploaded), so on webgpu its values live on the GPU. Runs on the
 * tier's backend (cpu by default; test/gpu/async-reads-tier.test.ts runs it in the webgpu tier). The sync host
 * helpers that remain (docs/architecture.md) read such a tensor or, where the backend cannot, throw
 * `InvalidArgumentError` naming the asynchronous way.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { setBackend } from '../../../lib/backend/index.js';
import { loadModel } from '../../../lib/nn/load.js';
import type { HookedBert } from '../../../lib/nn/bert.js';
import type { HookedWhisper } from '../../../lib/nn/whisper.js';
import { FactoredMatrix } from '../../../lib/lens/factored-matrix.js';
import { compositionScore } from '../../../lib/lens/circuits.js';
import { neuralProbeProba, type NeuralProbe } from '../../../lib/probes/neural.js';
import { toHostArray, toHostArrayAsync } from '../../../lib/math/host-array.js';
import { createRng } from '../../../lib/math/rng.js';
import { InvalidArgumentError } from '../../../lib/errors.js';
import { fixtureDir, intRows, readFixture, relError } from '../../helpers/fixtures.js';
import { testBackend } from '../../helpers/backend.js';

const backend = testBackend('cpu');

/**
 * A tensor computed on the backend: `values · I` (exact). On webgpu the small-op CPU hand-off is turned off
 * first, and the values are checked to live on the GPU only (no CPU copy a synchronous read could return).
 */
function onDevice(values: number[][], dtype: 'int32' | 'float32'): tf.Tensor2D {
  const webgpu = tf.getBackend() === 'webgpu';
  if (webgpu) tf.env().set('WEBGPU_CPU_HANDOFF_SIZE_THRESHOLD', 0);
  const t = tf.tidy(() => tf.cast(tf.matMul(tf.tensor2d(values, undefined, 'float32'), tf.eye(values[0]!.length)), dtype)) as tf.Tensor2D;
  if (webgpu) assert.equal((tf.backend() as unknown as { tensorMap: { get(id: object): { values?: unknown } } }).tensorMap.get(t.dataId).values, undefined, 'the test tensor lives on the GPU');
  return t;
}

function randn(rows: number, cols: number, seed: number): number[][] {
  const rng = createRng(seed);
  return Array.from({ length: rows }, () => Array.from({ length: cols }, () => rng.normal()));
}

test(`BERT and Whisper take device-tensor inputs (read asynchronously): same logits as arrays and as HF (${backend})`, async (t) => {
  await setBackend(backend);
  const before = tf.memory().numTensors;
  {
    const { inputs, expected } = await readFixture('bert-tiny');
    const bert = (await loadModel(fixtureDir('bert-tiny'))) as HookedBert;
    const ids = intRows(inputs.get('input_ids')!);
    const mask = ids.map((row) => row.map(() => 1));
    const types = ids.map((row) => row.map(() => 0));
    const [idsT, maskT, typesT] = [onDevice(ids, 'int32'), onDevice(mask, 'int32'), onDevice(types, 'int32')];
    const fromTensors = await bert.forward({ inputIds: idsT, attentionMask: maskT, tokenTypeIds: typesT });
    const fromArrays = await bert.forward({ inputIds: ids, attentionMask: mask, tokenTypeIds: types });
    const got = await fromTensors.data();
    assert.equal(relError(got, await fromArrays.data()), 0, 'tensor and array inputs run the same pass');
    const err = relError(got, expected.get('logits')!.data);
    assert.ok(err <= 1e-5, `bert-tiny logits vs HF: ${err}`);
    t.diagnostic(`bert-tiny logits from device tensors vs HF: ${err.toExponential(2)}`);
    // a bad token type in a device tensor is still found (read asynchronously) and nothing leaks
    const badTypes = onDevice(types.map((row) => row.map((_, i) => (i === 2 ? 7 : 0))), 'int32');
    await assert.rejects(bert.forward({ inputIds: idsT, tokenTypeIds: badTypes }), (e: unknown) => e instanceof InvalidArgumentError && /token type id 7/.test(e.message));
    tf.dispose([idsT, maskT, typesT, badTypes, fromTensors, fromArrays]);
    bert.dispose();
  }
  {
    const { inputs, expected } = await readFixture('whisper-tiny');
    const whisper = (await loadModel(fixtureDir('whisper-tiny'))) as HookedWhisper;
    const f = inputs.get('input_features')!;
    const features = tf.tensor3d(f.data as Float32Array, f.shape as [number, number, number]);
    const dec = intRows(inputs.get('decoder_input_ids')!);
    const decT = onDevice(dec, 'int32');
    const fromTensor = await whisper.forward({ inputFeatures: features, decoderInputIds: decT });
    const fromArrays = await whisper.forward({ inputFeatures: features, decoderInputIds: dec });
    const got = await fromTensor.data();
    assert.equal(relError(got, await fromArrays.data()), 0);
    const err = relError(got, expected.get('logits')!.data);
    assert.ok(err <= 1e-5, `whisper-tiny logits vs HF: ${err}`);
    t.diagnostic(`whisper-tiny logits from device tensors vs HF: ${err.toExponential(2)}`);
    tf.dispose([features, decT, fromTensor, fromArrays]);
    whisper.dispose();
  }
  assert.equal(tf.memory().numTensors, before);
});

test(`runWithCache({ device: 'cpu' }) holds the device cache's values (${backend})`, async () => {
  await setBackend(backend);
  const { inputs } = await readFixture('gpt2-tiny');
  const model = await loadModel(fixtureDir('gpt2-tiny'), { modelType: 'gpt2' });
  const ids = onDevice(intRows(inputs.get('input_ids')!), 'int32');
  const before = tf.memory().numTensors;
  const names = (n: string) => /hook_resid_(pre|post)$|hook_pattern$|hook_q_input$|hook_attn_in$/.test(n);
  const gpu = await model.runWithCache(ids, { namesFilter: names });
  const cpu = await model.runWithCache(ids, { namesFilter: names, device: 'cpu' });
  assert.deepEqual(cpu.cache.keys(), gpu.cache.keys());
  assert.ok(gpu.cache.keys().length >= 8);
  for (const k of gpu.cache.keys()) {
    const host = await cpu.cache.toHost(k);
    assert.deepEqual(host.shape, gpu.cache.get(k).shape, k);
    assert.equal(relError(host.data, await gpu.cache.get(k).data()), 0, k);
  }
  for (const r of [gpu, cpu]) {
    r.output.dispose();
    r.cache.dispose();
  }
  assert.equal(tf.memory().numTensors, before);
  ids.dispose();
  model.dispose();
});

test(`FactoredMatrix SVD / eigenvalues and composition scores (read asynchronously) agree with the dense product (${backend})`, async () => {
  await setBackend(backend);
  const before = tf.memory().numTensors;
  const A = onDevice(randn(9, 4, 1), 'float32');
  const B = onDevice(randn(4, 9, 2), 'float32');
  const fm = new FactoredMatrix(A, B);
  const ab = fm.AB;
  const dense = (await ab.array()) as number[][];
  const { U, S, V } = await fm.svd();
  const recon = tf.tidy(() => tf.matMul(tf.mul(U, tf.expandDims(S, 0)), V, false, true));
  assert.ok(relError(await recon.data(), dense.flat()) <= 1e-5, 'U diag(S) Vᵀ = AB');
  assert.deepEqual(Array.from(await fm.singularValues()).map(Math.fround), Array.from(await S.data()));
  // Σσ² = ‖AB‖²_F and Σλ = tr(BA) = tr(AB)
  const frob2 = dense.flat().reduce((s, x) => s + x * x, 0);
  const sig2 = Array.from(await S.data()).reduce((s, x) => s + x * x, 0);
  assert.ok(Math.abs(sig2 - frob2) <= 1e-5 * frob2, `${sig2} vs ${frob2}`);
  const ev = await fm.eigenvalues();
  const trace = dense.reduce((s, row, i) => s + row[i]!, 0);
  const sumRe = Array.from(await ev.real.data()).reduce((s, x) => s + x, 0);
  const sumIm = Array.from(await ev.imag.data()).reduce((s, x) => s + x, 0);
  assert.ok(Math.abs(sumRe - trace) <= 1e-4 * Math.max(1, Math.abs(trace)) && Math.abs(sumIm) <= 1e-4, `Σλ ${sumRe}+${sumIm}i vs tr ${trace}`);
  const even = await fm.makeEven();
  const evenAB = even.AB;
  assert.ok(relError(await evenAB.data(), dense.flat()) <= 1e-5, 'makeEven keeps the product');
  // composition score of (A B) with a plain matrix W: ‖ABW‖ / (‖AB‖ ‖W‖) from dense norms
  const W = onDevice(randn(9, 5, 3), 'float32');
  const want = tf.tidy(() => tf.div(tf.norm(tf.matMul(ab, W)), tf.mul(tf.norm(ab), tf.norm(W))));
  const score = await compositionScore(fm, W);
  const ref = (await want.data())[0]!;
  assert.ok(Math.abs(score - ref) <= 1e-5 * ref, `${score} vs ${ref}`);
  tf.dispose([A, B, ab, U, S, V, recon, ev.real, ev.imag, evenAB, W, want]);
  fm.dispose();
  even.dispose();
  assert.equal(tf.memory().numTensors, before);
});

test(`neural-probe probabilities of a device tensor = a float64 host softmax; toHostArrayAsync = the values (${backend})`, async () => {
  await setBackend(backend);
  const d = 5;
  const K = 3;
  const x = randn(7, d, 4);
  const w = randn(d, K, 5);
  const b = [0.1, -0.2, 0.3];
  const probe: NeuralProbe = { kind: 'linear', nClasses: K, nFeatures: d, weights: [{ data: Float32Array.from(w.flat()), shape: [d, K] }, { data: Float32Array.from(b), shape: [K] }], bestEpoch: 0, epochs: 1, trainLoss: [], valLoss: [], nTrain: 7, nVal: 0 };
  const want = x.flatMap((row) => {
    const z = b.map((bk, k) => row.reduce((s, xi, i) => s + Math.fround(xi) * Math.fround(w[i]![k]!), Math.fround(bk)));
    const m = Math.max(...z);
    const e = z.map((v) => Math.exp(v - m));
    const sum = e.reduce((s, v) => s + v, 0);
    return e.map((v) => v / sum);
  });
  const X = onDevice(x, 'float32');
  const before = tf.memory().numTensors;
  const p = await neuralProbeProba(probe, X);
  assert.deepEqual(p.shape, [7, K]);
  assert.ok(relError(p.data, want) <= 1e-5, `${relError(p.data, want)}`);
  const host = await toHostArrayAsync(X, { rank: 2 });
  assert.deepEqual(host.shape, [7, d]);
  assert.ok(relError(host.data, x.flat()) <= 1e-6);
  // the synchronous helper reads the same values, or (webgpu in Node) refuses with a typed error
  try {
    assert.deepEqual(Array.from(toHostArray(X).data), Array.from(host.data));
  } catch (err) {
    assert.ok(err instanceof InvalidArgumentError && /synchronously/.test(err.message), String(err));
  }
  assert.equal(tf.memory().numTensors, before);
  X.dispose();
});
