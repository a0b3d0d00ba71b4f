import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { setBackend } from '../../../lib/backend/index.js';
import { loadModel } from '../../../lib/nn/load.js';
import type { HookedGPT2 } from '../../../lib/nn/gpt2.js';
import type { HookedViT } from '../../../lib/nn/vit.js';
import type { HookedWhisper } from '../../../lib/nn/whisper.js';
import { InvalidArgumentError } from '../../../lib/errors.js';
import { implantSchedule, interventionSuccessByDistance, runIntervention, selectPairs, type InterventionExample, type InterventionRunResult } from '../../../lib/lens/intervention.js';
import type { HostTensor } from '../../../lib/io/safetensors.js';
import { fixtureDir, readFixture } from '../../helpers/fixtures.js';
import { testBackend } from '../../helpers/backend.js';

const TOL = 1e-4;

function ex(id: number, group: number, position: number, s: number, y: number): InterventionExample {
  return { id, group, position, s, y };
}

test('selectPairs gpt2: same article, |Δpos| ≤ 30, min s ≥ 10, Δ ≥ 10, early = smaller s, i<j order', () => {
  const examples = [
    ex(0, 0, 0, 25, 7), // a
    ex(1, 0, 5, 12, 7), // pairs with 0: Δ 13, same article, pos diff 5 → (early 1, late 0)
    ex(2, 0, 40, 30, 7), // pos diff to 0 = 40 (> 30), to 1 = 35 → none; with 3: see below
    ex(3, 0, 20, 11, 7), // with 0: Δ 14 ok (pos 20); with 1: Δ 1 no; with 2: Δ 19, pos diff 20 ok
    ex(4, 1, 0, 9, 7), // other article
    ex(5, 1, 1, 30, 7), // with 4: min s 9 < 10 → no
    ex(6, 0, 3, 40, 8), // different y from everyone in article 0
  ];
  const pairs = selectPairs(examples, { family: 'gpt2', nPairs: 10, L: 48 });
  assert.deepEqual(
    pairs.map((p) => [p.early.id, p.late.id]),
    [
      [1, 0],
      [3, 0],
      [3, 2],
    ],
  );
  assert.deepEqual(pairs[0]!.earlyIndex, 1);
  assert.deepEqual(pairs[0]!.lateIndex, 0);
  // nPairs keeps the first ones.
  assert.deepEqual(
    selectPairs(examples, { family: 'gpt2', nPairs: 2, L: 48 }).map((p) => [p.early.id, p.late.id]),
    [
      [1, 0],
      [3, 0],
    ],
  );
});

test('selectPairs vit: different images, Δ ≥ 5, s_early ≥ n = 3', () => {
  const examples = [ex(0, 0, 0, 10, 1), ex(1, 0, 0, 2, 1), ex(2, 1, 0, 4, 1), ex(3, 2, 0, 16, 1), ex(4, 3, 0, 2, 1)];
  // (0,1): same image. (0,2): Δ 6, s_early 4 ≥ 3 → ok. (0,3): Δ 6 ok. (0,4): s_early 2 < 3 → no.
  // (1,*): s_early 2 → no. (2,3): Δ 12 ok. (2,4): s_early 2. (3,4): s_early 2.
  const pairs = selectPairs(examples, { family: 'vit', nPairs: 100, L: 24 });
  assert.deepEqual(
    pairs.map((p) => [p.early.id, p.late.id]),
    [
      [2, 0],
      [0, 3],
      [2, 3],
    ],
  );
});

test('selectPairs whisper: pooled tokens, y ≠ 50258, max s ≤ L − 5', () => {
  const L = 32;
  const examples = [ex(0, 0, 0, 3, 50258), ex(1, 1, 0, 20, 50258), ex(2, 0, 1, 4, 11), ex(3, 0, 2, 27, 11), ex(4, 1, 3, 28, 11), ex(5, 2, 0, 10, 11)];
  // (0,1): y = 50258 → no. (2,3): Δ 23, max 27 = L−5 ok. (2,4): max 28 > 27 no. (2,5): Δ 6 ok. (3,5): Δ 17 ok.
  const pairs = selectPairs(examples, { family: 'whisper', nPairs: 100, L });
  assert.deepEqual(
    pairs.map((p) => [p.early.id, p.late.id]),
    [
      [2, 3],
      [2, 5],
      [5, 3],
    ],
  );
});

