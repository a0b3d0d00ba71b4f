/**
 * Host memory before a large allocation: how much this process may still take (the smallest of the kernel's
 * `MemAvailable` and a cgroup limit, v2 or v1), and a typed `InsufficientMemoryError` instead of the kernel's OOM
 * killer when a model's weights would not fit. `TFJS_LENS_MEMORY_CHECK=0` turns the check off;
 * `TFJS_LENS_MEMORY_AVAILABLE=<bytes>` replaces the measured budget (tests, or a share of a larger machine).
 */
import { readFileSync } from 'node:fs';
import { freemem } from 'node:os';
import { InsufficientMemoryError } from '../errors.js';

/** Bytes this process may still allocate, and where that number comes from. */
export interface MemoryBudget {
  availableBytes: number;
  source: string;
}

function readNumber(path: string): number | undefined {
  try {
    const text = readFileSync(path, 'utf8').trim();
    if (text === 'max') return undefined;
    const n = Number(text);
    return Number.isFinite(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

/** `MemAvailable` from a `/proc/meminfo` text, in bytes. */
export function parseMemAvailable(meminfo: string): number | undefined {
  const m = /^MemAvailable:\s+(\d+)\s+kB$/m.exec(meminfo);
  return m ? Number(m[1]) * 1024 : undefined;
}

/** What is left to this process: min(MemAvailable, cgroup limit − usage); `os.freemem()` where neither exists. */
export function availableMemory(root = ''): MemoryBudget {
  const forced = Number(process.env.TFJS_LENS_MEMORY_AVAILABLE);
  if (!root && process.env.TFJS_LENS_MEMORY_AVAILABLE && Number.isFinite(forced)) return { availableBytes: forced, source: 'TFJS_LENS_MEMORY_AVAILABLE' };
  const candidates: MemoryBudget[] = [];
  try {
    const avail = parseMemAvailable(readFileSync(`${root}/proc/meminfo`, 'utf8'));
    if (avail !== undefined) candidates.push({ availableBytes: avail, source: 'MemAvailable' });
  } catch {
    /* not Linux */
  }
  const v2max = readNumber(`${root}/sys/fs/cgroup/memory.max`);
  const v2cur = readNumber(`${root}/sys/fs/cgroup/memory.current`);
  if (v2max !== undefined && v2cur !== undefined) candidates.push({ availableBytes: v2max - v2cur, source: 'cgroup memory.max' });
  const v1max = readNumber(`${root}/sys/fs/cgroup/memory/memory.limit_in_bytes`);
  const v1cur = readNumber(`${root}/sys/fs/cgroup/memory/memory.usage_in_bytes`);
  if (v1max !== undefined && v1cur !== undefined && v1max < 2 ** 60) candidates.push({ availableBytes: v1max - v1cur, source: 'cgroup memory.limit_in_bytes' });
  if (!candidates.length) return { availableBytes: freemem(), source: 'os.freemem()' };
  return candidates.reduce((a, b) => (b.availableBytes < a.availableBytes ? b : a));
}

const GiB = 2 ** 30;

/**
 * Throws `InsufficientMemoryError` when `bytes` (what `what` will hold in host memory) exceed what is available.
 * @param bytes bytes about to be allocated (e.g. a model's weights as float32)
 * @param what what they are for, for the message (`'gpt2-xl weights'`)
 */
export function checkMemoryFor(bytes: number, what: string, budget: MemoryBudget = availableMemory()): void {
  if (process.env.TFJS_LENS_MEMORY_CHECK === '0') return;
  if (bytes <= budget.availableBytes) return;
  throw new InsufficientMemoryError(
    `${what} need ${(bytes / GiB).toFixed(2)} GiB but only ${(budget.availableBytes / GiB).toFixed(2)} GiB is available (${budget.source})`,
    'free memory, use a machine with more, load fewer layers, or set TFJS_LENS_MEMORY_CHECK=0 to try anyway',
  );
}
