/**
 * Image datasets from a folder the user provides, ImageNet/torchvision `ImageFolder` style:
 *
 * - **class folders** `root/<class>/*.png|jpg|jpeg`: one class per sub-folder, labels numbered by the sorted
 *   folder names (code-point order, as torchvision's `ImageFolder` sorts them), or by a synset list (one
 *   synset per line, `n01440764 tench, Tinca tinca` as in ImageNet's `LOC_synset_mapping.txt`: label = line
 *   index, class folder = the line's first word);
 * - **a flat folder** `root/*.png|jpg|jpeg` (like the shipped `data/images/`): unlabelled images.
 *
 * Files are listed in sorted order inside each class. Only the listing happens here; images are decoded
 * when they are read (`decodeImage`, PNG/JPEG by their magic bytes).
 */
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { InvalidInputError } from '../errors.js';
import { readInputFile } from './read-input.js';
import { decodeImage, type RgbImage } from './image-decode.js';
import { utf8Lines } from './text-lines.js';

/** File name endings read as images (case-insensitive). */
export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg'] as const;

/** One image of a folder dataset. */
export interface ImageFolderItem {
  /** Path of the image file. */
  path: string;
  /** Class index into `classes`, or −1 for a flat (unlabelled) folder. */
  label: number;
}

/** A listed image folder. */
export interface ImageFolderDataset {
  /** The folder that was listed. */
  root: string;
  /** Class names (folder names, or synsets of the list) by label; empty for a flat folder. */
  classes: string[];
  /** Images in order: by class, then by file name. */
  items: ImageFolderItem[];
}

/** Options of `listImageFolder`. */
export interface ImageFolderOptions {
  /** A synset list file: label = line index, class folder = the line's first word. Default: sorted folder names. */
  synsets?: string;
}

function isImageName(name: string): boolean {
  const lower = name.toLowerCase();
  return IMAGE_EXTENSIONS.some((e) => lower.endsWith(e));
}

/** `readdirSync` with errors as `InvalidInputError` naming the folder; entries sorted by code point. */
function listDir(dir: string): { name: string; isDir: boolean }[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new InvalidInputError(dir, 'folder not found', 'check the path');
    if (code === 'ENOTDIR') throw new InvalidInputError(dir, 'is a file, expected a folder of images');
    throw new InvalidInputError(dir, `cannot list the folder (${(err as Error).message})`);
  }
  return names
    .filter((n) => !n.startsWith('.'))
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .map((name) => ({ name, isDir: statSync(join(dir, name)).isDirectory() }));
}

/** Reads a synset list: one synset per non-empty line, the first word naming the class folder. */
export function readSynsetList(path: string): string[] {
  const synsets: string[] = [];
  utf8Lines(path, 'synset list').forEach((line, i) => {
    const word = line.trim().split(/\s+/)[0];
    if (!word) return;
    if (synsets.includes(word)) throw new InvalidInputError(`${path}:${i + 1}`, `synset '${word}' is listed twice`);
    synsets.push(word);
  });
  if (!synsets.length) throw new InvalidInputError(path, 'the synset list is empty', 'one synset per line, e.g. "n01440764 tench, Tinca tinca"');
  return synsets;
}

/**
 * Lists an image folder (class folders or flat).
 * @throws InvalidInputError for a missing folder, a folder without images, loose images next to class
 *   folders, a class folder without images, or class folders missing from the synset list.
 */
export function listImageFolder(root: string, opts: ImageFolderOptions = {}): ImageFolderDataset {
  const entries = listDir(root);
  const dirs = entries.filter((e) => e.isDir).map((e) => e.name);
  const images = entries.filter((e) => !e.isDir && isImageName(e.name)).map((e) => e.name);
  if (!dirs.length) {
    if (!images.length) throw new InvalidInputError(root, `holds no images (${IMAGE_EXTENSIONS.join(', ')}) and no class folders`, 'pass a folder of images, or of class folders root/<class>/*.png');
    if (opts.synsets) throw new InvalidInputError(root, 'a synset list was given, but the folder has no class folders');
    return { root, classes: [], items: images.map((name) => ({ path: join(root, name), label: -1 })) };
  }
  if (images.length) throw new InvalidInputError(join(root, images[0]!), 'is an image next to class folders', 'put every image into its class folder root/<class>/');
  const classes = opts.synsets ? readSynsetList(opts.synsets) : dirs;
  const unknown = dirs.filter((d) => !classes.includes(d));
  if (unknown.length) throw new InvalidInputError(join(root, unknown[0]!), `class folder '${unknown[0]}' is not in the synset list ${opts.synsets}`);
  const items: ImageFolderItem[] = [];
  classes.forEach((cls, label) => {
    if (!dirs.includes(cls)) return;
    const dir = join(root, cls);
    const files = listDir(dir).filter((e) => !e.isDir && isImageName(e.name));
    if (!files.length) throw new InvalidInputError(dir, `class folder '${relative(root, dir)}' holds no images`);
    for (const f of files) items.push({ path: join(dir, f.name), label });
  });
  return { root, classes, items };
}

/** Decodes one listed image to 8-bit RGB. */
export function readFolderImage(item: ImageFolderItem): RgbImage {
  return decodeImage(readInputFile(item.path, 'image'), item.path);
}
