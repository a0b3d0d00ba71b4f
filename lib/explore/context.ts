/**
 * What every explorer route works on: the loaded causal language model (GPT-2, Llama, GPT-NeoX, Gemma) with its tokenizer, the backend it runs on,
 * the limits, and the request-body parsing (zod schemas → `ExploreRequestError` 400 naming the field).
 */
import type { z } from 'zod';
import { ExploreRequestError, InvalidArgumentError } from '../errors.js';
import type { CausalLmRoot } from '../nn/causal-lm.js';
import type { LmTokenizer } from '../nn/text.js';
import { tokenString as decodeOrId } from '../data/token-string.js';

/** Size limits of the explorer's requests. */
export interface ExploreLimits {
  /** Largest JSON request body (prompts, parameters), bytes. */
  maxJsonBytes: number;
  /** Largest uploaded file (shortcuts report, probe log), bytes. */
  maxUploadBytes: number;
}

/** Default limits: 64 KiB of JSON parameters, 8 MiB per uploaded file. */
export const DEFAULT_LIMITS: Readonly<ExploreLimits> = Object.freeze({ maxJsonBytes: 64 * 1024, maxUploadBytes: 8 * 1024 * 1024 });

/** The model the explorer serves. */
export interface ExploreModel {
  /** GPT-2 or a rotary family (Llama, GPT-NeoX, Gemma). */
  model: CausalLmRoot;
  tokenizer: LmTokenizer;
  /** Checkpoint directory or hub id. */
  dir: string;
  /** Backend name and detail, e.g. `'wasm (SIMD, 2 threads)'`. */
  backend: string;
}

/**
 * Parses a request body with `schema`.
 * @throws ExploreRequestError 400 naming the first bad field.
 */
export function parseRequest<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const where = issue.path.length ? issue.path.join('.') : 'body';
  throw new ExploreRequestError(400, `bad request field '${where}': ${issue.message}`, 'see docs/explore.md for the fields of each route');
}

/**
 * Tokenises a prompt for the model: at least one token, at most n_ctx.
 * @throws InvalidArgumentError for an empty prompt or one longer than the context.
 */
export function promptTokens(m: ExploreModel, text: string, what = 'the prompt'): number[] {
  const ids = m.tokenizer.encode(text);
  if (ids.length === 0) throw new InvalidArgumentError(`${what} has no tokens`, 'type some text');
  if (ids.length > m.model.cfg.nCtx) throw new InvalidArgumentError(`${what} is ${ids.length} tokens, more than the model's n_ctx ${m.model.cfg.nCtx}`, 'shorten it');
  return ids;
}

/** The string of one token id (`<id N>` for rows the tokenizer has no token for; see data/token-string.ts). */
export function tokenString(m: ExploreModel, id: number): string {
  return decodeOrId(m.tokenizer, id);
}

/** Token strings of `ids`, one per id. */
export function tokenStrings(m: ExploreModel, ids: readonly number[]): string[] {
  return ids.map((id) => tokenString(m, id));
}

/**
 * The id of a one-token string (e.g. `' Paris'`).
 * @throws InvalidArgumentError when it is not exactly one token.
 */
export function singleToken(m: ExploreModel, text: string, what: string): number {
  const ids = m.tokenizer.encode(text);
  if (ids.length !== 1) throw new InvalidArgumentError(`${what} '${text}' is ${ids.length} tokens, not one`, 'pick a word that is one token (often with a leading space)');
  return ids[0]!;
}
