/**
 * The model registry: one entry per Hugging Face `model_type` — its config parser (zod schema), its
 * weight converter and its hooked model class. `loadModel` walks it in one straight line
 * (config.json → entry → parse → convert → construct). A new model family is a config file
 * (`io/config/<arch>.ts`), a converter (`io/convert/<arch>.ts`), a model file (`nn/<arch>.ts`) and
 * one line here.
 */
import type { Checkpoint } from '../io/checkpoint.js';
import { parseGpt2Config } from '../io/config/gpt2.js';
import { parseVitConfig } from '../io/config/vit.js';
import { parseWhisperConfig } from '../io/config/whisper.js';
import { parseBertConfig } from '../io/config/bert.js';
import { parseGptNeoXConfig } from '../io/config/gpt-neox.js';
import { parseGemmaConfig, parseGemma3MultimodalConfig } from '../io/config/gemma.js';
import { parseLlamaConfig } from '../io/config/llama.js';
import { convertGpt2, gpt2IgnorableKey } from '../io/convert/gpt2.js';
import { convertVit, vitIgnorableKey } from '../io/convert/vit.js';
import { convertWhisper, whisperIgnorableKey } from '../io/convert/whisper.js';
import { convertBert, bertIgnorableKey } from '../io/convert/bert.js';
import { convertGptNeoX, gptNeoXIgnorableKey } from '../io/convert/gpt-neox.js';
import { convertGemma, gemmaIgnorableKey } from '../io/convert/gemma.js';
import { convertLlama, llamaIgnorableKey } from '../io/convert/llama.js';
import type { Tokenizer } from '../data/tokenizer-types.js';
import { HookedGPT2 } from './gpt2.js';
import { HookedViT } from './vit.js';
import { HookedWhisper } from './whisper.js';
import { HookedBert } from './bert.js';
import { HookedGPTNeoX } from './gpt-neox.js';
import { HookedGemma } from './gemma.js';
import { HookedLlama } from './llama.js';

/** How a family gets its tokenizer: none (pixel input), or the checkpoint's files (optionally the offline GPT-2 BPE). */
export type TokenizerPolicy<Cfg> = 'none' | { gpt2Fallback?: (cfg: Cfg) => boolean };

/** One model family. */
export interface ModelFamily<Cfg, Weights, Model> {
  /** `config.json` → typed config; `where` names the file in error messages. */
  parseConfig(json: Record<string, unknown>, where: string): Cfg;
  /** Open checkpoint → the components' weight records. */
  convert(ckpt: Checkpoint, cfg: Cfg): Promise<Weights>;
  /** Checkpoint keys the conversion may leave unread (buffers, unused heads, tied copies); any other is an error. */
  ignorableKey(key: string, cfg: Cfg): boolean;
  /** The hooked model class. */
  Model: new (cfg: Cfg, weights: Weights) => Model;
  /** Where text input comes from. Models with a policy other than 'none' have a settable `tokenizer`. */
  tokenizer: TokenizerPolicy<Cfg>;
}

function family<Cfg, Weights, Model>(entry: ModelFamily<Cfg, Weights, Model>): ModelFamily<Cfg, Weights, Model> {
  return entry;
}

/** Every model family `loadModel` knows, by `config.json` `model_type`. */
export const MODEL_FAMILIES = {
  gpt2: family({ parseConfig: parseGpt2Config, convert: convertGpt2, ignorableKey: gpt2IgnorableKey, Model: HookedGPT2, tokenizer: { gpt2Fallback: (cfg) => cfg.dVocab === 50257 } }),
  vit: family({ parseConfig: parseVitConfig, convert: convertVit, ignorableKey: vitIgnorableKey, Model: HookedViT, tokenizer: 'none' }),
  whisper: family({ parseConfig: parseWhisperConfig, convert: convertWhisper, ignorableKey: whisperIgnorableKey, Model: HookedWhisper, tokenizer: {} }),
  bert: family({ parseConfig: parseBertConfig, convert: convertBert, ignorableKey: bertIgnorableKey, Model: HookedBert, tokenizer: {} }),
  gpt_neox: family({ parseConfig: parseGptNeoXConfig, convert: convertGptNeoX, ignorableKey: gptNeoXIgnorableKey, Model: HookedGPTNeoX, tokenizer: {} }),
  gemma2: family({ parseConfig: parseGemmaConfig, convert: convertGemma, ignorableKey: gemmaIgnorableKey, Model: HookedGemma, tokenizer: {} }),
  gemma3_text: family({ parseConfig: parseGemmaConfig, convert: convertGemma, ignorableKey: gemmaIgnorableKey, Model: HookedGemma, tokenizer: {} }),
  gemma3: family({ parseConfig: parseGemma3MultimodalConfig, convert: convertGemma, ignorableKey: gemmaIgnorableKey, Model: HookedGemma, tokenizer: {} }),
  llama: family({ parseConfig: parseLlamaConfig, convert: convertLlama, ignorableKey: llamaIgnorableKey, Model: HookedLlama, tokenizer: {} }),
  mistral: family({ parseConfig: parseLlamaConfig, convert: convertLlama, ignorableKey: llamaIgnorableKey, Model: HookedLlama, tokenizer: {} }),
  qwen2: family({ parseConfig: parseLlamaConfig, convert: convertLlama, ignorableKey: llamaIgnorableKey, Model: HookedLlama, tokenizer: {} }),
};

/** A `model_type` tfjs-lens can load. */
export type ModelType = keyof typeof MODEL_FAMILIES;

/** The model class of a `model_type`. */
export type ModelOf<T extends ModelType> = InstanceType<(typeof MODEL_FAMILIES)[T]['Model']>;

/** Any model `loadModel` can return. */
export type HookedModel = ModelOf<ModelType>;

/** True when `type` names a registered family. */
export function isModelType(type: unknown): type is ModelType {
  return typeof type === 'string' && Object.prototype.hasOwnProperty.call(MODEL_FAMILIES, type);
}

/** A model that takes text: its tokenizer can be set. */
export type WithTokenizer = { tokenizer?: Tokenizer };