test('implantSchedule: m = s_early − n + i + 1, d = i − n; s_early < n is rejected', () => {
  assert.deepEqual(implantSchedule(5, 3), [
    { i: 0, m: 3, d: -3 },
    { i: 1, m: 4, d: -2 },
    { i: 2, m: 5, d: -1 },
    { i: 3, m: 6, d: 0 },
    { i: 4, m: 7, d: 1 },
    { i: 5, m: 8, d: 2 },
    { i: 6, m: 9, d: 3 },
  ]);
  // d = m − 1 − s_early for every step.
  for (const step of implantSchedule(12, 5)) assert.equal(step.d, step.m - 1 - 12);
  assert.throws(() => implantSchedule(2, 3), InvalidArgumentError);
});

test('interventionSuccessByDistance: fraction of successful runs per d, max of each side', () => {
  const run = (d: number, success: boolean) => ({ d, success }) as InterventionRunResult;
  const out = interventionSuccessByDistance([[run(-1, false), run(0, true), run(1, true)], [run(-1, true), run(0, true), run(1, false)], [run(-1, false), run(0, false), run(1, false)]]);
  assert.deepEqual(out.d, [-1, 0, 1]);
  assert.deepEqual(out.count, [3, 3, 3]);
  assert.deepEqual(out.rate, [1 / 3, 2 / 3, 1 / 3]);
  assert.equal(out.maxBelow, 1 / 3);
  assert.equal(out.maxAtOrAbove, 2 / 3);
});

// ---------------------------------------------------------------------------------------------
// gpt2-tiny: 3 blocks, d 64, vocab 1000; fixture holds HF activations for input_ids [2, 9].

type Fixture = { model: HookedGPT2; rows: number[][]; expected: Map<string, HostTensor> };

async function setup(): Promise<Fixture> {
  await setBackend(testBackend('cpu'));
  const { inputs, expected } = await readFixture('gpt2-tiny');
  const model = (await loadModel(fixtureDir('gpt2-tiny'))) as HookedGPT2;
  const ids = Array.from(inputs.get('input_ids')!.data as Int32Array);
  return { model, rows: [ids.slice(0, 9), ids.slice(9, 18)], expected };
}

/** Fixture vector `[2, 9, d]` at (row, pos). */
function fixtureVec(expected: Map<string, HostTensor>, name: string, row: number, pos: number): Float32Array {
  const t = expected.get(name)!;
  const [, T, d] = t.shape as number[];
  return Float32Array.from((t.data as Float32Array).subarray((row * T! + pos) * d!, (row * T! + pos + 1) * d!));
}

/** Reference lens top-1 (lowest id on ties) and its logit of fixture `lens.logits [4, 2, 9, V]` at layer ℓ. */
function fixtureLensTop1(expected: Map<string, HostTensor>, layer: number, row: number, pos: number): { id: number; logit: number } {
  const t = expected.get('lens.logits')!;
  const [, B, T, V] = t.shape as number[];
  const base = ((layer * B! + row) * T! + pos) * V!;
  let id = 0;
  for (let v = 1; v < V!; v++) if (t.data[base + v]! > t.data[base + id]!) id = v;
  return { id, logit: t.data[base + id]! };
}

/** Reference LayerNorm + tied unembedding, written out (float64 host math). */
function manualLens(model: HookedGPT2, resid: Float32Array): { id: number; logit: number } {
  const d = resid.length;
  const w = model.lnFinal.w.dataSync();
  const b = model.lnFinal.b.dataSync();
  const W_E = model.W_E.dataSync(); // [V, d]
  const mean = resid.reduce((s, x) => s + x, 0) / d;
  const variance = resid.reduce((s, x) => s + (x - mean) ** 2, 0) / d;
  const normed = Array.from(resid, (x, k) => ((x - mean) / Math.sqrt(variance + 1e-5)) * w[k]! + b[k]!);
  const V = W_E.length / d;
  let id = 0;
  let best = -Infinity;
  for (let v = 0; v < V; v++) {
    let s = 0;
    for (let k = 0; k < d; k++) s += normed[k]! * W_E[v * d + k]!;
    if (s > best) {
      best = s;
      id = v;
    }
  }
  return { id, logit: best };
}

