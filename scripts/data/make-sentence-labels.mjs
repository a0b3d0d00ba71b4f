#!/usr/bin/env node
// Label data/text/sentences.txt for the probe grid: data/text/sentences-labels.tsv, one row per line of
// sentences.txt (same order) with its source (`prose`: Jargon File / Devil's Dictionary; `synthetic`: the
// templated English) and, for synthetic sentences, the kind of document it came from (`story`,
// `facts-geography`, `arithmetic`, …; `-` for prose).
//
//   node scripts/data/make-sentence-labels.mjs [--text data/text] [--seed 20240611]
//
// The synthetic documents are regenerated with the seed and byte budget of make-text.mjs (no network and no
// Debian packages needed); a sentence of sentences.txt is synthetic iff a synthetic document holds it.
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { makeRng } from './rng.mjs';
import { generateSyntheticDocuments } from './synthetic-english.mjs';

const { values: args } = parseArgs({ options: { text: { type: 'string', default: 'data/text' }, seed: { type: 'string', default: '20240611' }, 'synthetic-bytes': { type: 'string', default: '900000' } } });
const dir = resolve(args.text);
const kindOf = new Map();
for (const d of generateSyntheticDocuments(makeRng(Number(args.seed)), Number(args['synthetic-bytes']))) {
  for (const s of d.paragraphs.flat()) {
    const kinds = kindOf.get(s) ?? new Set();
    kinds.add(d.kind);
    kindOf.set(s, kinds);
  }
}
const lines = readFileSync(join(dir, 'sentences.txt'), 'utf8').split('\n').filter((l) => l.length > 0);
const rows = ['source\tkind'];
const counts = {};
for (const line of lines) {
  const kinds = kindOf.get(line);
  if (kinds && kinds.size !== 1) throw new Error(`sentence in several kinds of document: ${JSON.stringify(line)}`);
  const row = kinds ? ['synthetic', [...kinds][0]] : ['prose', '-'];
  counts[row.join('/')] = (counts[row.join('/')] ?? 0) + 1;
  rows.push(row.join('\t'));
}
writeFileSync(join(dir, 'sentences-labels.tsv'), rows.join('\n') + '\n');
console.log(`[labels] ${lines.length} sentences:`, counts);
