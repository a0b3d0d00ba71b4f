/**
 * Loads `@tensorflow/tfjs-backend-webgpu` on Dawn through the `webgpu` npm package (both optional); the
 * adapter is probed in a child process first (`webgpu-probe.ts`) so that Dawn's warnings stay off stderr.
 */
import * as tf from '@tensorflow/tfjs-core';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { BackendUnavailableError } from '../errors.js';
import { probeWebgpuAdapter } from './webgpu-probe.js';

const HINT = 'npm install webgpu@0.6.2 @tensorflow/tfjs-backend-webgpu@4.22.0, and a Vulkan driver (VK_DRIVER_FILES) on Linux';

/** What a WebGPU adapter says about itself (`GPUAdapterInfo`, plus the older `isFallbackAdapter` flag). */
export interface AdapterInfo {
  vendor?: string;
  architecture?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}

/**
 * Whether an adapter is a CPU emulation of a GPU (SwiftShader, llvmpipe/lavapipe, WARP or a fallback adapter):
 * correct but slower than the wasm backend, so `'auto'` never picks it.
 */
export function isSoftwareAdapter(info: AdapterInfo): boolean {
  if (info.isFallbackAdapter) return true;
  const text = `${info.vendor ?? ''} ${info.architecture ?? ''} ${info.description ?? ''}`.toLowerCase();
  return /swiftshader|llvmpipe|lavapipe|softpipe|microsoft basic render|\bwarp\b/.test(text);
}

async function requestAdapter(): Promise<{ info: AdapterInfo }> {
  const g = globalThis as { navigator?: { gpu?: unknown } };
  if (!g.navigator?.gpu) {
    let dawn: { create(flags: string[]): unknown; globals: Record<string, unknown> };
    let entry: string;
    try {
      entry = createRequire(import.meta.url).resolve('webgpu');
    } catch (err) {
      throw new BackendUnavailableError('webgpu', `the 'webgpu' package is not installed (${(err as Error).message.split('\n')[0]})`, HINT);
    }
    // Probe in a child first: Dawn's native warnings (no Vulkan, …) must not reach the user's stderr.
    const probe = probeWebgpuAdapter(entry);
    if (!probe.ok) throw new BackendUnavailableError('webgpu', `no WebGPU adapter found (${probe.reason})`, HINT);
    try {
      dawn = (await import(pathToFileURL(entry).href)) as typeof dawn;
    } catch (err) {
      throw new BackendUnavailableError('webgpu', `the 'webgpu' package cannot be loaded (${(err as Error).message.split('\n')[0]})`, HINT);
    }
    Object.assign(globalThis, dawn.globals);
    const gpu = dawn.create([]);
    if (!g.navigator) Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
    else Object.assign(g.navigator, { gpu });
  }
  const adapter = (await (g.navigator!.gpu as { requestAdapter(): Promise<unknown> }).requestAdapter()) as
    | { info?: AdapterInfo; isFallbackAdapter?: boolean }
    | null;
  if (!adapter) throw new BackendUnavailableError('webgpu', 'no WebGPU adapter found (no GPU or no Vulkan driver)', HINT);
  return { info: { ...(adapter.info ?? {}), isFallbackAdapter: adapter.info?.isFallbackAdapter ?? adapter.isFallbackAdapter ?? false } };
}

/**
 * Activates `webgpu`; returns a one-line description with the adapter.
 * @param opts.allowSoftware accept a software adapter (default true; `'auto'` passes false).
 */
export async function loadWebgpu(opts: { allowSoftware?: boolean } = {}): Promise<string> {
  const { info } = await requestAdapter();
  const name = `${info.vendor || 'unknown vendor'} ${info.description || info.architecture || ''}`.trim();
  if (isSoftwareAdapter(info) && opts.allowSoftware === false) {
    throw new BackendUnavailableError('webgpu', `the only adapter is a software one (${name}), slower than wasm`, "ask for it explicitly with setBackend('webgpu') (tests do); 'auto' never picks it");
  }
  try {
    await import('@tensorflow/tfjs-backend-webgpu' as string);
  } catch (err) {
    throw new BackendUnavailableError('webgpu', `@tensorflow/tfjs-backend-webgpu is not installed (${(err as Error).message.split('\n')[0]})`, HINT);
  }
  if (!(await tf.setBackend('webgpu'))) throw new BackendUnavailableError('webgpu', 'initialisation failed', HINT);
  await tf.ready();
  return `@tensorflow/tfjs-backend-webgpu on Dawn (${name}${isSoftwareAdapter(info) ? ', software adapter' : ''})`;
}
