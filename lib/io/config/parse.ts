/** Shared zod parsing of Hugging Face `config.json` objects into typed configs, with readable errors. */
import type { z } from 'zod';
import { ConfigError } from '../../errors.js';

/**
 * Parses `json` with `schema`; on failure raises `ConfigError` listing every problem by field path.
 * @param what the architecture's name in the message (e.g. 'GPT-2'); @param hint the fields expected.
 */
export function parseConfig<S extends z.ZodType>(schema: S, json: Record<string, unknown>, where: string, what: string, hint: string): z.infer<S> {
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new ConfigError(`${where} is not a valid ${what} config (${problems})`, hint);
  }
  return parsed.data;
}
