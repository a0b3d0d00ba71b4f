/**
 * A checkpoint directory: `config.json` plus `model.safetensors`, or shards listed in
 * `model.safetensors.index.json`. Tensors are read lazily by name, whichever shard holds them.
 */
import { access } from 'node:fs/promises';
import { join, isAbsolute } from 'node:path';
import { CheckpointError } from '../errors.js';
import { SafetensorsFile, type FileRegion, type HostTensor, type ReadOptions, type TensorInfo } from './safetensors.js';
import { readRegularText } from './regular-file.js';

export type { FileRegion } from './safetensors.js';

/** An open checkpoint: a name → tensor view over one or more safetensors files. */
export interface Checkpoint {
  /** Directory the checkpoint was opened from. */
  readonly dir: string;
  /** All tensor names. */
  keys(): string[];
  has(name: string): boolean;
  /** Header entry (dtype, shape) of a tensor. */
  info(name: string): TensorInfo;
  /** Reads one tensor to host memory (`opts.allocate`: where its float32 values go). */
  read(name: string, opts?: ReadOptions): Promise<HostTensor>;
  /**
   * Where a tensor's stored bytes lie in an open file, for a caller that maps them instead of reading them (the
   * tensor then counts as read). Undefined where the checkpoint has no such file.
   */
  fileRegion?(name: string): FileRegion | undefined;
  close(): Promise<void>;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** True for a relative path that stays inside its directory (no absolute path, no `..` segment). */
function isPlainRelativePath(path: string): boolean {
  if (path === '' || isAbsolute(path) || path.includes('\\')) return false;
  return path.split('/').every((part) => part !== '' && part !== '.' && part !== '..');
}

/** Reads and parses `config.json` of a checkpoint directory. */
export async function readConfigJson(dir: string): Promise<Record<string, unknown>> {
  const path = join(dir, 'config.json');
  let text: string;
  try {
    text = await readRegularText(path);
  } catch (err) {
    if (err instanceof CheckpointError) throw err; // not a regular file
    throw new CheckpointError(`no config.json in ${dir}`);
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
    return parsed as Record<string, unknown>;
  } catch (err) {
    throw new CheckpointError(`${path} is not valid JSON (${(err as Error).message})`, 'restore the file from the checkpoint');
  }
}

/** Opens the weights of a checkpoint directory (single file or sharded index). */
export async function openCheckpoint(dir: string): Promise<Checkpoint> {
  const single = join(dir, 'model.safetensors');
  const index = join(dir, 'model.safetensors.index.json');
  const files = new Map<string, SafetensorsFile>();
  const owner = new Map<string, SafetensorsFile>();
  try {
    if (await exists(single)) {
      const file = await SafetensorsFile.open(single);
      files.set(single, file);
      for (const k of file.keys()) owner.set(k, file);
    } else if (await exists(index)) {
      let weightMap: Record<string, string>;
      try {
        weightMap = (JSON.parse(await readRegularText(index)) as { weight_map: Record<string, string> }).weight_map;
        if (!weightMap || typeof weightMap !== 'object') throw new Error('no weight_map');
      } catch (err) {
        if (err instanceof CheckpointError) throw err; // not a regular file
        throw new CheckpointError(`${index} is not a valid shard index (${(err as Error).message})`);
      }
      for (const [name, shard] of Object.entries(weightMap)) {
        if (typeof shard !== 'string' || !isPlainRelativePath(shard)) {
          throw new CheckpointError(`${index} maps '${name}' to ${JSON.stringify(shard)}, which is not a file inside the checkpoint directory`);
        }
        const path = join(dir, shard);
        let file = files.get(path);
        if (!file) {
          if (!(await exists(path))) throw new CheckpointError(`shard ${shard} listed in ${index} is missing`, 'download the missing shard');
          file = await SafetensorsFile.open(path);
          files.set(path, file);
        }
        if (!file.has(name)) throw new CheckpointError(`${index} places '${name}' in ${shard}, which does not hold it`);
        owner.set(name, file);
      }
    } else {
      throw new CheckpointError(`no model.safetensors or model.safetensors.index.json in ${dir}`, 'PyTorch .bin checkpoints are not read: convert them to safetensors');
    }
  } catch (err) {
    for (const f of files.values()) await f.close();
    throw err;
  }
  const get = (name: string): SafetensorsFile => {
    const file = owner.get(name);
    if (!file) throw new CheckpointError(`checkpoint ${dir} has no tensor '${name}'`, 'is this the right model type?');
    return file;
  };
  return {
    dir,
    keys: () => [...owner.keys()],
    has: (name) => owner.has(name),
    info: (name) => get(name).info(name),
    read: async (name, opts) => get(name).read(name, opts), // async: an unknown name rejects rather than throwing synchronously
    fileRegion: (name) => get(name).region(name),
    close: async () => {
      for (const f of files.values()) await f.close();
    },
  };
}
