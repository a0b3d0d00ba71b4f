/**
 * Text input of a Llama-family checkpoint: `loadModel` attaches the checkpoint's tokenizer.json (llama-tiny's tiny
 * BPE with a Metaspace pre-tokenizer, scripts/fixtures/make_llama_fixtures.py), and `toTokens`, `toStrTokens` and
 * `decode` give what the tokenizers library gives (tokens.json); BOS comes from config.json when asked.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { setBackend } from '../../../lib/backend/index.js';
import { loadModel } from '../../../lib/nn/load.js';
import { fixtureDir } from '../../helpers/fixtures.js';
import { testBackend } from '../../helpers/backend.js';

interface Ref {
  text: string;
  ids: number[];
  strTokens: string[];
  decoded: string;
}

test('llama-tiny: toTokens / toStrTokens / decode through tokenizer.json equal the tokenizers library', async () => {
  await setBackend(testBackend('wasm'));
  const refs = JSON.parse(readFileSync(join(fixtureDir('llama-tiny'), 'tokens.json'), 'utf8')) as Ref[];
  const model = await loadModel(fixtureDir('llama-tiny'), { modelType: 'llama' });
  assert.ok(model.tokenizer, 'the tokenizer was attached');
  for (const ref of refs) {
    const prepared = model.toTokens(ref.text);
    assert.deepEqual(Array.from(await prepared.inputIds.data()), ref.ids);
    tf.dispose(prepared.owned);
    const withBos = model.toTokens(ref.text, { prependBos: true });
    assert.deepEqual(Array.from(await withBos.inputIds.data()), [1, ...ref.ids]);
    tf.dispose(withBos.owned);
    assert.deepEqual(model.toStrTokens(ref.text), ref.strTokens);
    assert.equal(model.decode(ref.ids), ref.decoded);
  }
  // Text runs end to end: the forward on text equals the forward on its ids.
  const [a, b] = [await model.forward(refs[0]!.text), await model.forward([refs[0]!.ids])];
  assert.deepEqual(await a.data(), await b.data());
  tf.dispose([a, b]);
  model.dispose();
});
