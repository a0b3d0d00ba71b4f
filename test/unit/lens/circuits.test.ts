import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { setBackend } from '../../../lib/backend/index.js';
import { loadModel } from '../../../lib/nn/load.js';
import type { HookedGPT2 } from '../../../lib/nn/gpt2.js';
import { allCompositionScores, compositionScore, headCompositionScore, headOV, headQK, kCompositionFullCircuitAccuracy, ovCopyingAccuracy } from '../../../lib/lens/circuits.js';
import { createRng } from '../../../lib/math/rng.js';
import type { CircuitModel } from '../../../lib/lens/circuits.js';
import { fixtureDir } from '../../helpers/fixtures.js';
import { testBackend } from '../../helpers/backend.js';

type M = number[][];
const mul = (a: M, b: M): M => a.map((row) => b[0]!.map((_, j) => row.reduce((s, v, k) => s + v * b[k]![j]!, 0)));
const tr = (a: M): M => a[0]!.map((_, j) => a.map((r) => r[j]!));
const frob = (a: M): number => Math.sqrt(a.flat().reduce((s, v) => s + v * v, 0));

/** Fraction of rows whose argmax (first on ties) is the diagonal, from an explicit float64 product. */
function diagTop1(left: M, rightT: M): number {
  let hits = 0;
  for (let i = 0; i < left.length; i++) {
    let best = -Infinity;
    let arg = -1;
    for (let j = 0; j < rightT.length; j++) {
      let s = 0;
      for (let k = 0; k < left[i]!.length; k++) s += left[i]![k]! * rightT[j]![k]!;
      if (s > best) {
        best = s;
        arg = j;
      }
    }
    if (arg === i) hits++;
  }
  return hits / left.length;
}

test('K-composition full circuit and OV copying accuracies equal explicit V×V products', async () => {
  await setBackend(testBackend('cpu'));
  const model = (await loadModel(fixtureDir('gpt2-tiny'))) as HookedGPT2;
  const [WE, WQ, WK, WV, WO, WU] = [model.W_E, model.W_Q, model.W_K, model.W_V, model.W_O, model.W_U].map((t) => t.arraySync()) as [M, M[][], M[][], M[][], M[][], M];
  const before = tf.memory().numTensors;
  const P = { layer: 0, head: 1 };
  const I = { layer: 1, head: 2 };
  const acc = await kCompositionFullCircuitAccuracy(model, { prevLayer: P.layer, prevHead: P.head, indLayer: I.layer, indHead: I.head, rowBlock: 300 });
  const left = mul(WE, WQ[I.layer]![I.head]!);
  const right = mul(mul(mul(WE, WV[P.layer]![P.head]!), WO[P.layer]![P.head]!), WK[I.layer]![I.head]!);
  const want = diagTop1(left, right);
  console.log(`  K-composition L${P.layer}H${P.head}→L${I.layer}H${I.head} top-1 accuracy ${acc} (explicit float64: ${want})`);
  assert.ok(Math.abs(acc - want) <= 1 / 1000, `${acc} vs ${want}`);
  for (const rowBlock of [1, 77, 1000]) {
    assert.equal(await kCompositionFullCircuitAccuracy(model, { prevLayer: P.layer, prevHead: P.head, indLayer: I.layer, indHead: I.head, rowBlock }), acc);
  }
  const ov = await ovCopyingAccuracy(model, 2, 3, { rowBlock: 256 });
  const ovWant = diagTop1(mul(WE, WV[2]![3]!), tr(mul(WO[2]![3]!, WU)));
  console.log(`  OV copying L2H3 top-1 accuracy ${ov} (explicit: ${ovWant})`);
  assert.ok(Math.abs(ov - ovWant) <= 1 / 1000);
  await assert.rejects(kCompositionFullCircuitAccuracy(model, { prevLayer: 1, prevHead: 0, indLayer: 1, indHead: 1 }), /after/);
  assert.equal(tf.memory().numTensors, before);
  model.dispose();
});

