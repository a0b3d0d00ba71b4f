/**
 * Llama-family parity on a left-padded batch with its attention mask (scripts/fixtures/make_llama_fixtures.py): every
 * stored hook and the logits at every real position within PARITY_TOL. The fixtures' full parity (every hook on GQA
 * ratios 1, 2 and 4, llama3 / linear / yarn rope, Mistral's sliding window, Qwen2's biases, tied and untied
 * embeddings, F16 and sharded BF16 weights) runs in models.test.ts with the other model fixtures.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { setBackend } from '../../lib/backend/index.js';
import { loadModel } from '../../lib/nn/load.js';
import { HookedLlama } from '../../lib/nn/llama.js';
import { readAllSafetensors } from '../../lib/io/safetensors.js';
import { PARITY_TOL } from '../helpers/parity.js';
import { fixtureDir, intRows, realRows, relError } from '../helpers/fixtures.js';
import { testBackends } from '../helpers/backend.js';

for (const name of ['llama-tiny', 'mistral-tiny'] as const) {
  for (const backend of testBackends(['wasm', 'cpu'] as const)) {
    test(`${name}: a left-padded batch matches HF at every real position (rotary positions restart at the first real token) (${backend})`, async (t) => {
      await setBackend(backend);
      const ref = await readAllSafetensors(join(fixtureDir(name), 'padded.safetensors'));
      const model = await loadModel(fixtureDir(name));
      assert.ok(model instanceof HookedLlama);
      const rows = (key: string) => intRows(ref.get(key)!);
      const mask = rows('attention_mask');
      const before = tf.memory().numTensors;
      const compared = [...ref.keys()].filter((k) => k === 'logits' || k.includes('.hook_'));
      const { output, cache } = await model.runWithCache({ inputIds: rows('input_ids'), attentionMask: mask }, { namesFilter: compared.filter((k) => k !== 'logits') });
      const errors: Record<string, number> = {};
      for (const key of compared) {
        const ours = key === 'logits' ? output : cache.get(key);
        const inner = ours.size / (mask.length * mask[0]!.length);
        errors[key] = relError(realRows(await ours.data(), mask, inner), realRows(ref.get(key)!.data, mask, inner));
      }
      output.dispose();
      cache.dispose();
      assert.equal(tf.memory().numTensors, before, 'the padded run leaked tensors');
      const worst = Object.entries(errors).sort((a, b) => b[1] - a[1])[0]!;
      t.diagnostic(`padded ${name} ${backend}: worst rel err ${worst[1].toExponential(2)} at ${worst[0]} (${compared.length} tensors, real positions only)`);
      assert.ok(compared.length > 5 && worst[1] <= PARITY_TOL, `worst ${worst[0]} ${worst[1]}`);
      // Without the mask the padded row is another sequence: the reference is missed.
      const unmasked = await model.forward(rows('input_ids'));
      const V = unmasked.shape[2]!;
      const err = relError(realRows(await unmasked.data(), mask, V), realRows(ref.get('logits')!.data, mask, V));
      unmasked.dispose();
      assert.ok(err > 100 * PARITY_TOL, `without the mask: ${err}`);
      model.dispose();
    });
  }
}
