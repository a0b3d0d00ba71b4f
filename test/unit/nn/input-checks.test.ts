// Issue 14 "Inputs": every bad input is a typed error that names the value (and where it is), raised
// before any conversion, and nothing is leaked on the way out.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { setBackend } from '../../../lib/backend/index.js';
import { loadModel } from '../../../lib/nn/load.js';
import type { HookedGPT2 } from '../../../lib/nn/gpt2.js';
import type { HookedViT } from '../../../lib/nn/vit.js';
import { HookError, InvalidArgumentError, TfjsLensError } from '../../../lib/errors.js';
import { vitPixelValues } from '../../../lib/data/image.js';
import { whisperFeatures } from '../../../lib/data/audio.js';
import { saturationLayers, top1SaturationLayer } from '../../../lib/lens/saturation.js';
import { fitAllShortcuts } from '../../../lib/linreg/shortcuts.js';
import { fixtureDir, ROOT } from '../../helpers/fixtures.js';
import { join } from 'node:path';
import { testBackend } from '../../helpers/backend.js';

let gpt2: HookedGPT2;
let vit: HookedViT;
const IDS = [[5, 17, 300, 2]];

before(async () => {
  await setBackend(testBackend('cpu'));
  gpt2 = (await loadModel(fixtureDir('gpt2-tiny'))) as HookedGPT2;
  vit = (await loadModel(fixtureDir('vit-tiny'))) as HookedViT;
});

after(() => {
  gpt2.dispose();
  vit.dispose();
});

/** Asserts that `run` rejects with an InvalidArgumentError matching `message`, leaking no tensor. */
async function rejectsTyped(run: () => Promise<unknown>, message: RegExp, type: new (...a: never[]) => TfjsLensError = InvalidArgumentError): Promise<void> {
  const before = tf.memory().numTensors;
  await assert.rejects(run, (err: unknown) => {
    assert.ok(err instanceof type, `expected ${type.name}, got ${String(err)}`);
    assert.match((err as Error).message, message);
    return true;
  });
  assert.equal(tf.memory().numTensors, before, 'tensors leaked');
}

test('token ids are checked as given, before int32 conversion: value and [row, position] named', async () => {
  const vocab = gpt2.cfg.dVocab;
  await rejectsTyped(() => gpt2.forward([[1, 2 ** 32 + 1]]), /token id 4294967297 at \[0, 1\] is outside the vocabulary/);
  await rejectsTyped(() => gpt2.forward([[1, 2], [3, 1.5]]), /token id 1\.5 at \[1, 1\] is not an integer/);
  await rejectsTyped(() => gpt2.forward([NaN, 2]), /token id NaN at \[0, 0\] is not an integer/);
  await rejectsTyped(() => gpt2.forward([[4, Infinity]]), /token id Infinity at \[0, 1\]/);
  await rejectsTyped(() => gpt2.forward([[4, -1]]), /token id -1 at \[0, 1\] is outside the vocabulary/);
  await rejectsTyped(() => gpt2.forward([[vocab]]), new RegExp(`token id ${vocab} at \\[0, 0\\] is outside the vocabulary \\[0, ${vocab}\\)`));
  await rejectsTyped(() => gpt2.forward({ inputIds: [[1, 2.5]] }), /token id 2\.5 at \[0, 1\]/);
  // float tensors are read before the cast, which would make 1.5 → 1 and NaN → 0
  await rejectsTyped(async () => {
    const t = tf.tensor2d([[1, 1.5]], [1, 2], 'float32');
    try {
      return await gpt2.forward(t);
    } finally {
      t.dispose();
    }
  }, /token id 1\.5 at \[0, 1\] is not an integer/);
  // the Whisper decoder prefix goes through the same check
  const whisper = await loadModel(fixtureDir('whisper-tiny'));
  const encoderOutput = tf.zeros([1, 4, (whisper.cfg as { dModel: number }).dModel]);
  await rejectsTyped(() => whisper.forward({ encoderOutput, decoderInputIds: [[1, 0.5]] } as never), /token id 0\.5 at \[0, 1\]/);
  await rejectsTyped(() => whisper.forward({} as never), /Whisper input must be/);
  await rejectsTyped(() => whisper.forward(5 as never), /model input must be/);
  encoderOutput.dispose();
  whisper.dispose();
});

