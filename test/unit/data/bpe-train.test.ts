import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tokenizer as HfTokenizerCore } from '@huggingface/tokenizers';
import { InvalidArgumentError } from '../../../lib/errors.js';
import { trainByteLevelBpe, writeTokenizerJson, type TrainedBpe } from '../../../lib/data/bpe-train.js';
import { BYTE_TO_CHAR, gpt2PreTokenize } from '../../../lib/data/gpt2-bpe.js';
import { loadTokenizer, loadVocabMergesTokenizer, HfTokenizer, ByteLevelBpeTokenizer } from '../../../lib/data/tokenizer.js';

const root = mkdtempSync(join(tmpdir(), 'tfjs-lens-bpe-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** A small deterministic corpus with repeated words, punctuation, numbers, whitespace runs and some non-ASCII. */
function corpus(lines: number): string[] {
  const words = ['the', 'cat', 'sat', 'on', 'mat', 'token', 'tokens', 'tokenizer', 'lens', 'logit', 'layer', 'attention', 'héllo', 'naïve', '数据', 'don\'t', 'it\'s', '42', '2024'];
  const syllables = ['ka', 'ri', 'mon', 'tel', 'vo', 'stra', 'qui', 'ne', 'bel', 'dor', 'ix', 'lum', 'pa', 'zen', 'ost'];
  let seed = 7;
  const rand = (): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const out: string[] = [];
  for (let l = 0; l < lines; l++) {
    const n = 3 + Math.floor(rand() * 10);
    const parts: string[] = [];
    for (let i = 0; i < n; i++) {
      if (rand() < 0.5) parts.push(words[Math.floor(rand() * words.length)] as string);
      else {
        let word = '';
        for (let k = 1 + Math.floor(rand() * 3); k > 0; k--) word += syllables[Math.floor(rand() * syllables.length)] as string;
        parts.push(word);
      }
    }
    out.push(`${parts.join(rand() < 0.2 ? '  ' : ' ')}${rand() < 0.5 ? '.' : ','}\n${rand() < 0.1 ? '\t' : ''}`);
  }
  return out;
}

/** Naive reference trainer: recounts every pair over every word before each merge (no incremental updates). */
function naiveTrain(texts: string[], numTokens: number, minFrequency: number): string[] {
  const counts = new Map<string, number>();
  for (const text of texts) {
    for (const piece of text.split('<|endoftext|>')) for (const w of gpt2PreTokenize(piece)) counts.set(w, (counts.get(w) ?? 0) + 1);
  }
  const words = [...counts].map(([w, c]) => ({ symbols: [...new TextEncoder().encode(w)].map((b) => BYTE_TO_CHAR[b] as string), count: c }));
  const vocab = new Set(BYTE_TO_CHAR);
  const merges: string[] = [];
  while (vocab.size < numTokens) {
    const pairs = new Map<string, { left: string; right: string; count: number }>();
    for (const { symbols, count } of words) {
      for (let i = 0; i + 1 < symbols.length; i++) {
        const key = `${symbols[i]}\u0000${symbols[i + 1]}`;
        const entry = pairs.get(key) ?? { left: symbols[i] as string, right: symbols[i + 1] as string, count: 0 };
        entry.count += count;
        pairs.set(key, entry);
      }
    }
    let best: { left: string; right: string; count: number } | undefined;
    for (const p of pairs.values()) {
      if (!best || p.count > best.count || (p.count === best.count && (p.left < best.left || (p.left === best.left && p.right < best.right)))) best = p;
    }
    if (!best || best.count < minFrequency) break;
    const { left, right } = best;
    merges.push(`${left} ${right}`);
    vocab.add(left + right);
    for (const word of words) {
      const next: string[] = [];
      for (let i = 0; i < word.symbols.length; i++) {
        if (i + 1 < word.symbols.length && word.symbols[i] === left && word.symbols[i + 1] === right) {
          next.push(left + right);
          i++;
        } else next.push(word.symbols[i] as string);
      }
      word.symbols = next;
    }
  }
  return merges;
}

test('hand-checked merges: most frequent pair first, then stop below minFrequency', () => {
  // Pieces: 'ab', ' ab' ×3, 'abc'. (a,b) occurs 5×, then (Ġ,ab) 3×, then (ab,c) only once.
  const trained = trainByteLevelBpe(['ab ab ab ab', 'abc'], { vocabSize: 1000 });
  assert.deepEqual(trained.merges, ['a b', 'Ġ ab']);
  assert.equal(trained.vocab['ab'], 256);
  assert.equal(trained.vocab['Ġab'], 257);
  assert.equal(trained.vocab['<|endoftext|>'], 258);
  assert.equal(Object.keys(trained.vocab).length, 259);
  assert.deepEqual(trained.specialTokens, ['<|endoftext|>']);
  // Ids 0–255: the bytes in GPT-2's order ('!' = 0, 'Ġ' (space) = 220).
  assert.equal(trained.vocab['!'], 0);
  assert.equal(trained.vocab['Ġ'], 220);
});

test('ties in frequency go to the lexicographically smallest pair', () => {
  // Pieces 'xy' and ' zw': every pair occurs once; 'x' < 'z' < 'Ġ' (U+0120).
  const trained = trainByteLevelBpe(['xy zw'], { vocabSize: 1000, minFrequency: 1, specialTokens: [] });
  assert.deepEqual(trained.merges, ['x y', 'z w', 'Ġ zw']);
});

test('vocabSize caps the vocabulary; special tokens take the last ids', () => {
  const trained = trainByteLevelBpe(corpus(200), { vocabSize: 256 + 10 + 2, specialTokens: ['<|endoftext|>', '<|pad|>'] });
  assert.equal(trained.merges.length, 10);
  assert.equal(Object.keys(trained.vocab).length, 268);
  assert.deepEqual([trained.vocab['<|endoftext|>'], trained.vocab['<|pad|>']], [266, 267]);
  assert.deepEqual(
    Object.values(trained.vocab).sort((a, b) => a - b),
    Array.from({ length: 268 }, (_, i) => i),
  );
  assert.throws(() => trainByteLevelBpe(['x'], { vocabSize: 256 }), InvalidArgumentError);
});

test('incremental counts give the same merges as a naive recount', () => {
  const texts = [...corpus(300), 'end<|endoftext|>start', 'aaaaaaa bbbb aaaa'];
  const trained = trainByteLevelBpe(texts, { vocabSize: 256 + 150 + 1 });
  assert.deepEqual(trained.merges, naiveTrain(texts, 256 + 150, 2));
  assert.ok(!trained.merges.some((m) => m.includes('endoftext|')), 'special tokens are not learned');
});

let written: { dir: string; trained: TrainedBpe; texts: string[] } | undefined;
function trainedDir(): { dir: string; trained: TrainedBpe; texts: string[] } {
  if (written) return written;
  const texts = corpus(400);
  const trained = trainByteLevelBpe(texts, { vocabSize: 256 + 200 + 1, specialTokens: ['<|endoftext|>'] });
  const dir = join(root, 'trained');
  writeTokenizerJson(dir, trained);
  written = { dir, trained, texts };
  return written;
}

test('merges reduce the token count; training and unseen text round-trip', async () => {
  const { dir, texts } = trainedDir();
  const tok = await loadTokenizer(dir);
  assert.ok(tok instanceof HfTokenizer);
  assert.equal(tok.vocabSize, 457);
  assert.deepEqual(tok.specialTokens, { '<|endoftext|>': 456 });
  assert.equal(tok.bosTokenId, 456);
  const text = texts.join('');
  const ids = tok.encode(text);
  const bytes = new TextEncoder().encode(text).length;
  assert.ok(ids.length < bytes / 2, `${ids.length} tokens for ${bytes} bytes`);
  assert.equal(tok.decode(ids), text);
  const unseen = ['Zebras 🦓 quietly jumped — 中文 ✓, ünïcödé, 𝔘𝔫𝔦𝔠𝔬𝔡𝔢!\n\n\t  ', 'token<|endoftext|>lens', ' '.repeat(9), ''];
  for (const s of unseen) assert.equal(tok.decode(tok.encode(s)), s, JSON.stringify(s));
  assert.deepEqual(tok.encode('<|endoftext|>'), [456]);
});

test('our encoder and @huggingface/tokenizers agree on the written tokenizer.json', () => {
  const { dir, texts } = trainedDir();
  const json = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8'));
  assert.equal(json.model.type, 'BPE');
  assert.deepEqual(json.pre_tokenizer, { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true });
  assert.equal(json.decoder.type, 'ByteLevel');
  assert.deepEqual(json.added_tokens.map((t: { content: string; id: number; special: boolean }) => [t.content, t.id, t.special]), [['<|endoftext|>', 456, true]]);
  const hf = new HfTokenizerCore(json, {});
  const ours = loadVocabMergesTokenizer(dir);
  assert.ok(ours instanceof ByteLevelBpeTokenizer);
  const samples = [...texts.slice(0, 50), 'Zebras 🦓 quietly jumped — 中文 ✓ ünïcödé<|endoftext|>the  cat\n', `${'tokenizer'.repeat(12)} ${' '.repeat(60)}.`];
  for (const s of samples) {
    const ids = ours.encode(s);
    assert.deepEqual(ids, hf.encode(s, { add_special_tokens: false }).ids, JSON.stringify(s));
    assert.equal(ours.decode(ids), s);
  }
  // vocab.json and merges.txt hold the same vocabulary and merges.
  assert.deepEqual(JSON.parse(readFileSync(join(dir, 'vocab.json'), 'utf8')), json.model.vocab);
  const mergeLines = readFileSync(join(dir, 'merges.txt'), 'utf8').split('\n');
  assert.equal(mergeLines[0], '#version: 0.2');
  assert.deepEqual(mergeLines.slice(1, -1), json.model.merges);
});
