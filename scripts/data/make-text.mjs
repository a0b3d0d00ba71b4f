#!/usr/bin/env node
// Build data/text/: train.txt, heldout.txt, sentences.txt and manifest.json.
//
//   node scripts/data/make-text.mjs [--out data/text] [--seed 1234]
//
// Sources (see data/text/README.md): public-domain prose from the Debian packages dict-jargon
// and dict-devil (fetched with `apt-get download` into $TFJS_LENS_DATA_CACHE, default
// /tmp/tfjs-lens-data-src, unless installed), plus templated English from
// scripts/data/synthetic-english.mjs. Deterministic for a given seed and package versions.

import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { SOURCES, defaultCacheDir, devilDoc, dictEntries, jargonDoc, loadDictDatabase } from './public-domain-texts.mjs';
import { fnv1a, makeRng } from './rng.mjs';
import { generateSyntheticDocuments } from './synthetic-english.mjs';

const { values: args } = parseArgs({
  options: {
    out: { type: 'string', default: 'data/text' },
    seed: { type: 'string', default: '20240611' },
    'synthetic-bytes': { type: 'string', default: '900000' },
    'sentences-per-source': { type: 'string', default: '3000' },
  },
});
const OUT = resolve(args.out);
const SEED = Number(args.seed);
const SYNTHETIC_BYTES = Number(args['synthetic-bytes']);
const SENTENCES_PER_SOURCE = Number(args['sentences-per-source']);
/** One document in HELDOUT_MOD goes to heldout.txt (by a hash of its text, so ~5%). */
const HELDOUT_MOD = 20;

// ------------------------------------------------------------------ public-domain documents
const cacheDir = defaultCacheDir();
const jargonDb = loadDictDatabase(SOURCES.jargon, cacheDir);
const devilDb = loadDictDatabase(SOURCES.devil, cacheDir);
console.log(`[text] jargon: ${jargonDb.origin}, sha256 ${jargonDb.sha256}`);
console.log(`[text] devil:  ${devilDb.origin}, sha256 ${devilDb.sha256}`);
for (const [db, src] of [[jargonDb, SOURCES.jargon], [devilDb, SOURCES.devil]]) {
  if (db.sha256 !== src.sha256) {
    console.warn(`[text] WARNING: ${src.pkg} text differs from version ${src.version}; the output will differ from the shipped data`);
  }
}

/**
 * Entries left out because they use racial slurs or sexual-violence terms (the corpus feeds demos
 * that print a model's top predictions). Matched on the headword, case-insensitively.
 */
const EXCLUDED = {
  devil: ['african', 'minstrel', 'negro'],
  jargon: ['rape', 'relay rape', 'spamhaus', 'warez d00dz'],
};
/** Safety net: no document may contain these after the exclusions. */
const BLOCKED_WORDS = /\b(nigger|rape[ds]?)\b/i;

/** @type {{source: string, lines: string[], sentences: string[]}[]} */
const docs = [];
const excludedTitles = [];
for (const [source, db, toDoc] of [['jargon', jargonDb, jargonDoc], ['devil', devilDb, devilDoc]]) {
  for (const e of dictEntries(db.dict, db.index)) {
    const d = toDoc(e);
    if (!d) continue;
    const head = d.title.toLowerCase().replace(/[,.].*$/, '').trim();
    if (EXCLUDED[source].includes(head)) {
      excludedTitles.push(`${source}: ${d.title}`);
      continue;
    }
    if (BLOCKED_WORDS.test(d.lines.join('\n'))) throw new Error(`${source} entry ${JSON.stringify(d.title)} holds a blocked word`);
    docs.push({ source, lines: d.lines, sentences: d.prose.flatMap(splitSentences) });
  }
}
console.log(`[text] left out ${excludedTitles.length} entries: ${excludedTitles.join('; ')}`);

// ------------------------------------------------------------------ synthetic documents
const rng = makeRng(SEED);
for (const d of generateSyntheticDocuments(rng, SYNTHETIC_BYTES)) {
  docs.push({ source: 'synthetic', kind: d.kind, lines: d.paragraphs.map((p) => p.join(' ')), sentences: d.paragraphs.flat() });
}

// ------------------------------------------------------------------ dedupe, split, shuffle
const seen = new Set();
const unique = [];
for (const d of docs) {
  const text = d.lines.join('\n');
  if (seen.has(text)) continue;
  seen.add(text);
  unique.push({ ...d, text });
}
const train = [];
const heldout = [];
for (const d of unique) (fnv1a(d.text) % HELDOUT_MOD === 0 ? heldout : train).push(d);
const orderRng = makeRng(SEED ^ 0x5eed);
orderRng.shuffle(train);
orderRng.shuffle(heldout);