test('BigInt arrays, string tensors, and non-inputs (null, 5, {}) are typed errors', async () => {
  await rejectsTyped(() => gpt2.forward([[1n, 2n]] as never), /token id 1n at \[0, 0\] is a BigInt/);
  for (const bad of [null, undefined, 5, true]) await rejectsTyped(() => gpt2.forward(bad as never), /model input must be a tensor, an array, text or an input object/);
  await rejectsTyped(() => gpt2.forward({} as never), /token input must be .* got an object with keys \{\}/);
  await rejectsTyped(() => gpt2.forward(new Int32Array([1, 2]) as never), /token input must be .* got a Int32Array/);
  for (const bad of [null, 5]) await rejectsTyped(() => vit.forward(bad as never), /model input must be/);
  await rejectsTyped(() => vit.forward({} as never), /ViT input must be/);
  const strings = tf.tensor(['a', 'b']);
  await rejectsTyped(() => gpt2.forward(strings as never), /model input is a string tensor of shape \[2\]/);
  await rejectsTyped(() => gpt2.forward({ inputIds: strings } as never), /inputIds is a string tensor/);
  await rejectsTyped(() => vit.forward({ pixelValues: strings } as never), /pixelValues is a string tensor/);
  strings.dispose();
  const bools = tf.tensor2d([[true, false]], [1, 2], 'bool');
  await rejectsTyped(() => gpt2.forward(bools), /token ids must be an int32 .* got a bool tensor/);
  bools.dispose();
  await rejectsTyped(() => gpt2.forward(['text', 5] as never), /text input \[1\] is the number 5/);
});

test('attention-mask values other than 0/1 are errors', async () => {
  await rejectsTyped(() => gpt2.forward({ inputIds: [[1, 2, 3]], attentionMask: [[0, 2, 1]] }), /attention mask value 2 at \[0, 1\] is not 0 or 1/);
  await rejectsTyped(() => gpt2.forward({ inputIds: [[1, 2, 3]], attentionMask: [[0, 0.5, 1]] }), /attention mask value 0\.5 at \[0, 1\]/);
  const mask = tf.tensor2d([[1, 1, -1]], [1, 3], 'int32');
  await rejectsTyped(() => gpt2.forward({ inputIds: [[1, 2, 3]], attentionMask: mask }), /attention mask value -1 at \[0, 2\]/);
  mask.dispose();
  const ok = await gpt2.forward({ inputIds: [[1, 2, 3]], attentionMask: [[0, 1, 1]] });
  ok.dispose();
});

test('stopAtLayer, device, namesFilter and fwdHooks of the wrong kind are typed errors', async () => {
  await rejectsTyped(() => gpt2.forward(IDS, { stopAtLayer: 1.5 }), /stopAtLayer must be a block index \(an integer ≥ 0\), got 1\.5/);
  await rejectsTyped(() => gpt2.forward(IDS, { stopAtLayer: -1 }), /stopAtLayer must be a block index/);
  await rejectsTyped(() => gpt2.forward(IDS, { stopAtLayer: NaN }), /got NaN/);
  await rejectsTyped(() => gpt2.forward(IDS, { stopAtLayer: '2' as never }), /got the string "2"/);
  await rejectsTyped(() => gpt2.forward(IDS, { stopAtLayer: gpt2.cfg.nLayers + 1 }), /stopAtLayer 4 is outside 0\.\.3/);
  const pixels = tf.zeros([1, 3, vit.cfg.imageHeight, vit.cfg.imageWidth]);
  await rejectsTyped(() => vit.forward(pixels as never, { stopAtLayer: 0.5 }), /stopAtLayer must be a block index/);
  pixels.dispose();
  await rejectsTyped(() => gpt2.runWithCache(IDS, { device: 'tpu' as never }), /unknown device 'tpu'/);
  await rejectsTyped(() => gpt2.runWithCache(IDS, { namesFilter: 5 as never }), /namesFilter must be a hook name, an array of names or a function .* got the number 5/);
  await rejectsTyped(() => gpt2.runWithCache(IDS, { namesFilter: ['hook_embed', 3] as never }), /namesFilter\[1\] must be a hook name \(string\), got the number 3/);
  await rejectsTyped(() => gpt2.runWithCache(IDS, { namesFilter: { name: 'x' } as never }), /namesFilter must be/);
  assert.throws(() => gpt2.resolveNames(null as never), /namesFilter must be/);
  await rejectsTyped(() => gpt2.runWithHooks(IDS, { fwdHooks: 'hook_embed' as never }), /fwdHooks must be an array/);
  await rejectsTyped(() => gpt2.runWithHooks(IDS, { fwdHooks: [[7, () => undefined]] as never }), /fwdHooks\[0\]\[0\] must be a hook name/);
});

