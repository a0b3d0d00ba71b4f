/**
 * `tfjs-lens lens`: the logit lens table — for each residual state h_0 … h_L, the top-k tokens (GPT-2,
 * BERT, Whisper decoder) or classes (ViT) of the lens readout at one position, with probabilities.
 */
import type { Command } from 'commander';
import * as tf from '@tensorflow/tfjs-core';
import { topKPerLayer, type TopKResult } from '../lens/topk.js';
import { CausalLmRoot } from '../nn/causal-lm.js';
import { HookedViT } from '../nn/vit.js';
import { HookedWhisper } from '../nn/whisper.js';
import { HookedBert } from '../nn/bert.js';
import { vitPixelValues } from '../data/image.js';
import { whisperFeatures } from '../data/audio.js';
import { imagenetLabels } from '../data/imagenet-labels.js';
import type { Tokenizer } from '../data/tokenizer.js';
import { InvalidArgumentError } from '../errors.js';
import { BACKEND_HELP, formatTable, readOptionalJson, setup, showToken, type CommonOptions } from './common.js';
import { intOption, promptIds } from './text-input.js';
import { checkInputFlags, modelFamily, resolvePosition, type InputFlag } from './model-inputs.js';

interface LensOptions extends CommonOptions {
  text?: string;
  ids?: string;
  image?: string;
  audio?: string;
  top: string;
  position?: string;
}

/** The lens table as plain data (what `--json` prints). */
export interface LensTable {
  model: string;
  backend: string;
  tokens?: string[];
  position: number;
  layers: { layer: string; top: { id: number; label: string; prob: number }[] }[];
}

function labelsFor(model: HookedViT): string[] {
  const labels = model.cfg.id2label;
  return labels.length === 1000 && labels[0] === 'LABEL_0' ? imagenetLabels() : labels;
}

/** The input flags that were passed. */
function givenFlags(opts: LensOptions): InputFlag[] {
  const flags: [InputFlag, string | undefined][] = [['--text', opts.text], ['--ids', opts.ids], ['--image', opts.image], ['--audio', opts.audio], ['--position', opts.position]];
  return flags.filter(([, v]) => v !== undefined).map(([f]) => f);
}

async function runLens(opts: LensOptions): Promise<LensTable> {
  const k = intOption(opts.top, 'top', { min: 1 });
  const { model, dir, backend } = await setup(opts);
  try {
    checkInputFlags(modelFamily(model), givenFlags(opts), dir);
    let result: TopKResult;
    let label: (id: number) => string;
    let tokens: string[] | undefined;
    let position = 0;
    if (model instanceof HookedViT) {
      if (!opts.image) throw new InvalidArgumentError('a ViT model needs --image PATH');
      const pre = readOptionalJson(dir, 'preprocessor_config.json');
      const pixels = vitPixelValues(opts.image, {
        size: model.cfg.imageHeight,
        mean: (pre?.image_mean as number[] | undefined) ?? [0.5, 0.5, 0.5],
        std: (pre?.image_std as number[] | undefined) ?? [0.5, 0.5, 0.5],
      });
      try {
        result = await topKPerLayer(model, pixels, { k, includeEmbedding: true });
      } finally {
        pixels.dispose();
      }
      const labels = labelsFor(model);
      label = (id) => labels[id] ?? String(id);
    } else if (model instanceof HookedWhisper) {
      if (!opts.audio) throw new InvalidArgumentError('a Whisper model needs --audio PATH.wav');
      const tokenizer = model.tokenizer;
      const start = model.cfg.decoderStartTokenId;
      const prefix = opts.ids !== undefined || opts.text
        ? [...(opts.ids !== undefined ? [] : [start]), ...promptIds({ text: opts.text, ids: opts.ids, tokenizer, vocabSize: model.cfg.dVocab, modelDir: dir })]
        : [start];
      position = resolvePosition(opts.position, prefix.length);
      const features = whisperFeatures(opts.audio, { nMels: model.cfg.nMels });
      try {
        result = await topKPerLayer(model, { inputFeatures: features, decoderInputIds: [prefix] }, { k, includeEmbedding: true, positions: [position] });
        tokens = prefix.map((id) => (tokenizer ? tokenizer.decode([id]) : String(id)));
      } finally {
        features.dispose();
      }
      label = (id) => (tokenizer ? tokenizer.decode([id]) : String(id));
    } else {
      const lm = model as CausalLmRoot | HookedBert;
      const tokenizer = lm.tokenizer as Tokenizer | undefined;
      const ids = promptIds({ text: opts.text, ids: opts.ids, tokenizer, vocabSize: lm.cfg.dVocab, modelDir: dir });
      position = resolvePosition(opts.position, ids.length);
      result = await topKPerLayer(lm as CausalLmRoot, [ids], { k, includeEmbedding: true, positions: [position] });
      tokens = ids.map((id) => (tokenizer ? tokenizer.decode([id]) : String(id)));
      // Embedding rows past the tokenizer's vocabulary (padded vocabularies, e.g. Qwen2) are labelled by id.
      label = (id) => (tokenizer && id < tokenizer.vocabSize ? tokenizer.decode([id]) : String(id));
    }
    const [nLayers, , , kk] = result.shape;
    const layers = Array.from({ length: nLayers }, (_, row) => ({
      layer: result.layers[row] === 0 ? 'embed' : `L${result.layers[row]}`,
      top: Array.from({ length: kk }, (_, r) => {
        const id = result.ids[row * kk + r]!;
        return { id, label: label(id), prob: result.probs[row * kk + r]! };
      }),
    }));
    return { model: dir, backend, tokens, position, layers };
  } finally {
    model.dispose();
  }
}

/** Prints a lens table. */
export function printLensTable(table: LensTable): string {
  const k = table.layers[0]?.top.length ?? 0;
  const header = ['layer', ...Array.from({ length: k }, (_, r) => `top-${r + 1}`)];
  const rows = table.layers.map((l) => [l.layer, ...l.top.map((t) => `${showToken(t.label)} ${(100 * t.prob).toFixed(1)}%`)]);
  const context = table.tokens ? `tokens: ${table.tokens.map((t, i) => (i === table.position ? `[${showToken(t)}]` : showToken(t))).join('|')}\n` : '';
  return `${context}lens at position ${table.position} (what the model predicts next from each layer)\n${formatTable(header, rows)}`;
}

/** Registers `lens`. */
export function registerLens(program: Command): void {
  program
    .command('lens')
    .description('logit lens: per-layer top-k tokens (or ViT classes) at one position')
    .option('-m, --model <dir|hubId>', 'checkpoint directory or hub id (default: the shipped tiny GPT-2)')
    .option('-t, --text <text>', 'input text (language models; for Whisper the decoder prefix)')
    .option('--ids <ids>', 'input token ids, comma-separated')
    .option('--image <path>', 'image file (ViT)')
    .option('--audio <path>', 'WAV file (Whisper)')
    .option('-k, --top <k>', 'how many tokens per layer', '5')
    .option('-p, --position <pos>', 'position to lens (default: last; negative counts from the end)')
    .option('-b, --backend <name>', BACKEND_HELP)
    .option('--json', 'print JSON instead of a table')
    .action(async (opts: LensOptions) => {
      const table = await runLens(opts);
      process.stdout.write(opts.json ? `${JSON.stringify(table, null, 2)}\n` : `${printLensTable(table)}\n`);
      tf.disposeVariables();
    });
}
