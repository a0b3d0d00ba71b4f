/** Loads the wasm backend (SIMD when the runtime has it) and registers its kernel patches (kernel-patches/register.ts). */
import * as tf from '@tensorflow/tfjs-core';
import { BackendUnavailableError } from '../errors.js';
import { registerKernelPatches } from './kernel-patches/register.js';
import { listCpuFallbacks } from './kernel-patches/cpu-bridge.js';

/** Activates `wasm`; returns a one-line description. */
export async function loadWasm(threads?: number): Promise<string> {
  let wasm: typeof import('@tensorflow/tfjs-backend-wasm');
  try {
    wasm = await import('@tensorflow/tfjs-backend-wasm');
  } catch (err) {
    throw new BackendUnavailableError('wasm', (err as Error).message, 'npm install @tensorflow/tfjs-backend-wasm@4.22.0');
  }
  // tfjs 4.22's threaded wasm build starts workers from blob: URLs, which Node refuses; stay single-threaded there.
  if (threads && threads > 1 && typeof window !== 'undefined') wasm.setThreadsCount(threads);
  registerKernelPatches('wasm');
  if (!(await tf.setBackend('wasm'))) throw new BackendUnavailableError('wasm', 'initialisation failed', 'use --backend cpu');
  await tf.ready();
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  return `@tensorflow/tfjs-backend-wasm (${simd ? 'SIMD' : 'no SIMD'}, ${wasm.getThreadsCount()} thread(s); ${listCpuFallbacks('wasm').length} kernels via CPU fallback)`;
}
