import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TokenizerError, InvalidArgumentError } from '../../../lib/errors.js';
import { loadTokenizer, toStrTokens, Gpt2Tokenizer } from '../../../lib/data/tokenizer.js';

// Strings whose tokenisation is easy to get wrong; every one must survive encode → decode unchanged.
const TRICKY = [
  '',
  'Hello world',
  ' leading space',
  'trailing space ',
  'multiple   spaces   inside',
  '   ',
  '\n',
  'line one\nline two\n\nline four\r\nwindows',
  '\ttabs\tand\t\tmore tabs\t',
  ' \t \n mixed whitespace \n\t ',
  'naïve café résumé Ångström',
  'e\u0301 (combining acute) vs \u00e9 (precomposed)',
  '中文分词很难 日本語のテキスト 한국어',
  'emoji 😀 and 🇫🇷 flags',
  'family 👨‍👩‍👧‍👦 and 🏳️‍🌈 ZWJ sequences',
  'math ∑∫√ and arrows → ⇒',
  "don't it's we'll I'm they've you'd she's",
  'numbers 1234567890 3.14159 -42 1e10',
  'code: if (x != y) { return a[i] + b->c; }',
  'text<|endoftext|>more text',
  '<|endoftext|><|endoftext|>',
  'a <|endoftext|> b',
  '\u0000 nul and \u007f del and \u00ad soft hyphen',
  '\ufeffBOM at start',
];

test('GPT-2 fallback: known GPT-2 ids', async () => {
  const tok = await loadTokenizer(undefined, { fallback: 'gpt2' });
  assert.ok(tok instanceof Gpt2Tokenizer);
  assert.equal(tok.vocabSize, 50257);
  assert.deepEqual(tok.encode('Hello world'), [15496, 995]);
  assert.deepEqual(tok.encode(' the'), [262]);
  assert.deepEqual(tok.encode('The'), [464]);
  assert.deepEqual(tok.encode('!'), [0]);
  assert.deepEqual(tok.encode('\n'), [198]);
  assert.deepEqual(tok.encode('<|endoftext|>'), [50256]);
  assert.equal(tok.bosTokenId, 50256);
  assert.equal(tok.eosTokenId, 50256);
  assert.equal(tok.padTokenId, undefined);
  assert.deepEqual(tok.specialTokens, { '<|endoftext|>': 50256 });
  assert.equal(tok.idToToken(262), 'Ġthe');
  assert.equal(tok.idToToken(198), 'Ċ');
  assert.equal(tok.idToToken(220), 'Ġ');
  assert.equal(tok.idToToken(50256), '<|endoftext|>');
  assert.equal(tok.tokenToId('Ġthe'), 262);
  assert.equal(tok.tokenToId('Hello'), 15496);
  assert.equal(tok.tokenToId('<|endoftext|>'), 50256);
  assert.equal(tok.tokenToId('no such token at all'), undefined);
});

test('GPT-2 fallback: tricky text round-trips', async () => {
  const tok = await loadTokenizer(undefined, { fallback: 'gpt2' });
  for (const text of TRICKY) {
    const ids = tok.encode(text);
    for (const id of ids) assert.ok(Number.isInteger(id) && id >= 0 && id < tok.vocabSize, `id ${id} of ${JSON.stringify(text)}`);
    assert.equal(tok.decode(ids), text, `round trip of ${JSON.stringify(text)}`);
  }
  // <|endoftext|> inside text becomes the single special id, with the text around it tokenised as usual.
  assert.deepEqual(tok.encode('Hello world<|endoftext|>Hello world'), [15496, 995, 50256, 15496, 995]);
  assert.deepEqual(tok.encode('<|endoftext|><|endoftext|>'), [50256, 50256]);
  assert.deepEqual(tok.encode('a<|endoftext|> <|endoftext|>b'), [64, 50256, 220, 50256, 65]);
  // Whitespace runs: GPT-2 keeps a run's last space for the next word.
  assert.deepEqual(tok.encode('  the'), [220, 262]);
});

test('GPT-2 fallback: toStrTokens decodes each id alone', async () => {
  const tok = await loadTokenizer(undefined, { fallback: 'gpt2' });
  assert.deepEqual(toStrTokens(tok, tok.encode('Hello world, the end')), ['Hello', ' world', ',', ' the', ' end']);
  assert.deepEqual(toStrTokens(tok, [50256, 262]), ['<|endoftext|>', ' the']);
  // A character split over several byte tokens shows as U+FFFD pieces, while the whole still decodes.
  const ids = tok.encode('😀');
  assert.ok(ids.length > 1);
  for (const piece of toStrTokens(tok, ids)) assert.match(piece, /^\uFFFD+$/);
  assert.equal(tok.decode(ids), '😀');
  // A partial character does not leak into the next decode.
  assert.equal(tok.decode([ids[0] as number]), '\uFFFD');
  assert.equal(tok.decode([262]), ' the');
});

test('GPT-2 fallback: unknown ids throw InvalidArgumentError', async () => {
  const tok = await loadTokenizer(undefined, { fallback: 'gpt2' });
  assert.throws(() => tok.decode([50257]), InvalidArgumentError);
  assert.throws(() => tok.decode([-1]), InvalidArgumentError);
  assert.throws(() => tok.decode([1.5]), InvalidArgumentError);
  assert.throws(() => tok.idToToken(99999), InvalidArgumentError);
  assert.equal(tok.decode([]), '');
});

test('loadTokenizer: no tokenizer files and no fallback throws TokenizerError', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tfjs-lens-tok-'));
  try {
    await assert.rejects(loadTokenizer(dir), (err: unknown) => err instanceof TokenizerError && err.code === 'E_TOKENIZER' && err.message.includes(dir));
    await assert.rejects(loadTokenizer(undefined), TokenizerError);
    // vocab.json alone is not enough: the fallback is used.
    writeFileSync(join(dir, 'vocab.json'), '{"a": 0}');
    const tok = await loadTokenizer(dir, { fallback: 'gpt2' });
    assert.deepEqual(tok.encode('Hello world'), [15496, 995]);
    // A malformed tokenizer.json is reported with its path.
    writeFileSync(join(dir, 'tokenizer.json'), '{not json');
    await assert.rejects(loadTokenizer(dir, { fallback: 'gpt2' }), (err: unknown) => err instanceof TokenizerError && err.message.includes('tokenizer.json'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
