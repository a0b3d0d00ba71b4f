/**
 * Preloads shared libraries into this process so that a later `dlopen("libcublas.so.12")` inside libtensorflow
 * finds them already loaded (glibc matches loaded objects by soname). A CUDA TensorFlow from pip finds the
 * `nvidia-*` packages' libraries through paths relative to its own site-packages folder; the copy the setup
 * links against lives elsewhere, so those libraries are loaded first from the folders recorded at set-up.
 *
 * `process.dlopen` loads with the flags given; a plain library is not a Node addon, so Node reports "did not
 * self-register" and closes it — RTLD_NODELETE keeps it mapped, RTLD_GLOBAL makes its symbols visible.
 */
import { constants } from 'node:os';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

/** glibc's RTLD_NODELETE (not in `os.constants.dlopen`). */
const RTLD_NODELETE = 0x1000;

/** The outcome of a preload: which files loaded and which did not (with the loader's reason). */
export interface PreloadReport {
  loaded: string[];
  failed: { file: string; why: string }[];
}

/** Loads one shared library globally and keeps it loaded; returns an error message, or undefined on success. */
export function preloadLibrary(file: string): string | undefined {
  const flags = (constants.dlopen.RTLD_NOW ?? 2) | (constants.dlopen.RTLD_GLOBAL ?? 0x100) | RTLD_NODELETE;
  try {
    process.dlopen({ exports: {} } as NodeJS.Module, file, flags);
    return undefined;
  } catch (err) {
    const msg = (err as Error).message;
    return /did not self-register|Module did not|napi_register_module/.test(msg) ? undefined : msg.split('\n')[0];
  }
}

/**
 * Preloads every `*.so*` file in `dirs`, retrying those whose dependencies were not loaded yet until no
 * pass makes progress (the folders come in no dependency order).
 */
export function preloadLibraries(dirs: readonly string[]): PreloadReport {
  let pending: string[] = [];
  for (const dir of dirs) {
    try {
      for (const f of readdirSync(dir).sort()) if (/\.so(\.\d+)*$/.test(f)) pending.push(join(dir, f));
    } catch {
      /* a folder that went away: nothing to load from it */
    }
  }
  const report: PreloadReport = { loaded: [], failed: [] };
  let progress = true;
  while (pending.length && progress) {
    progress = false;
    const next: string[] = [];
    const reasons = new Map<string, string>();
    for (const file of pending) {
      const why = preloadLibrary(file);
      if (why === undefined) {
        report.loaded.push(file);
        progress = true;
      } else {
        next.push(file);
        reasons.set(file, why);
      }
    }
    pending = next;
    if (!progress) report.failed = pending.map((file) => ({ file, why: reasons.get(file)! }));
  }
  return report;
}
