/**
 * `runIntervention` on ViT (CLS position) and the Whisper decoder with a real implant — the early example is a
 * different image / utterance — against a reference run written here: the implant is a host-side copy of the
 * early example's cached residual row into the late run (or, in 'original' mode, block m skipped by returning
 * the stored resid_pre), and the lens top-1 per layer comes from a float64 layer norm + readout on the raw HF
 * tensors (ViT: `vit.layernorm` + `classifier`; Whisper: `decoder.layer_norm` + tied `embed_tokens`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { setBackend } from '../../../lib/backend/index.js';
import { loadModel } from '../../../lib/nn/load.js';
import type { HookedViT } from '../../../lib/nn/vit.js';
import type { HookedWhisper } from '../../../lib/nn/whisper.js';
import type { HookFn } from '../../../lib/nn/hook-point.js';
import { readAllSafetensors } from '../../../lib/io/safetensors.js';
import { runIntervention } from '../../../lib/lens/intervention.js';
import { fixtureDir, readFixture } from '../../helpers/fixtures.js';
import { testBackend } from '../../helpers/backend.js';

interface Readout {
  lnW: ArrayLike<number>;
  lnB: ArrayLike<number>;
  eps: number;
  /** `[V, d]` row-major. */
  W: ArrayLike<number>;
  bias?: ArrayLike<number>;
  V: number;
  d: number;
}

function layerNorm(h: ArrayLike<number>, r: Readout): number[] {
  let mean = 0;
  for (let c = 0; c < r.d; c++) mean += h[c]! / r.d;
  let v = 0;
  for (let c = 0; c < r.d; c++) v += (h[c]! - mean) ** 2 / r.d;
  return Array.from({ length: r.d }, (_, c) => ((h[c]! - mean) / Math.sqrt(v + r.eps)) * r.lnW[c]! + r.lnB[c]!);
}

function top1(h: ArrayLike<number>, r: Readout): number {
  const x = layerNorm(h, r);
  let best = -1;
  let bestV = -Infinity;
  for (let t = 0; t < r.V; t++) {
    let s = r.bias ? r.bias[t]! : 0;
    for (let c = 0; c < r.d; c++) s += x[c]! * r.W[t * r.d + c]!;
    if (s > bestV) [best, bestV] = [t, s];
  }
  return best;
}

/** Top-1 saturation: the layer after the last one whose top-1 differs from the final one (0 if none). */
function saturation(ids: number[]): number {
  for (let j = ids.length - 2; j >= 0; j--) if (ids[j] !== ids[ids.length - 1]) return j + 1;
  return 0;
}

type Runner = (fwdHooks: [string, HookFn][]) => Promise<void>;

/** Row p of `[1, T, d]` as numbers. */
const rowOf = (t: tf.Tensor, p: number) => Array.from(t.dataSync().subarray(p * t.shape[2]!, (p + 1) * t.shape[2]!));

function withRow(act: tf.Tensor, p: number, v: number[]): tf.Tensor {
  const data = Float32Array.from(act.dataSync());
  data.set(v, p * act.shape[2]!);
  return tf.tensor(data, act.shape);
}

/**
 * Reference of one implant: the lens top-1 ids of position p at h_1 … h_L of the late run, where `implant`
 * describes which hook is replaced (intended: h_m at its read point; original: block m skipped).
 */
async function referenceRun(run: Runner, prefix: string, L: number, p: number, r: Readout, implant?: { m: number; v: number[]; mode: 'intended' | 'original' }): Promise<number[]> {
  const states: number[][] = new Array(L);
  const hooks: [string, HookFn][] = [];
  let storedPre: tf.Tensor | undefined;
  if (implant?.mode === 'intended') {
    const name = implant.m < L ? `${prefix}blocks.${implant.m}.hook_resid_pre` : `${prefix}blocks.${L - 1}.hook_resid_post`;
    hooks.push([name, (act) => withRow(act, p, implant.v)]);
  } else if (implant) {
    hooks.push([`${prefix}blocks.${implant.m}.hook_resid_pre`, (act) => ((storedPre = withRow(act, p, implant.v)), undefined)]);
    hooks.push([`${prefix}blocks.${implant.m}.hook_resid_post`, () => storedPre!]);
  }
  // h_l is read where the next block receives it (blocks.l.hook_resid_pre; h_L at the last resid_post), after any
  // implant, so that an implanted h_m shows in the lens at layer m itself.
  for (let j = 0; j < L; j++) {
    const at = j + 1 < L ? `${prefix}blocks.${j + 1}.hook_resid_pre` : `${prefix}blocks.${L - 1}.hook_resid_post`;
    hooks.push([at, (act) => ((states[j] = rowOf(act, p)), undefined)]);
  }
  await run(hooks);
  return states.map((h) => top1(h, r));
}

