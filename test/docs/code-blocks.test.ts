/**
 * Every ```ts block of docs/ and README.md type-checks against the library (strict, as a module of its own):
 * `'tfjs-lens'` resolves to this package's built declarations (package self-reference), `'./lib/…'` to the
 * sources. A block that only shows a fragment (a signature listing, lines out of a longer program) opts out with
 * a first line `// fragment: <why>`; everything else must compile, so that an example cannot go stale silently.
 * The blocks that need nothing from outside the repository (no hub download, no `declare`d context) also run,
 * on the fixtures and the shipped model, and must exit cleanly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { ROOT } from '../helpers/fixtures.js';

interface Block {
  file: string;
  line: number;
  code: string;
}

function markdownFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return markdownFiles(path);
    return name.endsWith('.md') ? [path] : [];
  });
}

function tsBlocks(path: string): Block[] {
  const lines = readFileSync(path, 'utf8').split('\n');
  const out: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!/^```(ts|typescript)\s*$/.test(lines[i]!)) continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && !/^```\s*$/.test(lines[end]!)) end++;
    out.push({ file: relative(ROOT, path), line: start + 1, code: lines.slice(start, end).join('\n') });
    i = end;
  }
  return out;
}

const FRAGMENT = /^\s*\/\/ fragment: \S/;

test('every ```ts block in docs/ and README.md compiles against the library (fragments marked as such)', (t) => {
  const blocks = [...markdownFiles(join(ROOT, 'docs')), join(ROOT, 'README.md')].flatMap(tsBlocks);
  assert.ok(blocks.length >= 30, `${blocks.length} blocks found`);
  const checked = blocks.filter((b) => !FRAGMENT.test(b.code.split('\n')[0] ?? ''));
  const dir = join(ROOT, 'dist', 'doc-blocks');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const where = new Map<string, Block>();
  const files = checked.map((b, i) => {
    const path = join(dir, `block-${String(i).padStart(3, '0')}.ts`);
    // Blocks import the sources as './lib/…' (repository root); this folder is two levels down.
    writeFileSync(path, `${b.code.replace(/(['"])\.\/lib\//g, '$1../../lib/')}\nexport {};\n`);
    where.set(path, b);
    return path;
  });
  const program = ts.createProgram(files, {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    skipLibCheck: true,
    esModuleInterop: true,
    resolveJsonModule: true,
    lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
    types: ['node'],
  });
  const problems: string[] = [];
  for (const d of ts.getPreEmitDiagnostics(program)) {
    const block = d.file ? where.get(d.file.fileName) : undefined;
    const message = ts.flattenDiagnosticMessageText(d.messageText, '\n');
    if (!d.file || !block) {
      problems.push(`(outside the blocks) ${d.file?.fileName ?? ''}: ${message}`);
      continue;
    }
    const { line } = d.file.getLineAndCharacterOfPosition(d.start ?? 0);
    problems.push(`${block.file}:${block.line + line}: ${message}`);
  }
  t.diagnostic(`${checked.length} blocks compiled, ${blocks.length - checked.length} marked as fragments`);
  assert.deepEqual(problems, [], `doc code blocks that do not compile:\n${problems.join('\n')}`);
  rmSync(dir, { recursive: true, force: true });
});

/** A block runs offline when it declares no outside context and loads only repository paths. */
function runsOffline(block: string): boolean {
  const code = block.replace(/\/\/.*$/gm, ''); // commented-out alternatives do not count
  if (/^\s*declare /m.test(code) || /buildBenchTarget|resolveModelDir|loadTokenizer\(/.test(code)) return false;
  const loads = [...code.matchAll(/loadModel\('([^']+)'\)/g)].map((m) => m[1]!);
  return loads.every((p) => p.startsWith('test/fixtures/') || p.startsWith('weights/'));
}

test('the ```ts blocks that need nothing outside the repository run to completion', (t) => {
  const blocks = [...markdownFiles(join(ROOT, 'docs')), join(ROOT, 'README.md')].flatMap(tsBlocks).filter((b) => !FRAGMENT.test(b.code.split('\n')[0] ?? '') && runsOffline(b.code));
  assert.ok(blocks.length >= 8, `${blocks.length} runnable blocks`);
  const dir = join(ROOT, 'dist', 'doc-run');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const failures: string[] = [];
  const lib = pathToFileURL(join(ROOT, 'dist', 'lib')).href;
  blocks.forEach((b, i) => {
    const js = ts.transpileModule(b.code, { compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 } }).outputText;
    const path = join(dir, `block-${i}.mjs`);
    writeFileSync(path, js.replace(/(['"])\.\/lib\//g, `$1${lib}/`));
    const r = spawnSync(process.execPath, [path], { cwd: ROOT, encoding: 'utf8', timeout: 180_000, env: { ...process.env, TFJS_LENS_BACKEND: 'cpu' } });
    if (r.status !== 0) failures.push(`${b.file}:${b.line}: exit ${r.status}${r.signal ? ` (${r.signal})` : ''}\n${(r.stderr || '').split('\n').slice(0, 6).join('\n')}`);
  });
  t.diagnostic(`${blocks.length} blocks ran: ${blocks.map((b) => `${b.file}:${b.line}`).join(', ')}`);
  assert.deepEqual(failures, [], `doc code blocks that fail at run time:\n${failures.join('\n')}`);
  rmSync(dir, { recursive: true, force: true });
});
