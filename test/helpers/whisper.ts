/** A Whisper checkpoint that takes 30 s of audio, built from the whisper-tiny fixture for tests of the audio path. */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readAllSafetensors } from '../../lib/io/safetensors.js';
import { saveSafetensors, type HostValues } from '../../lib/io/safetensors-writer.js';
import { fixtureDir } from './fixtures.js';

/**
 * Writes whisper-tiny's weights with 1500 source positions (3000 frames = 30 s, as real checkpoints) into a new
 * temporary folder and returns it (the caller removes it). The encoder's sinusoidal positions are left out of
 * the file, so the loader recomputes them for that length.
 */
export async function fullLengthWhisperDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tfjs-lens-whisper-30s-'));
  const weights = await readAllSafetensors(join(fixtureDir('whisper-tiny'), 'model.safetensors'));
  const tensors = new Map<string, HostValues>();
  for (const [name, t] of weights) if (name !== 'model.encoder.embed_positions.weight') tensors.set(name, { shape: t.shape, data: t.data as Float32Array });
  await saveSafetensors(join(dir, 'model.safetensors'), tensors);
  const config = JSON.parse(await readFile(join(fixtureDir('whisper-tiny'), 'config.json'), 'utf8')) as Record<string, unknown>;
  await writeFile(join(dir, 'config.json'), JSON.stringify({ ...config, max_source_positions: 1500 }));
  return dir;
}
