import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { setBackend } from '../../../lib/backend/index.js';
import { loadModel } from '../../../lib/nn/load.js';
import type { HookedGPT2 } from '../../../lib/nn/gpt2.js';
import type { HookedBert } from '../../../lib/nn/bert.js';
import { residName } from '../../../lib/nn/lens-model.js';
import type { HookFn } from '../../../lib/nn/hook-point.js';
import { createRng } from '../../../lib/math/rng.js';
import { readAllSafetensors } from '../../../lib/io/safetensors.js';
import { applyLinearMap, LAMBDA_GRID_ID, LAMBDA_GRID_MAT } from '../../../lib/linreg/index.js';
import {
  calmEarlyExitCurve, collectStates, evaluateMappings, fitShortcutsFromStates, loadMatMaps, runBlocksReplaced, runMatPipeline,
  sampleShortcutPositions, shortcutTo, submoduleMap, type MappingEvaluation, type MatMaps,
} from '../../../lib/shortcuts/index.js';
import { InvalidArgumentError } from '../../../lib/errors.js';
import { fixtureDir } from '../../helpers/fixtures.js';
import { testBackend } from '../../helpers/backend.js';

function randomSentences(seed: number, count: number, vocab: number, minLen: number, maxLen: number, lo = 0): number[][] {
  const rng = createRng(seed);
  return Array.from({ length: count }, () => Array.from({ length: minLen + rng.uniformInt(maxLen - minLen + 1) }, () => lo + rng.uniformInt(vocab - lo)));
}

/** float64 log-softmax of one logits row, and its argmax (ties → lower id). */
function logSoftmaxRow(logits: ArrayLike<number>): { logp: Float64Array; top1: number } {
  let max = -Infinity;
  let top1 = 0;
  for (let v = 0; v < logits.length; v++) if (logits[v]! > max) [max, top1] = [logits[v]!, v];
  let z = 0;
  for (let v = 0; v < logits.length; v++) z += Math.exp(logits[v]! - max);
  const lse = max + Math.log(z);
  return { logp: Float64Array.from(logits, (x) => x - lse), top1 };
}

/** Row at position `pos` of a `[1, T, X]` tensor. */
async function rowAt(t: tf.Tensor, pos: number): Promise<Float32Array> {
  const width = t.shape[t.rank - 1]!;
  return ((await t.data()) as Float32Array).slice(pos * width, (pos + 1) * width);
}

const ALL = ['id', 'mat', 'mat_attn', 'mat_ffn', 'mat_ln1_ln2'] as const;

/** gpt2-tiny, maps fitted on 96 training sentences, 16 validation sentences evaluated (shared by tests). */
let shared: Promise<{ model: HookedGPT2; maps: MatMaps; val: number[][]; posVal: Int32Array; evaluation: MappingEvaluation; leaked: number }> | undefined;
function gpt2Setup() {
  shared ??= (async () => {
    await setBackend(testBackend('wasm'), { verbose: false });
    const model = (await loadModel(fixtureDir('gpt2-tiny'))) as HookedGPT2;
    const sentences = randomSentences(41, 112, model.cfg.dVocab, 3, 16);
    const positions = sampleShortcutPositions(sentences, { seed: 9 });
    const before = tf.memory().numTensors;
    const train = await collectStates(model, sentences.slice(0, 96), positions.subarray(0, 96), { registries: true, batchSize: 16 });
    const maps = await fitShortcutsFromStates(train, { threads: 1 });
    const val = sentences.slice(96);
    const posVal = positions.slice(96);
    const evaluation = await evaluateMappings(model, val, posVal, maps, { mappings: ALL, batchSize: 5 });
    return { model, maps, val, posVal, evaluation, leaked: tf.memory().numTensors - before };
  })();
  return shared;
}

