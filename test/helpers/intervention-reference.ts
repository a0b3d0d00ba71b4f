/**
 * Independent references of the `intervene` and `early-exit` CLI tests on any causal LM: the implant redone with
 * `runWithCache` + a hook and the lens read off by a host argmax, and the per-layer lens top-1 / softmax margin by a
 * host softmax.
 */
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import type { InterveneReport } from '../../lib/cli/intervene.js';
import type { CausalLmRoot } from '../../lib/nn/causal-lm.js';
import { residName } from '../../lib/nn/lens-model.js';

/** Index of the largest value (ties → lower index). */
export function argmax(v: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i]! > v[best]!) best = i;
  return best;
}

/**
 * Lens top-1 of position `latePos` at h_1 … h_L after the early position's h_m replaced the late position's h_m
 * (intended mode: at `blocks.{m}.hook_resid_pre`, m = L at `blocks.{L−1}.hook_resid_post`).
 * @returns `[L]` top-1 ids, row j = h_{j+1}.
 */
export async function implantedLensTop1(model: CausalLmRoot, ids: readonly number[], earlyPos: number, latePos: number, m: number): Promise<number[]> {
  const L = model.nLayers;
  const early = await model.runWithCache([ids], { namesFilter: [residName(model, m)] });
  early.output.dispose();
  const v = tf.tidy(() => tf.slice(early.cache.get(residName(model, m)), [0, earlyPos, 0], [1, 1, -1]));
  early.cache.dispose();
  const implantAt = m < L ? `blocks.${m}.hook_resid_pre` : `blocks.${L - 1}.hook_resid_post`;
  const p = latePos;
  const names = Array.from({ length: L }, (_, j) => (j + 1 === m ? implantAt : residName(model, j + 1)));
  const late = await model.runWithCache([ids], {
    namesFilter: names,
    fwdHooks: [[implantAt, (act: tf.Tensor) => tf.tidy(() => {
      const T = act.shape[1]!;
      return tf.concat([tf.slice(act, [0, 0, 0], [1, p, -1]), v, tf.slice(act, [0, p + 1, 0], [1, T - p - 1, -1])], 1);
    })]],
  });
  late.output.dispose();
  const top1 = names.map((name) => {
    const logits = tf.tidy(() => model.lensLogits(tf.reshape(tf.slice(late.cache.get(name), [0, p, 0], [1, 1, -1]), [1, -1])));
    const id = argmax(logits.dataSync());
    logits.dispose();
    return id;
  });
  late.cache.dispose();
  v.dispose();
  return top1;
}

/** Top-1 saturation layer of a lens top-1 row `[L]` (first j from which the top-1 equals the final one). */
export function saturationOf(top1: readonly number[]): number {
  const L = top1.length;
  for (let j = L - 2; j >= 0; j--) if (top1[j] !== top1[L - 1]) return j + 1;
  return 0;
}

/**
 * Lens top-1 and softmax margin p_(1) − p_(2) of positions 0 … T−2 at h_1 … h_L, by a host softmax of the lens logits.
 * @returns `top1[j][t]` and `margin[j][t]`, j = 0 … L−1 meaning h_{j+1}.
 */
export async function hostLensMargins(model: CausalLmRoot, ids: readonly number[]): Promise<{ top1: number[][]; margin: number[][] }> {
  const L = model.nLayers;
  const N = ids.length - 1;
  const names = Array.from({ length: L }, (_, j) => residName(model, j + 1));
  const { output, cache } = await model.runWithCache([ids], { namesFilter: names });
  output.dispose();
  const top1: number[][] = [];
  const margin: number[][] = [];
  for (const name of names) {
    const logits = tf.tidy(() => model.lensLogits(tf.slice(cache.get(name), [0, 0, 0], [1, N, -1])));
    const V = logits.shape[2]!;
    const data = await logits.data();
    logits.dispose();
    const rowTop: number[] = [];
    const rowMargin: number[] = [];
    for (let t = 0; t < N; t++) {
      const row = data.subarray(t * V, (t + 1) * V);
      let max = -Infinity;
      for (const x of row) max = Math.max(max, x);
      let z = 0;
      for (const x of row) z += Math.exp(x - max);
      const probs = Array.from(row, (x) => Math.exp(x - max) / z);
      const first = argmax(probs);
      let second = -Infinity;
      probs.forEach((q, i) => { if (i !== first && q > second) second = q; });
      rowTop.push(first);
      rowMargin.push(probs[first]! - second);
    }
    top1.push(rowTop);
    margin.push(rowMargin);
  }
  cache.dispose();
  return { top1, margin };
}

/**
 * Checks an `intervene --json` report (intended mode, resid implants) against `model`: every run's fields agree with
 * its lens row, every lens row equals the implant redone here (`implantedLensTop1`), and the success rate per d is
 * the tally of the runs. `idsOf(article)` gives the token ids of an article of the input file.
 */
export async function assertInterveneReport(model: CausalLmRoot, r: InterveneReport, idsOf: (article: number) => readonly number[]): Promise<void> {
  const L = model.nLayers;
  assert.equal(r.L, L);
  const tally = new Map<number, [number, number]>();
  for (const pair of r.pairs) {
    const ids = idsOf(pair.article);
    for (const run of pair.runs) {
      const s = saturationOf(run.lensTop1);
      assert.equal(run.newSaturation, s);
      assert.equal(run.unchanged, run.lensTop1[L - 1] === pair.y);
      assert.equal(run.success, run.unchanged && s === run.m - 1);
      assert.equal(run.d, run.m - 1 - pair.early.s);
      const t = tally.get(run.d) ?? [0, 0];
      tally.set(run.d, [t[0] + (run.success ? 1 : 0), t[1] + 1]);
      const top1 = await implantedLensTop1(model, ids, pair.early.position, pair.late.position, run.m);
      assert.deepEqual(run.lensTop1, top1, `pair at article ${pair.article}, m = ${run.m}`);
    }
  }
  assert.deepEqual(r.byDistance.d, [...tally.keys()].sort((a, b) => a - b));
  r.byDistance.d.forEach((d, i) => {
    assert.equal(r.byDistance.count[i], tally.get(d)![1]);
    assert.equal(r.byDistance.rate[i], tally.get(d)![0] / tally.get(d)![1]);
  });
}
