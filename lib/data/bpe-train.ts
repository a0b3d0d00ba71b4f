/**
 * Byte-level BPE training, GPT-2 style: text is split with GPT-2's pre-tokenisation regex, every piece becomes its
 * UTF-8 bytes (shown with GPT-2's byte ↔ character alphabet), and the most frequent adjacent pair (counted over
 * distinct pieces × their frequency) is merged, again and again, until the vocabulary is full. Pair counts are
 * updated incrementally: a merge touches only the pieces that hold its pair.
 *
 * Why our own trainer: no maintained npm package trains byte-level BPE in pure JS (the Rust-backed `tokenizers`
 * package needs a native binary per platform).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { InvalidArgumentError } from '../errors.js';
import { BYTE_LEVEL_ORDER, BYTE_TO_CHAR, gpt2PreTokenize } from './gpt2-bpe.js';

/** Options of {@link trainByteLevelBpe}. */
export interface TrainByteLevelBpeOptions {
  /** Final vocabulary size: 256 byte tokens + merged tokens + special tokens (fewer when merges run out). */
  vocabSize: number;
  /** Special tokens: cut out of the training text, given the last ids. Default `['<|endoftext|>']`. */
  specialTokens?: readonly string[];
  /** A pair is merged only if it occurs at least this often. Default 2. */
  minFrequency?: number;
}

/** A trained byte-level BPE: the content of `vocab.json` and `merges.txt`. */
export interface TrainedBpe {
  /** Token → id: ids 0–255 are the bytes in GPT-2's order, then merged tokens, then the special tokens. */
  vocab: Record<string, number>;
  /** Merge rules in priority order, as `merges.txt` lines (`'Ġ t'`). */
  merges: string[];
  /** The special tokens, in id order. */
  specialTokens: string[];
}

const PAIR_BASE = 0x200000; // token ids < 2^21

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Max-heap of (count, pair key) entries; equal counts: lexicographically smaller (left, right) strings first. */
class PairHeap {
  private readonly counts: number[] = [];
  private readonly keys: number[] = [];
  constructor(private readonly tokens: readonly string[]) {}

  get size(): number {
    return this.keys.length;
  }

  private better(countA: number, keyA: number, countB: number, keyB: number): boolean {
    if (countA !== countB) return countA > countB;
    const tokens = this.tokens;
    const leftA = tokens[Math.floor(keyA / PAIR_BASE)] as string;
    const leftB = tokens[Math.floor(keyB / PAIR_BASE)] as string;
    if (leftA !== leftB) return leftA < leftB;
    return (tokens[keyA % PAIR_BASE] as string) < (tokens[keyB % PAIR_BASE] as string);
  }

  push(count: number, key: number): void {
    const { counts, keys } = this;
    let i = keys.length;
    counts.push(count);
    keys.push(key);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.better(count, key, counts[parent] as number, keys[parent] as number)) break;
      counts[i] = counts[parent] as number;
      keys[i] = keys[parent] as number;
      i = parent;
    }
    counts[i] = count;
    keys[i] = key;
  }

  /** Removes the best entry and returns it as `[count, key]`. */
  pop(): [number, number] {
    const { counts, keys } = this;
    const top: [number, number] = [counts[0] as number, keys[0] as number];
    const lastCount = counts.pop() as number;
    const lastKey = keys.pop() as number;
    const n = keys.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && this.better(counts[r] as number, keys[r] as number, counts[l] as number, keys[l] as number) ? r : l;
        if (!this.better(counts[c] as number, keys[c] as number, lastCount, lastKey)) break;
        counts[i] = counts[c] as number;
        keys[i] = keys[c] as number;
        i = c;
      }
      counts[i] = lastCount;
      keys[i] = lastKey;
    }
    return top;
  }
}

/**
 * Learns a byte-level BPE from `texts`.
 *
 * Deterministic: the same texts and options always give the same merges (ties in pair frequency go to the
 * lexicographically smallest pair of token strings, in UTF-16 code-unit order). A merge whose result string
 * already is a token reuses that token's id, as Hugging Face's trainer does.
 * @throws InvalidArgumentError when `vocabSize` cannot hold the 256 bytes and the special tokens.
 */
