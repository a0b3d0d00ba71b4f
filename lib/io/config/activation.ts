/** Activation names of Hugging Face configs (`activation_function`, `hidden_act`) and their validation. */
import { ConfigError } from '../../errors.js';

/** Supported activation names. */
export type ActivationName = 'gelu_new' | 'gelu' | 'relu' | 'gelu_pytorch_tanh' | 'silu';

/** Every supported activation name. */
export const ACTIVATION_NAMES: readonly ActivationName[] = Object.freeze(['gelu_new', 'gelu', 'relu', 'gelu_pytorch_tanh', 'silu']);

/** Validates a config's activation name. */
export function parseActivation(name: unknown, where: string): ActivationName {
  if (typeof name === 'string' && (ACTIVATION_NAMES as readonly string[]).includes(name)) return name as ActivationName;
  throw new ConfigError(`${where}: unsupported activation '${String(name)}'`, `supported: ${ACTIVATION_NAMES.join(', ')}`);
}
