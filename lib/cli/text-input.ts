/**
 * Inputs of the analysis subcommands (`saturation`, `shortcuts`, `probe`, `patch`): token sequences read
 * from a text file (one sentence per line, tokenised with the model's tokenizer) or from an id file (one
 * comma- or space-separated id sequence per line, for models without a tokenizer), and the integer /
 * number option parsers these commands share. Every problem is a typed `TfjsLensError`.
 */
import { InvalidArgumentError, InvalidInputError } from '../errors.js';
import { readTextFile } from './text-file.js';
import { readTextDataset, textFormatOf } from '../data/text-dataset.js';

/** The tokenizer methods the helpers need (`HookedGPT2.tokenizer`, `HookedBert.tokenizer`). */
export interface TextTokenizer {
  encode(text: string): number[];
  decode(ids: readonly number[]): string;
}

/** Options of `readTokenSequences`. */
export interface ReadSequencesOptions {
  /** Text file, one sentence per line (empty lines skipped). Needs `tokenizer`. */
  textFile?: string;
  /**
   * The texts of `textFile` when it is a dataset file (JSONL, CSV/TSV, parquet: `datasetTexts`), one
   * sentence per record, used instead of its lines; `lines` then numbers records from 1.
   */
  texts?: readonly string[];
  /** Id file, one comma- or space-separated id sequence per line (empty lines and `#` comments skipped). */
  idsFile?: string;
  /** The model's tokenizer (for `textFile`). */
  tokenizer?: TextTokenizer;
  /** Vocabulary size: ids must be in 0 … vocabSize−1. */
  vocabSize: number;
  /** Longer sequences are cut to their first `maxLength` tokens (the model's n_ctx); reported in `truncated`. */
  maxLength: number;
  /** Sequences shorter than this are dropped (default 1); reported in `dropped`. */
  minLength?: number;
  /** Keep only the first N sequences (after dropping short ones). */
  maxExamples?: number;
  /** Model directory, named in the no-tokenizer error. */
  modelDir?: string;
}

/** Token sequences read from a file, and what was done to them. */
export interface TokenSequences {
  /** One id list per kept line, in file order. */
  sequences: number[][];
  /** `'text'` (tokenised lines) or `'ids'` (id file). */
  source: 'text' | 'ids';
  /** The file read. */
  file: string;
  /** 1-based line numbers of the kept sequences. */
  lines: number[];
  /** Sequences cut to `maxLength` tokens. */
  truncated: number;
  /** Lines dropped for having fewer than `minLength` tokens. */
  dropped: number;
}

/**
 * Parses one id sequence (`'1,2, 3'` or `'1 2 3'`) and checks every id against the vocabulary.
 * @param where names the source in error messages (e.g. `'ids.txt line 3'`, `'--ids-clean'`).
 */
export function parseIdList(text: string, vocabSize: number, where: string): number[] {
  if (!text.trim()) throw new InvalidArgumentError(`${where} is empty`, 'pass comma-separated token ids, e.g. 1,2,3');
  const ids = text.split(/[\s,]+/).filter(Boolean).map((s) => {
    const n = decimalInt(s);
    if (n === undefined) throw new InvalidArgumentError(`${where}: '${s}' is not an integer token id`, 'write ids as decimal integers, e.g. 1,2,3');
    if (n < 0 || n >= vocabSize) throw new InvalidArgumentError(`${where}: token id ${s} is outside the vocabulary [0, ${vocabSize})`, 'the ids must come from this model\'s tokenizer');
    return n;
  });
  return ids;
}

/**
 * The texts of a `--text-file` that is a dataset file — `.jsonl`/`.ndjson`, `.csv`, `.tsv`, `.parquet`
 * (`readTextDataset`, the `textField` column; records with an empty text skipped like empty lines) — or
 * undefined for a plain text file (read line by line by `readTokenSequences`).
 */
export async function datasetTexts(textFile: string | undefined, textField = 'text'): Promise<string[] | undefined> {
  if (textFile === undefined || textFormatOf(textFile) === 'lines') return undefined;
  return (await readTextDataset(textFile, { textField, skipEmpty: true })).records.map((r) => r.text);
}

