/**
 * Byte-level BPE as in GPT-2: the byte ↔ printable-character alphabet, the pre-tokenisation regex, a BPE encoder
 * built from `vocab.json` + `merges.txt` ({@link ByteLevelBpeTokenizer}), and the offline GPT-2 tokenizer
 * ({@link Gpt2Tokenizer}) whose encoder is gpt-tokenizer's `r50k_base` (the GPT-2 vocabulary).
 *
 * Why our own encoder for vocab.json + merges.txt: `@huggingface/tokenizers` only reads `tokenizer.json`, and the
 * encoder doubles as an independent check of `tokenizer.json` files written by `bpe-train.ts`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TokenizerError } from '../errors.js';
import { checkTokenId, readJsonObject, readSpecialTokenConfig, resolveSpecialTokens, tokenContent } from './hf-tokenizer.js';
import type { Tokenizer } from './tokenizer-types.js';

/** GPT-2's pre-tokenisation pattern (contractions, letters, numbers, other symbols, whitespace). */
export const GPT2_SPLIT_PATTERN = String.raw`'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`;

const GPT2_SPLIT_REGEX = new RegExp(GPT2_SPLIT_PATTERN, 'gu');

/** Splits text into GPT-2 pre-tokens (the pieces BPE works on separately); their concatenation is `text`. */
export function gpt2PreTokenize(text: string): string[] {
  return text.match(GPT2_SPLIT_REGEX) ?? [];
}

/**
 * GPT-2's `bytes_to_unicode` order: `BYTE_LEVEL_ORDER[i]` is the byte that GPT-2 gives id `i` (printable bytes
 * `!`…`~`, `¡`…`¬`, `®`…`ÿ` first, then the rest in byte order).
 */
export const BYTE_LEVEL_ORDER: readonly number[] = (() => {
  const printable: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) printable.push(b);
  for (let b = 0xa1; b <= 0xac; b++) printable.push(b);
  for (let b = 0xae; b <= 0xff; b++) printable.push(b);
  const set = new Set(printable);
  const rest: number[] = [];
  for (let b = 0; b < 256; b++) if (!set.has(b)) rest.push(b);
  return [...printable, ...rest];
})();

/** `BYTE_TO_CHAR[b]`: the printable character that stands for byte `b` in byte-level tokens (space → `'Ġ'`). */
export const BYTE_TO_CHAR: readonly string[] = (() => {
  const chars = new Array<string>(256);
  let shifted = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    chars[b] = String.fromCharCode(printable ? b : 256 + shifted++);
  }
  return chars;
})();

/** Inverse of {@link BYTE_TO_CHAR}. */
export const CHAR_TO_BYTE: ReadonlyMap<string, number> = new Map(BYTE_TO_CHAR.map((c, b) => [c, b]));

const utf8Encoder = new TextEncoder();

/** UTF-8 bytes → byte-level token string (`' the'` → `'Ġthe'`). */
export function bytesToTokenString(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += BYTE_TO_CHAR[b];
  return out;
}

