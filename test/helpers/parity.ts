/** Per-hook relative errors of a fixture model against the HF reference, on the active backend. */
import * as tf from '@tensorflow/tfjs-core';
import { loadModel, type HookedModel } from '../../lib/nn/load.js';
import { logitLens } from '../../lib/lens/logit-lens.js';
import type { ActivationCache } from '../../lib/nn/activation-cache.js';
import type { HostTensor } from '../../lib/io/safetensors.js';
import { fixtureDir, readFixture, realRows, relError } from './fixtures.js';

/**
 * Relative-error bar of every HF parity test on the CPU backends (models and preprocessing). The measured worst
 * is below 1e-6 (models) and 2e-7 (preprocessing); the near-miss mistakes in near-miss.test.ts (exact GELU for
 * `gelu_new`, a wrong layer-norm ε) land at 1e-5–1e-4, so a 1e-4 bar would let some of them through.
 */
export const PARITY_TOL = 1e-5;

/** The model fixtures with every hook captured (Llama family: scripts/fixtures/make_llama_fixtures.py; Pythia / Gemma: scripts/fixtures/make_gemma_neox_fixtures.py). */
export const FIXTURE_MODELS = ['gpt2-tiny', 'vit-tiny', 'whisper-tiny', 'bert-tiny', 'llama-tiny', 'llama-mha', 'mistral-tiny', 'qwen2-tiny', 'pythia-tiny', 'pythia-seq-tiny', 'gemma2-tiny', 'gemma3-tiny'] as const;

function toTensor(h: HostTensor): tf.Tensor {
  return tf.tensor(h.data, h.shape, h.dtype);
}

function modelInput(name: string, inputs: Map<string, HostTensor>): { input: unknown; owned: tf.Tensor[] } {
  if (name === 'vit-tiny') {
    const t = toTensor(inputs.get('pixel_values')!);
    return { input: t, owned: [t] };
  }
  if (name === 'whisper-tiny') {
    const f = toTensor(inputs.get('input_features')!);
    const d = toTensor(inputs.get('decoder_input_ids')!);
    return { input: { inputFeatures: f, decoderInputIds: d }, owned: [f, d] };
  }
  const ids = toTensor(inputs.get('input_ids')!);
  return { input: ids, owned: [ids] };
}

/** Fixture key → our hook name (BERT's `hidden_states.N` are block outputs). */
function hookFor(name: string, key: string): string {
  const m = /^hidden_states\.(\d+)$/.exec(key);
  if (name === 'bert-tiny' && m) return Number(m[1]) === 0 ? 'blocks.0.hook_resid_pre' : `blocks.${Number(m[1]) - 1}.hook_resid_post`;
  return key;
}

/**
 * Relative error of every reference tensor of fixture `name` (hooks, logits, lens.logits). `dir` loads the model
 * from another folder (e.g. the fixture's weights with a modified config) and compares it with the same reference.
 */
export async function fixtureErrors(name: string, dir = fixtureDir(name)): Promise<Map<string, number>> {
  const { inputs, expected } = await readFixture(name);
  const model = (await loadModel(dir)) as HookedModel & { runWithCache(i: unknown): Promise<{ output: tf.Tensor; cache: ActivationCache }> };
  const { input, owned } = modelInput(name, inputs);
  const { output, cache } = await model.runWithCache(input);
  const errors = new Map<string, number>();
  for (const [key, ref] of expected) {
    let got: Float32Array;
    if (key === 'logits') got = (await output.data()) as Float32Array;
    else if (key === 'lens.logits') {
      const lens = logitLens(model as never, cache);
      got = (await lens.data()) as Float32Array;
      lens.dispose();
    } else got = (await cache.get(hookFor(name, key)).data()) as Float32Array;
    errors.set(key, relError(got, ref.data));
  }
  output.dispose();
  cache.dispose();
  for (const t of owned) t.dispose();
  model.dispose();
  return errors;
}


/**
 * Relative errors of a padded run against a `padded.safetensors` reference, at the real positions (mask 1) only:
 * `logits` and `hidden_states.0 … hidden_states.{states − 1}` (the cache's `blocks.0.hook_resid_pre` and each
 * `hook_resid_post`). Padded query rows attend to no real key, so their values are left out.
 */
export async function paddedErrors(output: tf.Tensor, cache: ActivationCache, ref: Map<string, HostTensor>, mask: number[][], states: number): Promise<Record<string, number>> {
  const V = output.shape[2]!;
  const errors: Record<string, number> = { logits: relError(realRows(await output.data(), mask, V), realRows(ref.get('logits')!.data, mask, V)) };
  for (let n = 0; n < states; n++) {
    const ours = cache.get(n === 0 ? 'blocks.0.hook_resid_pre' : `blocks.${n - 1}.hook_resid_post`);
    const d = ours.shape[2]!;
    errors[`hidden_states.${n}`] = relError(realRows(await ours.data(), mask, d), realRows(ref.get(`hidden_states.${n}`)!.data, mask, d));
  }
  return errors;
}
