/**
 * Checks of what users hand to a model, made before anything is converted or allocated: the input's
 * type, token ids and attention masks value by value (a float, NaN, ∞, BigInt or 2^32+1 is an error
 * naming the value and its `[row, position]`, never a silent int32 conversion), and the run options
 * (`stopAtLayer`, `device`, `namesFilter`, `fwdHooks`). Every problem is an `InvalidArgumentError`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError } from '../errors.js';
import type { HookPoint, RunContext } from './hook-point.js';
import { readSync } from '../math/sync-read.js';

/** Describes a value for an error message: `null`, `the number 5`, `an object with keys {}`, … */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (value instanceof tf.Tensor) return `a ${value.dtype} tensor of shape [${value.shape.join(',')}]`;
  if (Array.isArray(value)) return `an array of ${value.length}`;
  switch (typeof value) {
    case 'number':
      return `the number ${value}`;
    case 'bigint':
      return `the BigInt ${value}n`;
    case 'string':
      return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
    case 'object': {
      const name = (value as object).constructor?.name;
      return name && name !== 'Object' ? `a ${name}` : `an object with keys {${Object.keys(value as object).join(', ')}}`;
    }
    default:
      return `a ${typeof value}`;
  }
}

/**
 * Rejects inputs no model takes (`null`, `undefined`, numbers, booleans, BigInts, functions) and string
 * tensors, at the top level or as a field of an input object (`inputIds`, `pixelValues`, …).
 */
export function checkModelInput(input: unknown): void {
  const ok = typeof input === 'string' || (typeof input === 'object' && input !== null);
  if (!ok) throw new InvalidArgumentError(`model input must be a tensor, an array, text or an input object, got ${describeValue(input)}`, 'see the model\'s forward() documentation for the input forms it takes');
  const tensors = input instanceof tf.Tensor ? [['input', input] as const] : Array.isArray(input) ? [] : Object.entries(input as object).filter(([, v]) => v instanceof tf.Tensor);
  for (const [field, t] of tensors as [string, tf.Tensor][]) {
    if (t.dtype === 'string' || t.dtype === 'complex64') throw new InvalidArgumentError(`${field === 'input' ? 'model input' : field} is ${describeValue(t)}; models read numeric tensors`);
  }
}

/** Why a token id is invalid, or undefined when it is an integer in 0 … vocabSize−1. */
function badTokenId(v: unknown, vocabSize: number): string | undefined {
  if (typeof v === 'bigint') return `is a BigInt (${v}n); pass ids as numbers`;
  if (typeof v !== 'number') return `is ${describeValue(v)}, not a number`;
  if (!Number.isInteger(v)) return 'is not an integer';
  if (v < 0 || v >= vocabSize) return `is outside the vocabulary [0, ${vocabSize})`;
  return undefined;
}

/** Why an attention-mask value is invalid, or undefined for 0 and 1. */
function badMaskValue(v: unknown): string | undefined {
  if (v === 0 || v === 1) return undefined;
  return typeof v === 'number' ? 'is not 0 or 1' : `is ${describeValue(v)}, not 0 or 1`;
}

function showValue(v: unknown): string {
  return typeof v === 'bigint' ? `${v}n` : typeof v === 'number' ? String(v) : describeValue(v);
}

/** Values laid out as `[batch, pos]`: nested JS arrays (checked before conversion), or a tensor's flat data. */
export type IdValues = { rows: readonly unknown[] } | { flat: ArrayLike<number>; cols: number };

/** Checks every value; the first bad one raises an error naming it and its `[row, position]`. */
function checkEach(values: IdValues, what: string, bad: (v: unknown) => string | undefined, hint: string): void {
  const count = 'rows' in values ? values.rows.length : values.cols > 0 ? values.flat.length / values.cols : 0;
  for (let r = 0; r < count; r++) {
    const row = 'rows' in values ? values.rows[r] : undefined;
    if ('rows' in values && !Array.isArray(row)) throw new InvalidArgumentError(`${what} row ${r} is ${describeValue(row)}, not an array of numbers`);
    const n = 'rows' in values ? (row as unknown[]).length : values.cols;
    for (let c = 0; c < n; c++) {
      const v = 'rows' in values ? (row as unknown[])[c] : values.flat[r * values.cols + c];
      const why = bad(v);
      if (why) throw new InvalidArgumentError(`${what} ${showValue(v)} at [${r}, ${c}] ${why}`, hint);
    }
  }
}

/**
 * Checks token ids before any conversion: each must be an integer number in 0 … vocabSize−1.
 * @param ids `{ rows }` `[batch][pos]` JS arrays, or `{ flat, cols }` a tensor's data `[batch·pos]`.
 * @throws InvalidArgumentError naming the first bad value and its `[row, position]`.
 */
