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
import type { Tokenizer } from './tokenizer-types.js';

export type { Tokenizer } from './tokenizer-types.js';

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
export function toStrTokens(tok: Pick<Tokenizer, 'decode'>, ids: readonly number[]): string[] {
  return ids.map((id) => tok.decode([id]));
}

export { HfTokenizer, loadHfTokenizer } from './hf-tokenizer.js';
export { ByteLevelBpeTokenizer, Gpt2Tokenizer, loadGpt2Tokenizer, loadVocabMergesTokenizer } from './gpt2-bpe.js';
