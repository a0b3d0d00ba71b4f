// Public-domain English prose that ships in Debian packages, turned into plain ASCII documents.
//
//   dict-jargon  The Jargon File 4.4.7 (lexicon part), public domain by its authors' statement.
//   dict-devil   Ambrose Bierce, The Devil's Dictionary (1911), public domain (copyright expired).
//
// Both are dictd databases: a dictzip file (gzip-compatible) plus an index of
// "headword \t base64 offset \t base64 length" lines that cut it into entries.
// The .deb files are fetched with `apt-get download` (no install needed) unless the packages
// are installed, and unpacked with `dpkg-deb -x`.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

/** The Debian packages used, with the versions the shipped data was built from. */
export const SOURCES = {
  jargon: {
    pkg: 'dict-jargon',
    version: '4.4.7-3.1',
    dict: 'jargon',
    // sha256 of the decompressed jargon.dict of that version (a mismatch changes the output).
    sha256: '6c8118c277d0b00736d406d4941b77b69932d6ab125f7179ff88fe12939cc19e',
  },
  devil: {
    pkg: 'dict-devil',
    version: '1.0-13.1',
    dict: 'devil',
    sha256: '703d1225d2fb927653bfd8b00e4e96938e0b630c6023edd26702ac6ed50383f8',
  },
};

/**
 * Locate (or fetch and unpack) a dictd database and return its decompressed text and index.
 * @param {{pkg: string, version: string, dict: string}} src
 * @param {string} cacheDir where .deb files are downloaded and unpacked
 * @returns {{ dict: Buffer, index: string, origin: string }}
 */
