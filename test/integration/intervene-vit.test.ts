/**
 * `intervene --images` on the tiny ViT fixture (2 blocks, so Δ 1 and half-width 0: d = 0 only), checked
 * against computations done here: every image's top-1 saturation layer and final class from a host argmax of
 * the class lens at CLS; the pairs = the first (i < j) pairs of different images with the same final class
 * and |s_i − s_j| ≥ Δ; each implanted run redone with `runWithCache` + a hook that puts the early image's h_m
 * (CLS) into the late image's CLS position (intended: at blocks.m.hook_resid_pre; original: block m skipped,
 * then h_{m+1} set), the lens read off by a host argmax.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { setBackend } from '../../lib/backend/index.js';
import { loadModel } from '../../lib/nn/load.js';
import { HookedViT } from '../../lib/nn/vit.js';
import { residName } from '../../lib/nn/lens-model.js';
import { vitPixelValuesBatch } from '../../lib/data/image.js';
import type { InterveneReport } from '../../lib/cli/intervene.js';
import { fixtureDir } from '../helpers/fixtures.js';
import { cli, cliJson } from '../helpers/cli.js';
import { defaultTierOnly, testBackend } from '../helpers/backend.js';
import { pngBytes } from '../helpers/image-datasets.js';
import { createRng } from '../../lib/math/rng.js';

const VIT = fixtureDir('vit-tiny');
let vit: HookedViT;
let dir: string;
let images: Uint8Array[];

before(async () => {
  await setBackend(testBackend('cpu'));
  const loaded = await loadModel(VIT);
  assert.ok(loaded instanceof HookedViT);
  vit = loaded;
  dir = mkdtempSync(join(tmpdir(), 'tfjs-lens-intervene-vit-'));
  // Noise of varied brightness per channel: the 2-block fixture's CLS top-1 then saturates at different layers.
  const rng = createRng(3);
  mkdirSync(join(dir, 'images'));
  images = Array.from({ length: 30 }, (_, i) => {
    const rgb = new Uint8Array(32 * 32 * 3);
    const lo = rng.uniformInt(200);
    const span = 1 + rng.uniformInt(256 - lo);
    const on = [rng.uniformInt(2), rng.uniformInt(2), rng.uniformInt(2)];
    for (let p = 0; p < rgb.length; p++) rgb[p] = on[p % 3] ? lo + rng.uniformInt(span) : rng.uniformInt(40);
    writeFileSync(join(dir, 'images', `${String(i).padStart(4, '0')}.png`), pngBytes(rgb));
    return rgb;
  });
});
after(() => {
  vit.dispose();
  rmSync(dir, { recursive: true, force: true });
});

function argmax(v: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i]! > v[best]!) best = i;
  return best;
}

/** Lens top-1 (CLS) of h_1 … h_L of the cached names `names` (one per block output). */
function lensTop1(cache: { get(name: string): tf.Tensor }, names: readonly string[]): number[] {
  return names.map((name) => {
    const logits = tf.tidy(() => vit.lensLogits(tf.reshape(tf.slice(cache.get(name), [0, 0, 0], [1, 1, -1]), [1, -1])));
    const id = argmax(logits.dataSync());
    logits.dispose();
    return id;
  });
}

/** Top-1 saturation: the first j from which the lens top-1 stays the final one (all agree → 0). */
function saturation(top1: readonly number[]): number {
  for (let j = top1.length - 2; j >= 0; j--) if (top1[j] !== top1[top1.length - 1]) return j + 1;
  return 0;
}

const pixelsOf = (i: number) => vitPixelValuesBatch([{ width: 32, height: 32, rgb: images[i]! }], { size: 32 });

