/** Plain-words descriptions of Node's file-system errors (`EACCES`, `ENOSPC`, …) for one-line messages. */

const WORDS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  ENOENT: 'no such file or directory',
  ENOTDIR: 'a part of the path is a file, not a folder',
  EISDIR: 'is a directory',
  EEXIST: 'already exists',
  EMFILE: 'too many open files',
  EIO: 'input/output error',
  ENAMETOOLONG: 'file name too long',
};

/** A Node system error (`err.code` like `'EACCES'`, usually with `syscall` and `path`). */
export function isSystemError(err: unknown): err is NodeJS.ErrnoException & { code: string } {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string' && /^E[A-Z]+$/.test((err as NodeJS.ErrnoException).code!);
}

/** `'no space left on device (ENOSPC)'` for a system error, else the error's first message line. */
export function systemErrorReason(err: unknown): string {
  if (isSystemError(err)) return `${WORDS[err.code] ?? err.message.split('\n')[0]!.replace(/^[A-Z]+: /, '').replace(/,.*$/, '')} (${err.code})`;
  return err instanceof Error ? err.message.split('\n')[0]! : String(err);
}
