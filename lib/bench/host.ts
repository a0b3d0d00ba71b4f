/** Where a benchmark ran: host, CPU, memory, and the versions of Node, tfjs and tfjs-lens. */
import { cpus, hostname, totalmem, platform, arch, availableParallelism } from 'node:os';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import type { BenchResult } from './schema.js';

/** The host fields of a result. */
export function hostInfo(): BenchResult['host'] {
  return {
    hostname: hostname(),
    platform: platform(),
    arch: arch(),
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cores: availableParallelism(),
    memoryBytes: totalmem(),
  };
}

/** Package root of tfjs-lens (dist/lib/bench or lib/bench → the directory holding package.json). */
function packageRoot(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate) && (JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string }).name === 'tfjs-lens') return dir;
    dir = dirname(dir);
  }
  return undefined;
}

function packageVersion(root: string | undefined, name: string): string | undefined {
  if (!root) return undefined;
  const path = join(root, 'node_modules', name, 'package.json');
  if (!existsSync(path)) return undefined;
  return (JSON.parse(readFileSync(path, 'utf8')) as { version?: string }).version;
}

/** Versions of the runtime and the packages that computed the numbers. */
export function versions(): Record<string, string> {
  const root = packageRoot();
  const out: Record<string, string> = { node: process.version, v8: process.versions.v8, '@tensorflow/tfjs-core': tf.version_core };
  if (root) out['tfjs-lens'] = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
  for (const name of ['@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-backend-cpu', '@tensorflow/tfjs-backend-webgpu', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu']) {
    const v = packageVersion(root, name);
    if (v) out[name] = v;
  }
  return out;
}

/** Peak resident set size of this process in bytes (`getrusage` maxrss). */
export function rssPeakBytes(): number {
  return process.resourceUsage().maxRSS * 1024;
}