/**
 * Reads token sequences from a text file (tokenised) or an id file; exactly one of the two must be given.
 * @returns sequences in file order, each cut to `maxLength` tokens.
 */
export function readTokenSequences(opts: ReadSequencesOptions): TokenSequences {
  if (!!opts.textFile === !!opts.idsFile) throw new InvalidArgumentError('pass exactly one of --text-file FILE (one sentence per line) or --ids-file FILE (one comma-separated id sequence per line)');
  const minLength = opts.minLength ?? 1;
  const file = (opts.textFile ?? opts.idsFile)!;
  const source = opts.textFile ? 'text' : 'ids';
  if (opts.texts && source !== 'text') throw new InvalidArgumentError('dataset texts are read with --text-file, not --ids-file');
  const raw = opts.texts ?? readTextFile(file, source === 'text' ? '--text-file' : '--ids-file').split(/\r?\n/);
  if (source === 'text' && !opts.tokenizer) {
    throw new InvalidArgumentError(`${opts.modelDir ?? 'this model'} has no tokenizer, so --text-file cannot be tokenised`, 'pass token ids with --ids-file FILE (one comma-separated id sequence per line)');
  }
  const sequences: number[][] = [];
  const lines: number[] = [];
  let truncated = 0;
  let dropped = 0;
  for (let i = 0; i < raw.length; i++) {
    if (opts.maxExamples !== undefined && sequences.length >= opts.maxExamples) break;
    const line = raw[i]!;
    if (!line.trim() || (source === 'ids' && line.trimStart().startsWith('#'))) continue;
    let ids = source === 'text' ? opts.tokenizer!.encode(line) : parseIdList(line, opts.vocabSize, `${file} line ${i + 1}`);
    if (source === 'text') {
      for (const id of ids) if (id < 0 || id >= opts.vocabSize) throw new InvalidInputError(file, `line ${i + 1} tokenises to id ${id}, outside the model's vocabulary [0, ${opts.vocabSize})`, 'the tokenizer does not belong to this model');
    }
    if (ids.length > opts.maxLength) {
      ids = ids.slice(0, opts.maxLength);
      truncated++;
    }
    if (ids.length < minLength) {
      dropped++;
      continue;
    }
    sequences.push(ids);
    lines.push(i + 1);
  }
  if (sequences.length === 0) throw new InvalidInputError(file, `no sequence with at least ${minLength} token${minLength === 1 ? '' : 's'}`, source === 'text' ? 'write one sentence per line' : 'write one comma-separated id sequence per line');
  return { sequences, source, file, lines, truncated, dropped };
}

/**
 * One token id for a single-token answer: `--answer-id` when given, else the text tokenised (must be
 * exactly one token, e.g. `' Paris'` with its leading space).
 */
export function singleTokenId(opts: { text?: string; id?: string; tokenizer?: TextTokenizer; vocabSize: number; what: string }): number {
  if (opts.id !== undefined) {
    const ids = parseIdList(opts.id, opts.vocabSize, `--${opts.what}-id`);
    if (ids.length !== 1) throw new InvalidArgumentError(`--${opts.what}-id takes one token id, got '${opts.id}'`);
    return ids[0]!;
  }
  if (opts.text === undefined) throw new InvalidArgumentError(`pass --${opts.what} " X" (one token) or --${opts.what}-id N`);
  if (!opts.tokenizer) throw new InvalidArgumentError(`this model has no tokenizer, so --${opts.what} cannot be tokenised`, `pass --${opts.what}-id N`);
  const ids = opts.tokenizer.encode(opts.text);
  if (ids.length !== 1) {
    const pieces = ids.map((id) => JSON.stringify(opts.tokenizer!.decode([id]))).join(' + ');
    throw new InvalidArgumentError(`--${opts.what} ${JSON.stringify(opts.text)} is ${ids.length} tokens (${pieces || 'none'}), not one`, 'pick a single-token answer (GPT-2 words usually need their leading space, e.g. " Paris") or pass the id with --' + `${opts.what}-id`);
  }
  return ids[0]!;
}

