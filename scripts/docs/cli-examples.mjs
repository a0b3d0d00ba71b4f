#!/usr/bin/env node
// Regenerates the example outputs of docs/cli.md from the shipped tiny GPT-2 (weights/tiny-gpt2). Every example
// sits between explicit markers, and only the fenced block between them is rewritten (the prose is left alone):
//
//   <!-- cli-example: lens --text "The capital city of France is" -->
//   ```
//   $ tfjs-lens lens --text "The capital city of France is"
//   …output…
//   ```
//   <!-- /cli-example -->
//
// The marker holds the arguments of `tfjs-lens` (quoted as in a shell), optionally followed by filters after an
// unquoted `|`: `head N` / `tail N` (show the first / last N lines, with a `…` line for the rest), `exit N` (the
// command is expected to exit with N; default 0), `bench` (timings, dates, CPU name and memory normalised: the
// numbers of a benchmark are never stable; tables keep their columns and the names in the first column, every
// measured number prints as `n`) and `slow` (skipped by `--fast`, which the test uses).
//
// Each command runs on the wasm backend (TFJS_LENS_BACKEND=wasm; the commands' seeds default to 0) from a temporary
// folder, so the default output folders (tfjs-lens-heads/, …) land there; stdout and stderr are captured together
// in the order they were written. Absolute paths of the repository and of the temporary folder print as `…`.
//
// Run from the repository root after `npx tsc -p tsconfig.json` (it runs dist/lib/cli/main.js):
//   node scripts/docs/cli-examples.mjs [--check] [--fast] [--only lens,heads]
// --check exits 1 when docs/cli.md is out of date (and rewrites nothing); --fast skips the examples marked slow;
// --only runs the examples whose command (first argument) is listed.
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

const ROOT = process.cwd();
const DOC = join(ROOT, 'docs', 'cli.md');
const CLI = join(ROOT, 'dist', 'lib', 'cli', 'main.js');
const WIDTH = 110; // the displayed command is wrapped (with ` \`) before an option past this column

const argv = process.argv.slice(2);
const check = argv.includes('--check');
const fast = argv.includes('--fast');
const onlyAt = argv.indexOf('--only');
const only = onlyAt >= 0 ? new Set((argv[onlyAt + 1] ?? '').split(',').filter(Boolean)) : undefined;

if (!existsSync(CLI)) {
  console.error(`${relative(ROOT, CLI)} is missing: build first (npx tsc -p tsconfig.json)`);
  process.exit(2);
}

/** Splits a marker's text into shell words and filter groups (an unquoted `|` starts a filter). */
function parseMarker(text) {
  const groups = [[]];
  let word = null;
  let quote = null;
  for (const ch of text) {
    if (quote) {
      if (ch === quote) quote = null;
      else word += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      word ??= '';
    } else if (/\s/.test(ch)) {
      if (word !== null) groups.at(-1).push(word);
      word = null;
    } else if (ch === '|') {
      if (word !== null) groups.at(-1).push(word);
      word = null;
      groups.push([]);
    } else word = (word ?? '') + ch;
  }
  if (quote) throw new Error(`unbalanced quote in marker: ${text}`);
  if (word !== null) groups.at(-1).push(word);
  const [args, ...filters] = groups;
  // the command as displayed: the marker's text before the first unquoted `|`, as written
  let display = text;
  quote = null;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quote) { if (ch === quote) quote = null; } else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === '|') { display = text.slice(0, i); break; }
  }
  return { args, filters, display: display.trim() };
}

/** `$ tfjs-lens …`, wrapped before an option when the line would pass WIDTH columns. */
function commandLines(display) {
  const parts = display.split(/ (?=--?[A-Za-z])/);
  const lines = [];
  let line = '$ tfjs-lens';
  for (const p of parts) {
    if (line.length + 1 + p.length > WIDTH && line !== '$ tfjs-lens') {
      lines.push(`${line} \\`);
      line = `    ${p}`;
    } else line += ` ${p}`;
  }
  lines.push(line);
  return lines;
}

const ISO_DATE = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z/g;

/** Benchmark output: keeps its shape (columns, block names), replaces every measured number with `n`. */
function normaliseBench(lines) {
  const out = [];
  let table = [];
  const flush = () => {
    if (!table.length) return;
    const rows = table.map((cells) => cells.map((c, j) => (j === 0 ? c : c.replace(/\d[\d,.]*/g, 'n'))));
    const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
    const rule = (l, m, r) => l + widths.map((w) => '─'.repeat(w + 2)).join(m) + r;
    out.push(rule('┌', '┬', '┐'));
    rows.forEach((r, i) => {
      out.push(`│ ${r.map((c, j) => c.padEnd(widths[j])).join(' │ ')} │`);
      if (i === 0) out.push(rule('├', '┼', '┤'));
    });
    out.push(rule('└', '┴', '┘'));
    table = [];
  };
  lines.forEach((line, i) => {
    if (line.startsWith('│')) {
      const cells = line.split('│').slice(1, -1).map((c) => c.trim());
      table.push(cells);
      return;
    }
    if (line.startsWith('└')) flush(); // the end of one table (the next may follow at once)
    if (/^[┌├└]/.test(line)) return;
    flush();
    if (line.startsWith('note: ')) return; // printed only when the noise makes parts exceed a block
    if (i === 0) out.push(line.replace(/ on [^:)]*$/, ' on <cpu>')); // the CPU model name ends the first line
    else out.push(line.replace(/\d[\d,.]*(?= ?(?:ms|MB|%)|×)/g, 'n')); // measured numbers carry a unit (× only as 1.00×)
  });
  flush();
  return out;
}

