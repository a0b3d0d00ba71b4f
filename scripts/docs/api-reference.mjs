#!/usr/bin/env node
// Generates docs/api.md: every export of the package root (lib/index.ts) with its kind, its signature or type,
// the first paragraph of its JSDoc and the module that defines it, grouped by module. Run from the repository
// root: `node scripts/docs/api-reference.mjs [--check]` (--check exits 1 when docs/api.md is out of date).
import { readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

const ROOT = process.cwd();
const ENTRY = join(ROOT, 'lib', 'index.ts');
const OUT = join(ROOT, 'docs', 'api.md');

const program = ts.createProgram([ENTRY], {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  strict: true,
  skipLibCheck: true,
  noEmit: true,
  esModuleInterop: true,
  resolveJsonModule: true,
  lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
  types: ['node'],
});
const checker = program.getTypeChecker();
const entry = program.getSourceFile(ENTRY);
const moduleSymbol = checker.getSymbolAtLocation(entry);

const oneLine = (s) => s.replace(/\s+/g, ' ').trim();
const cell = (s) => oneLine(s).replace(/\|/g, '\\|');
// The code comments still cite the method sections as "docs/methods.md §n"; the definitions live in docs/methods.md.
const firstParagraph = (s) => oneLine(s.split(/\n\s*\n/)[0] ?? '').replace(/`?(?:ALGORITHMS\.md|docs\/methods\.md)`?/g, '[methods.md](methods.md)');

function kindOf(decl) {
  if (ts.isFunctionDeclaration(decl)) return 'function';
  if (ts.isClassDeclaration(decl)) return 'class';
  if (ts.isInterfaceDeclaration(decl)) return 'interface';
  if (ts.isTypeAliasDeclaration(decl)) return 'type';
  if (ts.isEnumDeclaration(decl)) return 'enum';
  if (ts.isVariableDeclaration(decl)) return 'const';
  if (ts.isModuleDeclaration(decl) || ts.isSourceFile(decl) || ts.isNamespaceImport(decl)) return 'namespace';
  return ts.SyntaxKind[decl.kind];
}

function signature(symbol, decl, kind) {
  const flags = ts.TypeFormatFlags.NoTruncation | ts.TypeFormatFlags.UseAliasDefinedOutsideCurrentScope;
  if (kind === 'function') {
    const type = checker.getTypeOfSymbolAtLocation(symbol, decl);
    return type.getCallSignatures().map((s) => checker.signatureToString(s, decl, flags)).join(' / ');
  }
  if (kind === 'const') return checker.typeToString(checker.getTypeOfSymbolAtLocation(symbol, decl), decl, flags);
  if (kind === 'class') {
    const ctor = checker.getTypeOfSymbolAtLocation(symbol, decl).getConstructSignatures()[0];
    return ctor ? `new ${checker.signatureToString(ctor, decl, flags)}` : '';
  }
  return '';
}

const rows = new Map(); // module → rows
for (const exported of checker.getExportsOfModule(moduleSymbol)) {
  const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
  const decl = symbol.declarations?.[0];
  if (!decl) continue;
  const file = relative(ROOT, decl.getSourceFile().fileName);
  const kind = file.includes('node_modules') ? 'namespace' : kindOf(decl);
  const doc = firstParagraph(ts.displayPartsToString(symbol.getDocumentationComment(checker)));
  const where = file.includes('node_modules') ? '@tensorflow/tfjs-core' : file;
  if (!rows.has(where)) rows.set(where, []);
  rows.get(where).push({ name: exported.name, kind, sig: signature(symbol, decl, kind), doc });
}

const modules = [...rows.keys()].sort();
const total = modules.reduce((n, m) => n + rows.get(m).length, 0);
let md = `# API reference (generated)\n\nEvery export of the package root (\`import { … } from 'tfjs-lens'\`), ${total} names, grouped by the module\nthat defines them: kind, signature, and the first paragraph of its documentation comment. Generated from the\nsources by \`node scripts/docs/api-reference.mjs\`; \`test/docs/api-reference.test.ts\` fails when a root export is\nmissing here. The pattern pages (\`docs/patterns/\`) show how the pieces are used together.\n`;
for (const m of modules) {
  md += `\n## \`${m}\`\n\n| export | kind | signature / summary |\n|---|---|---|\n`;
  for (const r of rows.get(m).sort((a, b) => a.name.localeCompare(b.name))) {
    const parts = [r.sig ? `\`${cell(r.sig)}\`` : '', cell(r.doc)].filter(Boolean);
    md += `| \`${r.name}\` | ${r.kind} | ${parts.join('<br>') || '—'} |\n`;
  }
}

if (process.argv.includes('--check')) {
  const current = readFileSync(OUT, 'utf8');
  if (current !== md) {
    console.error('docs/api.md is out of date: run node scripts/docs/api-reference.mjs');
    process.exit(1);
  }
  console.log(`docs/api.md is up to date (${total} exports)`);
} else {
  writeFileSync(OUT, md);
  console.log(`wrote ${relative(ROOT, OUT)}: ${total} exports in ${modules.length} modules`);
}