export function trainByteLevelBpe(texts: readonly string[], opts: TrainByteLevelBpeOptions): TrainedBpe {
  const specialTokens = [...(opts.specialTokens ?? ['<|endoftext|>'])];
  const minFrequency = opts.minFrequency ?? 2;
  const { vocabSize } = opts;
  if (!Number.isInteger(vocabSize) || vocabSize < 256 + specialTokens.length || vocabSize >= PAIR_BASE) {
    throw new InvalidArgumentError(
      `trainByteLevelBpe: vocabSize ${vocabSize} must be an integer in [${256 + specialTokens.length}, ${PAIR_BASE})`,
      '256 byte tokens and the special tokens always take ids',
    );
  }
  if (new Set(specialTokens).size !== specialTokens.length || specialTokens.some((s) => s.length === 0)) {
    throw new InvalidArgumentError(`trainByteLevelBpe: special tokens must be distinct and non-empty: ${JSON.stringify(specialTokens)}`);
  }

  // 1. Distinct pre-tokens ("words") with their frequencies; special tokens are cut out first.
  const wordCounts = new Map<string, number>();
  const specialRegex = specialTokens.length ? new RegExp(specialTokens.map(escapeRegExp).join('|'), 'g') : undefined;
  for (const text of texts) {
    const pieces = specialRegex ? text.split(specialRegex) : [text];
    for (const piece of pieces) for (const word of gpt2PreTokenize(piece)) wordCounts.set(word, (wordCounts.get(word) ?? 0) + 1);
  }

  // 2. Symbols: ids 0–255 are the bytes in GPT-2's order.
  const tokens: string[] = BYTE_LEVEL_ORDER.map((b) => BYTE_TO_CHAR[b] as string);
  const tokenIds = new Map<string, number>(tokens.map((t, id) => [t, id]));
  const byteToId = new Int32Array(256);
  BYTE_LEVEL_ORDER.forEach((b, id) => {
    byteToId[b] = id;
  });
  const encoder = new TextEncoder();
  const words: number[][] = [];
  const freqs: number[] = [];
  for (const [word, count] of wordCounts) {
    const bytes = encoder.encode(word);
    const symbols = new Array<number>(bytes.length);
    for (let i = 0; i < bytes.length; i++) symbols[i] = byteToId[bytes[i] as number] as number;
    words.push(symbols);
    freqs.push(count);
  }

  // 3. Pair counts and, per pair, the words that hold it (may list a word twice, or one that lost the pair).
  const pairCounts = new Map<number, number>();
  const pairWords = new Map<number, number[]>();
  const addWordPairs = (w: number, symbols: readonly number[], sign: 1 | -1, deltas: Map<number, number> | undefined): void => {
    const count = sign * (freqs[w] as number);
    for (let i = 0; i + 1 < symbols.length; i++) {
      const key = (symbols[i] as number) * PAIR_BASE + (symbols[i + 1] as number);
      if (deltas) deltas.set(key, (deltas.get(key) ?? 0) + count);
      else pairCounts.set(key, (pairCounts.get(key) ?? 0) + count);
      if (sign > 0) {
        let list = pairWords.get(key);
        if (list === undefined) pairWords.set(key, (list = []));
        if (list[list.length - 1] !== w) list.push(w);
      }
    }
  };
  words.forEach((symbols, w) => addWordPairs(w, symbols, 1, undefined));
  const heap = new PairHeap(tokens);
  for (const [key, count] of pairCounts) heap.push(count, key);

  // 4. Merge the best pair until the vocabulary is full or no pair is frequent enough.
  const merges: string[] = [];
  const visited = new Int32Array(words.length).fill(-1);
  const deltas = new Map<number, number>();
  const maxTokens = vocabSize - specialTokens.length;
  while (tokens.length < maxTokens && heap.size > 0) {
    const [count, key] = heap.pop();
    if (pairCounts.get(key) !== count) continue; // stale entry: a fresher one is in the heap
    if (count < minFrequency) break;
    const left = Math.floor(key / PAIR_BASE);
    const right = key % PAIR_BASE;
    const mergedString = (tokens[left] as string) + (tokens[right] as string);
    let merged = tokenIds.get(mergedString);
    if (merged === undefined) {
      merged = tokens.length;
      tokens.push(mergedString);
      tokenIds.set(mergedString, merged);
    }
    const stamp = merges.length;
    merges.push(`${tokens[left]} ${tokens[right]}`);
    deltas.clear();
    for (const w of pairWords.get(key) ?? []) {
      if (visited[w] === stamp) continue;
      visited[w] = stamp;
      const symbols = words[w] as number[];
      let holds = false;
      for (let i = 0; i + 1 < symbols.length; i++) {
        if (symbols[i] === left && symbols[i + 1] === right) {
          holds = true;
          break;
        }
      }
      if (!holds) continue;
      const next: number[] = [];
      for (let i = 0; i < symbols.length; i++) {
        if (i + 1 < symbols.length && symbols[i] === left && symbols[i + 1] === right) {
          next.push(merged);
          i++;
        } else next.push(symbols[i] as number);
      }
      addWordPairs(w, symbols, -1, deltas);
      addWordPairs(w, next, 1, deltas);
      words[w] = next;
    }
    pairWords.delete(key);
    for (const [changed, delta] of deltas) {
      if (delta === 0) continue;
      const updated = (pairCounts.get(changed) ?? 0) + delta;
      if (updated > 0) {
        pairCounts.set(changed, updated);
        heap.push(updated, changed);
      } else {
        pairCounts.delete(changed);
        pairWords.delete(changed);
      }
    }
  }

  const vocab: Record<string, number> = {};
  tokens.forEach((t, id) => {
    vocab[t] = id;
  });
  for (const special of specialTokens) {
    if (special in vocab) throw new InvalidArgumentError(`trainByteLevelBpe: special token ${JSON.stringify(special)} is also a learned token`);
    vocab[special] = tokens.length + specialTokens.indexOf(special);
  }
  return { vocab, merges, specialTokens };
}

