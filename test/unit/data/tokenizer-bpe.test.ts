// Our byte-level BPE encoder (used for vocab.json + merges.txt) against an independent encoder of the same
// vocabulary: gpt-tokenizer's tiktoken-style r50k_base (GPT-2). GPT-2's merge list is rebuilt from the rank table.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import ranks from 'gpt-tokenizer/bpeRanks/r50k_base';
import { encode as gptTokenizerEncode } from 'gpt-tokenizer/encoding/r50k_base';
import { ByteLevelBpeTokenizer, BYTE_TO_CHAR, bytesToTokenString, gpt2PreTokenize } from '../../../lib/data/gpt2-bpe.js';

const utf8 = new TextEncoder();

/** Rebuilds BPE merges from tiktoken ranks: each token of rank r splits into the two parts BPE with ranks < r leaves. */
function mergesFromRanks(tokens: readonly string[]): string[] {
  const rank = new Map(tokens.map((t, i) => [t, i]));
  const merges: string[] = [];
  for (let r = 256; r < tokens.length; r++) {
    const parts = [...(tokens[r] as string)];
    while (parts.length > 2) {
      let best = Infinity;
      let at = -1;
      for (let i = 0; i + 1 < parts.length; i++) {
        const k = rank.get((parts[i] as string) + (parts[i + 1] as string));
        if (k !== undefined && k < best) [best, at] = [k, i];
      }
      assert.ok(at >= 0, `token ${r} cannot be built from smaller tokens`);
      parts.splice(at, 2, (parts[at] as string) + (parts[at + 1] as string));
    }
    merges.push(`${parts[0]} ${parts[1]}`);
  }
  return merges;
}

const tokens = ranks.map((r) => bytesToTokenString(typeof r === 'string' ? utf8.encode(r) : Uint8Array.from(r)));
const merges = mergesFromRanks(tokens);
const vocab = new Map(tokens.map((t, id) => [t, id]));
vocab.set('<|endoftext|>', 50256);
const ours = new ByteLevelBpeTokenizer({ vocab, merges, specialTokens: { '<|endoftext|>': 50256 } });

test('GPT-2 merges rebuilt from r50k ranks: 50000 merges, first ones as in merges.txt', () => {
  assert.equal(merges.length, 50000);
  assert.deepEqual(merges.slice(0, 2), ['Ġ t', 'Ġ a']);
  // ids 0–255 are the bytes in bytes_to_unicode order.
  for (let b = 0; b < 256; b++) assert.ok(vocab.get(BYTE_TO_CHAR[b] as string)! < 256);
});

test('pre-tokenizer splits like GPT-2', () => {
  assert.deepEqual(gpt2PreTokenize("I'm  here,\n\n  ok 123!!"), ['I', "'m", ' ', ' here', ',', '\n\n ', ' ok', ' 123', '!!']);
});

test('our byte-level BPE gives the ids of gpt-tokenizer r50k_base', () => {
  const texts = [
    'Hello world',
    "don't stop   believing\n\n\tmulti  space",
    'naïve café 中文分词 日本語 한국어 👨‍👩‍👧‍👦 🏳️‍🌈 🇫🇷',
    'x<|endoftext|>y <|endoftext|>',
    'a'.repeat(300), // long pieces take the heap path
    ' ' + 'abcdefghij'.repeat(30),
    ' '.repeat(200) + 'x',
    '1234567890'.repeat(20),
    '中文'.repeat(60),
    '🙂'.repeat(40),
    '=-'.repeat(100),
  ];
  const require = createRequire(import.meta.url);
  for (const pkg of ['@huggingface/tokenizers', 'gpt-tokenizer']) {
    texts.push(readFileSync(join(dirname(require.resolve(pkg)), '..', 'README.md'), 'utf8').slice(0, 30000));
  }
  // Reference: <|endoftext|> cut out by hand (gpt-tokenizer 4.0.0 misses repeated special tokens), the rest by gpt-tokenizer.
  const reference = (text: string): number[] =>
    text.split('<|endoftext|>').flatMap((piece, i) => [...(i > 0 ? [50256] : []), ...gptTokenizerEncode(piece)]);
  for (const text of texts) {
    const ids = ours.encode(text);
    assert.deepEqual(ids, reference(text), JSON.stringify(text.slice(0, 40)));
    assert.equal(ours.decode(ids), text);
  }
  assert.deepEqual(ours.encode('Hello world'), [15496, 995]);
});
