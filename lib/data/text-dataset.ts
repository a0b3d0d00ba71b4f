/**
 * Text datasets from local files, with a named text field and an optional label field:
 *
 * - `lines`: plain UTF-8 text, one example per non-empty line (no labels);
 * - `jsonl`: one JSON object per non-empty line (`.jsonl`, `.ndjson`);
 * - `csv` / `tsv`: a header row naming the columns, parsed by `csv-parse` (quotes, escaped quotes, embedded
 *   newlines; every row must have the header's column count);
 * - `parquet`: the named columns read by `hyparquet`.
 *
 * The format comes from the file's extension unless given. Every problem is an `InvalidInputError` naming the
 * file, the line (or parquet row) and the field; nothing is converted silently: a text field must hold a
 * non-empty string, a label a string or an integer.
 */
import { parse as parseCsv } from 'csv-parse/sync';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { readInputFile } from './read-input.js';
import { utf8Lines, utf8Text } from './text-lines.js';
import { InvalidArgumentError, InvalidInputError } from '../errors.js';

/** The file formats `readTextDataset` reads. */
export type TextFormat = 'lines' | 'jsonl' | 'csv' | 'tsv' | 'parquet';

/** The formats, for option checks and messages. */
export const TEXT_FORMATS: readonly TextFormat[] = ['lines', 'jsonl', 'csv', 'tsv', 'parquet'];

/** Options of `readTextDataset`. */
export interface TextDatasetOptions {
  /** The file format (default: from the extension — `.jsonl`/`.ndjson`, `.csv`, `.tsv`, `.parquet`, else lines). */
  format?: TextFormat;
  /** Field / column holding the text (default `'text'`; not used for lines). */
  textField?: string;
  /** Field / column holding a label (optional; not for lines). */
  labelField?: string;
  /** Keep only the first n examples. */
  maxExamples?: number;
  /**
   * Skip records whose text field is an empty or whitespace-only string (as plain-text readers skip empty
   * lines; e.g. the blank rows of wikitext) instead of failing; they are counted in `skippedEmpty`. Default false.
   */
  skipEmpty?: boolean;
}

/** One example of a text dataset. */
export interface TextRecord {
  text: string;
  /** The label as written (integers as their decimal string); absent without `labelField`. */
  label?: string;
  /** Where it came from: `file:line` (CSV/TSV: the line the record ends on; parquet: `file row r`, 0-based). */
  source: string;
}

/** A text dataset read from one file. */
export interface TextDataset {
  file: string;
  format: TextFormat;
  records: TextRecord[];
  /** The distinct labels, sorted (code-point order); absent without `labelField`. */
  labels?: string[];
  /** `[records.length]` index of each record's label in `labels`; absent without `labelField`. */
  labelIds?: Int32Array;
  /** Records skipped for an empty text (`skipEmpty` only; before `maxExamples` is applied). */
  skippedEmpty?: number;
}

/** The format a file name implies. */
export function textFormatOf(path: string): TextFormat {
  const lower = path.toLowerCase();
  if (lower.endsWith('.jsonl') || lower.endsWith('.ndjson')) return 'jsonl';
  if (lower.endsWith('.csv')) return 'csv';
  if (lower.endsWith('.tsv')) return 'tsv';
  if (lower.endsWith('.parquet')) return 'parquet';
  return 'lines';
}

/** A row's value as text / label, or an error naming where and which field. */
function textValue(value: unknown, where: string, field: string): string {
  if (typeof value !== 'string') throw new InvalidInputError(where, `field '${field}' is ${value === undefined ? 'missing' : value === null ? 'null' : `a ${Array.isArray(value) ? 'list' : typeof value}`}, expected a string`);
  if (!value.trim()) throw new InvalidInputError(where, `field '${field}' is empty`);
  return value;
}

function labelValue(value: unknown, where: string, field: string): string {
  if (typeof value === 'string' && value.trim()) return value;
  if (typeof value === 'number' && Number.isInteger(value)) return String(value);
  if (typeof value === 'bigint') return value.toString();
  throw new InvalidInputError(where, `label field '${field}' is ${value === undefined ? 'missing' : value === null ? 'null' : typeof value === 'string' ? 'empty' : `${JSON.stringify(value)}`}, expected a string or an integer`);
}

/** What the readers need besides the file: the fields and the empty-text rule. */
interface Fields {
  textField: string;
  labelField: string | undefined;
  skipEmpty: boolean;
}

/** Marks a row skipped for its empty text (`skipEmpty`). */
const EMPTY = Symbol('empty text');

/** Turns field values into a record (`get(field)` reads one field of the row); EMPTY for a skipped empty text. */
function record(get: (field: string) => unknown, where: string, { textField, labelField, skipEmpty }: Fields): TextRecord | typeof EMPTY {
  const raw = get(textField);
  if (skipEmpty && typeof raw === 'string' && !raw.trim()) return EMPTY;
  const text = textValue(get(textField), where, textField);
  return labelField === undefined ? { text, source: where } : { text, label: labelValue(get(labelField), where, labelField), source: where };
}

