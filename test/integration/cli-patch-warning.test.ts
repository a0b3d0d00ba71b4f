/** `patch` warns (stderr and JSON `warnings`) when the clean prompt does not prefer the answer over the wrong token. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../helpers/cli.js';

const CLEAN = 'When Mary and John went to the store, John gave a drink to';
const CORRUPT = 'When Mary and John went to the store, Mary gave a drink to';

test('patch: a clean logit difference <= 0 gives a warning; swapping answer and wrong flips its sign', () => {
  const run = (answer: string, wrong: string) => {
    const r = runCli(['patch', '--clean', CLEAN, '--corrupt', CORRUPT, '--answer', answer, '--wrong', wrong, '--json', '--out', 'tfjs-lens-patch-test']);
    assert.equal(r.status, 0, r.stderr);
    return { report: JSON.parse(r.stdout) as { cleanLogitDiff: number; warnings: string[] }, stderr: r.stderr };
  };
  const a = run(' Mary', ' John');
  const b = run(' John', ' Mary');
  assert.ok(Math.abs(a.report.cleanLogitDiff + b.report.cleanLogitDiff) < 1e-4, 'the two differences are negatives of each other');
  for (const { report, stderr } of [a, b]) {
    const wrongWay = report.cleanLogitDiff <= 0;
    assert.equal(report.warnings.length > 0, wrongWay, `clean diff ${report.cleanLogitDiff}, warnings ${JSON.stringify(report.warnings)}`);
    assert.equal(/patch: warning: the model does not prefer the answer/.test(stderr), wrongWay);
  }
});
