/** Per-hook relative errors of a fixture model against the HF reference, on the active backend. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { loadModel, type HookedModel } from '../../lib/nn/load.js';
import { logitLens } from '../../lib/lens/logit-lens.js';
import type { ActivationCache } from '../../lib/nn/activation-cache.js';
import { readAllSafetensors, type HostTensor } from '../../lib/io/safetensors.js';
import type { NamesFilter } from '../../lib/nn/hooked-root.js';
import { fixtureDir, intRows, readFixture, realRows, relError } from './fixtures.js';

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


/** What `assertPaddedParity` runs on: a decoder taking `{ inputIds, attentionMask }`. */
interface PaddedModel {
  readonly nLayers: number;
  runWithCache(input: { inputIds: number[][]; attentionMask: number[][] }, opts: { namesFilter: NamesFilter }): Promise<{ output: tf.Tensor; cache: ActivationCache }>;
  forward(input: number[][]): Promise<tf.Tensor>;
  dispose(): void;
}

/** What a padded run is compared on. */
export interface PaddedComparison {
  /** Cache entries the run keeps (default: every `hook_resid_pre` / `hook_resid_post`). */
  namesFilter?: NamesFilter;
  /**
   * Relative errors at the real positions (default `residualErrors`: logits and the residual states h_0 … h_L);
   * `everyHookErrors` compares every `.hook_` tensor of the reference.
   */
  errors?: (output: tf.Tensor, cache: ActivationCache, ref: Map<string, HostTensor>, mask: number[][], states: number) => Promise<Record<string, number>>;
  /** The reference's last hidden state is after the final norm (GPT-2's HF `hidden_states`): compare h_0 … h_{L−1} only, not h_L. */
  lastStateNormed?: boolean;
  /** Further checks on the run (before its tensors are disposed). */
  inspect?: (output: tf.Tensor, cache: ActivationCache) => Promise<void>;
  /** Fewest compared tensors (a reference that lost its hooks fails). Default 2. */
  minTensors?: number;
}

/**
 * The padded-batch parity check of the decoders: fixture `name`'s `padded.safetensors` batch (row 1 left-padded by 3) run
 * with its attention mask on the active backend matches the reference within PARITY_TOL at every real position and
 * leaks no tensor; without the mask the padded row is another sequence, so the reference logits are missed by more
 * than 100 × PARITY_TOL. `label` names the run in the diagnostic.
 */
export async function assertPaddedParity(t: TestContext, name: string, label: string, cmp: PaddedComparison = {}): Promise<void> {
  const ref = await readAllSafetensors(join(fixtureDir(name), 'padded.safetensors'));
  const model = (await loadModel(fixtureDir(name))) as unknown as PaddedModel;
  const rows = (key: string) => intRows(ref.get(key)!);
  const mask = rows('attention_mask');
  assert.deepEqual(mask[1], [0, 0, 0, 1, 1, 1, 1, 1, 1]);
  const before = tf.memory().numTensors;
  const { output, cache } = await model.runWithCache({ inputIds: rows('input_ids'), attentionMask: mask }, { namesFilter: cmp.namesFilter ?? ((n) => /hook_resid_(pre|post)$/.test(n)) });
  const errors = await (cmp.errors ?? residualErrors)(output, cache, ref, mask, cmp.lastStateNormed ? model.nLayers : model.nLayers + 1);
  await cmp.inspect?.(output, cache);
  output.dispose();
  cache.dispose();
  assert.equal(tf.memory().numTensors, before, 'the padded run leaked tensors');
  const compared = Object.keys(errors).length;
  const worst = Object.entries(errors).sort((a, b) => b[1] - a[1])[0]!;
  t.diagnostic(`padded ${label}: worst rel err ${worst[1].toExponential(2)} at ${worst[0]} (${compared} tensors, real positions only)`);
  assert.ok(compared >= (cmp.minTensors ?? 2) && worst[1] <= PARITY_TOL, `worst ${worst[0]} ${worst[1]} of ${compared} tensors`);
  const unmasked = await model.forward(rows('input_ids'));
  const V = unmasked.shape[2]!;
  const err = relError(realRows(await unmasked.data(), mask, V), realRows(ref.get('logits')!.data, mask, V));
  unmasked.dispose();
  assert.ok(err > 100 * PARITY_TOL, `without the mask: ${err}`);
  model.dispose();
}

/**
 * Relative errors of a padded run at the real positions (mask 1) only: `logits` and `hidden_states.0 …
 * hidden_states.{states − 1}` (the cache's `blocks.0.hook_resid_pre` and each `hook_resid_post`). Padded query rows
 * attend to no real key, so their values are left out.
 */
export async function residualErrors(output: tf.Tensor, cache: ActivationCache, ref: Map<string, HostTensor>, mask: number[][], states: number): Promise<Record<string, number>> {
  const V = output.shape[2]!;
  const errors: Record<string, number> = { logits: relError(realRows(await output.data(), mask, V), realRows(ref.get('logits')!.data, mask, V)) };
  for (let n = 0; n < states; n++) {
    const ours = cache.get(n === 0 ? 'blocks.0.hook_resid_pre' : `blocks.${n - 1}.hook_resid_post`);
    const d = ours.shape[2]!;
    errors[`hidden_states.${n}`] = relError(realRows(await ours.data(), mask, d), realRows(ref.get(`hidden_states.${n}`)!.data, mask, d));
  }
  return errors;
}

/** The reference's `.hook_` tensors (the names a padded run caches for `everyHookErrors`). */
export function referenceHooks(ref: Map<string, HostTensor>): string[] {
  return [...ref.keys()].filter((k) => k.includes('.hook_'));
}

/** Relative errors of `logits` and every `.hook_` tensor of the reference at the real positions (mask 1). */
export async function everyHookErrors(output: tf.Tensor, cache: ActivationCache, ref: Map<string, HostTensor>, mask: number[][]): Promise<Record<string, number>> {
  const errors: Record<string, number> = {};
  for (const key of ['logits', ...referenceHooks(ref)]) {
    const ours = key === 'logits' ? output : cache.get(key);
    const inner = ours.size / (mask.length * mask[0]!.length);
    errors[key] = relError(realRows(await ours.data(), mask, inner), realRows(ref.get(key)!.data, mask, inner));
  }
  return errors;
}
