/**
 * Llama-family parity on a left-padded batch with its attention mask (scripts/fixtures/make_llama_fixtures.py): every
 * stored hook and the logits at every real position within PARITY_TOL. The fixtures' full parity (every hook on GQA
 * ratios 1, 2 and 4, llama3 / linear / yarn rope, Mistral's sliding window, Qwen2's biases, tied and untied
 * embeddings, F16 and sharded BF16 weights) runs in models.test.ts with the other model fixtures.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { setBackend } from '../../lib/backend/index.js';
import { loadModel } from '../../lib/nn/load.js';
import { HookedLlama } from '../../lib/nn/llama.js';
import { readAllSafetensors } from '../../lib/io/safetensors.js';
import { assertPaddedParity, everyHookErrors, referenceHooks } from '../helpers/parity.js';
import { fixtureDir } from '../helpers/fixtures.js';
import { testBackends } from '../helpers/backend.js';

for (const name of ['llama-tiny', 'mistral-tiny'] as const) {
  for (const backend of testBackends(['wasm', 'cpu'] as const)) {
    test(`${name}: a left-padded batch matches HF at every real position (rotary positions restart at the first real token) (${backend})`, async (t) => {
      await setBackend(backend);
      const model = await loadModel(fixtureDir(name));
      assert.ok(model instanceof HookedLlama);
      model.dispose();
      const hooks = referenceHooks(await readAllSafetensors(join(fixtureDir(name), 'padded.safetensors')));
      await assertPaddedParity(t, name, `${name} ${backend}`, { namesFilter: hooks, errors: everyHookErrors, minTensors: 6 });
    });
  }
}
