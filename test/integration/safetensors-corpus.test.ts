/**
 * The hostile safetensors corpus (test/fixtures/safetensors-corpus/, written by
 * scripts/data/make-safetensors-corpus.mjs): every file opens or fails exactly as expected.json says, tensors
 * read back to the listed values or errors, the outcome agrees with the reference implementation's except
 * where a quoted rule of the format says otherwise, and the script still writes the committed bytes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SafetensorsFile } from '../../lib/io/safetensors.js';
import { TfjsLensError } from '../../lib/errors.js';
import { ROOT } from '../helpers/fixtures.js';

const DIR = join(ROOT, 'test', 'fixtures', 'safetensors-corpus');
const GENERATOR = join(ROOT, 'scripts', 'data', 'make-safetensors-corpus.mjs');

type Value = number | 'NaN' | 'Infinity' | '-Infinity' | '-0';
interface TensorExpectation {
  values?: Value[];
  error?: string;
  match?: string;
}
interface Case {
  file: string;
  what: string;
  open: string;
  match?: string;
  metadata?: Record<string, string>;
  tensors?: Record<string, TensorExpectation>;
  reference: 'accepts' | 'rejects';
  rule?: string;
}
interface Generator {
  corpusCases(): { name: string; bytes: Uint8Array }[];
  expectedEntry(c: unknown): Case;
}

async function loadCases(): Promise<Case[]> {
  return (JSON.parse(await readFile(join(DIR, 'expected.json'), 'utf8')) as { cases: Case[] }).cases;
}

function decodeValue(v: Value): number {
  return typeof v === 'number' ? v : v === '-0' ? -0 : Number(v);
}

/** Asserts that `err` is the typed error `className` whose message contains `match`. */
function assertTypedError(err: unknown, className: string, match: string | undefined, label: string): void {
  assert.ok(err instanceof TfjsLensError, `${label}: untyped ${String(err)}`);
  assert.equal(err.constructor.name, className, `${label}: ${err.message}`);
  if (match !== undefined) assert.ok(err.message.includes(match), `${label}: message '${err.message.split('\n')[0]}' lacks '${match}'`);
}

async function checkCase(c: Case): Promise<void> {
  let file: SafetensorsFile;
  try {
    file = await SafetensorsFile.open(join(DIR, c.file));
  } catch (err) {
    assertTypedError(err, c.open, c.match, c.file);
    return;
  }
  try {
    assert.equal(c.open, 'ok', `${c.file} opened but should raise ${c.open}`);
    if (c.metadata) assert.deepEqual(file.header.metadata, c.metadata, c.file);
    assert.deepEqual([...file.keys()].sort(), Object.keys(c.tensors ?? {}).sort(), c.file);
    for (const [name, expected] of Object.entries(c.tensors ?? {})) {
      const label = `${c.file}: ${name}`;
      if (expected.error) {
        await assert.rejects(file.read(name), (err: unknown) => {
          assertTypedError(err, expected.error!, expected.match, label);
          return true;
        });
        continue;
      }
      // deepEqual compares with Object.is: NaN equals NaN and -0 differs from 0.
      assert.deepEqual([...(await file.read(name)).data], expected.values!.map(decodeValue), label);
    }
  } finally {
    await file.close();
  }
}

test('each corpus file opens or fails as expected.json says', async () => {
  const cases = await loadCases();
  assert.ok(cases.length >= 60, `${cases.length} cases`);
  for (const c of cases) await checkCase(c);
});

test('the corpus agrees with the reference implementation except where a quoted format rule decides', async () => {
  for (const c of await loadCases()) {
    if (c.rule) {
      assert.equal(c.reference, 'accepts', c.file);
      assert.notEqual(c.open, 'ok', `${c.file}: a rule is quoted only where tfjs-lens rejects what serde lets through`);
    } else {
      assert.equal(c.open === 'ok', c.reference === 'accepts', `${c.file}: tfjs-lens ${c.open}, reference ${c.reference}`);
    }
  }
});

test('the generator still writes the committed corpus, byte for byte', async () => {
  const generator = (await import(pathToFileURL(GENERATOR).href)) as Generator;
  const generated = generator.corpusCases();
  const files = (await readdir(DIR)).filter((f) => f.endsWith('.safetensors')).sort();
  assert.deepEqual(files, generated.map((c) => `${c.name}.safetensors`).sort());
  for (const c of generated) assert.deepEqual(new Uint8Array(await readFile(join(DIR, `${c.name}.safetensors`))), c.bytes, c.name);
  assert.deepEqual(await loadCases(), generated.map((c) => generator.expectedEntry(c)));
});
