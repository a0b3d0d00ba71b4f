/**
 * Data options of the collecting commands (`--text-file`, `--ids-file`, `--images`, `--audio`, `--dataset`)
 * that name a Hugging Face dataset file or folder (`hf://datasets/OWNER/NAME[@REVISION][/PATH]`): downloaded
 * into the hub cache (or found there) before the command reads them as local files.
 */
import { isHubDatasetAddress, resolveHubDataset } from '../io/hub-dataset.js';

/** The local path of a data option: a hub dataset address resolved (downloaded when needed), else as given. */
export async function localDataPath<T extends string | undefined>(value: T): Promise<T> {
  return (value !== undefined && isHubDatasetAddress(value) ? await resolveHubDataset(value) : value) as T;
}

/**
 * `opts` with every named data option that is a hub dataset address replaced by its local path.
 * @param keys the options that name data files or folders.
 */
export async function withLocalData<T extends object>(opts: T, keys: readonly (keyof T)[]): Promise<T> {
  const out = { ...opts };
  for (const key of keys) {
    const value = out[key];
    if (typeof value === 'string') out[key] = (await localDataPath(value)) as T[keyof T];
    else if (Array.isArray(value)) out[key] = (await Promise.all(value.map((v: unknown) => (typeof v === 'string' ? localDataPath(v) : v)))) as T[keyof T];
  }
  return out;
}