for (const mode of ['intended', 'original'] as const) {
  test(`intervene --images (${mode}): pairs, saturation layers and every implanted run recomputed here`, defaultTierOnly(), async () => {
    const tensors = tf.memory().numTensors;
    const out = join(dir, `out-${mode}`);
    const r = cliJson<InterveneReport>('intervene', '--model', VIT, '--images', join(dir, 'images'), '--delta', '1', '--half-width', '0', '--n-pairs', '6', '--mode', mode, '--out', out);
    const L = vit.nLayers;
    assert.equal(r.L, L);
    assert.equal(r.selection.family, 'vit');
    assert.equal(r.input.source, 'images');
    assert.equal(r.examples, images.length);
    // s and y of every image (listing order = file name order = i).
    const states: tf.Tensor[][] = [];
    const sy = images.map((_, i) => ({ pixels: pixelsOf(i) }));
    const facts: { s: number; y: number }[] = [];
    for (const { pixels } of sy) {
      const run = await vit.runWithCache(pixels, { namesFilter: Array.from({ length: L + 1 }, (_, l) => residName(vit, l)) });
      run.output.dispose();
      const top1 = lensTop1(run.cache, Array.from({ length: L }, (_, j) => residName(vit, j + 1)));
      facts.push({ s: saturation(top1), y: top1[L - 1]! });
      states.push(Array.from({ length: L + 1 }, (_, l) => tf.slice(run.cache.get(residName(vit, l)), [0, 0, 0], [1, 1, -1])));
      run.cache.dispose();
    }
    const expected: [number, number][] = [];
    for (let a = 0; a < facts.length && expected.length < 6; a++) {
      for (let b = a + 1; b < facts.length && expected.length < 6; b++) {
        if (facts[a]!.y === facts[b]!.y && Math.abs(facts[a]!.s - facts[b]!.s) >= 1) expected.push(facts[a]!.s < facts[b]!.s ? [a, b] : [b, a]);
      }
    }
    assert.ok(expected.length >= 2, `pairs here: ${expected.length}`);
    assert.deepEqual(r.pairs.map((p) => [p.early.image, p.late.image]), expected);
    let successes = 0;
    let runs = 0;
    for (const pair of r.pairs) {
      const [e, l] = [pair.early.image!, pair.late.image!];
      assert.equal(pair.early.s, facts[e]!.s);
      assert.equal(pair.late.s, facts[l]!.s);
      assert.equal(pair.y, facts[e]!.y);
      assert.match(pair.late.name!, /\.png$/);
      for (const run of pair.runs) {
        assert.equal(run.d, run.m - 1 - pair.early.s);
        const v = states[e]![run.m]!; // h_m of the early image at CLS
        const withCls = (act: tf.Tensor) => tf.tidy(() => tf.concat([v, tf.slice(act, [0, 1, 0], [1, -1, -1])], 1));
        let names: string[];
        let fwdHooks: [string, (act: tf.Tensor) => tf.Tensor][];
        let blockInput: tf.Tensor | undefined;
        if (mode === 'intended') {
          // h_m[CLS] := v at blocks.m.hook_resid_pre (h_L: after the last block).
          const at = run.m < L ? `blocks.${run.m}.hook_resid_pre` : `blocks.${L - 1}.hook_resid_post`;
          names = Array.from({ length: L }, (_, j) => (j + 1 === run.m ? at : residName(vit, j + 1)));
          fwdHooks = [[at, withCls]];
        } else {
          // Block m returns its own input h_m (skipped for every position), then h_{m+1}[CLS] := v.
          names = Array.from({ length: L }, (_, j) => residName(vit, j + 1));
          fwdHooks = [
            [`blocks.${run.m}.hook_resid_pre`, (act: tf.Tensor) => ((blockInput = tf.keep(act.clone())), act)],
            [`blocks.${run.m}.hook_resid_post`, () => withCls(blockInput!)],
          ];
        }
        const late = await vit.runWithCache(sy[l]!.pixels, { namesFilter: names, fwdHooks });
        late.output.dispose();
        assert.deepEqual(run.lensTop1, lensTop1(late.cache, names), `pair ${e}→${l}, m = ${run.m}`);
        late.cache.dispose();
        blockInput?.dispose();
        assert.equal(run.newSaturation, saturation(run.lensTop1));
        assert.equal(run.unchanged, run.lensTop1[L - 1] === pair.y);
        assert.equal(run.success, run.unchanged && run.newSaturation === (mode === 'intended' ? run.m - 1 : run.m));
        successes += run.success ? 1 : 0;
        runs++;
      }
    }
    assert.deepEqual(r.byDistance.d, [0]);
    assert.equal(r.byDistance.count[0], runs);
    assert.equal(r.byDistance.rate[0], successes / runs);
    assert.ok(existsSync(r.files[0]!));
    for (const s of states.flat()) s.dispose();
    for (const { pixels } of sy) pixels.dispose();
    assert.equal(tf.memory().numTensors, tensors, 'no tensors left behind');
  });
}

test('intervene on ViT: the paper\'s Δ 5 / n 3 on 2 blocks, and text input, are typed errors naming the fix', defaultTierOnly(), () => {
  const deep = cli('intervene', '--model', VIT, '--images', join(dir, 'images'));
  assert.equal(deep.status, 1);
  assert.match(deep.stderr, /Δ = 5, half-width n = 3 leave no pair on a model with L = 2 blocks[\s\S]*ViT-L[\s\S]*--delta 1 --half-width 0/);
  const text = cli('intervene', '--model', VIT, '--text-file', join(dir, 'nothing.txt'), '--delta', '1', '--half-width', '0');
  assert.equal(text.status, 1);
  assert.match(text.stderr, /ViT model, which takes --images PATH/);
  const gpt = cli('intervene', '--images', join(dir, 'images'));
  assert.equal(gpt.status, 1);
  assert.match(gpt.stderr, /--images is for ViT models/);
});
