/**
 * Text helpers shared by the language models (GPT-2, BERT, the Whisper decoder), as TransformerLens's
 * `to_string` / `to_str_tokens`: the tokenizer they need and decoding with it.
 */
import { InvalidArgumentError } from '../errors.js';
import { toStrTokens } from '../data/tokenizer.js';

/** Tokenizer methods the language models use. */
export interface LmTokenizer {
  encode(text: string): number[];
  decode(ids: readonly number[]): string;
}

/** The model's tokenizer, or an error saying how to get one. */
export function requireTokenizer(model: { tokenizer?: LmTokenizer }): LmTokenizer {
  if (!model.tokenizer) throw new InvalidArgumentError('this model has no tokenizer', 'load a checkpoint directory with tokenizer files, or set model.tokenizer');
  return model.tokenizer;
}

/** One string per token: text is encoded first; each id is decoded on its own (TransformerLens `to_str_tokens`). */
export function strTokens(tokenizer: LmTokenizer, input: string | readonly number[]): string[] {
  return toStrTokens(tokenizer, typeof input === 'string' ? tokenizer.encode(input) : input);
}
