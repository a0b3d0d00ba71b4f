import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError } from '../../../lib/errors.js';
import { loadTokenizer, toStrTokens, HfTokenizer, ByteLevelBpeTokenizer } from '../../../lib/data/tokenizer.js';

const root = mkdtempSync(join(tmpdir(), 'tfjs-lens-hftok-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** GPT-2's bytes_to_unicode, written out independently of lib/data/gpt2-bpe.ts: [byte, char] in GPT-2 id order. */
function byteAlphabet(): [number, string][] {
  const bs: number[] = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const cs = [...bs];
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n++);
    }
  }
  return bs.map((b, i) => [b, String.fromCharCode(cs[i] as number)]);
}

// A tiny byte-level BPE: the 256 bytes (ids 0–255), merges Ġ+t → 256, h+e → 257, Ġt+he → 258, then specials.
const ALPHABET = byteAlphabet();
const VOCAB: Record<string, number> = Object.fromEntries(ALPHABET.map(([, c], id) => [c, id]));
VOCAB['Ġt'] = 256;
VOCAB['he'] = 257;
VOCAB['Ġthe'] = 258;
const MERGES = ['Ġ t', 'h e', 'Ġt he'];
const ID = (ch: string): number => VOCAB[ch] as number; // byte ids of ASCII letters: 't' = 0x74 − 0x21 = 83

const added = (id: number, content: string, special: boolean) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special });
const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };

function tinyTokenizerJson(addedTokens: object[], mergesAsPairs = false): object {
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: addedTokens,
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
    decoder: byteLevel,
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      vocab: { ...VOCAB, '<|endoftext|>': 259 },
      merges: mergesAsPairs ? MERGES.map((m) => m.split(' ')) : MERGES,
    },
  };
}

function writeDir(name: string, files: Record<string, string | object>): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  for (const [file, content] of Object.entries(files)) writeFileSync(join(dir, file), typeof content === 'string' ? content : JSON.stringify(content));
  return dir;
}

test('hand-made alphabet matches GPT-2 ids of space, newline and letters', () => {
  assert.equal(ID('Ġ'), 220);
  assert.equal(ID('Ċ'), 198);
  assert.equal(ID('t'), 83);
  assert.equal(ID('!'), 0);
});

for (const mergesAsPairs of [false, true]) {
  test(`tokenizer.json tiny byte-level BPE (merges as ${mergesAsPairs ? 'pairs' : 'strings'}) loads and encodes`, async () => {
    const dir = writeDir(`tiny-${mergesAsPairs}`, { 'tokenizer.json': tinyTokenizerJson([added(259, '<|endoftext|>', true)], mergesAsPairs) });
    const tok = await loadTokenizer(dir);
    assert.ok(tok instanceof HfTokenizer);
    assert.equal(tok.vocabSize, 260);
    assert.deepEqual(tok.encode(' the'), [258]);
    assert.deepEqual(tok.encode('the'), [ID('t'), 257]);
    assert.deepEqual(tok.encode(' th'), [256, ID('h')]);
    assert.deepEqual(tok.encode(' the<|endoftext|>the'), [258, 259, ID('t'), 257]);
    assert.deepEqual(tok.encode('é'), [ID('Ã'), ID('©')]); // U+00E9 = bytes C3 A9
    assert.equal(tok.idToToken(258), 'Ġthe');
    assert.equal(tok.tokenToId('Ġthe'), 258);
    assert.deepEqual(tok.specialTokens, { '<|endoftext|>': 259 });
    // No tokenizer_config.json: bos/eos guessed from the special <|endoftext|>, no pad.
    assert.equal(tok.bosTokenId, 259);
    assert.equal(tok.eosTokenId, 259);
    assert.equal(tok.padTokenId, undefined);
    for (const text of ['', ' the  the\n\tthe ', 'naïve 中文 👨‍👩‍👧 <|endoftext|> x  ', '   ']) {
      assert.equal(tok.decode(tok.encode(text)), text, JSON.stringify(text));
    }
    assert.deepEqual(toStrTokens(tok, tok.encode(' the<|endoftext|>é')), [' the', '<|endoftext|>', '\uFFFD', '\uFFFD']);
    assert.throws(() => tok.decode([260]), InvalidArgumentError);
    assert.throws(() => tok.idToToken(-1), InvalidArgumentError);
  });
}