export function loadDictDatabase(src, cacheDir) {
  const installed = `/usr/share/dictd/${src.dict}.dict.dz`;
  let dzPath;
  let indexPath;
  let origin;
  if (existsSync(installed)) {
    dzPath = installed;
    indexPath = `/usr/share/dictd/${src.dict}.index`;
    origin = `installed package ${src.pkg} (${installed})`;
  } else {
    const unpacked = join(cacheDir, src.pkg);
    dzPath = join(unpacked, 'usr/share/dictd', `${src.dict}.dict.dz`);
    indexPath = join(unpacked, 'usr/share/dictd', `${src.dict}.index`);
    if (!existsSync(dzPath)) {
      mkdirSync(cacheDir, { recursive: true });
      let deb = readdirSync(cacheDir).find((f) => f.startsWith(`${src.pkg}_`) && f.endsWith('.deb'));
      if (!deb) {
        try {
          execFileSync('apt-get', ['download', `${src.pkg}=${src.version}`], { cwd: cacheDir, stdio: 'inherit' });
        } catch {
          console.warn(`[text] ${src.pkg}=${src.version} not available; trying the current version`);
          execFileSync('apt-get', ['download', src.pkg], { cwd: cacheDir, stdio: 'inherit' });
        }
        deb = readdirSync(cacheDir).find((f) => f.startsWith(`${src.pkg}_`) && f.endsWith('.deb'));
      }
      if (!deb) throw new Error(`could not download Debian package ${src.pkg} into ${cacheDir}`);
      execFileSync('dpkg-deb', ['-x', join(cacheDir, deb), unpacked]);
      origin = `Debian package ${deb}`;
    } else {
      origin = `Debian package ${src.pkg} unpacked in ${unpacked}`;
    }
  }
  const dict = gunzipSync(readFileSync(dzPath));
  const index = readFileSync(indexPath, 'utf8');
  return { dict, index, origin, sha256: createHash('sha256').update(dict).digest('hex') };
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Decode a dictd index number (big-endian base64 digits). */
function b64num(s) {
  let n = 0;
  for (const ch of s) {
    const d = B64.indexOf(ch);
    if (d < 0) throw new Error(`bad dictd base64 digit ${JSON.stringify(ch)} in ${JSON.stringify(s)}`);
    n = n * 64 + d;
  }
  return n;
}

/**
 * Cut a dictd database into entries, in file order, without the 00-database-* header entries.
 * Entries listed under several headwords are returned once.
 * @returns {{ headword: string, text: string }[]}
 */
export function dictEntries(dict, index) {
  const seen = new Set();
  const out = [];
  for (const line of index.split('\n')) {
    if (!line) continue;
    const [headword, off, len] = line.split('\t');
    if (headword.startsWith('00-database') || headword.startsWith('00database')) continue;
    const start = b64num(off);
    const key = `${start}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ start, headword, text: dict.subarray(start, start + b64num(len)).toString('utf8') });
  }
  out.sort((a, b) => a.start - b.start);
  return out.map(({ headword, text }) => ({ headword, text }));
}

const CHAR_MAP = new Map([
  ['\u201c', '"'], ['\u201d', '"'], ['\u2018', "'"], ['\u2019', "'"], ['\u00b4', "'"],
  ['\u2014', '--'], ['\u2013', '-'], ['\u2212', '-'], ['\u00b7', '-'], ['\u00a0', ' '],
  ['\u00ad', ''], ['\u00d7', 'x'], ['\u00b1', '+/-'], ['\u00a3', 'GBP '], ['\u2122', '(TM)'],
  ['\u00b5', 'u'], ['\u03c0', 'pi'], ['\u00df', 'ss'], ['\u00e6', 'ae'], ['\u00d8', 'O'],
  ['\u00f8', 'o'], ['\u2192', '->'], ['\u2190', '<-'], ['\u21d4', '<=>'], ['\u223c', '~'],
  ['\u2026', '...'], ['\u2329', '<'], ['\u232a', '>'], ['\u3008', '<'], ['\u3009', '>'],
]);

/** Map typographic Unicode to ASCII; letters with accents lose them; anything else is dropped. */
export function toAscii(s) {
  let out = '';
  for (const ch of s) {
    if (ch.charCodeAt(0) < 128) { out += ch; continue; }
    if (CHAR_MAP.has(ch)) { out += CHAR_MAP.get(ch); continue; }
    const base = ch.normalize('NFKD').replace(/[\u0300-\u036f]/g, '');
    out += /^[\x00-\x7f]+$/.test(base) ? base : '';
  }
  return out;
}

const BOX_DRAWING = /[\u2500-\u257f\u25a1]/;

/** Join the lines of a wrapped paragraph into one line. */
function unwrap(lines) {
  let s = '';
  for (const raw of lines) {
    const line = raw.trim();
    if (!s) s = line;
    else if (/[A-Za-z]-$/.test(s) && !/--$/.test(s)) s += line;
    else s += ' ' + line;
  }
  return s.replace(/ {2,}/g, ' ');
}

/** Split text into blocks separated by blank lines. */
function blocksOf(lines) {
  const blocks = [];
  let cur = [];
  for (const l of lines) {
    if (l.trim() === '') {
      if (cur.length) blocks.push(cur);
      cur = [];
    } else cur.push(l);
  }
  if (cur.length) blocks.push(cur);
  return blocks;
}

const indentOf = (l) => l.length - l.trimStart().length;

/**
 * A document: `lines` is the text as it goes into the corpus (one paragraph or verse line per
 * line); `prose` lists the lines that are running prose (candidates for sentences.txt).
 * @typedef {{ source: string, title: string, lines: string[], prose: string[] }} Doc
 */

/**
 * Turn one Jargon File lexicon entry into a document.
 * Headword, then part of speech (the pronunciation is dropped), then paragraphs.
 * Cross-reference braces {like this} are removed; tables drawn with box characters are dropped;
 * code and quotations (indented deeper than the body) keep their line breaks.
 * @returns {Doc | null}
 */
export function jargonDoc(entry) {
  const rawLines = entry.text.replace(/\r/g, '').split('\n');
  while (rawLines.length && rawLines[0].trim() === '') rawLines.shift();
  const headword = toAscii(rawLines.shift().trim());
  let pos = '';
  while (rawLines.length && rawLines[0].trim() !== '' && indentOf(rawLines[0]) < 4) {
    const meta = rawLines.shift().trim().replace(/\/[^/]*\//g, '').replace(/^[,\s]+/, '').trim();
    if (meta) pos = pos ? `${pos} ${meta}` : meta;
  }
  const lines = [];
  const prose = [];
  const blocks = blocksOf(rawLines);
  // A few entries put the part of speech in the body, as a block of its own ("    n.,v.").
  if (!pos && blocks.length && blocks[0].length === 1 && /^[a-z.,\s]{1,20}$/.test(blocks[0][0].trim())) {
    pos = blocks.shift()[0].trim();
  }
  for (const block of blocks) {
    // The lexicon's letter headings ("A", "B", ...) sit alone in a block at the end of an entry.
    if (block.length === 1 && /^\s*[A-Z]\s*$/.test(block[0])) continue;
    const kept = block.filter((l) => !BOX_DRAWING.test(l));
    if (!kept.length) continue;
    const clean = (s) => toAscii(s).replace(/\{\s*([^{}]*?)\s*\}/g, '$1').replace(/ {2,}/g, ' ');
    if (kept.every((l) => indentOf(l) === 4)) {
      const p = clean(unwrap(kept));
      lines.push(p);
      prose.push(p);
    } else {
      for (const l of kept) {
        const t = clean(l).trim();
        if (t) lines.push(t);
      }
    }
  }
  if (!lines.length) return null;
  const title = pos ? `${headword}, ${toAscii(pos)}` : headword;
  return { source: 'jargon', title, lines: [title, ...lines], prose };
}

/**
 * Turn one Devil's Dictionary entry into a document. Prose paragraphs (starting at column 0)
 * are unwrapped; verse and quotations keep their line breaks; right-aligned attributions become
 * "-- Name". _Italic_ underscores are removed.
 * @returns {Doc | null}
 */
export function devilDoc(entry) {
  const rawLines = entry.text.replace(/\r/g, '').split('\n');
  const lines = [];
  const prose = [];
  const clean = (s) => toAscii(s).replace(/_([^_]+)_/g, '$1').replace(/_/g, '');
  for (const block of blocksOf(rawLines)) {
    if (indentOf(block[0]) === 0) {
      const p = clean(unwrap(block));
      lines.push(p);
      prose.push(p);
    } else {
      for (const l of block) {
        const t = clean(l).trim().replace(/ {2,}/g, ' ');
        if (!t) continue;
        lines.push(indentOf(l) >= 30 ? `-- ${t}` : t);
      }
    }
  }
  if (!lines.length) return null;
  return { source: 'devil', title: toAscii(entry.headword), lines, prose };
}

/** Default cache directory for downloaded .deb files. */
export function defaultCacheDir() {
  return process.env.TFJS_LENS_DATA_CACHE ?? join(tmpdir(), 'tfjs-lens-data-src');
}