/** Byte-level token string → bytes, or `undefined` when it has a character outside the byte-level alphabet. */
export function tokenStringToBytes(token: string): Uint8Array | undefined {
  const bytes = new Uint8Array(token.length);
  for (let i = 0; i < token.length; i++) {
    const b = CHAR_TO_BYTE.get(token[i] as string);
    if (b === undefined) return undefined;
    bytes[i] = b;
  }
  return bytes;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Ids and special tokens shared by the byte-level tokenizers. */
export interface ByteLevelTables {
  /** `tokens[id]`: the raw vocabulary entry (byte-level string, or the literal content of an added token). */
  tokens: readonly (string | undefined)[];
  /** Added tokens (content → id): matched literally in text before BPE and decoded literally. */
  addedTokens: Record<string, number>;
  /** The subset of tokens reported as special (content → id). */
  specialTokens: Record<string, number>;
  bosTokenId?: number;
  eosTokenId?: number;
  padTokenId?: number;
}

/** Shared vocabulary look-ups and decoding of byte-level tokenizers; subclasses supply `encode`. */
abstract class ByteLevelTokenizerBase implements Tokenizer {
  readonly vocabSize: number;
  readonly bosTokenId?: number;
  readonly eosTokenId?: number;
  readonly padTokenId?: number;
  readonly specialTokens: Record<string, number>;
  protected readonly tokens: readonly (string | undefined)[];
  protected readonly tokenIds: Map<string, number>;
  protected readonly addedTokens: Map<string, number>;
  private readonly addedIds: Set<number>;
  private readonly idBytes: (Uint8Array | undefined)[];
  protected readonly name: string;

  protected constructor(tables: ByteLevelTables, name: string) {
    this.name = name;
    this.tokens = tables.tokens;
    this.vocabSize = tables.tokens.length;
    this.tokenIds = new Map();
    tables.tokens.forEach((t, id) => {
      if (t !== undefined) this.tokenIds.set(t, id);
    });
    this.addedTokens = new Map(Object.entries(tables.addedTokens));
    this.addedIds = new Set(this.addedTokens.values());
    this.specialTokens = { ...tables.specialTokens };
    if (tables.bosTokenId !== undefined) this.bosTokenId = tables.bosTokenId;
    if (tables.eosTokenId !== undefined) this.eosTokenId = tables.eosTokenId;
    if (tables.padTokenId !== undefined) this.padTokenId = tables.padTokenId;
    this.idBytes = new Array(this.vocabSize);
  }

  /** Ids → text: bytes of all tokens joined, then UTF-8 decoded with U+FFFD for invalid sequences. */
  decode(ids: readonly number[]): string {
    const parts: Uint8Array[] = [];
    let length = 0;
    for (const id of ids) {
      const bytes = this.bytesOf(id);
      parts.push(bytes);
      length += bytes.length;
    }
    const all = new Uint8Array(length);
    let offset = 0;
    for (const p of parts) {
      all.set(p, offset);
      offset += p.length;
    }
    return new TextDecoder('utf-8', { fatal: false, ignoreBOM: true }).decode(all);
  }

  /** The raw vocabulary entry of `id` (`'Ġthe'`). */
  idToToken(id: number): string {
    const token = Number.isInteger(id) ? this.tokens[id] : undefined;
    checkTokenId(id, this.vocabSize, token !== undefined, `${this.name} idToToken`);
    return token as string;
  }

  /** The id of a raw vocabulary entry, or `undefined`. */
  tokenToId(token: string): number | undefined {
    return this.tokenIds.get(token);
  }

  /** The bytes that `id` stands for (added tokens: their UTF-8 content). */
  protected bytesOf(id: number): Uint8Array {
    const cached = Number.isInteger(id) ? this.idBytes[id] : undefined;
    if (cached !== undefined) return cached;
    const token = Number.isInteger(id) ? this.tokens[id] : undefined;
    checkTokenId(id, this.vocabSize, token !== undefined, `${this.name} decode`);
    const bytes = this.addedIds.has(id) ? utf8Encoder.encode(token) : (tokenStringToBytes(token as string) ?? utf8Encoder.encode(token));
    this.idBytes[id] = bytes;
    return bytes;
  }

  /** Text → ids: added tokens in the text become their ids, the text between them goes through `encodePiece`; no BOS. */
  encode(text: string): number[] {
    const ids: number[] = [];
    this.splitAdded(
      text,
      (piece) => {
        for (const id of this.encodePiece(piece)) ids.push(id);
      },
      (id) => ids.push(id),
    );
    return ids;
  }

  /** Ids of a piece of text that holds no added token. */
  protected abstract encodePiece(piece: string): Iterable<number>;

  private addedRegex: RegExp | undefined | null = null;

  /** Splits text at added tokens (longest match first), calling `onText` for the text between them and `onAdded` for each. */
  protected splitAdded(text: string, onText: (piece: string) => void, onAdded: (id: number) => void): void {
    if (this.addedRegex === null) this.addedRegex = this.addedPattern();
    const pattern = this.addedRegex;
    if (pattern === undefined) {
      onText(text);
      return;
    }
    let last = 0;
    pattern.lastIndex = 0;
    for (const m of text.matchAll(pattern)) {
      if (m.index > last) onText(text.slice(last, m.index));
      onAdded(this.addedTokens.get(m[0]) as number);
      last = m.index + m[0].length;
    }
    if (last < text.length) onText(text.slice(last));
  }

  private addedPattern(): RegExp | undefined {
    const contents = [...this.addedTokens.keys()].filter((c) => c.length > 0).sort((a, b) => b.length - a.length);
    return contents.length ? new RegExp(contents.map(escapeRegExp).join('|'), 'g') : undefined;
  }
}

/** Constructor input of {@link ByteLevelBpeTokenizer}. */
export interface ByteLevelBpeSpec {
  /** Token → id, as in `vocab.json` (byte-level strings). */
  vocab: Record<string, number> | ReadonlyMap<string, number>;
  /** Merge rules in priority order: `'Ġ t'` (merges.txt line) or `['Ġ', 't']`. */
  merges: readonly (string | readonly [string, string])[];
  /** Tokens matched literally in text before BPE (content → id); ids may lie outside `vocab`. */
  addedTokens?: Record<string, number>;
  /** Tokens reported as special (content → id); they are also treated as added tokens. */
  specialTokens?: Record<string, number>;
  bosTokenId?: number;
  eosTokenId?: number;
  padTokenId?: number;
  /** Name for error messages (e.g. the directory). */
  name?: string;
}

const PAIR_BASE = 0x200000; // ids < 2^21, so left * 2^21 + right is an exact double

/**
 * Byte-level BPE (GPT-2 style) from a vocabulary and ordered merge rules: added tokens are cut out of the text
 * first, the rest is split with {@link GPT2_SPLIT_PATTERN}, each piece's UTF-8 bytes become byte tokens, and the
 * adjacent pair with the lowest merge rank is merged until none applies (equal pairs: leftmost first).
 */
export class ByteLevelBpeTokenizer extends ByteLevelTokenizerBase {
  private readonly byteIds: Int32Array;
  private readonly pairRank: Map<number, number>;
  private readonly rankResult: Int32Array;
  private readonly cache = new Map<string, number[]>();

  /** @throws TokenizerError when a merge names a token missing from the vocabulary, or ids are out of range. */
  constructor(spec: ByteLevelBpeSpec) {
    const name = spec.name ?? 'byte-level BPE';
    const vocab = spec.vocab instanceof Map ? (spec.vocab as ReadonlyMap<string, number>) : new Map(Object.entries(spec.vocab));
    const addedTokens: Record<string, number> = { ...(spec.addedTokens ?? {}), ...(spec.specialTokens ?? {}) };
    let maxId = -1;
    for (const id of [...vocab.values(), ...Object.values(addedTokens)]) {
      if (!Number.isInteger(id) || id < 0 || id >= PAIR_BASE) throw new TokenizerError(`${name}: token id ${id} is out of range [0, ${PAIR_BASE})`);
      if (id > maxId) maxId = id;
    }
    const tokens = new Array<string | undefined>(maxId + 1).fill(undefined);
    for (const [t, id] of vocab) tokens[id] = t;
    for (const [t, id] of Object.entries(addedTokens)) tokens[id] = t;
    const tables: ByteLevelTables = { tokens, addedTokens, specialTokens: spec.specialTokens ?? {} };
    if (spec.bosTokenId !== undefined) tables.bosTokenId = spec.bosTokenId;
    if (spec.eosTokenId !== undefined) tables.eosTokenId = spec.eosTokenId;
    if (spec.padTokenId !== undefined) tables.padTokenId = spec.padTokenId;
    super(tables, name);

    this.byteIds = new Int32Array(256).fill(-1);
    for (let b = 0; b < 256; b++) this.byteIds[b] = vocab.get(BYTE_TO_CHAR[b] as string) ?? -1;
    this.pairRank = new Map();
    this.rankResult = new Int32Array(spec.merges.length);
    spec.merges.forEach((merge, rank) => {
      let left: string | undefined;
      let right: string | undefined;
      if (typeof merge === 'string') {
        const cut = merge.indexOf(' ');
        if (cut > 0) [left, right] = [merge.slice(0, cut), merge.slice(cut + 1)];
      } else [left, right] = merge;
      const leftId = left === undefined ? undefined : vocab.get(left);
      const rightId = right === undefined ? undefined : vocab.get(right);
      const mergedId = left === undefined || right === undefined ? undefined : vocab.get(left + right);
      if (leftId === undefined || rightId === undefined || mergedId === undefined) {
        throw new TokenizerError(`${name}: merge ${rank} ${JSON.stringify(merge)} names a token that is not in the vocabulary`, 'vocab.json and merges.txt must come from the same tokenizer');
      }
      const key = leftId * PAIR_BASE + rightId;
      if (!this.pairRank.has(key)) this.pairRank.set(key, rank);
      this.rankResult[rank] = mergedId;
    });
  }

  protected *encodePiece(piece: string): Iterable<number> {
    for (const word of gpt2PreTokenize(piece)) yield* this.encodeWord(word);
  }

  private encodeWord(word: string): number[] {
    const cached = this.cache.get(word);
    if (cached !== undefined) return cached;
    const bytes = utf8Encoder.encode(word);
    const symbols: number[] = new Array(bytes.length);
    for (let i = 0; i < bytes.length; i++) {
      const id = this.byteIds[bytes[i] as number] as number;
      if (id < 0) throw new TokenizerError(`${this.name}: byte 0x${(bytes[i] as number).toString(16)} has no token ('${BYTE_TO_CHAR[bytes[i] as number]}' missing from the vocabulary)`);
      symbols[i] = id;
    }
    const result = symbols.length < 48 ? this.mergeShort(symbols) : this.mergeLong(symbols);
    if (this.cache.size >= 100_000) this.cache.clear();
    this.cache.set(word, result);
    return result;
  }

  /** O(n²) merging, fastest for short pieces. */
  private mergeShort(symbols: number[]): number[] {
    let syms = symbols;
    while (syms.length > 1) {
      let bestRank = Infinity;
      for (let i = 0; i + 1 < syms.length; i++) {
        const rank = this.pairRank.get((syms[i] as number) * PAIR_BASE + (syms[i + 1] as number));
        if (rank !== undefined && rank < bestRank) bestRank = rank;
      }
      if (bestRank === Infinity) break;
      const merged = this.rankResult[bestRank] as number;
      const next: number[] = [];
      for (let i = 0; i < syms.length; i++) {
        if (i + 1 < syms.length && this.pairRank.get((syms[i] as number) * PAIR_BASE + (syms[i + 1] as number)) === bestRank) {
          next.push(merged);
          i++;
        } else next.push(syms[i] as number);
      }
      syms = next;
    }
    return syms;
  }

  /** O(n log n) merging over a linked list with a heap of (rank, position), for long pieces (long runs of text). */
  private mergeLong(symbols: number[]): number[] {
    const n = symbols.length;
    const sym = Int32Array.from(symbols);
    const next = new Int32Array(n);
    const prev = new Int32Array(n);
    const alive = new Uint8Array(n).fill(1);
    for (let i = 0; i < n; i++) {
      next[i] = i + 1 < n ? i + 1 : -1;
      prev[i] = i - 1;
    }
    const heap = new MinHeap();
    const POS_BASE = 2 ** 31;
    const push = (pos: number): void => {
      const right = next[pos] as number;
      if (pos < 0 || right < 0) return;
      const rank = this.pairRank.get((sym[pos] as number) * PAIR_BASE + (sym[right] as number));
      if (rank !== undefined) heap.push(rank * POS_BASE + pos);
    };
    for (let i = 0; i + 1 < n; i++) push(i);
    while (heap.size > 0) {
      const entry = heap.pop();
      const rank = Math.floor(entry / POS_BASE);
      const pos = entry - rank * POS_BASE;
      const right = next[pos] as number;
      if (!alive[pos] || right < 0) continue;
      if (this.pairRank.get((sym[pos] as number) * PAIR_BASE + (sym[right] as number)) !== rank) continue;
      sym[pos] = this.rankResult[rank] as number;
      alive[right] = 0;
      const after = next[right] as number;
      next[pos] = after;
      if (after >= 0) prev[after] = pos;
      push(prev[pos] as number);
      push(pos);
    }
    const out: number[] = [];
    for (let i = 0; i >= 0; i = next[i] as number) out.push(sym[i] as number);
    return out;
  }
}

/** A binary min-heap of numbers. */
class MinHeap {
  private readonly items: number[] = [];
  get size(): number {
    return this.items.length;
  }
  push(value: number): void {
    const a = this.items;
    a.push(value);
    let i = a.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((a[parent] as number) <= value) break;
      a[i] = a[parent] as number;
      i = parent;
    }
    a[i] = value;
  }
  pop(): number {
    const a = this.items;
    const top = a[0] as number;
    const last = a.pop() as number;
    if (a.length > 0) {
      let i = 0;
      const n = a.length;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && (a[r] as number) < (a[l] as number) ? r : l;
        if ((a[c] as number) >= last) break;
        a[i] = a[c] as number;
        i = c;
      }
      a[i] = last;
    }
    return top;
  }
}

