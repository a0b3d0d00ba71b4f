/**
 * Hugging Face `tokenizer.json` tokenizers, read by the pure-JS `@huggingface/tokenizers` package, and the
 * `tokenizer_config.json` / `special_tokens_map.json` / `added_tokens.json` reading shared with the
 * vocab.json + merges.txt loader.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer as HfTokenizerCore } from '@huggingface/tokenizers';
import { InvalidArgumentError, TokenizerError } from '../errors.js';
import type { Tokenizer } from './tokenizer-types.js';

/** A JSON object as read from a tokenizer file. */
export type JsonObject = Record<string, unknown>;

/**
 * Reads and parses a JSON file of a tokenizer directory.
 * @returns the parsed object, or `undefined` when the file does not exist.
 * @throws TokenizerError when the file is not a JSON object.
 */
export function readJsonObject(path: string): JsonObject | undefined {
  if (!existsSync(path)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new TokenizerError(`${path}: not valid JSON (${(err as Error).message})`, 're-download or re-export the tokenizer files');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new TokenizerError(`${path}: expected a JSON object`, 're-download or re-export the tokenizer files');
  }
  return parsed as JsonObject;
}

/**
 * The special-token settings of a tokenizer directory: `tokenizer_config.json` with `special_tokens_map.json`
 * laid over it (transformers gives the latter precedence), plus the `{ content: id }` map of `added_tokens.json`.
 */
export interface SpecialTokenConfig {
  /** Merged `tokenizer_config.json` + `special_tokens_map.json` (empty when neither exists). */
  config: JsonObject;
  /** `added_tokens.json` (empty when absent). */
  addedTokens: Record<string, number>;
}

/** Reads the special-token settings of `dir` (see {@link SpecialTokenConfig}); missing files count as empty. */
export function readSpecialTokenConfig(dir: string): SpecialTokenConfig {
  const tokenizerConfig = readJsonObject(join(dir, 'tokenizer_config.json')) ?? {};
  const specialMap = readJsonObject(join(dir, 'special_tokens_map.json')) ?? {};
  const addedJson = readJsonObject(join(dir, 'added_tokens.json')) ?? {};
  const addedTokens: Record<string, number> = {};
  for (const [content, id] of Object.entries(addedJson)) {
    if (typeof id === 'number' && Number.isInteger(id)) addedTokens[content] = id;
  }
  return { config: { ...tokenizerConfig, ...specialMap }, addedTokens };
}

/** The content of a special-token setting, which transformers writes as a string or as `{ content: string, … }`. */
export function tokenContent(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value !== null && typeof value === 'object' && typeof (value as { content?: unknown }).content === 'string') {
    return (value as { content: string }).content;
  }
  return undefined;
}

/** The bos/eos/pad ids and the special-token map resolved from a config and a vocabulary. */
export interface ResolvedSpecialTokens {
  bosTokenId?: number;
  eosTokenId?: number;
  padTokenId?: number;
  specialTokens: Record<string, number>;
}

const ROLE_FALLBACKS = {
  bos: { keys: ['bos_token', 'cls_token'], guesses: ['<|endoftext|>', '<s>', '<bos>', '[CLS]'] },
  eos: { keys: ['eos_token', 'sep_token'], guesses: ['<|endoftext|>', '</s>', '<eos>', '[SEP]'] },
  pad: { keys: ['pad_token'], guesses: ['<pad>', '[PAD]', '<|pad|>'] },
} as const;

/**
 * Resolves bos/eos/pad ids: from the config's `bos_token` (else `cls_token`), `eos_token` (else `sep_token`) and
 * `pad_token`; a role that the config does not mention at all is guessed from well-known names among the special
 * tokens (`<|endoftext|>`, `<s>`/`</s>`, `[CLS]`/`[SEP]`, `<pad>`/`[PAD]`). A role set to `null` stays unset.
 * @param specialTokens tokens already known to be special (content → id); the roles' tokens are added to it.
 * @param lookup token → id over the whole vocabulary.
 */
export function resolveSpecialTokens(
  config: JsonObject,
  specialTokens: Record<string, number>,
  lookup: (token: string) => number | undefined,
): ResolvedSpecialTokens {
  const specials: Record<string, number> = { ...specialTokens };
  const named = ['bos_token', 'eos_token', 'unk_token', 'sep_token', 'pad_token', 'cls_token', 'mask_token'].map((k) => config[k]);
  const additional = Array.isArray(config['additional_special_tokens']) ? (config['additional_special_tokens'] as unknown[]) : [];
  for (const value of [...named, ...additional]) {
    const content = tokenContent(value);
    const id = content === undefined ? undefined : lookup(content);
    if (content !== undefined && id !== undefined) specials[content] = id;
  }
  const resolveRole = (role: keyof typeof ROLE_FALLBACKS): number | undefined => {
    const { keys, guesses } = ROLE_FALLBACKS[role];
    let mentioned = false;
    for (const key of keys) {
      if (!(key in config)) continue;
      mentioned = true;
      const content = tokenContent(config[key]);
      const id = content === undefined ? undefined : lookup(content);
      if (id !== undefined) return id;
    }
    if (mentioned) return undefined;
    for (const guess of guesses) if (guess in specials) return specials[guess];
    return undefined;
  };
  const resolved: ResolvedSpecialTokens = { specialTokens: specials };
  const bos = resolveRole('bos');
  const eos = resolveRole('eos');
  const pad = resolveRole('pad');
  if (bos !== undefined) resolved.bosTokenId = bos;
  if (eos !== undefined) resolved.eosTokenId = eos;
  if (pad !== undefined) resolved.padTokenId = pad;
  return resolved;
}