test('composition scores: one pair against dense matrices, and all pairs against the pairwise function', async () => {
  await setBackend(testBackend('cpu'));
  const model = (await loadModel(fixtureDir('gpt2-tiny'))) as HookedGPT2;
  const [WQ, WK, WV, WO] = [model.W_Q, model.W_K, model.W_V, model.W_O].map((t) => t.arraySync()) as M[][][];
  const before = tf.memory().numTensors;
  const A = { layer: 0, head: 3 };
  const B = { layer: 2, head: 1 };
  const ovA = mul(WV![A.layer]![A.head]!, WO![A.layer]![A.head]!);
  const qkB = mul(WQ![B.layer]![B.head]!, tr(WK![B.layer]![B.head]!));
  const ovB = mul(WV![B.layer]![B.head]!, WO![B.layer]![B.head]!);
  const dense = {
    Q: frob(mul(ovA, qkB)) / (frob(ovA) * frob(qkB)),
    K: frob(mul(ovA, tr(qkB))) / (frob(ovA) * frob(qkB)),
    V: frob(mul(ovA, ovB)) / (frob(ovA) * frob(ovB)),
  };
  for (const mode of ['Q', 'K', 'V'] as const) {
    const s = await headCompositionScore(model, mode, A, B);
    assert.ok(Math.abs(s - dense[mode]) < 1e-5, `${mode}: ${s} vs ${dense[mode]}`);
  }
  // compositionScore with plain tensors and mixed operands.
  const fA = headOV(model, A.layer, A.head);
  const fB = headQK(model, B.layer, B.head);
  const denseA = fA.AB;
  const denseB = fB.AB;
  for (const [x, y] of [[fA, fB], [denseA, denseB], [fA, denseB], [denseA, fB]] as const) {
    assert.ok(Math.abs((await compositionScore(x, y)) - dense.Q) < 1e-5);
  }
  tf.dispose([denseA, denseB]);
  fA.dispose();
  fB.dispose();
  for (const mode of ['Q', 'K', 'V'] as const) {
    const all = await allCompositionScores(model, mode);
    assert.deepEqual(all.shape, [3, 4, 3, 4]);
    for (let lA = 0; lA < 3; lA++) {
      for (let hA = 0; hA < 4; hA++) {
        for (let lB = 0; lB < 3; lB++) {
          for (let hB = 0; hB < 4; hB++) {
            const got = all.values[((lA * 4 + hA) * 3 + lB) * 4 + hB]!;
            if (lB <= lA) assert.equal(got, 0);
            else {
              const want = await headCompositionScore(model, mode, { layer: lA, head: hA }, { layer: lB, head: hB });
              assert.ok(Math.abs(got - want) < 1e-5, `${mode} L${lA}H${hA}→L${lB}H${hB}: ${got} vs ${want}`);
            }
          }
        }
      }
    }
  }
  assert.equal(tf.memory().numTensors, before);
  model.dispose();
});

test('K-composition accuracy on a synthetic circuit with a known, non-trivial answer', async () => {
  await setBackend(testBackend('cpu'));
  // dh = d, W_Q = W_V = W_O = I and W_K = I + noise·R, so M = W_E (W_E (I + noise R))ᵀ: mostly diagonal.
  const [V, d, L, H] = [300, 16, 2, 1];
  const rng = createRng(42);
  const WE = Array.from({ length: V }, () => Array.from({ length: d }, () => rng.normal()));
  const eye = Array.from({ length: d }, (_, i) => Array.from({ length: d }, (_, j) => (i === j ? 1 : 0)));
  const noisy = eye.map((row) => row.map((v) => v + 0.25 * rng.normal()));
  const stack = (m: M) => tf.tensor4d([[m], [m]].flat().map((x) => [x]) as number[][][][]);
  const model: CircuitModel = {
    nLayers: L,
    W_E: tf.tensor2d(WE),
    W_U: tf.tensor2d(tr(WE)),
    W_Q: stack(eye),
    W_V: stack(eye),
    W_O: stack(eye),
    W_K: tf.tensor4d([[eye], [noisy]]),
  };
  void H;
  const before = tf.memory().numTensors;
  const acc = await kCompositionFullCircuitAccuracy(model, { prevLayer: 0, prevHead: 0, indLayer: 1, indHead: 0, rowBlock: 64 });
  const want = diagTop1(WE, mul(WE, noisy));
  console.log(`  synthetic K-composition top-1 accuracy ${acc} (explicit ${want})`);
  assert.ok(want > 0.2 && want < 0.95, `the synthetic circuit should be informative (${want})`);
  assert.ok(Math.abs(acc - want) <= 1 / V);
  // OV copying of W_E·I·I·W_Eᵀ: the Gram matrix, whose diagonal wins unless two embeddings nearly align.
  const ov = await ovCopyingAccuracy(model, 0, 0);
  assert.ok(Math.abs(ov - diagTop1(WE, WE)) <= 1 / V);
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([model.W_E, model.W_U, model.W_Q, model.W_K, model.W_V, model.W_O]);
});
