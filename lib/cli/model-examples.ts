/**
 * The examples of the collecting commands (`saturation`, `probe`) for the models that are not read from a
 * text file: ViT from `--images PATH` (one example per image, the CLS position) and Whisper from
 * `--audio DIR` (every decoder position of every clip, teacher-forced on the transcript). A flag the model
 * does not read is an error naming the models that read it.
 */
import { HookedViT } from '../nn/vit.js';
import { HookedWhisper } from '../nn/whisper.js';
import type { HookedModel } from '../nn/load.js';
import type { HookedLensModel } from '../lens/logit-lens.js';
import type { InputChunks } from '../lens/topk.js';
import type { Command } from 'commander';
import { InvalidArgumentError } from '../errors.js';
import { checkInputFlags, modelFamily, type FlagTable } from './model-inputs.js';
import { imageExamples, type ChunkRange, type ExampleInput } from './image-examples.js';
import { audioExamples } from './audio-examples.js';

/** Input flags of `saturation` and `probe`, per model family. */
export const COLLECT_FLAGS: FlagTable = {
  'GPT-2': { flags: ['--text-file', '--ids-file'], usage: '--text-file FILE or --ids-file FILE' },
  Llama: { flags: ['--text-file', '--ids-file'], usage: '--text-file FILE or --ids-file FILE' },
  'GPT-NeoX': { flags: ['--text-file', '--ids-file'], usage: '--text-file FILE or --ids-file FILE' },
  Gemma: { flags: ['--text-file', '--ids-file'], usage: '--text-file FILE or --ids-file FILE' },
  BERT: { flags: [], usage: 'no input of these commands (BERT has no next-token lens)' },
  ViT: { flags: ['--images'], usage: '--images DIR (image folder, class folders or CIFAR batches)' },
  Whisper: { flags: ['--audio'], usage: '--audio DIR (LibriSpeech folder or transcripts.tsv)' },
};

/** Input options of the collecting commands. */
export interface CollectInputOptions {
  textFile?: string;
  /** Text column of a dataset `textFile` (JSONL, CSV/TSV, parquet). */
  textField?: string;
  idsFile?: string;
  images?: string;
  audio?: string;
  /** Synset list for `--images` class folders. */
  synsets?: string;
}

/** Examples of a ViT or Whisper model: chunks to run and the next token of a position. */
export interface ChunkedExamples {
  model: HookedLensModel<unknown>;
  input: ExampleInput;
  chunks: InputChunks<unknown>;
  /** The token after position `pos` of chunk `chunk`'s row `row` (Whisper's transcript), or undefined. */
  nextToken(chunk: number, row: number, pos: number): number | undefined;
  /** Every file the examples are read from: what a shard's manifest hashes. */
  files: string[];
  /** Number of chunks (forward passes) of the whole input; `chunks` holds the block `range` picked. */
  total: number;
  /** Index of the first example (image, clip) of `chunks` among all of them. */
  firstExample: number;
}

/** Checks the input flags of a collecting command against the model. */
export function checkCollectFlags(model: HookedModel, opts: CollectInputOptions, modelDir: string): void {
  const given: [string, string | undefined][] = [['--text-file', opts.textFile], ['--ids-file', opts.idsFile], ['--images', opts.images], ['--audio', opts.audio]];
  checkInputFlags(modelFamily(model), given.filter(([, v]) => v !== undefined).map(([f]) => f), modelDir, COLLECT_FLAGS);
  if (opts.synsets !== undefined && opts.images === undefined) throw new InvalidArgumentError('--synsets names the classes of --images class folders; pass --images too');
}

/**
 * Adds the input options of the commands that collect examples from any model family (`saturation`, `probe`):
 * `--text-file`/`--text-field`/`--ids-file` for language models, `--images`/`--synsets` for ViT, `--audio` for
 * Whisper (each also an `hf://datasets/…` address), and `--max-examples`.
 */
export function addCollectInputOptions(command: Command): Command {
  return command
    .option('--text-file <file>', 'text, one sentence per line (tokenised with the model\'s tokenizer); or hf://datasets/OWNER/NAME[@REV]/FILE')
    .option('--text-field <name>', 'the text column of a JSONL/CSV/TSV/parquet --text-file (one sentence per record)', 'text')
    .option('--ids-file <file>', 'token ids instead of text: one comma-separated sequence per line; or hf://datasets/OWNER/NAME[@REV]/FILE')
    .option('--images <path>', 'ViT: a folder of images or of class folders (root/<class>/*.png), a CIFAR batch (.bin) or a folder of CIFAR batches; or hf://datasets/OWNER/NAME[@REV]/FOLDER')
    .option('--synsets <file>', 'ViT class folders: label = line of this synset list (default: sorted folder names)')
    .option('--audio <dir>', 'Whisper: a LibriSpeech-style folder (*.trans.txt + .flac/.wav) or one with transcripts.tsv; the decoder is teacher-forced on the transcripts; or hf://datasets/OWNER/NAME[@REV]/FOLDER')
    .option('--max-examples <n>', 'use only the first n sequences (images, clips)');
}

/**
 * The examples of a ViT (`--images`) or Whisper (`--audio`) model; undefined for the text models.
 * @param batch images per forward pass (Whisper: always one clip).
 * @param range the block of chunks to make (a shard's, from their count); default all. Only its images are
 *   decoded and only its clips read.
 */
export async function chunkedExamples(model: HookedModel, modelDir: string, opts: CollectInputOptions & { maxExamples?: number; batch: number; range?: ChunkRange }): Promise<ChunkedExamples | undefined> {
  if (model instanceof HookedViT) {
    if (!opts.images) throw new InvalidArgumentError(`${modelDir} is a ViT model: pass --images PATH (a folder of images or class folders, or CIFAR batches)`);
    const ex = imageExamples(model, modelDir, opts.images, { maxExamples: opts.maxExamples, batch: opts.batch, synsets: opts.synsets, range: opts.range });
    return { model: model as HookedLensModel<unknown>, input: ex.input, chunks: ex.chunks as InputChunks<unknown>, nextToken: () => undefined, files: ex.files, total: ex.total, firstExample: ex.firstExample };
  }
  if (model instanceof HookedWhisper) {
    if (!opts.audio) throw new InvalidArgumentError(`${modelDir} is a Whisper model: pass --audio DIR (a LibriSpeech-style folder, or one with transcripts.tsv)`);
    const ex = await audioExamples(model, opts.audio, { maxExamples: opts.maxExamples, range: opts.range });
    const first = ex.firstExample;
    return { model: model as HookedLensModel<unknown>, input: ex.input, chunks: ex.chunks as InputChunks<unknown>, nextToken: (c, _row, p) => ex.decoderIds[first + c]![p + 1], files: ex.files, total: ex.clips.length, firstExample: first };
  }
  return undefined;
}