// Held-out documents must not share any paragraph with training documents.
const trainLines = new Set(train.flatMap((d) => d.lines));
const heldoutClean = heldout.filter((d) => !d.lines.some((l) => trainLines.has(l)));

const corpusText = (ds) => ds.map((d) => d.text).join('\n\n') + '\n';
mkdirSync(OUT, { recursive: true });
const trainText = corpusText(train);
const heldoutText = corpusText(heldoutClean);
writeFileSync(join(OUT, 'train.txt'), trainText);
writeFileSync(join(OUT, 'heldout.txt'), heldoutText);

// ------------------------------------------------------------------ sentences.txt
// One sentence per line, drawn from the training documents: SENTENCES_PER_SOURCE from the
// public-domain prose and as many from the synthetic text, deduplicated and shuffled.
const okSentence = (s) => {
  const words = s.split(/\s+/).length;
  return s.length >= 20 && s.length <= 200 && words >= 5 && words <= 40 && /^["'(]?[A-Z0-9]/.test(s)
    && /[.!?]["')]?$/.test(s) && !/[{}|]/.test(s);
};
const pool = { prose: new Set(), synthetic: new Set() };
for (const d of train) {
  for (const s of d.sentences) if (okSentence(s)) pool[d.source === 'synthetic' ? 'synthetic' : 'prose'].add(s);
}
const sentRng = makeRng(SEED ^ 0x7e47);
const sentences = sentRng.shuffle([
  ...sentRng.sample([...pool.prose].sort(), SENTENCES_PER_SOURCE),
  ...sentRng.sample([...pool.synthetic].sort(), SENTENCES_PER_SOURCE),
]);
const sentencesText = sentences.join('\n') + '\n';
writeFileSync(join(OUT, 'sentences.txt'), sentencesText);

// ------------------------------------------------------------------ manifest
const sha = (s) => createHash('sha256').update(s).digest('hex');
const countBy = (ds) => ds.reduce((acc, d) => ({ ...acc, [d.source]: (acc[d.source] ?? 0) + 1 }), {});
const bytesBy = (ds) => ds.reduce((acc, d) => ({ ...acc, [d.source]: (acc[d.source] ?? 0) + d.text.length + 2 }), {});
const manifest = {
  generator: 'scripts/data/make-text.mjs',
  seed: SEED,
  encoding: 'ASCII, LF line endings; documents separated by one blank line',
  sources: {
    jargon: { debianPackage: `${SOURCES.jargon.pkg} ${SOURCES.jargon.version}`, dictSha256: jargonDb.sha256, license: 'public domain' },
    devil: { debianPackage: `${SOURCES.devil.pkg} ${SOURCES.devil.version}`, dictSha256: devilDb.sha256, license: 'public domain (copyright expired)' },
    synthetic: { generator: 'scripts/data/synthetic-english.mjs', license: 'MIT (generated by this project)' },
  },
  excludedEntries: excludedTitles,
  files: {
    'train.txt': { bytes: trainText.length, documents: train.length, documentsBySource: countBy(train), bytesBySource: bytesBy(train), sha256: sha(trainText) },
    'heldout.txt': { bytes: heldoutText.length, documents: heldoutClean.length, documentsBySource: countBy(heldoutClean), sha256: sha(heldoutText) },
    'sentences.txt': { bytes: sentencesText.length, sentences: sentences.length, fromProse: SENTENCES_PER_SOURCE, fromSynthetic: SENTENCES_PER_SOURCE, sha256: sha(sentencesText) },
  },
};
writeFileSync(join(OUT, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
console.log(JSON.stringify(manifest.files, null, 2));
if (!/^[\x00-\x7f]*$/.test(trainText + heldoutText + sentencesText)) throw new Error('non-ASCII character in output');

// ------------------------------------------------------------------ helpers
/** Split a prose paragraph into sentences (rule-based; good enough for sampling). */
function splitSentences(paragraph) {
  const ABBREV = /(?:\b(?:e\.g|i\.e|etc|vs|cf|Mr|Mrs|Ms|Dr|St|Jr|Sr|Prof|Inc|Ltd|Co|No|Vol|pp|ca|approx|esp|obs|orig|alt|n|adj|adv|v|vt|vi|prep|pron|conj|interj|excl|pl|U\.S|[A-Z])\.)$/;
  const parts = paragraph.split(/(?<=[.!?]["')]?)\s+(?=["'(]?[A-Z0-9])/);
  const out = [];
  for (const p of parts) {
    if (out.length && ABBREV.test(out[out.length - 1])) out[out.length - 1] += ' ' + p;
    else out.push(p);
  }
  return out.map((s) => s.trim()).filter(Boolean);
}