/**
 * Builds a {@link ByteLevelBpeTokenizer} from `dir/vocab.json` + `dir/merges.txt`, with added/special tokens
 * from `added_tokens.json`, `tokenizer_config.json` (`added_tokens_decoder`, `bos_token`, …) and
 * `special_tokens_map.json`; `<|endoftext|>` counts as special whenever the vocabulary has it.
 * @throws TokenizerError when a file is missing or malformed.
 */
export function loadVocabMergesTokenizer(dir: string): ByteLevelBpeTokenizer {
  const vocabPath = join(dir, 'vocab.json');
  const mergesPath = join(dir, 'merges.txt');
  const vocabJson = readJsonObject(vocabPath);
  if (vocabJson === undefined) throw new TokenizerError(`${vocabPath}: file not found`);
  const vocab = new Map<string, number>();
  for (const [token, id] of Object.entries(vocabJson)) {
    if (typeof id !== 'number' || !Number.isInteger(id)) throw new TokenizerError(`${vocabPath}: id of ${JSON.stringify(token)} is not an integer`);
    vocab.set(token, id);
  }
  let mergesText: string;
  try {
    mergesText = readFileSync(mergesPath, 'utf8');
  } catch {
    throw new TokenizerError(`${mergesPath}: file not found`);
  }
  const merges = mergesText.split(/\r?\n/).filter((line, i) => line.length > 0 && !(i === 0 && line.startsWith('#version')));

  const { config, addedTokens: addedJson } = readSpecialTokenConfig(dir);
  const addedTokens: Record<string, number> = { ...addedJson };
  const specials: Record<string, number> = {};
  const decoderMap = config['added_tokens_decoder'];
  if (decoderMap !== null && typeof decoderMap === 'object') {
    for (const [idText, entry] of Object.entries(decoderMap as Record<string, unknown>)) {
      const content = tokenContent(entry);
      const id = Number(idText);
      if (content === undefined || !Number.isInteger(id)) continue;
      addedTokens[content] = id;
      if ((entry as { special?: unknown }).special === true) specials[content] = id;
    }
  }
  const eot = vocab.get('<|endoftext|>') ?? addedTokens['<|endoftext|>'];
  if (eot !== undefined) specials['<|endoftext|>'] = eot;
  const lookup = (t: string): number | undefined => addedTokens[t] ?? vocab.get(t);
  const resolved = resolveSpecialTokens(config, specials, lookup);
  const spec: ByteLevelBpeSpec = { vocab, merges, addedTokens, specialTokens: resolved.specialTokens, name: dir };
  if (resolved.bosTokenId !== undefined) spec.bosTokenId = resolved.bosTokenId;
  if (resolved.eosTokenId !== undefined) spec.eosTokenId = resolved.eosTokenId;
  if (resolved.padTokenId !== undefined) spec.padTokenId = resolved.padTokenId;
  return new ByteLevelBpeTokenizer(spec);
}