/** Throws `InvalidArgumentError` unless `id` is an integer in `[0, vocabSize)` that names a token. */
export function checkTokenId(id: number, vocabSize: number, known: boolean, where: string): void {
  if (!Number.isInteger(id) || id < 0 || id >= vocabSize || !known) {
    throw new InvalidArgumentError(`${where}: token id ${id} is not in the vocabulary (vocabSize ${vocabSize})`);
  }
}

/**
 * A tokenizer read from a Hugging Face `tokenizer.json` (any model type the `@huggingface/tokenizers` package
 * supports: byte-level BPE as in GPT-2/Whisper, WordPiece as in BERT, Unigram, …). `encode` adds no special
 * tokens (no post-processor templates); `decode` keeps special tokens and does no clean-up of spaces, so that
 * decode(encode(text)) gives back `text`.
 */
export class HfTokenizer implements Tokenizer {
  readonly vocabSize: number;
  readonly bosTokenId?: number;
  readonly eosTokenId?: number;
  readonly padTokenId?: number;
  readonly specialTokens: Record<string, number>;
  private readonly core: HfTokenizerCore;
  private readonly source: string;

  /**
   * @param tokenizerJson the parsed `tokenizer.json`.
   * @param tokenizerConfig the parsed `tokenizer_config.json` (+ `special_tokens_map.json`), or `{}`.
   * @param source where it came from, for error messages.
   * @throws TokenizerError when `@huggingface/tokenizers` rejects the file.
   */
  constructor(tokenizerJson: JsonObject, tokenizerConfig: JsonObject = {}, source = 'tokenizer.json') {
    this.source = source;
    if (typeof tokenizerJson['model'] !== 'object' || tokenizerJson['model'] === null) {
      throw new TokenizerError(`${source}: no "model" object`, 're-download or re-export the tokenizer files');
    }
    const json: JsonObject = { normalizer: null, pre_tokenizer: null, post_processor: null, decoder: null, ...tokenizerJson };
    if (!Array.isArray(json['added_tokens'])) json['added_tokens'] = [];
    try {
      this.core = new HfTokenizerCore(json, tokenizerConfig);
    } catch (err) {
      throw new TokenizerError(`${source}: @huggingface/tokenizers cannot read it (${(err as Error).message})`, 're-download or re-export the tokenizer files');
    }
    const vocab = this.core.get_vocab(true);
    let maxId = -1;
    for (const id of vocab.values()) if (id > maxId) maxId = id;
    this.vocabSize = maxId + 1;
    const specials: Record<string, number> = {};
    for (const [id, added] of this.core.get_added_tokens_decoder()) if (added.special) specials[added.content] = id;
    const resolved = resolveSpecialTokens(tokenizerConfig, specials, (t) => this.core.token_to_id(t));
    this.specialTokens = resolved.specialTokens;
    if (resolved.bosTokenId !== undefined) this.bosTokenId = resolved.bosTokenId;
    if (resolved.eosTokenId !== undefined) this.eosTokenId = resolved.eosTokenId;
    if (resolved.padTokenId !== undefined) this.padTokenId = resolved.padTokenId;
  }

  /** Text → ids, without BOS/EOS or any other post-processor tokens. */
  encode(text: string): number[] {
    const { ids } = this.core.encode(text, { add_special_tokens: false });
    for (let i = 0; i < ids.length; i++) {
      const id: number | undefined = ids[i];
      if (typeof id !== 'number') {
        throw new TokenizerError(`${this.source}: a piece of the text has no token and the tokenizer has no unk_token`, 'the vocabulary does not cover this text');
      }
    }
    return ids;
  }

  /** Ids → text, special tokens kept, no clean-up of spaces. */
  decode(ids: readonly number[]): string {
    if (ids.length === 0) return '';
    for (const id of ids) checkTokenId(id, this.vocabSize, this.core.id_to_token(id) !== undefined, `${this.source} decode`);
    return this.core.decode([...ids], { skip_special_tokens: false, clean_up_tokenization_spaces: false });
  }

  /** The raw vocabulary entry of `id` (`'Ġthe'`, `'##ing'`, `'<|endoftext|>'`). */
  idToToken(id: number): string {
    const token = Number.isInteger(id) ? this.core.id_to_token(id) : undefined;
    checkTokenId(id, this.vocabSize, token !== undefined, `${this.source} idToToken`);
    return token as string;
  }

  /** The id of a raw vocabulary entry, or `undefined`. */
  tokenToId(token: string): number | undefined {
    return this.core.token_to_id(token);
  }
}

/**
 * Loads `dir/tokenizer.json` (with `tokenizer_config.json` and `special_tokens_map.json` when present).
 * @throws TokenizerError when the file is missing or malformed.
 */
export function loadHfTokenizer(dir: string): HfTokenizer {
  const path = join(dir, 'tokenizer.json');
  const json = readJsonObject(path);
  if (json === undefined) throw new TokenizerError(`${path}: file not found`);
  const { config } = readSpecialTokenConfig(dir);
  return new HfTokenizer(json, config, path);
}
