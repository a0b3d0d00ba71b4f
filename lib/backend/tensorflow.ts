/** Uses `@tensorflow/tfjs-node-gpu` or `@tensorflow/tfjs-node` when the user installed one (optional peer). */
import * as tf from '@tensorflow/tfjs-core';
import { BackendUnavailableError } from '../errors.js';

/** Activates `tensorflow` (libtensorflow through tfjs-node); GPU build first. */
export async function loadTensorflow(): Promise<string> {
  const problems: string[] = [];
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    try {
      await import(pkg);
      if (await tf.setBackend('tensorflow')) {
        await tf.ready();
        return `${pkg} (libtensorflow)`;
      }
      problems.push(`${pkg}: initialisation failed`);
    } catch (err) {
      problems.push(`${pkg}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  throw new BackendUnavailableError(
    'tensorflow',
    `neither tfjs-node package could be loaded (${problems.join('; ')})`,
    'npm install @tensorflow/tfjs-node (its install downloads libtensorflow 2.9.1; the GPU build needs CUDA 11.2); or use --backend wasm',
  );
}
