/**
 * The example outputs of docs/cli.md are generated from the shipped tiny GPT-2 by scripts/docs/cli-examples.mjs
 * (each between `<!-- cli-example: … -->` and `<!-- /cli-example -->`). This runs the script's --check on the
 * fast examples (about 16 s on 2 cores): a retrained model, a changed table or message makes it fail until
 * docs/cli.md is regenerated. The examples marked `slow` (saturation, shortcuts, probe: about 45 s together, which
 * would take the whole check to 50–70 s, measured, past the minute a test may take) are skipped here with `--fast`;
 * `node scripts/docs/cli-examples.mjs --check` checks all of them (also the slow intervene, early-exit and probe-grid
 * examples, several minutes more).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { ROOT } from '../helpers/fixtures.js';
import { defaultTierOnly } from '../helpers/backend.js';

const SCRIPT = join(ROOT, 'scripts', 'docs', 'cli-examples.mjs');

test('docs/cli.md: every example block sits between markers, and the slow ones are marked', defaultTierOnly(), () => {
  const md = readFileSync(join(ROOT, 'docs', 'cli.md'), 'utf8');
  const opens = md.match(/^<!-- cli-example: .* -->$/gm) ?? [];
  const closes = md.match(/^<!-- \/cli-example -->$/gm) ?? [];
  assert.ok(opens.length >= 10, `expected the examples of every subcommand, found ${opens.length} markers`);
  assert.equal(closes.length, opens.length, 'each <!-- cli-example: … --> has its <!-- /cli-example -->');
  for (const cmd of ['saturation', 'shortcuts', 'probe --text-file data/text/sentences.txt --max-examples', 'intervene', 'early-exit', 'probe-grid']) {
    assert.ok(opens.some((m) => m.includes(`cli-example: ${cmd}`) && m.includes('| slow')), `${cmd} is marked slow`);
  }
});

test('docs/cli.md: the fast examples match the shipped model (scripts/docs/cli-examples.mjs --check --fast)', { ...defaultTierOnly(), timeout: 180_000 }, () => {
  const r = spawnSync(process.execPath, [SCRIPT, '--check', '--fast'], { cwd: ROOT, encoding: 'utf8', timeout: 170_000 });
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}\nregenerate with: npx tsc -p tsconfig.json && node scripts/docs/cli-examples.mjs`);
  const slow = (readFileSync(join(ROOT, 'docs', 'cli.md'), 'utf8').match(/^<!-- cli-example: .*\|.*\bslow\b.* -->$/gm) ?? []).length;
  assert.match(r.stdout, new RegExp(`docs/cli\\.md is up to date \\(\\d+ examples run, ${slow} skipped`));
});
