/** `tfjs-lens setup tensorflow`: builds tfjs-node's binding against a pip TensorFlow (see docs/backends.md). */
import type { Command } from 'commander';
import { InvalidArgumentError } from '../errors.js';
import { setupTensorflow, TESTED_TENSORFLOW } from '../backend/tensorflow-setup/index.js';

interface SetupOptions {
  python?: string;
  wheel?: string;
  version?: string;
  gpu?: boolean;
  cache?: string;
  force?: boolean;
  json?: boolean;
}

/** Registers `setup`. */
export function registerSetup(program: Command): void {
  program
    .command('setup')
    .argument('<backend>', "what to set up: 'tensorflow'")
    .description(`make the tensorflow backend work from a pip TensorFlow (default: python3's, else a downloaded tensorflow-cpu==${TESTED_TENSORFLOW} wheel)`)
    .option('--python <path>', 'use the TensorFlow installed for this Python')
    .option('--wheel <file>', 'use this TensorFlow wheel file (tensorflow or tensorflow-cpu, Linux)')
    .option('--version <v>', `TensorFlow version to download when none is installed (default ${TESTED_TENSORFLOW})`)
    .option('--gpu', 'download the CUDA build (tensorflow) instead of tensorflow-cpu')
    .option('--cache <dir>', 'cache folder (default $TFJS_LENS_CACHE or ~/.cache/tfjs-lens)')
    .option('--force', 'rebuild the binding even when a cached one matches')
    .option('--json', 'print the result as JSON')
    .action(async (backend: string, opts: SetupOptions) => {
      if (backend !== 'tensorflow') throw new InvalidArgumentError(`cannot set up '${backend}'`, "only 'tensorflow' needs a setup step; wasm, cpu and webgpu come with npm ci");
      const result = await setupTensorflow({
        ...(opts.python ? { python: opts.python } : {}),
        ...(opts.wheel ? { wheel: opts.wheel } : {}),
        ...(opts.version ? { version: opts.version } : {}),
        ...(opts.cache ? { cacheDir: opts.cache } : {}),
        gpu: !!opts.gpu,
        force: !!opts.force,
      });
      if (opts.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      else process.stdout.write(`tensorflow backend ready: ${result.smoke?.detail ?? result.binding}\nuse it with --backend tensorflow, TFJS_LENS_BACKEND=tensorflow or setBackend('tensorflow')\n`);
    });
}
