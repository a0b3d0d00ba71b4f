/**
 * The models shipped in the package (`weights/`) and how a `--model` argument names them: `tiny-gpt2` (the
 * default of every command) and `tiny-gpt2-deep` work from any directory; a local directory of that name,
 * when there is one, wins; anything else (a path or a hub id) is kept as given.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Package root (dist/lib/io → ../../..). */
export const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** The shipped 4-layer tiny GPT-2, the default model of every command. */
export const DEFAULT_MODEL_DIR = join(PACKAGE_ROOT, 'weights', 'tiny-gpt2');

/** Shipped models by name → their folder. */
export const SHIPPED_MODELS: Readonly<Record<string, string>> = {
  'tiny-gpt2': DEFAULT_MODEL_DIR,
  'tiny-gpt2-deep': join(PACKAGE_ROOT, 'weights', 'tiny-gpt2-deep'),
};

/**
 * The checkpoint a `--model` argument means: undefined → the default model; a shipped model's name → its
 * folder (unless a local path of that name exists); anything else unchanged.
 * @param model what the user passed, or undefined.
 * @returns a directory or hub id for `loadModel`.
 */
export function resolveModelArg(model: string | undefined): string {
  if (model === undefined) return DEFAULT_MODEL_DIR;
  const shipped = Object.hasOwn(SHIPPED_MODELS, model) ? SHIPPED_MODELS[model] : undefined;
  return shipped !== undefined && !existsSync(model) ? shipped : model;
}
