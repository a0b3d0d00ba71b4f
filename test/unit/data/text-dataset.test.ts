import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readTextDataset, textFormatOf } from '../../../lib/data/text-dataset.js';
import { InvalidArgumentError, InvalidInputError } from '../../../lib/errors.js';
import { ROOT } from '../../helpers/fixtures.js';
import { writeParquet } from '../../helpers/parquet.js';

const dir = mkdtempSync(join(tmpdir(), 'tfjs-lens-text-dataset-'));

function file(name: string, content: string | Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

/** Texts with commas, quotes, tabs-free unicode and a newline inside one (CSV quoting). */
const ROWS = [
  { text: 'The capital of France is Paris.', label: 'geo' },
  { text: 'He said "hello", then left.', label: 'quote' },
  { text: 'naïve café — ünïcödé', label: 'geo' },
  { text: 'two\nlines', label: 'multi' },
];

test('lines: every non-empty line of the shipped sentences, with file:line sources', async () => {
  const path = join(ROOT, 'data', 'text', 'sentences.txt');
  const ds = await readTextDataset(path, { maxExamples: 50 });
  const lines = readFileSync(path, 'utf8').split('\n');
  const nonEmpty = lines.map((l, i) => ({ l, i })).filter(({ l }) => l.trim()).slice(0, 50);
  assert.equal(ds.format, 'lines');
  assert.deepEqual(ds.records.map((r) => r.text), nonEmpty.map(({ l }) => l));
  assert.deepEqual(ds.records.map((r) => r.source), nonEmpty.map(({ i }) => `${path}:${i + 1}`));
  assert.equal(ds.labels, undefined);
  await assert.rejects(readTextDataset(path, { labelField: 'label' }), InvalidArgumentError);
});

test('JSONL: text and label fields, integer labels as strings, sorted label set and ids', async () => {
  const path = file('d.jsonl', `${ROWS.map((r, i) => JSON.stringify({ id: i, sentence: r.text, label: i === 3 ? 7 : r.label })).join('\n')}\n\n`);
  const ds = await readTextDataset(path, { textField: 'sentence', labelField: 'label' });
  assert.deepEqual(ds.records.map((r) => [r.text, r.label, r.source]), ROWS.map((r, i) => [r.text, i === 3 ? '7' : r.label, `${path}:${i + 1}`]));
  assert.deepEqual(ds.labels, ['7', 'geo', 'quote']);
  assert.deepEqual([...ds.labelIds!], [1, 2, 1, 0]);
});

test('CSV (csv-parse) and TSV: quoting, escaped quotes and embedded newlines round-trip; label column', async () => {
  const quote = (s: string) => `"${s.replace(/"/g, '""')}"`;
  const csv = file('d.csv', `label,text\n${ROWS.map((r) => `${r.label},${quote(r.text)}`).join('\n')}\n`);
  const ds = await readTextDataset(csv, { labelField: 'label' });
  assert.equal(ds.format, 'csv');
  assert.deepEqual(ds.records.map((r) => [r.text, r.label]), ROWS.map((r) => [r.text, r.label]));
  assert.deepEqual(ds.records.map((r) => r.source.slice(csv.length)), [':2', ':3', ':4', ':6']);
  const tsv = file('d.tsv', `text\tlabel\n${ROWS.slice(0, 3).map((r) => `${r.text}\t${r.label}`).join('\n')}\n`);
  const t = await readTextDataset(tsv, { labelField: 'label' });
  assert.deepEqual(t.records.map((r) => [r.text, r.label]), ROWS.slice(0, 3).map((r) => [r.text, r.label]));
});

test('parquet (hyparquet) of a file written from the format spec: string text, integer labels', async () => {
  const path = file('d.parquet', writeParquet([
    { name: 'text', values: ROWS.map((r) => r.text) },
    { name: 'label', values: [3, 1, 3, 0] },
  ]));
  assert.equal(textFormatOf(path), 'parquet');
  const ds = await readTextDataset(path, { labelField: 'label' });
  assert.deepEqual(ds.records.map((r) => [r.text, r.label, r.source]), ROWS.map((r, i) => [r.text, String([3, 1, 3, 0][i]), `${path} row ${i}`]));
  assert.deepEqual(ds.labels, ['0', '1', '3']);
  const two = await readTextDataset(path, { maxExamples: 2 });
  assert.deepEqual(two.records.map((r) => r.text), ROWS.slice(0, 2).map((r) => r.text));
  await assert.rejects(readTextDataset(path, { textField: 'sentence' }), (e: unknown) => e instanceof InvalidInputError && /d\.parquet: has no column 'sentence' \(columns: 'text', 'label'\)/.test(e.message));
  await assert.rejects(readTextDataset(file('bad.parquet', 'not parquet at all'), {}), /bad\.parquet: not a readable parquet file/);
});

test('errors name the file, the line and the field', async () => {
  const jsonl = file('e.jsonl', '{"text": "ok"}\n{"text": 3}\n');
  await assert.rejects(readTextDataset(jsonl), (e: unknown) => e instanceof InvalidInputError && e.message === `${jsonl}:2: field 'text' is a number, expected a string`);
  const broken = file('f.jsonl', '{"text": "ok"}\n{"text": "unterminated\n');
  await assert.rejects(readTextDataset(broken), new RegExp(`f\\.jsonl:2: not valid JSON`));
  const missingLabel = file('g.jsonl', '{"text": "a", "y": "x"}\n{"text": "b"}\n');
  await assert.rejects(readTextDataset(missingLabel, { labelField: 'y' }), /g\.jsonl:2: label field 'y' is missing, expected a string or an integer/);
  const floatLabel = file('h.jsonl', '{"text": "a", "y": 0.5}\n');
  await assert.rejects(readTextDataset(floatLabel, { labelField: 'y' }), /h\.jsonl:1: label field 'y' is 0\.5/);
  const emptyText = file('i.csv', 'text\n""\nok\n');
  await assert.rejects(readTextDataset(emptyText), /i\.csv:2: field 'text' is empty/);
  const ragged = file('j.csv', 'text,label\na,1\nb,2,3\n');
  await assert.rejects(readTextDataset(ragged), (e: unknown) => e instanceof InvalidInputError && /j\.csv:3: cannot parse CSV/.test(e.message));
  const noColumn = file('k.csv', 'sentence,label\na,1\n');
  await assert.rejects(readTextDataset(noColumn), /k\.csv:1: the header has no column 'text' \(columns: 'sentence', 'label'\)/);
  await assert.rejects(readTextDataset(file('l.txt', new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 0]))), /l\.txt: is not UTF-8 text/);
  await assert.rejects(readTextDataset(join(dir, 'missing.jsonl')), /missing\.jsonl: JSONL file not found/);
});

test('skipEmpty: empty or blank texts are skipped and counted (JSONL, CSV, parquet), else an error naming the row', async () => {
  const texts = ['first', '', 'second', '   ', 'third'];
  const jsonl = file('blank.jsonl', texts.map((text) => JSON.stringify({ text })).join('\n'));
  const csv = file('blank.csv', `text,n\n${texts.map((t, i) => `"${t}",${i}`).join('\n')}\n`);
  const parquet = file('blank.parquet', Buffer.from(writeParquet([{ name: 'text', values: texts }])));
  for (const path of [jsonl, csv, parquet]) {
    const d = await readTextDataset(path, { skipEmpty: true, maxExamples: 2 });
    assert.deepEqual(d.records.map((r) => r.text), ['first', 'second'], path);
    assert.equal(d.skippedEmpty, 2, path);
    await assert.rejects(readTextDataset(path), (err: unknown) => err instanceof InvalidInputError && /field 'text' is empty/.test(err.message), path);
  }
});
