/**
 * The tokenizer.json layouts of Pythia (GPT-NeoX byte-level BPE: NFC, whitespace-run added tokens) and Gemma
 * (SentencePiece-style BPE: '▁' normalizer, byte fallback, fused unk) through `loadTokenizer`, against Hugging Face
 * `tokenizers` 0.23.2's own encode/decode of 258 strings each (scripts/fixtures/make_tokenizer_fixtures.py): 200
 * sentences and edge cases with Unicode in NFC and NFD, whitespace runs, digits, emoji, control and private-use
 * characters, and special-token text.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HfTokenizer, loadTokenizer, toStrTokens } from '../../../lib/data/tokenizer.js';
import { ROOT } from '../../helpers/fixtures.js';

interface Case {
  text: string;
  ids: number[];
  decoded: string;
}

const dirOf = (name: string): string => join(ROOT, 'test', 'fixtures', 'tokenizers', name);

function casesOf(name: string): Case[] {
  return JSON.parse(readFileSync(join(dirOf(name), 'cases.json'), 'utf8')) as Case[];
}

/**
 * Loads fixture `name` through `loadTokenizer` and checks every case: our ids equal `tokenizers`' ids, and our
 * decoding of its ids equals its decoding; bos/eos/pad resolve to `roles`.
 */
async function loadMatchingReference(name: string, roles: [number, number, number]): Promise<{ tok: HfTokenizer; cases: Case[] }> {
  const tok = await loadTokenizer(dirOf(name));
  assert.ok(tok instanceof HfTokenizer);
  const cases = casesOf(name);
  assert.equal(cases.length, 258);
  for (const c of cases) {
    assert.deepEqual(tok.encode(c.text), c.ids, `encode ${JSON.stringify(c.text)}`);
    assert.equal(tok.decode(c.ids), c.decoded, `decode of ${JSON.stringify(c.text)}`);
  }
  assert.deepEqual([tok.bosTokenId, tok.eosTokenId, tok.padTokenId], roles);
  return { tok, cases };
}

test('Pythia / GPT-NeoX tokenizer.json: ids and decodings equal tokenizers\' on 258 strings; NFC, whitespace-run tokens and special-token text as HF', async () => {
  const { tok, cases } = await loadMatchingReference('pythia-bpe', [0, 0, 1]);
  // What the cases exercise: the added whitespace runs (ids 1195–1199, 24 … 2 spaces), a special token inside text,
  // and NFC (decomposed accents come back composed).
  const spaces = [24, 8, 4, 3, 2].map((n) => tok.tokenToId(' '.repeat(n)));
  assert.deepEqual(spaces, [1195, 1196, 1197, 1198, 1199]);
  assert.ok(cases.filter((c) => c.ids.some((id) => id >= 1195)).length >= 3, 'cases with whitespace-run tokens');
  const inText = cases.find((c) => c.text === 'text before<|endoftext|>text after')!;
  assert.ok(inText.ids.includes(0) && tok.encode(inText.text).includes(0));
  const nfd = cases.find((c) => c.text.startsWith('cafe\u0301'))!;
  assert.equal(tok.decode(tok.encode(nfd.text)), nfd.text.normalize('NFC'));
  // Every byte has a token: a lone piece of an emoji decodes to U+FFFD, the whole emoji comes back.
  const emoji = tok.encode('🌍');
  assert.ok(emoji.length > 1 && toStrTokens(tok, emoji).every((s) => s === '\uFFFD'));
  assert.equal(tok.decode(emoji), '🌍');
});

test('Gemma tokenizer.json: ids and decodings equal tokenizers\' on 258 strings; rare characters fall back to byte tokens, specials as HF', async () => {
  const { tok, cases } = await loadMatchingReference('gemma-bpe', [2, 1, 0]);
  assert.deepEqual(tok.specialTokens, { '<pad>': 0, '<eos>': 1, '<bos>': 2, '<unk>': 3 });
  // Byte fallback: characters outside the trained alphabet become <0xNN> tokens (ids 4 + byte), which decode back.
  const isByte = (id: number): boolean => id >= 4 && id <= 259;
  assert.ok(cases.filter((c) => c.ids.some(isByte)).length >= 20, 'cases with byte-fallback tokens');
  const euro = tok.encode('€');
  assert.deepEqual(euro, [...new TextEncoder().encode('€')].map((b) => 4 + b));
  assert.equal(tok.idToToken(euro[0]!), '<0xE2>');
  assert.equal(tok.decode(euro), '€');
  // No unk: with byte fallback every string is covered (the unk id appears only where the text spells '<unk>').
  assert.ok(cases.every((c) => c.ids.includes(3) === c.text.includes('<unk>')));
  // Spaces are '▁' in the vocabulary and come back as spaces; a literal '▁' in the text decodes to a space too (as HF).
  assert.equal(tok.decode(tok.encode(' hello  world ')), ' hello  world ');
  const literal = cases.find((c) => c.text.startsWith('▁ a literal'))!;
  assert.equal(literal.decoded, literal.text.replaceAll('▁', ' '));
  assert.deepEqual(tok.encode('a <bos> b').filter((id) => id === 2), [2]);
});
