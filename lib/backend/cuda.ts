/**
 * The first-party CUDA backend (`cuda`): an N-API addon that dlopens libcuda/libcublas at run time.
 * Until the addon is built (see docs/backends.md) asking for it raises a clear error; `auto` skips it.
 */
import { createRequire } from 'node:module';
import { BackendUnavailableError } from '../errors.js';
import type { BackendOptions } from './index.js';

/** Activates `cuda`. */
export async function loadCuda(_opts: BackendOptions): Promise<string> {
  const require = createRequire(import.meta.url);
  let addonPath: string | undefined;
  try {
    addonPath = require.resolve('../../../build/Release/tfjs_lens_cuda.node');
  } catch {
    addonPath = undefined;
  }
  if (!addonPath) {
    throw new BackendUnavailableError(
      'cuda',
      'the CUDA addon is not part of this build (no build/Release/tfjs_lens_cuda.node)',
      'the cuda backend is under development (docs/backends.md); use --backend webgpu or wasm',
    );
  }
  throw new BackendUnavailableError('cuda', `addon found at ${addonPath} but no kernels are registered in this version`, 'use --backend webgpu or wasm');
}