test('evaluateMappings (gpt2-tiny): id at ℓ = L is the model output (Precision@1 = 1, surprisal = −ln p_final(top-1)); every mapping at ℓ = L too', async () => {
  const { model, val, posVal, evaluation, leaked } = await gpt2Setup();
  assert.equal(leaked, 0, 'collect + fit + evaluate leaked tensors');
  const L = model.nLayers;
  const N = val.length;
  let surprisalSum = 0;
  for (let n = 0; n < N; n++) {
    const t = posVal[n]!;
    const ids = tf.tensor2d([val[n]!.slice(0, t + 1)], [1, t + 1], 'int32');
    const logits = await model.forward(ids);
    const { logp, top1 } = logSoftmaxRow(await rowAt(logits, t));
    tf.dispose([ids, logits]);
    assert.equal(evaluation.finalTop[n * 10], top1, `final top-1 of sample ${n}`);
    assert.equal(evaluation.top1.id![L * N + n], top1);
    assert.ok(Math.abs(evaluation.surprisal.id![L * N + n]! + logp[top1]!) < 1e-4);
    surprisalSum += -logp[top1]!;
  }
  for (const m of ALL) {
    const metrics = evaluation.metrics[m]!;
    assert.equal(metrics.precisionAt1.length, L + 1);
    assert.equal(metrics.precisionAt1[L], 1, `${m} Precision@1 at ℓ = L`);
    assert.ok(Math.abs(metrics.surprisal[L]! - surprisalSum / N) < 1e-4, `${m} surprisal at ℓ = L`);
    for (let l = 0; l <= L; l++) {
      assert.ok(metrics.precisionAt1[l]! <= metrics.precisionAt5[l]! && metrics.precisionAt5[l]! <= metrics.precisionAt10[l]!);
      assert.ok(metrics.precisionAt10[l]! <= 1 && metrics.precisionAt1[l]! >= 0);
      assert.ok(metrics.surprisal[l]! >= -1e-6);
    }
  }
  console.log(`  gpt2-tiny Precision@1 per ℓ: ${ALL.map((m) => `${m} [${evaluation.metrics[m]!.precisionAt1.map((v) => v.toFixed(2)).join(' ')}]`).join('; ')}`);
});

test('evaluateMappings (gpt2-tiny): mat = lens(A_{L,ℓ}·h_ℓ) in float64; mat_attn / mat_ffn = the model run with hooks replacing those sub-modules', async () => {
  const { model, maps, val, posVal, evaluation } = await gpt2Setup();
  const L = model.nLayers;
  const d = model.cfg.dModel;
  const N = val.length;
  const states = await collectStates(model, val, posVal, { batchSize: 7 });
  for (let l = 0; l < L; l++) {
    const mapped = applyLinearMap(shortcutTo(maps, l, L), { data: states.states![l]!, shape: [N, d] });
    const logits = tf.tidy(() => model.lensLogits(tf.tensor2d(mapped as Float32Array, [N, d])));
    const rows = (await logits.data()) as Float32Array;
    logits.dispose();
    for (let n = 0; n < N; n++) assert.equal(evaluation.top1.mat![l * N + n], logSoftmaxRow(rows.subarray(n * 1000, (n + 1) * 1000)).top1, `mat top-1, ℓ = ${l}, sample ${n}`);
  }
  // Independent path: the model's own forward with hooks that replace attention (or the MLP) of blocks ≥ ℓ.
  const piTensor = (b: number, a: number) => tf.tensor2d(Float32Array.from(submoduleMap(maps, b, a).weight), [d, d]);
  for (const m of ['mat_attn', 'mat_ffn'] as const) {
    for (let l = 0; l < L; l++) {
      const pis = Array.from({ length: L }, (_, b) => (b >= l ? piTensor(b, m === 'mat_attn' ? 1 : 4) : undefined));
      const hooks: [string, HookFn][] = [];
      for (let b = l; b < L; b++) {
        const ln = m === 'mat_attn' ? model.blocks[b]!.ln1 : model.blocks[b]!.ln2;
        hooks.push([ln.hookNormalized.name, (x, hook) => void (hook.ctx[`in${b}`] = tf.add(tf.mul(x, ln.w), ln.b))]);
        hooks.push([m === 'mat_attn' ? model.blocks[b]!.hookAttnOut.name : model.blocks[b]!.hookMlpOut.name, (x, hook) => {
          const input = hook.ctx[`in${b}`] as tf.Tensor;
          return tf.reshape(tf.matMul(tf.reshape(input, [-1, d]), pis[b]!, false, true), x.shape);
        }]);
      }
      for (let n = 0; n < N; n++) {
        const t = posVal[n]!;
        const ids = tf.tensor2d([val[n]!.slice(0, t + 1)], [1, t + 1], 'int32');
        const logits = await model.runWithHooks(ids, { fwdHooks: hooks });
        const row = logSoftmaxRow(await rowAt(logits, t));
        const plain = await model.forward(ids);
        const final = logSoftmaxRow(await rowAt(plain, t));
        tf.dispose([ids, logits, plain]);
        assert.equal(evaluation.top1[m]![l * N + n], row.top1, `${m} top-1, ℓ = ${l}, sample ${n}`);
        assert.ok(Math.abs(evaluation.surprisal[m]![l * N + n]! + final.logp[row.top1]!) < 1e-4, `${m} surprisal, ℓ = ${l}, sample ${n}`);
      }
      tf.dispose(pis.filter((p): p is tf.Tensor2D => p !== undefined));
    }
  }
});

