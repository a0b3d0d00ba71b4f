/**
 * Typed errors of tfjs-lens. Every error carries a stable `code` (documented in `docs/errors/<code>.md`)
 * and a `hint` that says what to do about it. Catch them by class (`instanceof`) or by `code`.
 */

/** Base class of every error this library raises on purpose. */
export class TfjsLensError extends Error {
  /** Stable machine-readable code, e.g. `'E_UNKNOWN_HOOK'`. */
  readonly code: string;
  /** What the user can do about it. */
  readonly hint: string;

  constructor(code: string, message: string, hint = '') {
    super(hint ? `${message}\n  hint: ${hint}` : message);
    this.name = new.target.name;
    this.code = code;
    this.hint = hint;
  }
}

/** A hook name that the model does not have; `suggestions` holds the closest real names. */
export class UnknownHookError extends TfjsLensError {
  readonly hookName: string;
  readonly suggestions: string[];
  constructor(hookName: string, suggestions: string[]) {
    super(
      'E_UNKNOWN_HOOK',
      `unknown hook name '${hookName}'`,
      suggestions.length ? `did you mean ${suggestions.map((s) => `'${s}'`).join(', ')}?` : 'list them with model.hookNames()',
    );
    this.hookName = hookName;
    this.suggestions = suggestions;
  }
}

/** A valid hook name whose activation this cache does not hold (its `namesFilter` left it out). */
export class NotCachedError extends TfjsLensError {
  readonly hookName: string;
  constructor(hookName: string, cached: readonly string[]) {
    const shown = cached.slice(0, 8).map((n) => `'${n}'`).join(', ');
    super(
      'E_NOT_CACHED',
      `hook '${hookName}' exists but was not cached`,
      `the run's namesFilter kept ${cached.length} hook${cached.length === 1 ? '' : 's'}${cached.length ? `: ${shown}${cached.length > 8 ? ', …' : ''}` : ''}; add '${hookName}' to namesFilter`,
    );
    this.hookName = hookName;
  }
}

/** A safetensors file that is corrupt, truncated or hostile (bad header, spans out of range, overlaps…). */
export class SafetensorsFormatError extends TfjsLensError {
  readonly file: string;
  constructor(file: string, problem: string) {
    super('E_SAFETENSORS_FORMAT', `${file}: ${problem}`, 'the file is not a valid safetensors file; re-download or re-export it');
    this.file = file;
  }
}

/** A dtype that tfjs-lens cannot read or write. */
export class UnsupportedDtypeError extends TfjsLensError {
  readonly dtype: string;
  constructor(dtype: string, where: string) {
    super('E_UNSUPPORTED_DTYPE', `unsupported dtype '${dtype}' (${where})`, 'supported: F64, F32, F16, BF16, F8_E4M3, F8_E5M2, I64, I32, U32, I16, I8, U8, BOOL');
    this.dtype = dtype;
  }
}

/** A tensor whose shape does not match what the model or function expects. */
export class ShapeMismatchError extends TfjsLensError {
  constructor(what: string, expected: string, got: readonly number[] | string) {
    super('E_SHAPE_MISMATCH', `${what}: expected shape ${expected}, got ${Array.isArray(got) ? `[${got.join(',')}]` : got}`);
  }
}

/** A backend that was asked for but is not installed or has no device. */
export class BackendUnavailableError extends TfjsLensError {
  readonly backend: string;
  constructor(backend: string, why: string, hint: string) {
    super('E_BACKEND_UNAVAILABLE', `backend '${backend}' is not available: ${why}`, hint);
    this.backend = backend;
  }
}

/**
 * `tfjs-lens setup tensorflow` could not finish: no Python or TensorFlow, an unsupported TensorFlow version or
 * platform, no C++ compiler, a failed npm install or node-gyp build, or a smoke test that did not pass.
 * `step` names the step that failed.
 */
export class BackendSetupError extends TfjsLensError {
  readonly step: string;
  constructor(step: string, message: string, hint: string) {
    super('E_BACKEND_SETUP', `setup failed at '${step}': ${message}`, hint);
    this.step = step;
  }
}