type R50kEncode = (text: string, options?: { allowedSpecial?: Set<string> | 'all'; disallowedSpecial?: Set<string> | 'all' }) => number[];

/**
 * The offline GPT-2 tokenizer: ids from gpt-tokenizer's `r50k_base` encoder (GPT-2's 50 257-token vocabulary:
 * `'Hello world'` → `[15496, 995]`, `<|endoftext|>` = 50256), decoding and token strings from its rank table.
 * `<|endoftext|>` written in the text is encoded as 50256, as Hugging Face's GPT-2 tokenizer does.
 */
export class Gpt2Tokenizer extends ByteLevelTokenizerBase {
  private readonly encodeFn: R50kEncode;

  /**
   * @param ranks gpt-tokenizer's `r50k_base` rank table: `ranks[id]` is the token's text, or its bytes when they are not UTF-8.
   * @param encodeFn gpt-tokenizer's `r50k_base` `encode`.
   */
  constructor(ranks: readonly (string | readonly number[])[], encodeFn: R50kEncode) {
    const tokens: string[] = ranks.map((r) => bytesToTokenString(typeof r === 'string' ? utf8Encoder.encode(r) : Uint8Array.from(r)));
    const eot = tokens.length;
    tokens.push('<|endoftext|>');
    const specials = { '<|endoftext|>': eot };
    super({ tokens, addedTokens: specials, specialTokens: specials, bosTokenId: eot, eosTokenId: eot }, 'gpt2');
    this.encodeFn = encodeFn;
  }