test("runBlocksReplaced with 'none' reproduces h_L from h_ℓ at every position", async () => {
  const { model, val } = await gpt2Setup();
  const L = model.nLayers;
  const ids = tf.tensor2d([val[0]!], [1, val[0]!.length], 'int32');
  const { output, cache } = await model.runWithCache(ids, { namesFilter: Array.from({ length: L + 1 }, (_, l) => residName(model, l)) });
  const embedded = await model.embed(ids);
  const want = await cache.get(residName(model, L)).data();
  for (let l = 0; l <= L; l++) {
    const got = runBlocksReplaced(model, cache.get(residName(model, l)), l, 'none', embedded.inputs, undefined);
    const values = await got.data();
    got.dispose();
    let worst = 0;
    for (let k = 0; k < want.length; k++) worst = Math.max(worst, Math.abs(values[k]! - want[k]!));
    assert.ok(worst < 1e-5, `from ℓ = ${l}: ${worst}`);
  }
  tf.dispose([ids, output]);
  embedded.dispose();
  cache.dispose();
});

test('calmEarlyExitCurve: grids, extreme λ, and bertFixedPos3 on a hand-made evaluation', async () => {
  const { model, evaluation } = await gpt2Setup();
  const L = model.nLayers;
  const id = calmEarlyExitCurve(evaluation, { mapping: 'id' });
  const mat = calmEarlyExitCurve(evaluation, { mapping: 'mat' });
  assert.deepEqual(id.lambdas, [...LAMBDA_GRID_ID]);
  assert.deepEqual(mat.lambdas, [...LAMBDA_GRID_MAT]);
  for (const curve of [id, mat]) {
    // λ = −1.112 exits everyone at layer 1 (threshold < 0 ≤ c); λ = 1.112 never exits.
    assert.equal(curve.meanLayers[0], 1);
    assert.equal(curve.precisionAt1[0], evaluation.metrics[curve.mapping]!.precisionAt1[1]);
    assert.equal(curve.meanLayers.at(-1), L);
    assert.equal(curve.precisionAt1.at(-1), 1);
    assert.equal(curve.exitRate.at(-1), 0);
  }
  // Two samples, L = 3, t = 0 and 9 → N = 5.5. λ = 0.5: threshold(t=0) = 0.55, threshold(t=3) ≈ 0.4613, threshold(t=9) ≈ 0.4501.
  const hand: MappingEvaluation = {
    nLayers: 3, nSamples: 2, positions: Int32Array.from([0, 9]), metrics: {},
    finalTop: Int32Array.from([7, ...new Array(9).fill(0), 8, ...new Array(9).fill(0)]),
    // [L+1, N]: sample 0 top-1 = 7 everywhere, sample 1 top-1 = 5 at ℓ = 1, 8 at ℓ = 2.
    top1: { mat: Int32Array.from([7, 5, 7, 5, 7, 8, 7, 8]) },
    // sample 0: c = 0.5 at ℓ = 1; sample 1: c = 0.45 at ℓ = 1, 0.46 at ℓ = 2.
    confidence: { mat: Float32Array.from([0.9, 0.9, 0.5, 0.45, 0.2, 0.46, 0, 0]) },
    surprisal: {},
  };
  const real = calmEarlyExitCurve(hand, { mapping: 'mat', lambdas: [0.5] });
  // sample 0: 0.5 < 0.55 at ℓ = 1, 0.2 at ℓ = 2 → never (3 layers, correct); sample 1: exits at ℓ = 2 (0.46 > 0.4501), top-1 8 = final.
  assert.deepEqual(real.meanLayers, [2.5]);
  assert.deepEqual(real.precisionAt1, [1]);
  const fixed = calmEarlyExitCurve(hand, { mapping: 'mat', lambdas: [0.5], bertFixedPos3: true });
  // t = 3 for both: sample 0 exits at ℓ = 1 (0.5 > 0.4613, top-1 7 = final); sample 1: 0.45 < 0.4613, 0.46 < 0.4613 → never.
  assert.deepEqual(fixed.meanLayers, [2]);
  assert.deepEqual(fixed.precisionAt1, [1]);
  assert.throws(() => calmEarlyExitCurve(hand, { mapping: 'id' }), InvalidArgumentError);
});

