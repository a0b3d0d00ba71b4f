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
import { defaultTierOnly, testBackend } from '../helpers/backend.js';

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

/**
 * Numbers shown in comments become checks: a statement line `expr;` whose comment (on the line, or the comment
 * lines right below it) shows numbers is rewritten to compare the value of `expr` with them, to the
 * precision printed. Numbers are read up to the first '…' or '('; words with digits (`L0`, `H3`) do not count.
 * Values that are not numeric (strings, objects of non-numbers) are not checked.
 */
const CHECK_HELPER = `
let __checks = 0;
function __numbers(v) {
  if (v === null || v === undefined || typeof v === 'boolean' || typeof v === 'string') return null;
  if (typeof v === 'number') return [v];
  if (typeof v.dataSync === 'function') return Array.from(v.dataSync());
  if (ArrayBuffer.isView(v) || Array.isArray(v)) { const out = []; for (const x of v) { const n = __numbers(x); if (!n) return null; out.push(...n); } return out; }
  if (typeof v === 'object') return __numbers(Object.values(v));
  return null;
}
async function __check(fn, comment, where) {
  const value = await fn();
  const text = comment.replace(/\u2212/g, '-').split(/[…(]/)[0];
  const shown = [...text.matchAll(/(?<![\\w.])-?\\d+(?:\\.(\\d+))?(?:e-?\\d+)?(?![\\w.])/g)];
  const got = __numbers(value);
  if (!shown.length || !got) return value;
  __checks++;
  if (got.length < shown.length) { console.error(where + ': ' + shown.length + ' numbers shown, the value has ' + got.length); process.exitCode = 1; return value; }
  shown.forEach((m, i) => {
    const want = Number(m[0]);
    const tol = m[1] ? 0.5 * 10 ** -m[1].length + 1e-9 : 1e-9;
    if (!(Math.abs(got[i] - want) <= tol * (m[0].includes('e') ? Math.abs(want) : 1))) { console.error(where + ': shown ' + m[0] + ' at #' + i + ', computed ' + got[i]); process.exitCode = 1; }
  });
  return value;
}
process.on('exit', () => console.log('__checks ' + __checks));
`;

function withChecks(code: string, where: (line: number) => string): string {
  const lines = code.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^(\s*)((?:await\s+)?[^=;\/]+?);\s*(?:\/\/\s*(.*))?$/.exec(lines[i]!);
    if (!m || /^(const|let|var|for|if|import|return|export|declare|try|finally|\}|\{)\b/.test(m[2]!)) continue;
    let comment = m[3] ?? '';
    if (!comment) for (let j = i + 1; j < lines.length && /^\s*\/\/ /.test(lines[j]!); j++) comment += ` ${lines[j]!.replace(/^\s*\/\//, '')}`;
    if (!/(?<![\w.])[-\u2212]?\d/.test(comment.split(/[…(]/)[0]!)) continue;
    lines[i] = `${m[1]}await __check(async () => (${m[2]}), ${JSON.stringify(comment)}, ${JSON.stringify(where(i))});`;
  }
  return `${CHECK_HELPER}\n${lines.join('\n')}`;
}

/** A block runs offline when it declares no outside context and loads only repository paths. */
function runsOffline(block: string): boolean {
  const code = block.replace(/\/\/.*$/gm, ''); // commented-out alternatives do not count
  if (/^\s*declare /m.test(code) || /buildBenchTarget|resolveModelDir|resolveHubDataset|loadTokenizer\(/.test(code)) return false;
  const loads = [...code.matchAll(/loadModel\('([^']+)'\)/g)].map((m) => m[1]!);
  return loads.every((p) => p.startsWith('test/fixtures/') || p.startsWith('weights/'));
}

test('the ```ts blocks that need nothing outside the repository run, and print the numbers their comments show', defaultTierOnly(), (t) => {
  const blocks = [...markdownFiles(join(ROOT, 'docs')), join(ROOT, 'README.md')].flatMap(tsBlocks).filter((b) => !FRAGMENT.test(b.code.split('\n')[0] ?? '') && runsOffline(b.code));
  assert.ok(blocks.length >= 8, `${blocks.length} runnable blocks`);
  const dir = join(ROOT, 'dist', 'doc-run');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const failures: string[] = [];
  let checks = 0;
  const lib = pathToFileURL(join(ROOT, 'dist', 'lib')).href;
  blocks.forEach((b, i) => {
    const js = ts.transpileModule(withChecks(b.code, (line) => `${b.file}:${b.line + line}`), { compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 } }).outputText;
    const path = join(dir, `block-${i}.mjs`);
    writeFileSync(path, js.replace(/(['"])\.\/lib\//g, `$1${lib}/`));
    const r = spawnSync(process.execPath, [path], { cwd: ROOT, encoding: 'utf8', timeout: 180_000, env: { ...process.env, TFJS_LENS_BACKEND: testBackend('cpu') } });
    checks += Number(/__checks (\d+)/.exec(r.stdout)?.[1] ?? 0);
    if (r.status !== 0) failures.push(`${b.file}:${b.line}: exit ${r.status}${r.signal ? ` (${r.signal})` : ''}\n${(r.stderr || '').split('\n').slice(0, 6).join('\n')}`);
  });
  t.diagnostic(`${blocks.length} blocks ran (${checks} values shown in their comments checked): ${blocks.map((b) => `${b.file}:${b.line}`).join(', ')}`);
  assert.deepEqual(failures, [], `doc code blocks that fail at run time:\n${failures.join('\n')}`);
  rmSync(dir, { recursive: true, force: true });
});
