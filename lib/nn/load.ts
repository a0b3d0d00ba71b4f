/**
 * `loadModel(dirOrName)`: opens a checkpoint directory (or a hub id, downloaded once into the Hugging
 * Face cache), reads `config.json`, and builds the hooked model its `model_type` names.
 */
import { ensureBackend } from '../backend/index.js';
import { openCheckpoint, readConfigJson } from '../io/checkpoint.js';
import { parseGpt2Config } from '../io/config/gpt2.js';
import { convertGpt2 } from '../io/convert/gpt2.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../errors.js';
import { HookedGPT2 } from './gpt2.js';
import { parseVitConfig } from '../io/config/vit.js';
import { convertVit } from '../io/convert/vit.js';
import { HookedViT } from './vit.js';
import { parseWhisperConfig } from '../io/config/whisper.js';
import { convertWhisper } from '../io/convert/whisper.js';
import { HookedWhisper } from './whisper.js';
import { parseBertConfig } from '../io/config/bert.js';
import { convertBert } from '../io/convert/bert.js';
import { HookedBert } from './bert.js';
import { resolveModelDir } from '../io/resolve.js';
import type { HubOptions } from '../io/hub.js';
import { loadTokenizer, type Tokenizer } from '../data/tokenizer.js';

/** Options of `loadModel`: hub options (revision, offline, cacheDir, progress, endpoint, token) for hub ids. */
export interface LoadModelOptions extends HubOptions {
  /** Use the offline GPT-2 BPE when a GPT-2 checkpoint ships no tokenizer files (default true). */
  gpt2TokenizerFallback?: boolean;
}

/** Any model `loadModel` can return. */
export type HookedModel = HookedGPT2 | HookedViT | HookedWhisper | HookedBert;

/** Loads a hooked model from a checkpoint directory or hub id. */
export async function loadModel(dirOrName: string, opts: LoadModelOptions = {}): Promise<HookedModel> {
  await ensureBackend();
  const dir = await resolveModelDir(dirOrName, opts);
  const config = await readConfigJson(dir);
  const modelType = config.model_type;
  const ckpt = await openCheckpoint(dir);
  try {
    switch (modelType) {
      case 'gpt2': {
        const cfg = parseGpt2Config(config, `${dir}/config.json`);
        const model = new HookedGPT2(cfg, await convertGpt2(ckpt, cfg));
        model.tokenizer = await loadTokenizerFor(dir, cfg.dVocab === 50257 && opts.gpt2TokenizerFallback !== false);
        return model;
      }
      case 'vit': {
        const cfg = parseVitConfig(config, `${dir}/config.json`);
        return new HookedViT(cfg, await convertVit(ckpt, cfg));
      }
      case 'whisper': {
        const cfg = parseWhisperConfig(config, `${dir}/config.json`);
        const model = new HookedWhisper(cfg, await convertWhisper(ckpt, cfg));
        model.tokenizer = await loadTokenizerFor(dir, false);
        return model;
      }
      case 'bert': {
        const cfg = parseBertConfig(config, `${dir}/config.json`);
        const model = new HookedBert(cfg, await convertBert(ckpt, cfg));
        model.tokenizer = await loadTokenizerFor(dir, false);
        return model;
      }
      default:
        throw new ConfigError(`${dir}/config.json has model_type '${String(modelType)}', which tfjs-lens cannot load`);
    }
  } finally {
    await ckpt.close();
  }
}

/**
 * The checkpoint's own tokenizer files, else (for GPT-2's 50257-token vocabulary) the offline GPT-2 BPE,
 * else none: such models take token ids only.
 */
async function loadTokenizerFor(dir: string, gpt2Fallback: boolean): Promise<Tokenizer | undefined> {
  const hasFiles = existsSync(join(dir, 'tokenizer.json')) || (existsSync(join(dir, 'vocab.json')) && existsSync(join(dir, 'merges.txt')));
  if (!hasFiles && !gpt2Fallback) return undefined;
  return loadTokenizer(dir, gpt2Fallback ? { fallback: 'gpt2' } : {});
}