test('Whisper-style added tokens resolve through specialTokens; bos/eos/pad from tokenizer_config.json', async () => {
  const addedTokens = [
    added(259, '<|endoftext|>', true),
    added(260, '<|startoftranscript|>', true),
    added(261, '<|en|>', true),
    added(262, '<|transcribe|>', true),
    added(263, '<|notimestamps|>', true),
    added(264, '<|0.00|>', false),
  ];
  const dir = writeDir('whisperish', {
    'tokenizer.json': tinyTokenizerJson(addedTokens),
    'tokenizer_config.json': {
      bos_token: { content: '<|endoftext|>', lstrip: false, normalized: true, rstrip: false, single_word: false, __type: 'AddedToken' },
      eos_token: '<|endoftext|>',
      pad_token: '<|endoftext|>',
      unk_token: '<|endoftext|>',
    },
  });
  const tok = await loadTokenizer(dir);
  assert.equal(tok.vocabSize, 265);
  assert.equal(tok.specialTokens['<|startoftranscript|>'], 260);
  assert.equal(tok.specialTokens['<|en|>'], 261);
  assert.equal(tok.specialTokens['<|transcribe|>'], 262);
  assert.equal(tok.specialTokens['<|notimestamps|>'], 263);
  assert.equal(tok.specialTokens['<|endoftext|>'], 259);
  assert.equal(tok.specialTokens['<|0.00|>'], undefined, 'timestamps are added tokens, not special');
  assert.equal(tok.tokenToId('<|0.00|>'), 264);
  assert.equal(tok.bosTokenId, 259);
  assert.equal(tok.eosTokenId, 259);
  assert.equal(tok.padTokenId, 259);
  const prompt = '<|startoftranscript|><|en|><|transcribe|><|notimestamps|> the<|0.00|>';
  const ids = tok.encode(prompt);
  assert.deepEqual(ids, [260, 261, 262, 263, 258, 264]);
  assert.equal(tok.decode(ids), prompt);
  assert.equal(tok.idToToken(260), '<|startoftranscript|>');
});

test('vocab.json + merges.txt build our byte-level BPE with the same ids as tokenizer.json', async () => {
  const json = tinyTokenizerJson([added(259, '<|endoftext|>', true)]);
  const vocabDir = writeDir('vocab-merges', {
    'vocab.json': { ...VOCAB, '<|endoftext|>': 259 },
    'merges.txt': `#version: 0.2\n${MERGES.join('\n')}\n`,
    'special_tokens_map.json': { bos_token: '<|endoftext|>', eos_token: '<|endoftext|>', unk_token: '<|endoftext|>' },
  });
  const jsonDir = writeDir('json-only', { 'tokenizer.json': json });
  const ours = await loadTokenizer(vocabDir);
  const hf = await loadTokenizer(jsonDir);
  assert.ok(ours instanceof ByteLevelBpeTokenizer);
  assert.equal(ours.vocabSize, 260);
  assert.deepEqual(ours.specialTokens, { '<|endoftext|>': 259 });
  assert.equal(ours.bosTokenId, 259);
  assert.equal(ours.idToToken(258), 'Ġthe');
  assert.equal(ours.tokenToId('he'), 257);
  const texts = [' the the<|endoftext|>theme', 'there  the\n\tthe', 'héllo 中文 👨‍👩‍👧 ', ` ${'the'.repeat(40)} ${' '.repeat(70)}x`];
  for (const text of texts) {
    const ids = ours.encode(text);
    assert.deepEqual(ids, hf.encode(text), JSON.stringify(text));
    assert.equal(ours.decode(ids), text);
  }
  assert.deepEqual(ours.encode(' the<|endoftext|>'), [258, 259]);
});

test('vocab.json + merges.txt with added_tokens.json: Whisper-style specials', async () => {
  const dir = writeDir('vocab-merges-added', {
    'vocab.json': { ...VOCAB, '<|endoftext|>': 259 },
    'merges.txt': `#version: 0.2\n${MERGES.join('\n')}\n`,
    'added_tokens.json': { '<|startoftranscript|>': 260, '<|en|>': 261 },
    'special_tokens_map.json': { bos_token: '<|endoftext|>', eos_token: '<|endoftext|>', pad_token: '<|endoftext|>', additional_special_tokens: ['<|startoftranscript|>', '<|en|>'] },
  });
  const tok = await loadTokenizer(dir);
  assert.equal(tok.vocabSize, 262);
  assert.deepEqual(tok.specialTokens, { '<|endoftext|>': 259, '<|startoftranscript|>': 260, '<|en|>': 261 });
  assert.equal(tok.padTokenId, 259);
  assert.deepEqual(tok.encode('<|startoftranscript|><|en|> the'), [260, 261, 258]);
  assert.equal(tok.decode([260, 261, 258]), '<|startoftranscript|><|en|> the');
});
