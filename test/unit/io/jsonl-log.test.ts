import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openJsonlLog } from '../../../lib/io/jsonl-log.js';
import { InvalidInputError } from '../../../lib/errors.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'tfjs-lens-jsonl-'));

test('a new log is created (with its folder), appended to, and read back', () => {
  const path = join(tmp(), 'sub', 'log.jsonl');
  const log = openJsonlLog<{ a: number }>(path);
  assert.deepEqual(log.records, []);
  log.append({ a: 1 });
  log.append({ a: 2 });
  log.close();
  assert.equal(readFileSync(path, 'utf8'), '{"a":1}\n{"a":2}\n');
  const again = openJsonlLog<{ a: number }>(path);
  assert.deepEqual(again.records, [{ a: 1 }, { a: 2 }]);
  assert.equal(again.repairedBytes, 0);
  again.close();
});

test('a torn last line (no newline, or invalid JSON) is cut off and the next record takes its place', () => {
  for (const torn of ['{"a":3', '{"a":3}', 'garbage\n']) {
    const path = join(tmp(), 'log.jsonl');
    writeFileSync(path, '{"a":1}\n{"a":2}\n');
    appendFileSync(path, torn);
    const log = openJsonlLog<{ a: number }>(path);
    assert.deepEqual(log.records, [{ a: 1 }, { a: 2 }], `torn ${JSON.stringify(torn)}`);
    assert.equal(log.repairedBytes, Buffer.byteLength(torn));
    log.append({ a: 4 });
    log.close();
    assert.equal(readFileSync(path, 'utf8'), '{"a":1}\n{"a":2}\n{"a":4}\n');
  }
});

test('a bad line before the end is an error naming the line (not skipped)', () => {
  const path = join(tmp(), 'log.jsonl');
  writeFileSync(path, '{"a":1}\nnot json\n{"a":2}\n');
  assert.throws(() => openJsonlLog(path), (e: unknown) => e instanceof InvalidInputError && /line 2 is not valid JSON/.test(e.message));
});