async function check(t: { diagnostic(s: string): void }, what: string, model: HookedViT | HookedWhisper, early: unknown, late: unknown, earlyPos: number, latePos: number, sEarly: number, n: number, r: Readout, mode: 'intended' | 'original', space: 'resid' | 'lnFinal'): Promise<number> {
  const L = model.nLayers;
  const prefix = model.residPrefix;
  const m = model as unknown as { runWithCache(i: unknown, o: unknown): Promise<{ output: tf.Tensor; cache: { get(n: string): tf.Tensor; dispose(): void } }>; runWithHooks(i: unknown, o: unknown): Promise<tf.Tensor> };
  const run = (input: unknown): Runner => async (fwdHooks) => (await m.runWithHooks(input, { fwdHooks })).dispose();
  const got = await runIntervention(model as never, { earlyInput: early, earlyPos, lateInput: late, latePos, sEarly, n, mode, implantSpace: space, outOfRange: 'skip' });
  const clean = await referenceRun(run(late), prefix, L, latePos, r);
  assert.equal(got.y, clean[L - 1], `${what}: y`);
  assert.equal(got.sLateClean, saturation(clean), `${what}: clean saturation`);
  const { output, cache } = await m.runWithCache(early, {});
  output.dispose();
  let changed = 0;
  for (const step of got.runs) {
    const name = step.m < L ? `${prefix}blocks.${step.m}.hook_resid_pre` : `${prefix}blocks.${L - 1}.hook_resid_post`;
    let v = rowOf(cache.get(name), earlyPos);
    if (space === 'lnFinal') v = layerNorm(v, r);
    const ids = await referenceRun(run(late), prefix, L, latePos, r, { m: step.m, v, mode });
    assert.deepEqual(step.lensTop1, ids, `${what} m=${step.m}: lens top-1 per layer`);
    assert.equal(step.newSaturation, saturation(ids), `${what} m=${step.m}: s'`);
    assert.equal(step.newTop1, ids[L - 1]);
    assert.equal(step.unchanged, ids[L - 1] === clean[L - 1]);
    assert.equal(step.success, step.unchanged && step.newSaturation === (mode === 'original' ? step.m : step.m - 1));
    if (ids.some((id, j) => id !== clean[j])) changed++;
  }
  cache.dispose();
  t.diagnostic(`${what}: m = ${got.runs.map((s) => s.m).join(',')} (skipped ${got.skipped.map((s) => s.m).join(',') || 'none'}); clean top-1 ${clean.join(',')}; ${changed}/${got.runs.length} implants changed the lens`);
  return changed;
}

test('runIntervention on ViT: an implant from another image (intended and original mode) equals the reference run', async (t) => {
  await setBackend(testBackend('cpu'));
  const { inputs } = await readFixture('vit-tiny');
  const model = (await loadModel(fixtureDir('vit-tiny'))) as HookedViT;
  const raw = await readAllSafetensors(join(fixtureDir('vit-tiny'), 'model.safetensors'));
  const r: Readout = { lnW: raw.get('vit.layernorm.weight')!.data, lnB: raw.get('vit.layernorm.bias')!.data, eps: 1e-12, W: raw.get('classifier.weight')!.data, bias: raw.get('classifier.bias')!.data, V: 10, d: 64 };
  const px = inputs.get('pixel_values')!.data as Float32Array;
  const image = (b: number) => ({ data: Float32Array.from(px.subarray(b * 3072, (b + 1) * 3072)), shape: [1, 3, 32, 32] as const });
  const before = tf.memory().numTensors;
  let changed = await check(t, 'vit intended', model, image(0), image(1), 0, 0, 1, 1, r, 'intended', 'resid');
  changed += await check(t, 'vit original', model, image(1), image(0), 0, 0, 1, 1, r, 'original', 'resid');
  changed += await check(t, 'vit intended lnFinal', model, image(1), image(0), 0, 0, 1, 1, r, 'intended', 'lnFinal');
  assert.ok(changed > 0, 'some implant must change the lens, or the test checks nothing beyond identity');
  assert.equal(tf.memory().numTensors, before, 'runIntervention leaked tensors');
  model.dispose();
});

test('runIntervention on the Whisper decoder: an implant from another utterance and position equals the reference run', async (t) => {
  await setBackend(testBackend('cpu'));
  const { inputs } = await readFixture('whisper-tiny');
  const model = (await loadModel(fixtureDir('whisper-tiny'))) as HookedWhisper;
  const raw = await readAllSafetensors(join(fixtureDir('whisper-tiny'), 'model.safetensors'));
  const r: Readout = { lnW: raw.get('model.decoder.layer_norm.weight')!.data, lnB: raw.get('model.decoder.layer_norm.bias')!.data, eps: 1e-5, W: raw.get('model.decoder.embed_tokens.weight')!.data, V: 1000, d: 64 };
  const feats = inputs.get('input_features')!.data as Float32Array;
  const dec = Array.from(inputs.get('decoder_input_ids')!.data as Int32Array);
  const utterance = (b: number) => ({ inputFeatures: { data: Float32Array.from(feats.subarray(b * 4800, (b + 1) * 4800)), shape: [1, 80, 60] as const }, decoderInputIds: [dec.slice(b * 6, (b + 1) * 6)] });
  const before = tf.memory().numTensors;
  let changed = await check(t, 'whisper intended', model, utterance(0), utterance(1), 2, 4, 1, 1, r, 'intended', 'resid');
  changed += await check(t, 'whisper original', model, utterance(1), utterance(0), 5, 3, 1, 1, r, 'original', 'resid');
  changed += await check(t, 'whisper intended lnFinal', model, utterance(0), utterance(1), 3, 5, 1, 1, r, 'intended', 'lnFinal');
  assert.ok(changed > 0, 'some implant must change the lens');
  assert.equal(tf.memory().numTensors, before, 'runIntervention leaked tensors');
  model.dispose();
});
