/**
 * `kCompositionFullCircuit`, `ovCopyingCircuit` and `circuitTop1Accuracy` against circuits computed here in
 * float64 from the raw Hugging Face tensors of the gpt2-tiny fixture (read with `readAllSafetensors`, split by
 * hand from the fused Conv1D `c_attn` [d, 3d] and `c_proj` [H·dh, d]) — not from the model's W_Q … getters.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { setBackend } from '../../../lib/backend/index.js';
import { loadModel } from '../../../lib/nn/load.js';
import type { HookedGPT2 } from '../../../lib/nn/gpt2.js';
import { readAllSafetensors } from '../../../lib/io/safetensors.js';
import { circuitTop1Accuracy, kCompositionFullCircuit, ovCopyingCircuit } from '../../../lib/lens/circuits.js';
import { FactoredMatrix } from '../../../lib/lens/factored-matrix.js';
import { fixtureDir } from '../../helpers/fixtures.js';
import { testBackend } from '../../helpers/backend.js';

/** Row-major float64 matrix. */
interface Mat {
  rows: number;
  cols: number;
  d: Float64Array;
}

function mat(rows: number, cols: number, f: (i: number, j: number) => number): Mat {
  const d = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) d[i * cols + j] = f(i, j);
  return { rows, cols, d };
}

function mul(a: Mat, b: Mat): Mat {
  assert.equal(a.cols, b.rows);
  const out = new Float64Array(a.rows * b.cols);
  for (let i = 0; i < a.rows; i++) {
    for (let k = 0; k < a.cols; k++) {
      const aik = a.d[i * a.cols + k]!;
      if (aik === 0) continue;
      for (let j = 0; j < b.cols; j++) out[i * b.cols + j]! += aik * b.d[k * b.cols + j]!;
    }
  }
  return { rows: a.rows, cols: b.cols, d: out };
}

const transpose = (a: Mat): Mat => mat(a.cols, a.rows, (i, j) => a.d[j * a.cols + i]!);

/** Fraction of rows whose first maximal entry is on the diagonal. */
function top1(m: Mat): number {
  let hits = 0;
  for (let i = 0; i < m.rows; i++) {
    let best = 0;
    for (let j = 1; j < m.cols; j++) if (m.d[i * m.cols + j]! > m.d[i * m.cols + best]!) best = j;
    if (best === i) hits++;
  }
  return hits / m.rows;
}

/** Rows whose largest and second-largest entries are closer than `gap` (float32 may rank them either way). */
function nearTies(m: Mat, gap: number): number {
  let n = 0;
  for (let i = 0; i < m.rows; i++) {
    const row = Array.from(m.d.subarray(i * m.cols, (i + 1) * m.cols)).sort((a, b) => b - a);
    if (row[0]! - row[1]! < gap * Math.abs(row[0]!)) n++;
  }
  return n;
}

async function rawWeights() {
  const raw = await readAllSafetensors(join(fixtureDir('gpt2-tiny'), 'model.safetensors'));
  const get = (k: string) => raw.get(`transformer.${k}`) ?? raw.get(k)!;
  const wte = get('wte.weight');
  const [V, d] = wte.shape as [number, number];
  const H = 4;
  const dh = d / H;
  const W_E = mat(V, d, (i, j) => wte.data[i * d + j] as number);
  const cAttn = (l: number) => get(`h.${l}.attn.c_attn.weight`).data; // [d, 3d]: q | k | v, heads in blocks of dh
  const head = (l: number, which: 0 | 1 | 2, h: number) => mat(d, dh, (i, j) => cAttn(l)[i * 3 * d + which * d + h * dh + j] as number);
  const W_O = (l: number, h: number) => mat(dh, d, (i, j) => get(`h.${l}.attn.c_proj.weight`).data[(h * dh + i) * d + j] as number);
  return { V, W_E, W_Q: (l: number, h: number) => head(l, 0, h), W_K: (l: number, h: number) => head(l, 1, h), W_V: (l: number, h: number) => head(l, 2, h), W_O };
}

async function full(f: FactoredMatrix): Promise<Mat> {
  const ab = f.AB;
  const out = { rows: ab.shape[0]!, cols: ab.shape[1]!, d: Float64Array.from(await ab.data()) };
  ab.dispose();
  return out;
}