test('a hook that disposes its input or returns a disposed tensor: HookError naming the hook', async () => {
  function disposer(x: tf.Tensor): undefined {
    x.dispose();
    return undefined;
  }
  await rejectsTyped(() => gpt2.runWithHooks(IDS, { fwdHooks: [['blocks.1.hook_resid_pre', disposer]] }), /hook 'disposer' at 'blocks\.1\.hook_resid_pre' disposed the activation it was given/, HookError);
  const gone = tf.zeros([1, 4, gpt2.cfg.dModel]);
  gone.dispose();
  await rejectsTyped(() => gpt2.runWithCache(IDS, { fwdHooks: [['blocks.0.hook_resid_post', () => undefined], ['blocks.0.hook_resid_post', () => gone]], namesFilter: ['hook_embed'] }), /hook #2 at 'blocks\.0\.hook_resid_post' returned a disposed tensor/, HookError);
  // the run still works afterwards
  const out = await gpt2.forward(IDS);
  out.dispose();
});

test('vitPixelValues rejects a NaN mean or std', () => {
  const image = join(ROOT, 'test', 'fixtures', 'hf', 'vit-preprocess', 'image.png');
  assert.throws(() => vitPixelValues(image, { size: 16, mean: [0.5, NaN, 0.5] }), (e: unknown) => e instanceof InvalidArgumentError && /mean has a non-finite value: \[0\.5, NaN, 0\.5\]/.test(e.message));
  assert.throws(() => vitPixelValues(image, { size: 16, std: [0.5, 0.5, NaN] }), (e: unknown) => e instanceof InvalidArgumentError && /std has a zero or non-finite value/.test(e.message));
});

test('saturationLayers and top1SaturationLayer reject NaN and non-integer ranks', () => {
  assert.throws(() => saturationLayers([[1, 2], [NaN, 2], [1, 2]]), (e: unknown) => e instanceof InvalidArgumentError && /rank table \[1\]\[0\] is NaN/.test(e.message));
  assert.throws(() => saturationLayers([[1, 2], [1, 2.5]]), /rank table \[1\]\[1\] is 2\.5/);
  assert.throws(() => top1SaturationLayer([3, NaN, 3]), /rank table \[1\]\[0\] is NaN/);
  assert.deepEqual(saturationLayers([[1, 2], [1, 3], [1, 3]]), [0, 1]);
});

test('whisperFeatures rejects samplingRate 1, nSamples 1e12 and nMels 100000 before allocating', () => {
  const wave = new Float32Array(1600);
  const typed = (re: RegExp) => (e: unknown) => e instanceof InvalidArgumentError && re.test(e.message);
  assert.throws(() => whisperFeatures(wave, { samplingRate: 1 }), typed(/samplingRate is 1 Hz; the sampling rate must be an integer in 1000 … 1000000 Hz/));
  assert.throws(() => whisperFeatures(wave, { samplingRate: 44100.5 }), typed(/44100\.5 Hz/));
  assert.throws(() => whisperFeatures(wave, { nSamples: 1e12 }), typed(/nSamples must be an integer in 201 … 9600000 .* got 1000000000000/));
  assert.throws(() => whisperFeatures(wave, { nMels: 100000 }), typed(/nMels must be an integer in 1 … 201 .* got 100000/));
  const before = tf.memory().numTensors;
  assert.throws(() => whisperFeatures(wave, { nSamples: 100 }), typed(/nSamples/));
  assert.equal(tf.memory().numTensors, before);
});

test('fitAllShortcuts rejects an unknown device instead of falling back to host', async () => {
  const states = [new Float32Array(8), new Float32Array(8)];
  await assert.rejects(fitAllShortcuts((l) => states[l]!, 1, 2, { device: 'gpu' as never }), (e: unknown) => e instanceof InvalidArgumentError && /unknown device 'gpu'/.test(e.message));
});
