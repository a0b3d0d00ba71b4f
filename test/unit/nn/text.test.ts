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

test('Whisper toTokens: the decoder prompt, then the transcript; checked, never truncated', async () => {
  await setBackend(testBackend('wasm'));
  const whisper = await loadModel(fixtureDir('whisper-tiny'), { modelType: 'whisper' });
  whisper.tokenizer = undefined;
  assert.throws(() => whisper.toTokens('cab'), InvalidArgumentError);
  whisper.tokenizer = chars as never;
  const start = whisper.cfg.decoderStartTokenId;
  assert.deepEqual(whisper.toTokens('cab'), [[start, 3, 1, 2]]);
  assert.deepEqual(whisper.toTokens(['ab', 'ba'], { prefix: [7, 8] }), [[7, 8, 1, 2], [7, 8, 2, 1]]);
  assert.deepEqual(whisper.decode(whisper.toTokens('cab')[0]!.slice(1)), 'cab');
  assert.throws(() => whisper.toTokens(['ab', 'abc']), /different lengths/);
  assert.throws(() => whisper.toTokens([]), InvalidArgumentError);
  assert.throws(() => whisper.toTokens('a', { prefix: [whisper.cfg.dVocab] }), /outside the vocabulary/);
  const tooLong = 'a'.repeat(whisper.cfg.maxTargetPositions);
  assert.throws(() => whisper.toTokens(tooLong), /max_target_positions/);
  // The ids run: the decoder accepts them as decoderInputIds.
  const feats = { data: new Float32Array(whisper.cfg.nMels * 2 * whisper.cfg.maxSourcePositions), shape: [1, whisper.cfg.nMels, 2 * whisper.cfg.maxSourcePositions] as [number, number, number] };
  const logits = await whisper.forward({ inputFeatures: feats, decoderInputIds: whisper.toTokens('cab') });
  assert.deepEqual(logits.shape, [1, 4, whisper.cfg.dVocab]);
  logits.dispose();
  whisper.dispose();
});
