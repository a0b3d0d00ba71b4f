/**
 * Which input flags of `lens` each model family reads, so that a flag the model cannot use is an error
 * that says which models take it (instead of being silently ignored), and the `--position` check.
 */
import { HookedGPT2 } from '../nn/gpt2.js';
import { HookedViT } from '../nn/vit.js';
import { HookedWhisper } from '../nn/whisper.js';
import { HookedBert } from '../nn/bert.js';
import type { HookedModel } from '../nn/load.js';
import { InvalidArgumentError } from '../errors.js';
import { intOption } from './text-input.js';

/** The model families of tfjs-lens, as messages name them. */
export type ModelFamily = 'GPT-2' | 'BERT' | 'ViT' | 'Whisper';

/** Input flags of `lens`. */
export type InputFlag = '--text' | '--ids' | '--image' | '--audio' | '--position';

/** The input flags each family reads in one command, and how its usage is described. */
export type FlagTable = Record<ModelFamily, { flags: readonly string[]; usage: string }>;

/** The flags each family reads in `lens`. */
const READS: FlagTable = {
  'GPT-2': { flags: ['--text', '--ids', '--position'], usage: '--text "…" or --ids 1,2,3' },
  BERT: { flags: ['--text', '--ids', '--position'], usage: '--text "…" or --ids 1,2,3' },
  ViT: { flags: ['--image'], usage: '--image PATH (the lens reads the CLS token)' },
  Whisper: { flags: ['--audio', '--text', '--ids', '--position'], usage: '--audio PATH.wav, with --text or --ids for the decoder prefix' },
};

const WHAT: Partial<Record<string, string>> = { '--image': 'images', '--images': 'images', '--audio': 'audio' };

/** `['a', 'b', 'c']` → `'a, b and c'`. */
function listed(items: readonly string[], conjunction: 'and' | 'or'): string {
  return items.length < 2 ? items.join('') : `${items.slice(0, -1).join(', ')} ${conjunction} ${items[items.length - 1]}`;
}

/** The family of a loaded model. */
export function modelFamily(model: HookedModel): ModelFamily {
  if (model instanceof HookedViT) return 'ViT';
  if (model instanceof HookedWhisper) return 'Whisper';
  if (model instanceof HookedBert) return 'BERT';
  if (model instanceof HookedGPT2) return 'GPT-2';
  throw new InvalidArgumentError(`unsupported model class ${(model as object).constructor.name}`);
}

/**
 * Rejects input flags the model does not read, naming the models that do.
 * @param given the flags that were passed (value !== undefined).
 * @param table the command's flags per family (default: those of `lens`).
 */
export function checkInputFlags(family: ModelFamily, given: readonly string[], modelDir: string, table: FlagTable = READS): void {
  for (const flag of given) {
    if (table[family].flags.includes(flag)) continue;
    const takers = (Object.keys(table) as ModelFamily[]).filter((f) => table[f].flags.includes(flag));
    const what = WHAT[flag] ? ` (${WHAT[flag]})` : '';
    throw new InvalidArgumentError(`${flag} is for ${listed(takers, 'and')} models${what}; ${modelDir} is a ${family} model, which takes ${table[family].usage}`, `pass a ${listed(takers, 'or')} checkpoint with --model, or drop ${flag}`);
  }
}

/**
 * `--position` among `n` tokens: 0 … n−1, or −n … −1 counted from the end; default the last token.
 * @returns the position in 0 … n−1.
 * @throws InvalidArgumentError naming the position as given when it is not an integer or out of range.
 */
export function resolvePosition(value: string | undefined, n: number): number {
  if (value === undefined) return n - 1;
  const p = intOption(value, 'position');
  if (p < -n || p >= n) throw new InvalidArgumentError(`--position ${p} is outside the ${n} token${n === 1 ? '' : 's'} of the input`, `use 0 … ${n - 1}, or -${n} … -1 to count from the end`);
  return p < 0 ? p + n : p;
}
