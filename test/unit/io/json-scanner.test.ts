/**
 * The strict JSON scanner: the grammar is JSON.parse's (checked on a table and on seeded random token strings),
 * with serde_json's three extra refusals — lone surrogate escapes, numbers beyond the double range, nesting
 * deeper than 127 — and unescaping, integer classification and depth accounting checked directly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JsonScanner, MAX_JSON_NESTING } from '../../../lib/io/json-scanner.js';
import { mulberry32 } from '../../../lib/math/rng.js';

class Refused extends Error {}

function scanner(text: string): JsonScanner {
  return new JsonScanner(text, (problem) => {
    throw new Refused(problem);
  });
}

/** True when the scanner accepts `text` as one JSON value with surrounding whitespace. */
function scans(text: string): boolean {
  const scan = scanner(text);
  try {
    scan.skip(0);
    scan.end();
    return true;
  } catch (err) {
    if (err instanceof Refused) return false;
    throw err;
  }
}

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

test('accepts and refuses what JSON.parse does on a table of edge cases', () => {
  const texts = [
    '{}', '[]', ' \t\n\r{} \t\n\r', '0', '-0', '1.5e-3', '1E+2', '-12.0', '01', '1.', '.5', '+1', '-', '1e', '1e+', '--1', '0x10',
    'true', 'false', 'null', 'tru', 'nulll', 'True', 'NaN', 'Infinity', '"a"', '"\\u00e9\\ud83e\\udde0"', '"\\/\\b\\f\\n\\r\\t\\"\\\\"',
    '"\\x"', '"\\u12"', '"\\u12G4"', '"a\u0001"', '"a\u007f"', '"', '"\\"', '{"a":1,}', '[1,]', '[,1]', '{,}', '{"a" 1}', '{"a":}', '{1:2}',
    "{'a':1}", '[1 2]', '{"a":[{"b":[null,{}]}],"c":"d"}', '{} {}', '{}x', '\u00a0{}', '\ufeff{}', '[1]]', '[[1]', '{"a":1', '', ' ',
  ];
  for (const text of texts) assert.equal(scans(text), parses(text), JSON.stringify(text));
});

test('matches JSON.parse on 20,000 seeded random token strings', () => {
  const random = mulberry32(0x150_2026);
  const tokens = ['{', '}', '[', ']', ',', ':', '"a"', '"\\u00e9"', '"', '\\', '0', '1', '9', '-', '.', 'e', 'E', '+', 'true', 'null', ' ', '\n', 'x', '"k":'];
  let valid = 0;
  for (let i = 0; i < 20_000; i++) {
    const length = 1 + Math.floor(random() * 10);
    const text = Array.from({ length }, () => tokens[Math.floor(random() * tokens.length)]).join('');
    if (/[eE][+-]?\d{3,}/.test(text)) continue; // beyond the double range: serde_json refuses, JSON.parse gives Infinity
    const expected = parses(text);
    if (expected) valid++;
    assert.equal(scans(text), expected, JSON.stringify(text));
  }
  assert.ok(valid > 100, `${valid} valid strings`);
});

test('refuses what serde_json refuses beyond JSON.parse: lone surrogates, numbers past the double range, deep nesting', () => {
  for (const text of ['"\\ud800"', '"\\udc00"', '"\\ud800\\u0041"', '"\\ud800x"', '1e400', '-1e309', `1${'0'.repeat(400)}`]) {
    assert.equal(parses(text), true, text);
    assert.equal(scans(text), false, text);
  }
  assert.equal(scans('1e-400'), true, 'underflow to 0 is accepted');
  const nested = (depth: number): string => `${'['.repeat(depth)}${']'.repeat(depth)}`;
  assert.equal(scans(nested(MAX_JSON_NESTING)), true);
  assert.equal(scans(nested(MAX_JSON_NESTING + 1)), false);
  assert.equal(scans(`${'{"a":'.repeat(MAX_JSON_NESTING)}1${'}'.repeat(MAX_JSON_NESTING)}`), true);
  assert.equal(scans(`${'{"a":'.repeat(MAX_JSON_NESTING + 1)}1${'}'.repeat(MAX_JSON_NESTING + 1)}`), false);
  // The nesting of the enclosing containers counts: skipping inside 120 levels leaves room for 7.
  const inner = scanner(nested(8));
  assert.throws(() => inner.skip(120), /nesting deeper than 127 levels at character 7/);
  assert.doesNotThrow(() => scanner(nested(7)).skip(120));
});

test('strings unescape; numbers say whether they are plain unsigned integers', () => {
  assert.equal(scanner('"a\\u00e9\\ud83e\\udde0\\n\\"\\/"').string(), 'aé🧠\n"/');
  assert.equal(scanner('  "日本"').string(), '日本');
  const integers = ['0', '7', '18446744073709551616'];
  const others = ['-0', '-1', '4.0', '4e0', '1E2', '0.5'];
  for (const text of integers) assert.deepEqual(scanner(text).number(), { text, integer: true });
  for (const text of others) assert.deepEqual(scanner(text).number(), { text, integer: false });
});

test('long strings with escapes decode as JSON.parse decodes them, across the decoder\'s 8192-unit slices', () => {
  const random = mulberry32(0xe5c);
  const pieces = ['a', 'é', '日', '🧠', '\\n', '\\"', '\\\\', '\\/', '\\u00e9', '\\ud83e\\udde0', '\\t', 'xyz'];
  const body = Array.from({ length: 30_000 }, () => pieces[Math.floor(random() * pieces.length)]).join('');
  const text = `"${body}"`;
  assert.equal(scanner(text).string(), JSON.parse(text));
  // 100,000 escapes: linear, one buffer (a concatenation per escape used to take seconds on hostile input).
  const many = `"${'\\n'.repeat(100_000)}"`;
  assert.equal(scanner(many).string(), '\n'.repeat(100_000));
});

test('object() and array() walk members in order and leave the position after the container', () => {
  const scan = scanner('{"a":[1,2],"b":{}, "c":null} ');
  const seen: string[] = [];
  scan.object(0, (key) => {
    seen.push(key);
    if (key === 'a') scan.array(1, (index) => seen.push(`${index}:${scan.number().text}`));
    else if (key === 'c') assert.equal(scan.eatNull(), true);
    else scan.skip(1);
  });
  scan.end();
  assert.deepEqual(seen, ['a', '0:1', '1:2', 'b', 'c']);
});
