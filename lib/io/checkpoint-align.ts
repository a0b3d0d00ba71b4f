/**
 * `alignCheckpoint(src, dst)`: a copy of a checkpoint directory whose safetensors files have every tensor 64-byte
 * aligned (`alignSafetensors`), so that the tensorflow backend maps the weights instead of reading them
 * (backend/file-tensors.ts). The other files (config.json, tokenizer files, the shard index — tensor names and
 * shard files are unchanged) are copied as they are.
 */
import { copyFile, mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { CheckpointError, InvalidArgumentError, OutputWriteError } from '../errors.js';
import { alignSafetensors, type AlignedFile } from './safetensors-align.js';
import { systemErrorReason } from './system-error.js';

/** One file of the aligned copy. */
export interface AlignedCheckpointFile extends Partial<AlignedFile> {
  name: string;
  /** 'aligned': a rewritten safetensors file; 'copied': any other file. */
  action: 'aligned' | 'copied';
}

/**
 * Writes the aligned copy of checkpoint directory `src` into `dst` (created; it must not hold files yet).
 * `onFile` is called after each file. Subfolders are not copied.
 * @throws InvalidArgumentError when `dst` is `src` or holds files; CheckpointError when `src` has no
 *   safetensors file; OutputWriteError when `dst` cannot be written (the files written so far are removed).
 */
export async function alignCheckpoint(src: string, dst: string, onFile?: (file: AlignedCheckpointFile) => void): Promise<AlignedCheckpointFile[]> {
  if (resolve(src) === resolve(dst)) throw new InvalidArgumentError(`cannot align checkpoint ${src} onto itself`, 'give another output folder');
  const entries = await readdir(src).catch((err: unknown) => {
    throw new CheckpointError(`cannot list checkpoint folder ${src}: ${systemErrorReason(err)}`);
  });
  const names: string[] = [];
  // Regular files (through symlinks, as in the hub cache's snapshots); a dangling link is skipped like a folder.
  for (const name of entries.sort()) if ((await stat(join(src, name)).catch(() => undefined))?.isFile()) names.push(name);
  if (!names.some((n) => n.endsWith('.safetensors'))) throw new CheckpointError(`no .safetensors file in ${src}`, 'give a checkpoint folder (config.json + model.safetensors or its shards)');
  const existing = await readdir(dst).catch(() => [] as string[]);
  if (existing.length) throw new InvalidArgumentError(`output folder ${dst} is not empty`, 'give a new or empty folder');
  try {
    await mkdir(dst, { recursive: true });
  } catch (err) {
    throw new OutputWriteError(dst, `cannot create the folder: ${systemErrorReason(err)}`);
  }
  const done: AlignedCheckpointFile[] = [];
  try {
    for (const name of names) {
      let file: AlignedCheckpointFile;
      if (name.endsWith('.safetensors')) {
        file = { name, action: 'aligned', ...(await alignSafetensors(join(src, name), join(dst, name))) };
      } else {
        await copyFile(join(src, name), join(dst, name)).catch((err: unknown) => {
          throw new OutputWriteError(join(dst, name), systemErrorReason(err));
        });
        file = { name, action: 'copied' };
      }
      done.push(file);
      onFile?.(file);
    }
  } catch (err) {
    await Promise.all(done.map((f) => rm(join(dst, f.name), { force: true })));
    throw err;
  }
  return done;
}
