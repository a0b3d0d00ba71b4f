#!/usr/bin/env node
/** The `tfjs-lens` command. One file per subcommand; errors print their message and hint, exit code 1. */
import { Command } from 'commander';
import { TfjsLensError } from '../errors.js';
import { registerLens } from './lens.js';
import { registerHooks } from './hooks.js';
import { registerDemo } from './demo.js';
import { registerSaturation } from './saturation.js';
import { registerHeads } from './heads.js';
import { registerPatch } from './patch.js';
import { registerShortcuts } from './shortcuts.js';
import { registerProbe } from './probe.js';
import { registerBench } from './bench.js';
import { registerSetup } from './setup.js';

const program = new Command();
program
  .name('tfjs-lens')
  .description('Mechanistic interpretability on TensorFlow.js (runs offline on the shipped tiny GPT-2 by default)')
  .showHelpAfterError();
registerDemo(program);
registerLens(program);
registerHooks(program);
registerSaturation(program);
registerHeads(program);
registerPatch(program);
registerShortcuts(program);
registerProbe(program);
registerBench(program);
registerSetup(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof TfjsLensError) {
    process.stderr.write(`tfjs-lens: ${err.message}\n`);
    process.exit(1);
  }
  throw err;
}