/** Options of `promptIds`: the option values as given and what the messages call them. */
export interface PromptOptions {
  /** `--text` value (tokenised; needs `tokenizer`). */
  text?: string;
  /** `--ids` value (comma-separated ids, checked against `vocabSize`). */
  ids?: string;
  tokenizer?: TextTokenizer;
  vocabSize: number;
  /** Flag names for messages, default `'--text'` and `'--ids'`. */
  textFlag?: string;
  idsFlag?: string;
  /** Model directory, named when the model has no tokenizer. */
  modelDir?: string;
}

/**
 * The token ids of one prompt: `--ids` parsed, else `--text` tokenised; never empty.
 * @throws InvalidArgumentError when neither is given, either is empty, or text is given to a model without tokenizer.
 */
export function promptIds(opts: PromptOptions): number[] {
  const textFlag = opts.textFlag ?? '--text';
  const idsFlag = opts.idsFlag ?? '--ids';
  if (opts.ids !== undefined) return parseIdList(opts.ids, opts.vocabSize, idsFlag);
  if (opts.text === undefined) throw new InvalidArgumentError(`pass ${textFlag} "…" or ${idsFlag} 1,2,3`);
  if (!opts.tokenizer) throw new InvalidArgumentError(`${opts.modelDir ?? 'this model'} has no tokenizer, so ${textFlag} cannot be tokenised`, `pass token ids with ${idsFlag} 1,2,3`);
  const ids = opts.tokenizer.encode(opts.text);
  if (ids.length === 0) throw new InvalidArgumentError(`${textFlag} ${JSON.stringify(opts.text)} is empty: it tokenises to no tokens`, `pass some text, e.g. ${textFlag} "The capital of France is"`);
  return ids;
}

/** Parses an integer option (`--k 5`, decimal digits only), checking `min ≤ value ≤ max`; messages quote the value as given. */
export function intOption(value: string | undefined, name: string, range: { min?: number; max?: number } = {}): number {
  const n = value === undefined ? undefined : decimalInt(value);
  if (n === undefined || !Number.isSafeInteger(n)) throw new InvalidArgumentError(`--${name} must be an integer, got '${value}'`);
  if (range.min !== undefined && n < range.min) throw new InvalidArgumentError(`--${name} must be at least ${range.min}, got ${value!.trim()}`);
  if (range.max !== undefined && n > range.max) throw new InvalidArgumentError(`--${name} must be at most ${range.max}, got ${value!.trim()}`);
  return n;
}

/** `s` as a number when it is a decimal integer (`12`, `-3`, `+4`), else undefined (`1e3`, `0x10`, `1.5`, `''`). */
function decimalInt(s: string): number | undefined {
  const t = s.trim();
  return /^[+-]?\d+$/.test(t) ? Number(t) : undefined;
}

/** Parses a number option (`--filter 0.85`), checking `min ≤ value ≤ max`. */
export function numberOption(value: string | undefined, name: string, range: { min?: number; max?: number } = {}): number {
  const n = Number(value);
  if (value === undefined || value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`--${name} must be a number, got '${value}'`);
  if (range.min !== undefined && n < range.min) throw new InvalidArgumentError(`--${name} must be at least ${range.min}, got ${n}`);
  if (range.max !== undefined && n > range.max) throw new InvalidArgumentError(`--${name} must be at most ${range.max}, got ${n}`);
  return n;
}

/** Parses a comma-separated list of numbers (`--thetas 0.5,0.9`); at least one, each finite. */
export function numberListOption(value: string, name: string): number[] {
  const parts = value.split(',').map((s) => s.trim());
  if (!parts.length || parts.some((s) => s === '' || !Number.isFinite(Number(s)))) throw new InvalidArgumentError(`--${name} must be comma-separated numbers, got '${value}'`, `e.g. --${name} 0.5,0.9`);
  return parts.map(Number);
}
