/**
 * Builds the shipped tiny model's tokenizer: a byte-level BPE (GPT-2 style, 4096 ids incl. `<|endoftext|>`)
 * learned on `data/text/train.txt`, written as Hugging Face files into `weights/tiny-gpt2/`.
 * Re-run: `npm run build && node dist/weights/train/tokenizer.js [--vocab 4096] [--out weights/tiny-gpt2]`.
 */
import { readFile } from 'node:fs/promises';
import { trainByteLevelBpe, writeTokenizerJson } from '../../lib/data/bpe-train.js';

const args = process.argv.slice(2);
const arg = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : fallback;
};
const vocabSize = Number(arg('vocab', '4096'));
const out = arg('out', 'weights/tiny-gpt2');
const text = await readFile('data/text/train.txt', 'utf8');
const started = Date.now();
const trained = trainByteLevelBpe(text.split(/(?<=\n)/), { vocabSize, specialTokens: ['<|endoftext|>'] });
const files = writeTokenizerJson(out, trained);
console.log(`trained ${trained.merges.length} merges (${Object.keys(trained.vocab).length} ids) in ${((Date.now() - started) / 1000).toFixed(1)} s → ${files.tokenizerJson}`);
