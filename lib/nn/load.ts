/**
 * `loadModel(dirOrName)`: opens a checkpoint directory (or a hub id, downloaded once into the Hugging
 * Face cache), reads `config.json`, and builds the hooked model its `model_type` names.
 */
import { ensureBackend } from '../backend/index.js';
import { openCheckpoint, readConfigJson } from '../io/checkpoint.js';
import { parseGpt2Config } from '../io/config/gpt2.js';
import { convertGpt2 } from '../io/convert/gpt2.js';
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

/** Options of `loadModel`. */
export interface LoadModelOptions {
  /** Hub revision (branch, tag or commit) when `dirOrName` is a hub id. */
  revision?: string;
  /** Never touch the network: use the local cache only. */
  offline?: boolean;
}

/** Any model `loadModel` can return. */
export type HookedModel = HookedGPT2 | HookedViT | HookedWhisper | HookedBert;

/** Loads a hooked model from a checkpoint directory or hub id. */
export async function loadModel(dirOrName: string, opts: LoadModelOptions = {}): Promise<HookedModel> {
  await ensureBackend();
  const dir = await resolveDir(dirOrName, opts);
  const config = await readConfigJson(dir);
  const modelType = config.model_type;
  const ckpt = await openCheckpoint(dir);
  try {
    switch (modelType) {
      case 'gpt2': {
        const cfg = parseGpt2Config(config, `${dir}/config.json`);
        const model = new HookedGPT2(cfg, await convertGpt2(ckpt, cfg));
        model.tokenizer = await loadTokenizerFor(dir);
        return model;
      }
      case 'vit': {
        const cfg = parseVitConfig(config, `${dir}/config.json`);
        return new HookedViT(cfg, await convertVit(ckpt, cfg));
      }
      case 'whisper': {
        const cfg = parseWhisperConfig(config, `${dir}/config.json`);
        return new HookedWhisper(cfg, await convertWhisper(ckpt, cfg));
      }
      case 'bert': {
        const cfg = parseBertConfig(config, `${dir}/config.json`);
        const model = new HookedBert(cfg, await convertBert(ckpt, cfg));
        model.tokenizer = await loadTokenizerFor(dir);
        return model;
      }
      default:
        throw new ConfigError(`${dir}/config.json has model_type '${String(modelType)}', which tfjs-lens cannot load`);
    }
  } finally {
    await ckpt.close();
  }
}

async function resolveDir(dirOrName: string, _opts: LoadModelOptions): Promise<string> {
  return dirOrName; // TODO(hub): resolveModelDir from lib/io/resolve.ts
}

async function loadTokenizerFor(_dir: string): Promise<undefined> {
  return undefined; // TODO(tokenizer): loadTokenizer from lib/data/tokenizer.ts
}
