/** The tokenizer interface of tfjs-lens (its own file: the implementations and the factory all import it). */

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
