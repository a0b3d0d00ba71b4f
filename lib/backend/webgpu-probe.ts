/**
 * Probes for a WebGPU adapter in a child process. Dawn and the Vulkan loader print their warnings
 * (`Couldn't load Vulkan: libvulkan.so.1 …`) from native code straight to the process's stderr, where
 * Node cannot silence them; in a child they land in a captured pipe, and the first line becomes the
 * reason of the `BackendUnavailableError` instead of noise on the user's terminal.
 */
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';

/** What the probe found: an adapter, or why there is none (Dawn's first warning line when it printed one). */
export type WebgpuProbe = { ok: true } | { ok: false; reason: string };

/** How long the probe may take before it counts as "no adapter" (ms). */
const PROBE_TIMEOUT_MS = 30_000;

const CHILD = `
const dawn = await import(process.argv[1]);
Object.assign(globalThis, dawn.globals);
const adapter = await dawn.create([]).requestAdapter();
process.stdout.write(JSON.stringify({ ok: !!adapter }));
process.exit(0);
`;

/** The first line of Dawn's stderr worth showing (`Warning: ` prefixes and source locations dropped). */
export function dawnReason(stderr: string): string | undefined {
  const line = stderr.split('\n').map((l) => l.trim()).find((l) => l && !l.startsWith('at '));
  return line?.replace(/^Warning:\s*/, '');
}

/**
 * Runs `requestAdapter()` of the `webgpu` package at `webgpuEntry` (a resolved file path) in a child
 * Node process and reports whether it found an adapter; the child's stderr never reaches the user.
 */
export function probeWebgpuAdapter(webgpuEntry: string): WebgpuProbe {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', CHILD, pathToFileURL(webgpuEntry).href], { encoding: 'utf8', timeout: PROBE_TIMEOUT_MS });
  if (r.error) return { ok: false, reason: `the probe process failed (${r.error.message})` };
  let ok = false;
  try {
    ok = (JSON.parse(r.stdout) as { ok?: boolean }).ok === true;
  } catch {
    ok = false;
  }
  if (ok) return { ok: true };
  const dawn = dawnReason(r.stderr ?? '');
  return { ok: false, reason: dawn ? `Dawn: ${dawn}` : r.status === 0 ? 'no adapter' : `the probe exited with ${r.status ?? r.signal}` };
}
