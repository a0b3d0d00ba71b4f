#!/usr/bin/env node
// Runs the compiled node:test files under dist/test (GPU tests only when asked: `node scripts/run-tests.mjs test/gpu`).
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const wanted = process.argv.slice(2);
const roots = wanted.length ? wanted.map((w) => join('dist', w)) : ['dist/test'];
const files = [];
function walk(dir) {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (!wanted.length && path === join('dist', 'test', 'gpu')) continue;
      walk(path);
    } else if (name.endsWith('.test.js')) files.push(path);
  }
}
for (const r of roots) walk(r);
if (!files.length) {
  console.error(`no test files under ${roots.join(', ')}`);
  process.exit(1);
}
const result = spawnSync(process.execPath, ['--test', '--test-reporter=spec', ...files], { stdio: 'inherit' });
process.exit(result.status ?? 1);
