/**
 * The parity bar must be tight enough to catch the plausible near-miss mistakes: each case loads a fixture's
 * weights with one config value changed the way a port could get it wrong, runs it against the unchanged HF
 * reference, and asserts that the worst relative error is above PARITY_TOL (while the right config stays under it,
 * see models.test.ts). With the old bar of 1e-4 the GELU and ε cases passed by a factor of only 2–3.5, and
 * the float waveform fed where the reference used the WAV's 16-bit samples (5e-5) passed outright.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile, symlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { setBackend } from '../../lib/backend/index.js';
import { readAllSafetensors } from '../../lib/io/safetensors.js';
import { vitPixelValues } from '../../lib/data/image.js';
import { whisperFeatures } from '../../lib/data/audio.js';
import { fixtureDir, relError } from '../helpers/fixtures.js';
import { PARITY_TOL, fixtureErrors } from '../helpers/parity.js';
import { testBackend } from '../helpers/backend.js';

/** A temporary model folder: the fixture's weights (linked) with `change` applied to its config.json. */
async function withConfig<T>(name: string, change: Record<string, unknown>, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), `tfjs-lens-nearmiss-${name}-`));
  try {
    const cfg = JSON.parse(await readFile(join(fixtureDir(name), 'config.json'), 'utf8')) as Record<string, unknown>;
    await writeFile(join(dir, 'config.json'), JSON.stringify({ ...cfg, ...change }));
    await symlink(join(fixtureDir(name), 'model.safetensors'), join(dir, 'model.safetensors'));
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const CASES: { name: string; change: Record<string, unknown>; what: string }[] = [
  { name: 'gpt2-tiny', change: { activation_function: 'gelu' }, what: 'exact GELU instead of gelu_new' },
  { name: 'gpt2-tiny', change: { layer_norm_epsilon: 1e-6 }, what: 'layer-norm ε 1e-6 instead of 1e-5' },
  { name: 'vit-tiny', change: { layer_norm_eps: 1e-5 }, what: 'layer-norm ε 1e-5 instead of 1e-12' },
  { name: 'vit-tiny', change: { hidden_act: 'gelu_new' }, what: 'tanh GELU instead of exact GELU' },
  { name: 'whisper-tiny', change: { activation_function: 'gelu_new' }, what: 'tanh GELU instead of exact GELU' },
  { name: 'bert-tiny', change: { layer_norm_eps: 1e-5 }, what: 'layer-norm ε 1e-5 instead of 1e-12' },
  { name: 'bert-tiny', change: { hidden_act: 'gelu_new' }, what: 'tanh GELU instead of exact GELU' },
  { name: 'llama-tiny', change: { rope_parameters: { rope_type: 'default', rope_theta: 500000 } }, what: 'plain rope instead of llama3 scaling' },
  { name: 'llama-tiny', change: { rms_norm_eps: 1e-5 }, what: 'RMS-norm ε 1e-5 instead of 1e-6' },
  { name: 'mistral-tiny', change: { sliding_window: null }, what: 'full causal attention instead of a sliding window of 3' },
];

for (const { name, change, what } of CASES) {
  test(`${name} with ${what} misses the HF reference by more than ${PARITY_TOL}`, async (t) => {
    await setBackend(testBackend('cpu'));
    const errors = await withConfig(name, change, (dir) => fixtureErrors(name, dir));
    const worst = [...errors.entries()].sort((a, b) => b[1] - a[1])[0]!;
    const over = [...errors.values()].filter((e) => e > PARITY_TOL).length;
    t.diagnostic(`${name} (${what}): worst rel err ${worst[1].toExponential(2)} at ${worst[0]}; ${over}/${errors.size} tensors over the bar`);
    assert.ok(worst[1] > PARITY_TOL, `the mistake was not caught: worst ${worst[0]} ${worst[1]}`);
    // The output itself is off, not just one internal tensor.
    assert.ok(errors.get('logits')! > PARITY_TOL, `logits rel err ${errors.get('logits')}`);
  });
}

test(`preprocessing near misses exceed ${PARITY_TOL}: Pillow's fixed-point resize, ImageNet statistics, the float waveform for the 16-bit WAV`, async (t) => {
  await setBackend(testBackend('cpu'));
  const vit = fixtureDir('vit-preprocess');
  const pixels = (await readAllSafetensors(join(vit, 'expected.safetensors'))).get('pixel_values')!;
  const errOf = async (x: tf.Tensor, want: ArrayLike<number>) => {
    const e = relError(await x.data(), want);
    x.dispose();
    return e;
  };
  const errors: Record<string, number> = {
    // Pillow's 22-bit fixed-point bilinear weights instead of the float ones HF's processor uses here.
    'ViT resize: pillow': await errOf(vitPixelValues(join(vit, 'image.png'), { size: 32, resize: 'pillow' }), pixels.data),
    // The ImageNet mean/std (most vision models) instead of this processor's 0.5 / 0.5.
    'ViT mean/std: ImageNet': await errOf(vitPixelValues(join(vit, 'image.png'), { size: 32, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] }), pixels.data),
  };
  // The float waveform where the reference was computed from the WAV's 16-bit samples (quantisation ignored).
  const audio = fixtureDir('whisper-features-80');
  const waveform = (await readAllSafetensors(join(audio, 'inputs.safetensors'))).get('waveform')!.data as Float32Array;
  const fromWav = (await readAllSafetensors(join(audio, 'expected.safetensors'))).get('input_features_from_wav')!;
  errors['Whisper: float waveform for the WAV'] = await errOf(whisperFeatures(waveform, { nMels: 80 }), fromWav.data);
  for (const [what, e] of Object.entries(errors)) {
    t.diagnostic(`${what}: rel err ${e.toExponential(2)}`);
    assert.ok(e > PARITY_TOL, `${what} was not caught: ${e}`);
  }
});
