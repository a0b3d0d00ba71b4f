/**
 * ViT examples of the collecting commands (`saturation`, `probe`) from `--images PATH`: one example per image
 * (the CLS position), read from a folder of class folders or of images (`listImageFolder`), a CIFAR binary
 * batch file, or a folder of CIFAR batches (`readCifarBatch`); preprocessed as the checkpoint's
 * `preprocessor_config.json` says, `batch` images per forward pass.
 */
import { statSync } from 'node:fs';
import type * as tf from '@tensorflow/tfjs-core';
import { HookedViT } from '../nn/vit.js';
import { vitPixelValuesBatch, type ImageSource, type VitPreprocessOptions } from '../data/image.js';
import { listImageFolder } from '../data/image-folder.js';
import { cifarBatchFiles, cifarImage, readCifarBatch } from '../data/cifar.js';
import { InputChunks } from '../lens/topk.js';
import { InvalidInputError } from '../errors.js';
import { readOptionalJson } from './common.js';

/** Picks the block `[start, end)` of a run's `total` chunks that this process makes (a shard's block). */
export type ChunkRange = (total: number) => { start: number; end: number };

/** Where the examples of a collecting command came from (the `input` field of its JSON). */
export interface ExampleInput {
  /** The file or folder read. */
  file: string;
  source: 'text' | 'ids' | 'images' | 'audio';
  /** Examples read: sequences, images or clips. */
  sequences: number;
  /** Sequences cut to the model's context. */
  truncated: number;
  /** Lines dropped for being too short. */
  dropped: number;
}

/** One line on where the examples came from: `12 sequences from f.txt (text), 340 positions`, `8 images from d/, 8 examples (CLS)`. */
export function describeInput(input: ExampleInput, examples: number): string {
  if (input.source === 'images') return `${input.sequences} images from ${input.file}, ${examples} examples (the CLS position)`;
  if (input.source === 'audio') return `${input.sequences} clips from ${input.file} (teacher-forced transcripts${input.truncated ? `, ${input.truncated} cut to the decoder's positions` : ''}), ${examples} decoder positions`;
  return `${input.sequences} sequences from ${input.file} (${input.source}${input.truncated ? `, ${input.truncated} cut to n_ctx` : ''}), ${examples} positions`;
}

/** ViT examples: the chunks to run and what each image is. */
export interface ImageExamples {
  input: ExampleInput;
  /** Pixel batches `[≤ batch, 3, H, W]`, made on demand. */
  chunks: InputChunks<tf.Tensor4D>;
  /** Per image: where it came from (path, or `file#record`) and its label (−1 unlabelled). */
  images: { name: string; label: number }[];
  /** Class names by label (empty when unlabelled). */
  classes: string[];
  /** Every file the examples are read from (CIFAR batches or image files, and the synset list): what a shard's manifest hashes. */
  files: string[];
  /** Number of chunks of all the images (`chunks` may hold only a block of them). */
  total: number;
  /** Index of the first image of `chunks` among all the images. */
  firstExample: number;
}

/** The preprocessing a ViT checkpoint asks for (`preprocessor_config.json`, else mean/std 0.5 at the model's image size). */
export function vitPreprocessOptions(model: HookedViT, dir: string): VitPreprocessOptions {
  const pre = readOptionalJson(dir, 'preprocessor_config.json');
  return {
    size: model.cfg.imageHeight,
    mean: (pre?.image_mean as number[] | undefined) ?? [0.5, 0.5, 0.5],
    std: (pre?.image_std as number[] | undefined) ?? [0.5, 0.5, 0.5],
  };
}

interface ImageList {
  sources: (() => ImageSource)[];
  images: { name: string; label: number }[];
  classes: string[];
  /** The files the images are read from, in order (CIFAR batches, or image files). */
  files: string[];
}

function cifarList(files: readonly string[], max: number | undefined): ImageList {
  const out: ImageList = { sources: [], images: [], classes: [], files: [] };
  for (const file of files) {
    if (max !== undefined && out.images.length >= max) break;
    out.files.push(file);
    const batch = readCifarBatch(file);
    if (!out.classes.length && batch.classes) out.classes = batch.classes;
    const n = max === undefined ? batch.count : Math.min(batch.count, max - out.images.length);
    for (let i = 0; i < n; i++) {
      out.sources.push(() => cifarImage(batch, i));
      out.images.push({ name: `${file}#${i}`, label: batch.labels[i]! });
    }
  }
  return out;
}

/**
 * Lists the images of `--images PATH` (a CIFAR batch file, a folder of CIFAR batches, or an image folder).
 * @throws InvalidInputError for a path that is none of these.
 */
export function listImages(path: string, opts: { maxExamples?: number; synsets?: string } = {}): ImageList {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch {
    throw new InvalidInputError(path, 'not found', '--images takes a folder of images or class folders, a CIFAR batch (.bin), or a folder of CIFAR batches');
  }
  if (!isDir) {
    if (!path.toLowerCase().endsWith('.bin')) throw new InvalidInputError(path, 'is a file; --images takes a folder or a CIFAR binary batch (.bin)');
    return cifarList([path], opts.maxExamples);
  }
  const batches = cifarBatchFiles(path);
  if (batches.length) return cifarList(batches, opts.maxExamples);
  const folder = listImageFolder(path, { synsets: opts.synsets });
  const items = opts.maxExamples === undefined ? folder.items : folder.items.slice(0, opts.maxExamples);
  return { sources: items.map((it) => () => it.path), images: items.map((it) => ({ name: it.path, label: it.label })), classes: folder.classes, files: items.map((it) => it.path) };
}

/**
 * The ViT examples of `--images PATH`, `batch` images per pass.
 * @param opts.range the block `[start, end)` of chunks to make, given their count (a shard's); default all.
 */
export function imageExamples(model: HookedViT, modelDir: string, path: string, opts: { maxExamples?: number; batch: number; synsets?: string; range?: ChunkRange }): ImageExamples {
  const list = listImages(path, opts);
  const pre = vitPreprocessOptions(model, modelDir);
  const n = list.images.length;
  const total = Math.ceil(n / opts.batch);
  const { start, end } = opts.range?.(total) ?? { start: 0, end: total };
  const chunks = new InputChunks<tf.Tensor4D>(end - start, (i) => {
    const c = start + i;
    const pixels = vitPixelValuesBatch(list.sources.slice(c * opts.batch, (c + 1) * opts.batch).map((get) => get()), pre);
    return { chunk: pixels, owned: pixels };
  });
  const files = opts.synsets === undefined ? list.files : [...list.files, opts.synsets];
  return { input: { file: path, source: 'images', sequences: n, truncated: 0, dropped: 0 }, chunks, images: list.images, classes: list.classes, files, total, firstExample: start * opts.batch };
}
