/**
 * Config/weights agreement: a conversion reads its tensors through a `TrackedCheckpoint`, which records every
 * tensor read and every expected tensor that is absent. After the conversion `checkAllKeysUsed` raises one
 * CheckpointError that lists the missing tensors and the tensors nothing read (a checkpoint with more blocks
 * than `n_layer`, an untied head without `lm_head`, a checkpoint of another architecture), except the
 * family's known harmless extras (buffers, pooler and next-sentence heads, tied copies of the embeddings).
 */
import { CheckpointError } from '../../errors.js';
import type { Checkpoint, FileRegion } from '../checkpoint.js';
import type { HostTensor, ReadOptions, TensorInfo } from '../safetensors.js';

/** How many key names an error lists before it says how many more there are. */
export const LISTED_KEYS = 8;

/**
 * Bytes of zeros that stand in for missing tensors before the conversion gives up at once (a config with far
 * more layers than the weights must not allocate them all just to list them).
 */
export const PLACEHOLDER_BYTES = 64 * 2 ** 20;
/** Missing tensors after which the conversion gives up at once (the error says "at least"). */
export const MAX_MISSING = 1000;

/**
 * A checkpoint view that records the tensors read (`used`) and the expected tensors that are absent
 * (`missing`, filled by `WeightReader`, which then goes on with zeros so that one error can list them all).
 */
export class TrackedCheckpoint implements Checkpoint {
  readonly used = new Set<string>();
  readonly missing: string[] = [];
  private readonly missingSet = new Set<string>();
  private placeholderBytes = 0;

  constructor(private readonly inner: Checkpoint) {}

  get dir(): string {
    return this.inner.dir;
  }
  keys(): string[] {
    return this.inner.keys();
  }
  has(name: string): boolean {
    return this.inner.has(name);
  }
  info(name: string): TensorInfo {
    return this.inner.info(name);
  }
  async read(name: string, opts?: ReadOptions): Promise<HostTensor> {
    const tensor = await this.inner.read(name, opts);
    this.used.add(name);
    return tensor;
  }
  fileRegion(name: string): FileRegion | undefined {
    const region = this.inner.fileRegion?.(name);
    if (region) this.used.add(name);
    return region;
  }
  /**
   * Records `key` (of `elements` float32 values) as expected but absent. Throws the mismatch error at once,
   * with the keys found missing so far, past `MAX_MISSING` keys or when the placeholders would pass
   * `PLACEHOLDER_BYTES`.
   */
  noteMissing(key: string, elements: number): void {
    if (!this.missingSet.has(key)) {
      this.missingSet.add(key);
      this.missing.push(key);
    }
    this.placeholderBytes += elements * 4;
    if (this.placeholderBytes > PLACEHOLDER_BYTES || this.missing.length > MAX_MISSING) throw mismatchError(this.dir, this.missing, [], true);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

/** `keys` as a capped list: `'a', 'b', … and 12 more`. */
export function listKeys(keys: readonly string[], max = LISTED_KEYS): string {
  const shown = keys.slice(0, max).map((k) => `'${k}'`).join(', ');
  return keys.length > max ? `${shown} and ${keys.length - max} more` : shown;
}

/**
 * Throws a CheckpointError when the conversion missed expected tensors or left tensors unread that
 * `ignorable` does not allow.
 * @param ignorable true for a checkpoint key the model may leave unread (a buffer, an unused head, a tied copy).
 */
export function checkAllKeysUsed(ckpt: TrackedCheckpoint, ignorable: (key: string) => boolean): void {
  const unused = ckpt.keys().filter((k) => !ckpt.used.has(k) && !ignorable(k)).sort(naturalOrder);
  if (unused.length || ckpt.missing.length) throw mismatchError(ckpt.dir, ckpt.missing, unused, false);
}

/** The CheckpointError listing missing and unused keys; `partial`: the conversion stopped early. */
function mismatchError(dir: string, missing: readonly string[], unused: readonly string[], partial: boolean): CheckpointError {
  const parts: string[] = [];
  if (missing.length) {
    const count = `${partial ? 'at least ' : ''}${missing.length} expected tensor${missing.length === 1 ? ' is' : 's are'}`;
    parts.push(`${count} missing${partial ? ' (the conversion stopped early)' : ''}: ${listKeys(missing)}`);
  }
  if (unused.length) parts.push(`${unused.length} tensor${unused.length === 1 ? ' is' : 's are'} not used by the model: ${listKeys(unused)}`);
  return new CheckpointError(
    `checkpoint ${dir} does not match its config.json: ${parts.join('; ')}`,
    'check n_layer / num_hidden_layers (and the other sizes) and tie_word_embeddings in config.json against the weights, and that the checkpoint is of the architecture config.json names',
  );
}

/** Orders `h.2.x` before `h.10.x`. */
function naturalOrder(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}