/** Paths written by {@link writeTokenizerJson}. */
export interface WrittenTokenizerFiles {
  tokenizerJson: string;
  vocabJson: string;
  mergesTxt: string;
  tokenizerConfigJson: string;
}

/** Serialises `vocab` as a JSON object in id order (a JS object would put integer-like keys such as `"2"` first). */
function vocabJsonText(vocab: Record<string, number>, indent: string): string {
  const entries = Object.entries(vocab).sort((a, b) => a[1] - b[1]);
  return `{\n${entries.map(([t, id]) => `${indent}  ${JSON.stringify(t)}: ${id}`).join(',\n')}\n${indent}}`;
}

/**
 * Writes a trained BPE as Hugging Face files: `tokenizer.json` (model BPE; ByteLevel pre-tokenizer with
 * `add_prefix_space: false`, `use_regex: true`; ByteLevel post-processor and decoder; the special tokens as
 * `added_tokens`), `vocab.json`, `merges.txt` and `tokenizer_config.json` (bos/eos/unk = the first special token),
 * so that Python's `tokenizers.Tokenizer.from_file`, transformers' `AutoTokenizer` and {@link loadTokenizer} load it.
 * @param path a directory, or the path of the `tokenizer.json` to write (the other files go beside it).
 * @returns the paths written.
 */
export function writeTokenizerJson(path: string, trained: TrainedBpe): WrittenTokenizerFiles {
  const isFile = path.endsWith('.json');
  const dir = isFile ? dirname(path) : path;
  mkdirSync(dir, { recursive: true });
  const files: WrittenTokenizerFiles = {
    tokenizerJson: isFile ? path : join(dir, 'tokenizer.json'),
    vocabJson: join(dir, 'vocab.json'),
    mergesTxt: join(dir, 'merges.txt'),
    tokenizerConfigJson: join(dir, 'tokenizer_config.json'),
  };
  const addedTokens = trained.specialTokens.map((content) => {
    const id = trained.vocab[content];
    if (id === undefined) throw new InvalidArgumentError(`writeTokenizerJson: special token ${JSON.stringify(content)} has no id in vocab`);
    return { id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true };
  });
  const byteLevel = JSON.stringify({ type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true });
  const postProcessor = JSON.stringify({ type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: true });
  const tokenizerJson = [
    '{',
    '  "version": "1.0",',
    '  "truncation": null,',
    '  "padding": null,',
    `  "added_tokens": [${addedTokens.map((t) => `\n    ${JSON.stringify(t)}`).join(',')}${addedTokens.length ? '\n  ' : ''}],`,
    '  "normalizer": null,',
    `  "pre_tokenizer": ${byteLevel},`,
    `  "post_processor": ${postProcessor},`,
    `  "decoder": ${byteLevel},`,
    '  "model": {',
    '    "type": "BPE",',
    '    "dropout": null,',
    '    "unk_token": null,',
    '    "continuing_subword_prefix": null,',
    '    "end_of_word_suffix": null,',
    '    "fuse_unk": false,',
    '    "byte_fallback": false,',
    `    "vocab": ${vocabJsonText(trained.vocab, '    ')},`,
    `    "merges": [${trained.merges.map((m) => `\n      ${JSON.stringify(m)}`).join(',')}${trained.merges.length ? '\n    ' : ''}]`,
    '  }',
    '}',
    '',
  ].join('\n');
  writeFileSync(files.tokenizerJson, tokenizerJson);
  writeFileSync(files.vocabJson, `${vocabJsonText(trained.vocab, '')}\n`);
  writeFileSync(files.mergesTxt, `#version: 0.2\n${trained.merges.map((m) => `${m}\n`).join('')}`);
  const first = trained.specialTokens[0];
  const config: Record<string, unknown> = {
    tokenizer_class: 'GPT2Tokenizer',
    add_prefix_space: false,
    clean_up_tokenization_spaces: false,
  };
  if (first !== undefined) Object.assign(config, { bos_token: first, eos_token: first, unk_token: first });
  config['added_tokens_decoder'] = Object.fromEntries(
    addedTokens.map(({ id, ...rest }) => [String(id), { content: rest.content, lstrip: false, normalized: false, rstrip: false, single_word: false, special: true }]),
  );
  writeFileSync(files.tokenizerConfigJson, `${JSON.stringify(config, null, 2)}\n`);
  return files;
}