  /**
   * Plain text → GPT-2 ids. `<|endoftext|>` is cut out by `encode` (the base class) rather than by gpt-tokenizer,
   * whose 4.0.0 special-token matching misses repeated ones (`'a<|endoftext|><|endoftext|>'` comes out as plain text).
   */
  protected encodePiece(piece: string): Iterable<number> {
    return this.encodeFn(piece, { disallowedSpecial: new Set() });
  }
}

let gpt2Promise: Promise<Gpt2Tokenizer> | undefined;

/** The offline GPT-2 tokenizer (loaded once; the rank table is imported on first use). */
export function loadGpt2Tokenizer(): Promise<Gpt2Tokenizer> {
  gpt2Promise ??= (async () => {
    const [{ default: ranks }, { encode }] = await Promise.all([
      import('gpt-tokenizer/bpeRanks/r50k_base'),
      import('gpt-tokenizer/encoding/r50k_base'),
    ]);
    if (ranks.length !== 50256) throw new TokenizerError(`gpt-tokenizer r50k_base has ${ranks.length} ranks, expected 50256`, 'reinstall gpt-tokenizer');
    return new Gpt2Tokenizer(ranks, encode as R50kEncode);
  })();
  gpt2Promise.catch(() => {
    gpt2Promise = undefined;
  });
  return gpt2Promise;
}
