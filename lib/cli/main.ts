#!/usr/bin/env node
/**
 * The `tfjs-lens` command. One file per subcommand; every failure prints one message (with its hint)
 * on stderr and exits non-zero, never with a stack trace unless `TFJS_LENS_DEBUG=1` (see `failure.ts`).
 */
import { Command } from 'commander';
import { failAndExit, installFailureHandlers } from './failure.js';
import { registerLens } from './lens.js';
import { registerHooks } from './hooks.js';
import { registerDemo } from './demo.js';
import { registerSaturation } from './saturation.js';
import { registerHeads } from './heads.js';
import { registerPatch } from './patch.js';
import { registerShortcuts } from './shortcuts.js';
import { registerProbe } from './probe.js';
import { registerIntervene } from './intervene.js';
import { registerEarlyExit } from './early-exit.js';
import { registerProbeGrid } from './probe-grid.js';
import { registerBench } from './bench.js';
import { registerSetup } from './setup.js';
import { registerMerge } from './merge.js';
import { registerExplore } from './explore.js';
import { registerAlign } from './align.js';
import { versions } from '../bench/host.js';

installFailureHandlers();
const program = new Command();
program
  .name('tfjs-lens')
  .description('Mechanistic interpretability on TensorFlow.js (runs offline on the shipped tiny GPT-2 by default)')
  .version(versions()['tfjs-lens'] ?? 'unknown', '-V, --version', 'print the tfjs-lens version')
  // usage errors (unknown option, missing argument) also read as one `tfjs-lens:` line and a hint
  .configureOutput({ outputError: (text, write) => write(text.replace(/^error: /, 'tfjs-lens: ')) })
  .showHelpAfterError('  hint: add --help for the commands and their options');
registerDemo(program);
registerLens(program);
registerHooks(program);
registerSaturation(program);
registerHeads(program);
registerPatch(program);
registerShortcuts(program);
registerProbe(program);
registerIntervene(program);
registerEarlyExit(program);
registerProbeGrid(program);
registerBench(program);
registerSetup(program);
registerMerge(program);
registerExplore(program);
registerAlign(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  failAndExit(err);
}