function manualLayerNorm(model: HookedGPT2, x: Float32Array): Float32Array {
  const d = x.length;
  const w = model.lnFinal.w.dataSync();
  const b = model.lnFinal.b.dataSync();
  const mean = x.reduce((s, v) => s + v, 0) / d;
  const variance = x.reduce((s, v) => s + (v - mean) ** 2, 0) / d;
  return Float32Array.from(x, (v, k) => ((v - mean) / Math.sqrt(variance + 1e-5)) * w[k]! + b[k]!);
}

function top1Saturation(ids: number[]): number {
  const L = ids.length;
  for (let j = L - 2; j >= 0; j--) if (ids[j] !== ids[L - 1]) return j + 1;
  return 0;
}

function assertClose(actual: number, expected: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= TOL * Math.max(1, Math.abs(expected)), `${what}: ${actual} vs ${expected}`);
}

test('intended mode, identity implant (v = the late example\'s own h_m): lens and output unchanged, success iff s\' = m − 1', async () => {
  const { model, rows, expected } = await setup();
  const p = 6;
  const L = model.nLayers;
  const opts = { earlyInput: [rows[0]!], earlyPos: p, lateInput: [rows[0]!], latePos: p, sEarly: 1, n: 1, mode: 'intended' as const };
  await runIntervention(model, opts); // warm-up: lazily built weights
  const before = tf.memory().numTensors;
  const out = await runIntervention(model, opts);
  assert.equal(tf.memory().numTensors, before, 'runIntervention leaked tensors');
  // Independent reference: the HF lens logits of the clean run.
  const ref = [1, 2, 3].map((l) => fixtureLensTop1(expected, l, 0, p));
  assert.equal(out.y, ref[L - 1]!.id);
  assert.equal(out.sLateClean, top1Saturation(ref.map((r) => r.id)));
  assert.deepEqual(
    out.runs.map((r) => [r.m, r.d]),
    [
      [1, -1],
      [2, 0],
      [3, 1],
    ],
  );
  for (const run of out.runs) {
    assert.deepEqual(run.lensTop1, ref.map((r) => r.id), `m = ${run.m}`);
    run.lensTop1Logit.forEach((v, j) => assertClose(v, ref[j]!.logit, `m = ${run.m}, layer ${j}`));
    assert.equal(run.unchanged, true);
    assert.equal(run.newSaturation, out.sLateClean);
    assert.equal(run.success, run.m - 1 === out.sLateClean);
  }
  assert.deepEqual(out.skipped, []);
});

