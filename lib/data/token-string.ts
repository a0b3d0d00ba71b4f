/** Display strings of token ids, for ids a tokenizer may not know. */
import { InvalidArgumentError } from '../errors.js';

/** What `tokenString` needs of a tokenizer. */
export interface TokenDecoder {
  decode(ids: number[]): string;
}

/**
 * The string of one token id: the tokenizer's decoding, or `<id N>` for a row of the model's vocabulary that the
 * tokenizer has no token for (checkpoints often pad the embedding past the tokenizer, e.g. llama-tiny's 256 rows
 * for 103 tokens, Pythia's 50304 for 50277, Qwen2's 151936 for 151646), which a lens can still rank.
 */
export function tokenString(tokenizer: TokenDecoder, id: number): string {
  try {
    return tokenizer.decode([id]);
  } catch (err) {
    if (err instanceof InvalidArgumentError) return `<id ${id}>`;
    throw err;
  }
}
