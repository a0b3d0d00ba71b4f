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
}

function cifarList(files: readonly string[], max: number | undefined): ImageList {
  const out: ImageList = { sources: [], images: [], classes: [] };
  for (const file of files) {
    if (max !== undefined && out.images.length >= max) break;
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
  return { sources: items.map((it) => () => it.path), images: items.map((it) => ({ name: it.path, label: it.label })), classes: folder.classes };
}

/** The ViT examples of `--images PATH`, `batch` images per pass. */
export function imageExamples(model: HookedViT, modelDir: string, path: string, opts: { maxExamples?: number; batch: number; synsets?: string }): ImageExamples {
  const list = listImages(path, opts);
  const pre = vitPreprocessOptions(model, modelDir);
  const n = list.images.length;
  const chunks = new InputChunks<tf.Tensor4D>(Math.ceil(n / opts.batch), (c) => {
    const pixels = vitPixelValuesBatch(list.sources.slice(c * opts.batch, (c + 1) * opts.batch).map((get) => get()), pre);
    return { chunk: pixels, owned: pixels };
  });
  return { input: { file: path, source: 'images', sequences: n, truncated: 0, dropped: 0 }, chunks, images: list.images, classes: list.classes };
}
