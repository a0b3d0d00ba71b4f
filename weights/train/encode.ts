/**
 * Tokenises the training corpus for `train_numpy.py` (which has no BPE of its own): writes
 * `train.ids` and `heldout.ids` (little-endian uint16 token ids, paragraphs encoded one by one exactly
 * as `train.ts` does) into the given directory.
 * Run: `npm run build && node dist/weights/train/encode.js --tokenizer weights/tiny-gpt2 --out DIR`.
 */
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { loadTokenizer } from '../../lib/data/tokenizer.js';

const args = process.argv.slice(2);
const arg = (name: string, fallback: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : fallback;
};
const tokenizer = await loadTokenizer(arg('tokenizer', 'weights/tiny-gpt2'));
if (tokenizer.vocabSize > 65536) throw new Error(`encode: vocabulary of ${tokenizer.vocabSize} ids does not fit uint16`);
const out = arg('out', 'weights/train/ids');
await mkdir(out, { recursive: true });
for (const name of ['train', 'heldout']) {
  const text = await readFile(`data/text/${name}.txt`, 'utf8');
  const ids: number[] = [];
  for (const paragraph of text.split(/(?<=\n)/)) for (const id of tokenizer.encode(paragraph)) ids.push(id);
  await writeFile(join(out, `${name}.ids`), new Uint8Array(Uint16Array.from(ids).buffer));
  console.log(`${name}: ${ids.length} tokens → ${join(out, `${name}.ids`)}`);
}