function readLines(file: string, opts: TextDatasetOptions): TextRecord[] {
  if (opts.labelField !== undefined) throw new InvalidArgumentError(`readTextDataset: ${file} is read as plain lines, which have no label field '${opts.labelField}'`, 'use JSONL, CSV/TSV or parquet for labelled text');
  const out: TextRecord[] = [];
  utf8Lines(file, 'text').forEach((line, i) => {
    if (line.trim()) out.push({ text: line, source: `${file}:${i + 1}` });
  });
  return out;
}

function readJsonl(file: string, fields: Fields): (TextRecord | typeof EMPTY)[] {
  const out: (TextRecord | typeof EMPTY)[] = [];
  utf8Lines(file, 'JSONL').forEach((line, i) => {
    if (!line.trim()) return;
    const where = `${file}:${i + 1}`;
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch (err) {
      throw new InvalidInputError(where, `not valid JSON (${(err as Error).message})`, 'JSONL holds one JSON object per line');
    }
    if (!row || typeof row !== 'object' || Array.isArray(row)) throw new InvalidInputError(where, `is ${Array.isArray(row) ? 'an array' : JSON.stringify(row)}, expected a JSON object`);
    out.push(record((f) => (row as Record<string, unknown>)[f], where, fields));
  });
  return out;
}

function readDelimited(file: string, delimiter: ',' | '\t', fields: Fields): (TextRecord | typeof EMPTY)[] {
  const { textField, labelField } = fields;
  const text = utf8Text(file, delimiter === ',' ? 'CSV' : 'TSV');
  let rows: { record: Record<string, string>; info: { lines: number } }[];
  try {
    rows = parseCsv(text, { columns: true, delimiter, skip_empty_lines: true, info: true, ...(delimiter === '\t' ? { quote: false } : {}) });
  } catch (err) {
    const e = err as Error & { lines?: number };
    throw new InvalidInputError(e.lines !== undefined ? `${file}:${e.lines}` : file, `cannot parse ${delimiter === ',' ? 'CSV' : 'TSV'}: ${e.message}`);
  }
  if (!rows.length) return [];
  const columns = Object.keys(rows[0]!.record);
  for (const f of [textField, labelField]) {
    if (f !== undefined && !columns.includes(f)) throw new InvalidInputError(`${file}:1`, `the header has no column '${f}' (columns: ${columns.map((c) => `'${c}'`).join(', ')})`);
  }
  return rows.map(({ record: row, info }) => record((f) => row[f], `${file}:${info.lines}`, fields));
}

async function readParquet(file: string, fields: Fields): Promise<(TextRecord | typeof EMPTY)[]> {
  const { textField, labelField } = fields;
  const bytes = readInputFile(file, 'parquet');
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  let columns: string[];
  try {
    columns = parquetMetadata(buffer).schema.slice(1).map((s) => s.name);
  } catch (err) {
    throw new InvalidInputError(file, `not a readable parquet file (${(err as Error).message})`);
  }
  const wanted = labelField === undefined ? [textField] : [textField, labelField];
  for (const f of wanted) {
    if (!columns.includes(f)) throw new InvalidInputError(file, `has no column '${f}' (columns: ${columns.map((c) => `'${c}'`).join(', ')})`);
  }
  let rows: Record<string, unknown>[];
  try {
    rows = await parquetReadObjects({ file: buffer, columns: wanted });
  } catch (err) {
    throw new InvalidInputError(file, `cannot read parquet columns ${wanted.join(', ')} (${(err as Error).message})`);
  }
  return rows.map((row, r) => record((f) => row[f], `${file} row ${r}`, fields));
}

/**
 * Reads a text dataset.
 * @returns the records in file order (at most `maxExamples`), with the sorted label set when a label field is named.
 * @throws InvalidInputError naming file, line/row and field for unreadable files, malformed rows, missing or
 *   empty fields; InvalidArgumentError for bad options.
 */
export async function readTextDataset(file: string, opts: TextDatasetOptions = {}): Promise<TextDataset> {
  const format = opts.format ?? textFormatOf(file);
  if (!TEXT_FORMATS.includes(format)) throw new InvalidArgumentError(`readTextDataset: unknown format '${String(format)}'`, `use ${TEXT_FORMATS.join(', ')}`);
  const max = opts.maxExamples;
  if (max !== undefined && (!Number.isInteger(max) || max < 1)) throw new InvalidArgumentError(`readTextDataset: maxExamples must be a positive integer, got ${max}`);
  const textField = opts.textField ?? 'text';
  const labelField = opts.labelField;
  const fields: Fields = { textField, labelField, skipEmpty: !!opts.skipEmpty };
  let read: (TextRecord | typeof EMPTY)[];
  if (format === 'lines') read = readLines(file, opts);
  else if (format === 'jsonl') read = readJsonl(file, fields);
  else if (format === 'parquet') read = await readParquet(file, fields);
  else read = readDelimited(file, format === 'csv' ? ',' : '\t', fields);
  let records = read.filter((r): r is TextRecord => r !== EMPTY);
  const skipped = opts.skipEmpty ? { skippedEmpty: read.length - records.length } : {};
  if (max !== undefined) records = records.slice(0, max);
  if (labelField === undefined) return { file, format, records, ...skipped };
  const labels = [...new Set(records.map((r) => r.label!))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const index = new Map(labels.map((l, i) => [l, i]));
  return { file, format, records, labels, labelIds: Int32Array.from(records, (r) => index.get(r.label!)!), ...skipped };
}
