/**
 * The tokenizer interface of tfjs-lens and the factory that picks an implementation for a checkpoint directory.
 *
 * Which tokenizer `loadTokenizer(dir)` returns:
 *  1. `dir/tokenizer.json` exists → {@link HfTokenizer} (the `@huggingface/tokenizers` pure-JS reader);
 *  2. else `dir/vocab.json` + `dir/merges.txt` exist → {@link ByteLevelBpeTokenizer} (our byte-level BPE);
 *  3. else `opts.fallback === 'gpt2'` → the offline GPT-2 BPE ({@link loadGpt2Tokenizer}, gpt-tokenizer's `r50k_base`);
 *  4. else a {@link TokenizerError}.
 * See docs/tokenizers.md.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { TokenizerError } from '../errors.js';
import { loadHfTokenizer } from './hf-tokenizer.js';
import { loadGpt2Tokenizer, loadVocabMergesTokenizer } from './gpt2-bpe.js';

/** A text tokenizer: text ⇄ token ids, plus the vocabulary look-ups that interpretability code needs. */
export interface Tokenizer {
  /** Number of ids: one more than the largest id (added/special tokens included). */
  readonly vocabSize: number;
  /** Text → ids. Adds no BOS/EOS; special tokens written in the text (e.g. `<|endoftext|>`) become their ids. */
  encode(text: string): number[];
  /** Ids → text; bytes that do not form valid UTF-8 become U+FFFD. Throws `InvalidArgumentError` for unknown ids. */
  decode(ids: readonly number[]): string;
  /** The raw vocabulary entry of `id`, e.g. `'Ġthe'` for byte-level BPE. Throws `InvalidArgumentError` for unknown ids. */
  idToToken(id: number): string;
  /** The id of a raw vocabulary entry (`'Ġthe'`, `'<|endoftext|>'`), or `undefined`. */
  tokenToId(token: string): number | undefined;
  /** Beginning-of-sequence id, when the tokenizer has one. */
  readonly bosTokenId?: number;
  /** End-of-sequence id, when the tokenizer has one. */
  readonly eosTokenId?: number;
  /** Padding id, when the tokenizer has one (GPT-2 has none: pad with `eosTokenId`, as TransformerLens does). */
  readonly padTokenId?: number;
  /** Special tokens by content, e.g. `{ '<|endoftext|>': 50256 }`, or Whisper's `<|startoftranscript|>`. */
  readonly specialTokens: Record<string, number>;
}

/** Options of {@link loadTokenizer}. */
export interface LoadTokenizerOptions {
  /** What to use when `dir` has no tokenizer files: `'gpt2'` = the offline GPT-2 BPE. Default: throw. */
  fallback?: 'gpt2';
}

/**
 * Loads the tokenizer of a checkpoint directory (see the module comment for the order of preference).
 * @param dir checkpoint directory, or `undefined` to go straight to the fallback.
 * @throws TokenizerError when nothing fits and no fallback was asked for, or a tokenizer file is malformed.
 */
export async function loadTokenizer(dir: string | undefined, opts: LoadTokenizerOptions = {}): Promise<Tokenizer> {
  if (dir !== undefined) {
    if (existsSync(join(dir, 'tokenizer.json'))) return loadHfTokenizer(dir);
    if (existsSync(join(dir, 'vocab.json')) && existsSync(join(dir, 'merges.txt'))) return loadVocabMergesTokenizer(dir);
  }
  if (opts.fallback === 'gpt2') return loadGpt2Tokenizer();
  throw new TokenizerError(
    dir === undefined ? 'no tokenizer directory given' : `${dir}: no tokenizer.json, and no vocab.json + merges.txt`,
  );
}

/**
 * Renders each id as its own readable string, like TransformerLens's `to_str_tokens`: every id is decoded on its
 * own, so `'Ġthe'` shows as `' the'` and a lone byte of a multi-byte character shows as `'\uFFFD'`.
 * @param ids token ids, `[pos]`.
 * @returns one string per id, `[pos]`.
 */
export function toStrTokens(tok: Tokenizer, ids: readonly number[]): string[] {
  return ids.map((id) => tok.decode([id]));
}

export { HfTokenizer, loadHfTokenizer } from './hf-tokenizer.js';
export { ByteLevelBpeTokenizer, Gpt2Tokenizer, loadGpt2Tokenizer, loadVocabMergesTokenizer } from './gpt2-bpe.js';