export function checkTokenIds(ids: IdValues, vocabSize: number): void {
  checkEach(ids, 'token id', (v) => badTokenId(v, vocabSize), "token ids are integers from this model's tokenizer");
}

/** Checks attention-mask values (`{ rows }` or `{ flat, cols }` as in `checkTokenIds`): each must be 0 or 1. */
export function checkAttentionMask(mask: IdValues): void {
  checkEach(mask, 'attention mask value', badMaskValue, 'the mask is 1 for real tokens and 0 for padding');
}

/** Rejects tensors whose dtype cannot hold token ids or mask values (string, complex64, bool). */
export function checkIntegerTensorDtype(t: tf.Tensor, what: string): void {
  if (t.dtype !== 'int32' && t.dtype !== 'float32') throw new InvalidArgumentError(`${what} must be an int32 (or integer-valued float32) tensor, got ${describeValue(t)}`);
}

/** The run options every forward pass takes; checked before the input is prepared. */
export interface CheckedRunOptions {
  stopAtLayer?: unknown;
  device?: unknown;
  namesFilter?: unknown;
  fwdHooks?: unknown;
}

/** Checks run options: `stopAtLayer` a non-negative integer, `device` `'gpu' | 'cpu'`, `namesFilter` and `fwdHooks` well-formed. */
export function checkRunOptions(opts: unknown): void {
  if (opts === null || typeof opts !== 'object') throw new InvalidArgumentError(`run options must be an object, got ${describeValue(opts)}`);
  const o = opts as CheckedRunOptions;
  if (o.stopAtLayer !== undefined && !(typeof o.stopAtLayer === 'number' && Number.isInteger(o.stopAtLayer) && o.stopAtLayer >= 0)) {
    throw new InvalidArgumentError(`stopAtLayer must be a block index (an integer ≥ 0), got ${showValue(o.stopAtLayer)}`);
  }
  if (o.device !== undefined && o.device !== 'gpu' && o.device !== 'cpu') {
    throw new InvalidArgumentError(`unknown device ${typeof o.device === 'string' ? `'${o.device}'` : describeValue(o.device)}`, "device is 'gpu' (keep the cache on the backend, default) or 'cpu' (host memory)");
  }
  if (o.namesFilter !== undefined) checkNamesFilter(o.namesFilter);
  if (o.fwdHooks !== undefined) {
    if (!Array.isArray(o.fwdHooks)) throw new InvalidArgumentError(`fwdHooks must be an array of [nameOrPredicate, function] pairs, got ${describeValue(o.fwdHooks)}`);
    o.fwdHooks.forEach((entry: unknown, i) => {
      if (!Array.isArray(entry) || entry.length !== 2 || typeof entry[1] !== 'function') {
        throw new InvalidArgumentError(`fwdHooks[${i}] must be [nameOrPredicate, function], got ${describeValue(entry)}`);
      }
      checkNamesFilter(entry[0], `fwdHooks[${i}][0]`);
    });
  }
}

/** Checks a names filter: a hook name, an array of names, or a predicate. */
export function checkNamesFilter(filter: unknown, what = 'namesFilter'): void {
  if (typeof filter === 'string' || typeof filter === 'function') return;
  if (Array.isArray(filter)) {
    const i = filter.findIndex((n) => typeof n !== 'string');
    if (i < 0) return;
    throw new InvalidArgumentError(`${what}[${i}] must be a hook name (string), got ${describeValue(filter[i])}`);
  }
  throw new InvalidArgumentError(`${what} must be a hook name, an array of names or a function (name) => boolean, got ${describeValue(filter)}`);
}

/**
 * TransformerLens's opt-in `hook_tokens` (`[batch, pos]` int32), only when the run asks for it: the hook
 * sees a handle of the run's own (the cache outlives the prepared input); a replacement must hold ids inside
 * the vocabulary (a gather would read garbage otherwise) and is read back to check it.
 */
export function applyTokenHook(ctx: RunContext, point: HookPoint, ids: tf.Tensor2D, vocabSize: number): tf.Tensor2D {
  if (!ctx.wants(point.name)) return ids;
  const given = tf.clone(ids);
  const out = ctx.apply(point, given);
  if (out === given) return out;
  // the forward pass is synchronous (inside tf.tidy), so the replacement is read synchronously
  const values = readSync(out, `a hook at '${point.name}' replaced the token ids`, 'on webgpu in Node, return the ids unchanged from hook_tokens and pass the new ids as the input instead');
  for (let i = 0; i < values.length; i++) {
    const id = values[i]!;
    if (!(id >= 0 && id < vocabSize)) throw new InvalidArgumentError(`a hook at '${point.name}' returned token id ${id}, outside the vocabulary [0, ${vocabSize})`, 'return token ids of this model');
  }
  return out;
}
