import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setBackend } from '../../../lib/backend/index.js';
import { loadModel } from '../../../lib/nn/load.js';
import { InvalidArgumentError } from '../../../lib/errors.js';
import { fixtureDir } from '../../helpers/fixtures.js';
import { testBackend } from '../../helpers/backend.js';

/** A character tokenizer: 'a' → 1, 'b' → 2, … */
const chars = {
  encode: (text: string) => [...text].map((c) => c.charCodeAt(0) - 96),
  decode: (ids: readonly number[]) => ids.map((i) => String.fromCharCode(i + 96)).join(''),
};

test('language models decode ids (decode), split text into token strings and tokenise text (toTokens)', async () => {
  await setBackend(testBackend('wasm'));
  const gpt2 = await loadModel(fixtureDir('gpt2-tiny'), { modelType: 'gpt2', gpt2TokenizerFallback: false });
  const bert = await loadModel(fixtureDir('bert-tiny'), { modelType: 'bert' });
  for (const model of [gpt2, bert]) {
    model.tokenizer = undefined;
    assert.throws(() => model.decode([1]), InvalidArgumentError);
    model.tokenizer = chars;
    assert.equal(model.decode([3, 1, 2]), 'cab');
    assert.equal(model.toString([3, 1, 2]), 'cab');
    assert.match(model.toString(), /^Hooked(GPT2|Bert)\(/);
    assert.deepEqual(model.toStrTokens('cab'), ['c', 'a', 'b']);
  }
  const ids = gpt2.toTokens('cab');
  assert.deepEqual(await ids.inputIds.array(), [[3, 1, 2]]);
  ids.owned.forEach((t) => t.dispose());
  const rows = bert.toTokens(['cab', 'a']);
  assert.deepEqual(await rows.inputIds.array(), [[3, 1, 2], [1, bert.cfg.padTokenId, bert.cfg.padTokenId]]);
  assert.deepEqual(await rows.attentionMask!.array(), [[1, 1, 1], [1, 0, 0]]);
  rows.owned.forEach((t) => t.dispose());
  gpt2.dispose();
  bert.dispose();
});