test('original mode skips block m (all positions) and sets h_{m+1}[p] := v; matches a manual run from the fixture\'s resid_pre', async () => {
  const { model, rows, expected } = await setup();
  const L = model.nLayers;
  const p = 6;
  const earlyPos = 4;
  const opts = { earlyInput: [rows[1]!], earlyPos, lateInput: [rows[0]!], latePos: p, sEarly: 1, n: 1, mode: 'original' as const, outOfRange: 'skip' as const };
  await runIntervention(model, opts);
  const before = tf.memory().numTensors;
  const out = await runIntervention(model, opts);
  assert.equal(tf.memory().numTensors, before, 'runIntervention leaked tensors');
  // L = 3 blocks: original mode can host m ≤ 2, so m = 3 (d = +1) is skipped.
  assert.deepEqual(out.runs.map((r) => r.m), [1, 2]);
  assert.deepEqual(out.skipped, [{ i: 2, m: 3, d: 1 }]);
  await assert.rejects(runIntervention(model, { ...opts, outOfRange: 'throw' }), InvalidArgumentError);

  for (const run of out.runs) {
    const m = run.m;
    // Manual: h_{m+1} := fixture resid_pre of block m (block skipped), position p := the early row's h_m
    // (fixture blocks.{m−1}.hook_resid_post); later blocks recompute normally. Read the lens by hand.
    const residPre = expected.get(`blocks.${m}.hook_resid_pre`)!;
    const [, T, d] = residPre.shape as number[];
    const late = Float32Array.from((residPre.data as Float32Array).subarray(0, T! * d!));
    late.set(fixtureVec(expected, `blocks.${m - 1}.hook_resid_post`, 1, earlyPos), p * d!);
    const replacement = tf.tensor3d(late, [1, T!, d!]);
    const names = [1, 2, 3].map((l) => `blocks.${l - 1}.hook_resid_post`);
    const { output, cache } = await model.runWithCache([rows[0]!], {
      namesFilter: names,
      fwdHooks: [[`blocks.${m}.hook_resid_post`, () => tf.clone(replacement)]],
    });
    const manual: { id: number; logit: number }[] = [];
    for (let l = 1; l <= L; l++) {
      // h_l for l ≤ m is the clean state (fixture); h_{m+1}… from the manual run.
      const vec = l <= m ? fixtureVec(expected, names[l - 1]!, 0, p) : Float32Array.from((await cache.get(names[l - 1]!).data()).subarray(p * d!, (p + 1) * d!));
      manual.push(manualLens(model, vec));
    }
    output.dispose();
    cache.dispose();
    replacement.dispose();
    assert.deepEqual(run.lensTop1, manual.map((r) => r.id), `m = ${m}`);
    run.lensTop1Logit.forEach((v, j) => assertClose(v, manual[j]!.logit, `m = ${m}, layer ${j}`));
    const sPrime = top1Saturation(manual.map((r) => r.id));
    assert.equal(run.newSaturation, sPrime);
    assert.equal(run.unchanged, manual[L - 1]!.id === out.y);
    assert.equal(run.success, run.unchanged && sPrime === m);
  }
});

test("implantSpace 'lnFinal' implants LN_f(h_m) of the early example (intended mode, manual reference)", async () => {
  const { model, rows, expected } = await setup();
  const L = model.nLayers;
  const p = 3;
  const earlyPos = 7;
  const out = await runIntervention(model, { earlyInput: [rows[1]!], earlyPos, lateInput: [rows[0]!], latePos: p, sEarly: 1, n: 1, implantSpace: 'lnFinal', y: 0 });
  assert.equal(out.sLateClean, undefined);
  assert.equal(out.y, 0);
  for (const run of out.runs) {
    const m = run.m;
    const v = manualLayerNorm(model, fixtureVec(expected, `blocks.${m - 1}.hook_resid_post`, 1, earlyPos));
    const manual: { id: number; logit: number }[] = [];
    if (m === L) {
      // Implant replaces h_L itself: lens of layers < L unchanged, lens of h_L = lens(v).
      for (let l = 1; l < L; l++) manual.push(manualLens(model, fixtureVec(expected, `blocks.${l - 1}.hook_resid_post`, 0, p)));
      manual.push(manualLens(model, v));
    } else {
      const residPre = expected.get(`blocks.${m}.hook_resid_pre`)!;
      const [, T, d] = residPre.shape as number[];
      const late = Float32Array.from((residPre.data as Float32Array).subarray(0, T! * d!));
      late.set(v, p * d!);
      const replacement = tf.tensor3d(late, [1, T!, d!]);
      const names = [1, 2, 3].map((l) => `blocks.${l - 1}.hook_resid_post`);
      const { output, cache } = await model.runWithCache([rows[0]!], { namesFilter: names, fwdHooks: [[`blocks.${m}.hook_resid_pre`, () => tf.clone(replacement)]] });
      for (let l = 1; l <= L; l++) {
        const vec = l < m ? fixtureVec(expected, names[l - 1]!, 0, p) : l === m ? v : Float32Array.from((await cache.get(names[l - 1]!).data()).subarray(p * d!, (p + 1) * d!));
        manual.push(manualLens(model, vec));
      }
      output.dispose();
      cache.dispose();
      replacement.dispose();
    }
    assert.deepEqual(run.lensTop1, manual.map((r) => r.id), `m = ${m}`);
    run.lensTop1Logit.forEach((x, j) => assertClose(x, manual[j]!.logit, `m = ${m}, layer ${j}`));
    assert.equal(run.success, run.unchanged && run.newSaturation === m - 1);
  }
});

