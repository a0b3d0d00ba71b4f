/**
 * The explorer's ViT view: an uploaded image → the patch-level class lens. Every residual state h_0 … h_L
 * of every token (CLS and each patch) is read through the model's own readout (`lensLogits`: final layer
 * norm with that state's statistics, then the classifier), giving the top-1 class and its probability per
 * layer and patch. The image is preprocessed as the CLI does (`vitPixelArray`, the values of `vitPixelValues`, the checkpoint's
 * `preprocessor_config.json` mean/std). One layer per job step.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { vitPixelArray } from '../data/image.js';
import { loadModel } from '../nn/load.js';
import { HookedViT } from '../nn/vit.js';
import { residNamesFilter } from '../lens/logit-lens.js';
import { InvalidArgumentError } from '../errors.js';
import type { JobContext } from './jobs.js';

/** A ViT checkpoint served next to the GPT-2 model (`--vit-model`). */
export interface ExploreVit {
  model: HookedViT;
  dir: string;
  mean: number[];
  std: number[];
}

/** Loads a ViT checkpoint (on the backend already selected). */
export async function loadExploreVit(dir: string): Promise<ExploreVit> {
  const model = await loadModel(dir);
  if (!(model instanceof HookedViT)) {
    model.dispose();
    throw new InvalidArgumentError(`--vit-model ${dir} is not a ViT checkpoint`, 'pass a ViT directory or hub id (e.g. google/vit-base-patch16-224)');
  }
  const preFile = join(dir, 'preprocessor_config.json');
  const pre = existsSync(preFile) ? (JSON.parse(readFileSync(preFile, 'utf8')) as { image_mean?: number[]; image_std?: number[] }) : {};
  return { model, dir, mean: pre.image_mean ?? [0.5, 0.5, 0.5], std: pre.image_std ?? [0.5, 0.5, 0.5] };
}

/** Reply of `POST /api/vit/lens`. */
export interface VitLensReply {
  /** Patch grid rows × columns. */
  gridH: number;
  gridW: number;
  /** Residual index ℓ of each row (0 = embedding … L). */
  layers: number[];
  /** `classes[row][token]`: top-1 class id of token (0 = CLS, 1 + r·gridW + c = patch (r, c)). */
  classes: number[][];
  /** Probability of that class, same layout. */
  probs: number[][];
  /** Class labels of the classes that occur (id → label). */
  labels: Record<number, string>;
}

/** Checks the upload and returns the job computing the patch-level class lens of the image. */
export function vitPatchLens(v: ExploreVit, bytes: Buffer): (job: JobContext) => Promise<VitLensReply> {
  const cfg = v.model.cfg;
  // decoded and checked before the job starts (a bad image is a 400); the tensor is made inside the job
  const values = vitPixelArray(new Uint8Array(bytes), { size: { height: cfg.imageHeight, width: cfg.imageWidth }, mean: v.mean, std: v.std });
  return async (job) => {
    const pixels = tf.tensor4d(values, [1, 3, cfg.imageHeight, cfg.imageWidth]);
    const gridH = cfg.imageHeight / cfg.patchSize;
    const gridW = cfg.imageWidth / cfg.patchSize;
    const names = residNamesFilter(v.model);
    try {
      const { output, cache } = await v.model.runWithCache(pixels, { namesFilter: names });
      output.dispose();
      const classes: number[][] = [];
      const probs: number[][] = [];
      try {
        for (const [l, name] of names.entries()) {
          await job.step(`h${l}`, l, names.length);
          const [idT, pT] = tf.tidy(() => {
            const logits = v.model.lensLogits(tf.squeeze(cache.get(name), [0])); // [tokens, classes]
            return [tf.argMax(logits, 1), tf.max(tf.softmax(logits), 1)];
          });
          const [ids, ps] = await Promise.all([idT.data(), pT.data()]);
          tf.dispose([idT, pT]);
          classes.push(Array.from(ids));
          probs.push(Array.from(ps));
        }
      } finally {
        cache.dispose();
      }
      const labels: Record<number, string> = {};
      for (const id of new Set(classes.flat())) labels[id] = v.model.id2label[id] ?? String(id);
      return { gridH, gridW, layers: names.map((_, l) => l), classes, probs, labels };
    } finally {
      pixels.dispose();
    }
  };
}