function relErr(a: Mat, b: Mat): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.d.length; i++) {
    num += (a.d[i]! - b.d[i]!) ** 2;
    den += b.d[i]! ** 2;
  }
  return Math.sqrt(num / den);
}

test('kCompositionFullCircuit and ovCopyingCircuit equal the float64 products of the raw HF weights; their top-1 accuracies match', async (t) => {
  await setBackend(testBackend('cpu'));
  const model = (await loadModel(fixtureDir('gpt2-tiny'))) as HookedGPT2;
  const w = await rawWeights();
  const W_U = transpose(w.W_E); // tied unembedding
  for (const [P, I] of [[{ layer: 0, head: 1 }, { layer: 1, head: 2 }], [{ layer: 1, head: 3 }, { layer: 2, head: 0 }]] as const) {
    // M = (W_E W_Q^I)(W_E W_V^P W_O^P W_K^I)ᵀ
    const want = mul(mul(w.W_E, w.W_Q(I.layer, I.head)), transpose(mul(mul(mul(w.W_E, w.W_V(P.layer, P.head)), w.W_O(P.layer, P.head)), w.W_K(I.layer, I.head))));
    const circuit = kCompositionFullCircuit(model, { prevLayer: P.layer, prevHead: P.head, indLayer: I.layer, indHead: I.head });
    assert.deepEqual(circuit.shape, [w.V, w.V]);
    const err = relErr(await full(circuit), want);
    assert.ok(err < 1e-5, `K-composition L${P.layer}H${P.head}→L${I.layer}H${I.head}: rel err ${err}`);
    const acc = await circuitTop1Accuracy(circuit, { rowBlock: 333 });
    const ref = top1(want);
    const slack = nearTies(want, 1e-5) / w.V;
    t.diagnostic(`K-comp L${P.layer}H${P.head}→L${I.layer}H${I.head}: top-1 ${acc} (float64 reference ${ref}, near ties ${slack * w.V})`);
    assert.ok(Math.abs(acc - ref) <= slack, `top-1 ${acc} vs reference ${ref}`);
    circuit.dispose();
  }
  for (const [l, h] of [[0, 0], [2, 3]] as const) {
    const want = mul(mul(mul(w.W_E, w.W_V(l, h)), w.W_O(l, h)), W_U);
    const circuit = ovCopyingCircuit(model, l, h);
    const err = relErr(await full(circuit), want);
    assert.ok(err < 1e-5, `OV L${l}H${h}: rel err ${err}`);
    const acc = await circuitTop1Accuracy(circuit);
    assert.ok(Math.abs(acc - top1(want)) <= nearTies(want, 1e-5) / w.V, `OV L${l}H${h} top-1 ${acc} vs ${top1(want)}`);
    circuit.dispose();
  }
  model.dispose();
});

test('circuitTop1Accuracy counts diagonal argmaxes with ties to the lower index, across row blocks', async () => {
  await setBackend(testBackend('cpu'));
  // M = A·B with B = identity: M = A. Rows: 0 hit, 1 miss, 2 tie between 0 and 2 (→ 0, miss), 3 tie between 3 and 4
  // (→ 3, hit), 4 hit, 5 miss, 6 hit → 4/7.
  const rows = [
    [5, 1, 0, 0, 0, 0, 0],
    [9, 1, 0, 0, 0, 0, 0],
    [3, 0, 3, 0, 0, 0, 0],
    [0, 0, 0, 2, 2, 0, 0],
    [0, 0, 0, 0, 1, 0, 0],
    [0, 0, 0, 0, 0, -1, 0],
    [0, 0, 0, 0, 0, 0, 0.5],
  ];
  const A = tf.tensor2d(rows);
  const Bm = tf.eye(7);
  const f = new FactoredMatrix(A, Bm);
  for (const rowBlock of [1, 3, 7, 100]) assert.equal(await circuitTop1Accuracy(f, { rowBlock }), 4 / 7, `rowBlock ${rowBlock}`);
  tf.dispose([A, Bm]);
  f.dispose();
});
