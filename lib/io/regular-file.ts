/**
 * Opening files that must be regular files (weights, config.json, shard indexes) without ever blocking:
 * the open is non-blocking, so a FIFO returns at once instead of waiting for a writer, and `fstat` on the
 * handle (not on the path, which could change in between) refuses a FIFO, device, socket or directory before
 * any byte is read.
 */
import { constants, type Stats } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { CheckpointError } from '../errors.js';

/** O_NONBLOCK matters only at open time here: reads of a regular file ignore it. Windows has neither flag. */
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOCTTY ?? 0);

function fileKind(stats: Stats): string {
  if (stats.isDirectory()) return 'a directory';
  if (stats.isFIFO()) return 'a FIFO';
  if (stats.isSocket()) return 'a socket';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'a device';
  return 'not a plain file';
}

/**
 * Opens `path` for reading and returns the handle with its size.
 * @throws CheckpointError when the path is not a regular file; open errors (ENOENT, EACCES…) pass through.
 */
export async function openRegularFile(path: string): Promise<{ handle: FileHandle; size: number }> {
  const handle = await open(path, OPEN_FLAGS);
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw new CheckpointError(`${path} is not a regular file (${fileKind(stats)})`, 'pass the path of a file');
    return { handle, size: stats.size };
  } catch (err) {
    await handle.close();
    throw err;
  }
}

/** Reads a regular file as UTF-8 text (see `openRegularFile`). */
export async function readRegularText(path: string): Promise<string> {
  const { handle } = await openRegularFile(path);
  try {
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}