/** A model or buffer would not fit in the memory left to this process (checked before allocating, not by the OOM killer). */
export class InsufficientMemoryError extends TfjsLensError {
  constructor(message: string, hint: string) {
    super('E_OUT_OF_MEMORY', message, hint);
  }
}

/** A checkpoint directory or file that is missing, incomplete or inconsistent with its config. */
export class CheckpointError extends TfjsLensError {
  constructor(message: string, hint = 'pass a directory with config.json and model.safetensors (or a sharded index)') {
    super('E_CHECKPOINT', message, hint);
  }
}

/** A config.json that is missing fields or describes an unsupported model. */
export class ConfigError extends TfjsLensError {
  constructor(message: string, hint = 'supported model_type: gpt2, vit, whisper, bert') {
    super('E_CONFIG', message, hint);
  }
}

/** A hub download that failed (offline, not found, interrupted). */
export class HubDownloadError extends TfjsLensError {
  constructor(message: string, hint = 'check the network, HF_ENDPOINT and HF_TOKEN, or pass a local directory') {
    super('E_HUB_DOWNLOAD', message, hint);
  }
}

/** Any other invalid argument (bad option values, inconsistent inputs). */
export class InvalidArgumentError extends TfjsLensError {
  constructor(message: string, hint = '') {
    super('E_INVALID_ARGUMENT', message, hint);
  }
}

/**
 * An input file or buffer (image, audio) that is missing, unreadable, corrupt or in a format tfjs-lens
 * cannot decode. `source` names the file (or `'<bytes>'` for an in-memory buffer).
 */
export class InvalidInputError extends TfjsLensError {
  readonly source: string;
  constructor(source: string, problem: string, hint = '') {
    super('E_INVALID_INPUT', `${source}: ${problem}`, hint);
    this.source = source;
  }
}

/** A tokenizer that cannot be found or loaded (no tokenizer files, malformed tokenizer.json / vocab.json / merges.txt). */
export class TokenizerError extends TfjsLensError {
  constructor(message: string, hint = "pass a directory with tokenizer.json (or vocab.json + merges.txt), or { fallback: 'gpt2' }") {
    super('E_TOKENIZER', message, hint);
  }
}

/**
 * A forward hook that broke the hook contract: it disposed the activation it was given, or returned a
 * disposed tensor. `hookName` is the hook point, `hook` names the function (its name, else its index).
 */
export class HookError extends TfjsLensError {
  readonly hookName: string;
  readonly hook: string;
  constructor(hookName: string, hook: string, problem: string, hint = 'a hook must not dispose the activation it receives; return a new tensor to replace it (tensors made inside a hook are freed by the run)') {
    super('E_HOOK', `hook ${hook} at '${hookName}' ${problem}`, hint);
    this.hookName = hookName;
    this.hook = hook;
  }
}

/** An output file that could not be written (read-only folder, disk full, …); nothing partial is left under its name. */
export class OutputWriteError extends TfjsLensError {
  readonly path: string;
  constructor(path: string, problem: string, hint = 'choose a writable folder with free space (e.g. --out DIR)') {
    super('E_OUTPUT_WRITE', `cannot write ${path}: ${problem}`, hint);
    this.path = path;
  }
}

/** What is wrong with a run folder's shards (`ShardMergeError.problem`). */
export type ShardMergeProblem = 'no-shards' | 'incomplete' | 'invalid' | 'missing' | 'duplicate' | 'mismatch';

/**
 * The shards of a run folder do not make one run (`tfjs-lens merge`): no shards, a shard folder without its
 * manifest (the task did not finish) or with an unreadable one, a shard missing or present twice, or manifests
 * that disagree (command, options, input hash, shard count, software). `shards` names the shard folders concerned.
 */
export class ShardMergeError extends TfjsLensError {
  readonly runDir: string;
  readonly problem: ShardMergeProblem;
  readonly shards: string[];
  constructor(runDir: string, problem: ShardMergeProblem, shards: readonly string[], message: string, hint = 'rerun the shards named above with the same command and options, then merge again') {
    super('E_SHARD_MERGE', `${runDir}: ${message}`, hint);
    this.runDir = runDir;
    this.problem = problem;
    this.shards = [...shards];
  }
}