test('BERT variant (bert-tiny): masked position, batched = one-by-one, id/mat only, early exit with bertFixedPos3', async () => {
  await setBackend(testBackend('wasm'), { verbose: false });
  const model = (await loadModel(fixtureDir('bert-tiny'))) as HookedBert;
  const L = model.nLayers;
  const d = model.cfg.dModel;
  const sentences = randomSentences(5, 84, model.cfg.dVocab, 3, 12, 1);
  const positions = sampleShortcutPositions(sentences, { seed: 3 });
  const before = tf.memory().numTensors;
  await assert.rejects(collectStates(model, sentences, positions, { registries: true }), InvalidArgumentError);
  const train = await collectStates(model, sentences.slice(0, 72), positions.subarray(0, 72), { batchSize: 8 });
  const val = sentences.slice(72);
  const posVal = positions.slice(72);
  const valStates = await collectStates(model, val, posVal, { batchSize: 5 });
  const maps = await fitShortcutsFromStates(train, { threads: 1 });
  assert.equal(maps.submodules.size, 0);
  const evaluation = await evaluateMappings(model, val, posVal, maps);
  // One-by-one: the whole sentence with x_t = [MASK] (103), bidirectional.
  for (let n = 0; n < val.length; n++) {
    const t = posVal[n]!;
    const masked = [...val[n]!];
    masked[t] = 103;
    const ids = tf.tensor2d([masked], [1, masked.length], 'int32');
    const { output, cache } = await model.runWithCache(ids, { namesFilter: Array.from({ length: L + 1 }, (_, l) => residName(model, l)) });
    for (let l = 0; l <= L; l++) {
      const want = await rowAt(cache.get(residName(model, l)), t);
      const got = valStates.states![l]!.subarray(n * d, (n + 1) * d);
      for (let k = 0; k < d; k++) assert.ok(Math.abs(got[k]! - want[k]!) < 1e-5, `h_${l} sample ${n}`);
    }
    // The final distribution is the MLM output at the masked position.
    const final = logSoftmaxRow(await rowAt(output, t));
    assert.equal(evaluation.finalTop[n * 10], final.top1);
    assert.ok(Math.abs(evaluation.surprisal.id![L * val.length + n]! + final.logp[final.top1]!) < 1e-4);
    tf.dispose([ids, output]);
    cache.dispose();
  }
  await assert.rejects(evaluateMappings(model, val, posVal, maps, { mappings: ['id', 'mat_attn'] }), InvalidArgumentError);
  assert.deepEqual(Object.keys(evaluation.metrics), ['id', 'mat']);
  assert.equal(evaluation.metrics.id!.precisionAt1[L], 1);
  assert.equal(evaluation.metrics.mat!.precisionAt1[L], 1);
  const curve = calmEarlyExitCurve(evaluation, { mapping: 'mat', bertFixedPos3: true });
  assert.equal(curve.meanLayers[0], 1);
  assert.equal(curve.meanLayers.at(-1), L);
  assert.equal(tf.memory().numTensors, before, 'BERT pipeline leaked tensors');
  console.log(`  bert-tiny Precision@1 per ℓ: id [${evaluation.metrics.id!.precisionAt1.map((v) => v.toFixed(2)).join(' ')}], mat [${evaluation.metrics.mat!.precisionAt1.map((v) => v.toFixed(2)).join(' ')}]`);
  model.dispose();
});

test('runMatPipeline (gpt2-tiny): JSON report, maps file with i_j and pi_b_a keys, no leaked tensors', async () => {
  const { model } = await gpt2Setup();
  const L = model.nLayers;
  const sentences = randomSentences(77, 90, model.cfg.dVocab, 3, 12);
  const dir = await mkdtemp(join(tmpdir(), 'mat-pipeline-'));
  try {
    const before = tf.memory().numTensors;
    const report = await runMatPipeline(model, sentences, { nTrain: 76, nVal: 12, seed: 4, outDir: dir, batchSize: 8 });
    assert.equal(tf.memory().numTensors, before);
    const parsed = JSON.parse(JSON.stringify(report)) as typeof report;
    assert.equal(parsed.nTrain, 76);
    assert.equal(parsed.r2.mat.length, L + 1);
    assert.equal(parsed.r2.mat[1]![0], null); // NaN lower triangle → null in JSON
    assert.equal(parsed.r2.mat[2]![2], 1);
    for (const m of ALL) assert.equal(parsed.fixedExit[m]!.precisionAt1[L], 1);
    assert.equal(parsed.earlyExit.id.lambdas.length, 22);
    assert.equal(parsed.earlyExit.mat.lambdas.length, 13);
    const onDisk = JSON.parse(await readFile(join(dir, 'report.json'), 'utf8'));
    assert.deepEqual(onDisk.fixedExit, parsed.fixedExit);
    const tensors = await readAllSafetensors(join(dir, 'shortcuts.safetensors'));
    assert.ok(tensors.has('0_3') && tensors.has('2_3') && tensors.has('pi_2_4') && tensors.has('pi_0_0'));
    assert.equal(tensors.size, (L * (L + 1)) / 2 + 4 * L);
    const loaded = await loadMatMaps(join(dir, 'shortcuts.safetensors'));
    assert.equal(loaded.nLayers, L);
    assert.equal(loaded.shortcuts.size, 6);
    // Same positions for the same seed.
    assert.deepEqual(sampleShortcutPositions(sentences.slice(0, 88), { seed: 4 }), sampleShortcutPositions(sentences.slice(0, 88), { seed: 4 }));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