test('runIntervention rejects bad positions and s_early < n', async () => {
  const { model, rows } = await setup();
  const before = tf.memory().numTensors;
  await assert.rejects(runIntervention(model, { earlyInput: [rows[0]!], earlyPos: 0, lateInput: [rows[0]!], latePos: 0, sEarly: 0, n: 1 }), InvalidArgumentError);
  await assert.rejects(runIntervention(model, { earlyInput: [rows[0]!], earlyPos: 9, lateInput: [rows[0]!], latePos: 0, sEarly: 1, n: 1 }), InvalidArgumentError);
  await assert.rejects(runIntervention(model, { earlyInput: [rows[0]!], earlyPos: 0, lateInput: [rows[0]!], latePos: 12, sEarly: 1, n: 1 }), InvalidArgumentError);
  assert.equal(tf.memory().numTensors, before, 'failed runs leaked tensors');
});

test('identity implant on ViT (CLS position) and the Whisper decoder: lens equals the fixture lens', async () => {
  await setBackend(testBackend('cpu'));
  const argmax = (row: ArrayLike<number>) => {
    let id = 0;
    for (let v = 1; v < row.length; v++) if (row[v]! > row[id]!) id = v;
    return id;
  };
  {
    const { inputs, expected } = await readFixture('vit-tiny');
    const model = (await loadModel(fixtureDir('vit-tiny'))) as HookedViT;
    const px = inputs.get('pixel_values')!;
    const one = { data: Float32Array.from((px.data as Float32Array).subarray(0, 3 * 32 * 32)), shape: [1, 3, 32, 32] as const };
    const lens = expected.get('lens.logits')!; // [L+1, 2, classes]
    const [, B, V] = lens.shape as number[];
    const L = model.nLayers;
    const ref = Array.from({ length: L }, (_, j) => argmax(lens.data.subarray(((j + 1) * B! + 0) * V!, ((j + 1) * B! + 1) * V!)));
    const out = await runIntervention(model, { earlyInput: one, earlyPos: 0, lateInput: one, latePos: 0, sEarly: 0, n: 0 });
    assert.deepEqual(out.runs.map((r) => r.m), [1]);
    assert.deepEqual(out.runs[0]!.lensTop1, ref);
    assert.equal(out.runs[0]!.unchanged, true);
    await assert.rejects(runIntervention(model, { earlyInput: one, earlyPos: 1, lateInput: one, latePos: 0, sEarly: 0, n: 0 }), InvalidArgumentError);
    model.dispose();
  }
  {
    const { inputs, expected } = await readFixture('whisper-tiny');
    const model = (await loadModel(fixtureDir('whisper-tiny'))) as HookedWhisper;
    const feats = inputs.get('input_features')!;
    const dec = Array.from(inputs.get('decoder_input_ids')!.data as Int32Array).slice(0, 6);
    const one = { inputFeatures: { data: Float32Array.from((feats.data as Float32Array).subarray(0, 80 * 60)), shape: [1, 80, 60] as const }, decoderInputIds: [dec] };
    const lens = expected.get('lens.logits')!; // [L+1, 2, 6, V]
    const [, B, T, V] = lens.shape as number[];
    const L = model.nLayers;
    const p = 4;
    const ref = Array.from({ length: L }, (_, j) => {
      const base = (((j + 1) * B! + 0) * T! + p) * V!;
      return argmax(lens.data.subarray(base, base + V!));
    });
    const out = await runIntervention(model, { earlyInput: one, earlyPos: p, lateInput: one, latePos: p, sEarly: 1, n: 0 });
    assert.deepEqual(out.runs.map((r) => r.m), [2]); // m = L: the implant replaces h_L itself
    assert.deepEqual(out.runs[0]!.lensTop1, ref);
    assert.equal(out.y, ref[L - 1]);
    model.dispose();
  }
});
