/** `tfjs-lens hooks`: lists every hook name of a model with the shape it has on a small example input. */
import type { Command } from 'commander';
import * as tf from '@tensorflow/tfjs-core';
import { HookedViT } from '../nn/vit.js';
import { HookedWhisper } from '../nn/whisper.js';
import type { HookedModel } from '../nn/load.js';
import { BACKEND_HELP, formatTable, setup, type CommonOptions } from './common.js';

/** A small valid input for each model type, and how to describe it. */
function exampleInput(model: HookedModel): { input: unknown; description: string; owned: tf.Tensor[] } {
  if (model instanceof HookedViT) {
    const pixels = tf.zeros([1, model.cfg.numChannels, model.cfg.imageHeight, model.cfg.imageWidth]);
    return { input: pixels, description: `one ${model.cfg.imageHeight}×${model.cfg.imageWidth} image`, owned: [pixels] };
  }
  if (model instanceof HookedWhisper) {
    const frames = 2 * model.cfg.maxSourcePositions;
    const features = tf.zeros([1, model.cfg.nMels, frames]);
    return { input: { inputFeatures: features, decoderInputIds: [[model.cfg.decoderStartTokenId, model.cfg.decoderStartTokenId]] }, description: `${frames} frames, 2 decoder tokens`, owned: [features] };
  }
  return { input: [[0, 1, 2, 3]], description: 'batch 1 × 4 tokens', owned: [] };
}

/** Registers `hooks`. */
export function registerHooks(program: Command): void {
  program
    .command('hooks')
    .description('list hook names and their shapes')
    .option('-m, --model <dir|hubId>', 'checkpoint directory or hub id (default: the shipped tiny GPT-2)')
    .option('-b, --backend <name>', BACKEND_HELP)
    .option('--json', 'print JSON')
    .option('--markdown', 'print a Markdown table (docs/hooks.md is generated this way)')
    .action(async (opts: CommonOptions & { markdown?: boolean }) => {
      const { model } = await setup(opts);
      const { input, description, owned } = exampleInput(model);
      const { output, cache } = await (model as { runWithCache(i: unknown): Promise<{ output: tf.Tensor; cache: { get(n: string): tf.Tensor; dispose(): void } }> }).runWithCache(input);
      const rows = model.hookNames().map((name) => [name, `[${cache.get(name).shape.join(', ')}]`]);
      output.dispose();
      cache.dispose();
      for (const t of owned) t.dispose();
      model.dispose();
      if (opts.json) process.stdout.write(`${JSON.stringify(Object.fromEntries(rows), null, 2)}\n`);
      else if (opts.markdown) process.stdout.write(`Shapes for ${description}.\n\n| hook | shape |\n|---|---|\n${rows.map(([n, s]) => `| \`${n}\` | ${s} |`).join('\n')}\n`);
      else process.stdout.write(`${rows.length} hooks; shapes for ${description}\n${formatTable(['hook', 'shape'], rows)}\n`);
    });
}