function runExample(marker, dir) {
  const { args, filters, display } = parseMarker(marker);
  let expectExit = 0;
  let head;
  let tail;
  let bench = false;
  for (const [name, value] of filters) {
    if (name === 'exit') expectExit = Number(value);
    else if (name === 'head') head = Number(value);
    else if (name === 'tail') tail = Number(value);
    else if (name === 'bench') bench = true;
    else if (name !== 'slow') throw new Error(`unknown filter '${name}' in marker: ${marker}`);
  }
  const logPath = join(dir, `out-${process.hrtime.bigint()}.txt`);
  const fd = openSync(logPath, 'w');
  const start = performance.now();
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: dir,
    stdio: ['ignore', fd, fd],
    env: { ...process.env, TFJS_LENS_BACKEND: 'wasm', NO_COLOR: '1', FORCE_COLOR: '0', TFJS_LENS_DEBUG: '', COLUMNS: '120' },
    timeout: 300_000,
  });
  closeSync(fd);
  const seconds = (performance.now() - start) / 1000;
  const raw = readFileSync(logPath, 'utf8');
  if (r.status !== expectExit) {
    throw new Error(`tfjs-lens ${display}: exit ${r.status ?? r.signal}, expected ${expectExit}\n${raw}`);
  }
  const paths = [...new Set([realpathSync(dir), dir, realpathSync(ROOT), ROOT])].sort((a, b) => b.length - a.length);
  let text = raw;
  for (const p of paths) text = text.split(p).join('…');
  text = text.replace(ISO_DATE, '<date>');
  let lines = text.replace(/\s+$/, '').split('\n').map((l) => l.replace(/\s+$/, ''));
  if (bench) lines = normaliseBench(lines);
  if (head !== undefined && lines.length > head) lines = [...lines.slice(0, head), '…'];
  if (tail !== undefined && lines.length > tail) lines = ['…', ...lines.slice(-tail)];
  return { block: ['```', ...commandLines(display), ...lines, '```'].join('\n'), seconds, command: args[0] ?? '' };
}

const source = readFileSync(DOC, 'utf8');
// markers are whole lines (the prose may mention them inline)
const MARKER = /^(<!-- cli-example: ([^\n]*?) -->\n)([\s\S]*?)(\n<!-- \/cli-example -->)$/gm;
const found = [...source.matchAll(MARKER)];
if (!found.length) {
  console.error('docs/cli.md has no <!-- cli-example: … --> markers');
  process.exit(2);
}

const dir = mkdtempSync(join(tmpdir(), 'tfjs-lens-cli-examples-'));
for (const name of ['data', 'weights', 'test']) symlinkSync(join(ROOT, name), join(dir, name));
let output = '';
let last = 0;
let ran = 0;
let skipped = 0;
const total = performance.now();
try {
  for (const m of found) {
    const marker = m[2].trim();
    const { args, filters } = parseMarker(marker);
    output += source.slice(last, m.index);
    last = m.index + m[0].length;
    const isSlow = filters.some(([f]) => f === 'slow');
    if ((fast && isSlow) || (only && !only.has(args[0]))) {
      output += m[0];
      skipped++;
      continue;
    }
    const { block, seconds } = runExample(marker, dir);
    ran++;
    console.log(`${seconds.toFixed(1).padStart(6)} s  tfjs-lens ${marker}`);
    output += `${m[1]}${block}${m[4]}`;
  }
  output += source.slice(last);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const summary = `${ran} examples run${skipped ? `, ${skipped} skipped` : ''}, ${((performance.now() - total) / 1000).toFixed(1)} s`;

if (check) {
  if (output !== source) {
    const a = source.split('\n');
    const b = output.split('\n');
    const i = a.findIndex((l, k) => l !== b[k]);
    console.error(`docs/cli.md is out of date (first difference at line ${i + 1}: ${JSON.stringify(a[i])} → ${JSON.stringify(b[i])}): run node scripts/docs/cli-examples.mjs`);
    process.exit(1);
  }
  console.log(`docs/cli.md is up to date (${summary})`);
} else {
  if (output !== source) writeFileSync(DOC, output);
  console.log(`${output !== source ? 'rewrote' : 'unchanged:'} docs/cli.md (${summary})`);
}
