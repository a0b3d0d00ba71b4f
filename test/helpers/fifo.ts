/** Test helpers for paths that are FIFOs: make one, and check that opening it fails without blocking. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';

/** Creates a FIFO at `path`; false where `mkfifo` is missing (Windows), so that the caller can skip. */
export function makeFifo(path: string): boolean {
  return spawnSync('mkfifo', [path]).status === 0;
}

/**
 * Runs `action` (which opens the FIFO `fifo` somehow) and returns what it rejects with. If it has not settled
 * after `ms`, the blocked open is released by opening the FIFO for writing (so the test process can exit)
 * and the test fails.
 */
export async function rejectionWithoutBlocking(action: () => Promise<unknown>, fifo: string, ms = 5_000): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const stuck = new Promise<'stuck'>((resolve) => {
    timer = setTimeout(() => resolve('stuck'), ms);
  });
  const outcome = await Promise.race([action().then(() => 'resolved', (err: unknown) => ({ err })), stuck]);
  clearTimeout(timer);
  if (outcome === 'stuck') {
    await (await open(fifo, constants.O_WRONLY | constants.O_NONBLOCK)).close();
    assert.fail(`opening the FIFO ${fifo} blocked`);
  }
  assert.notEqual(outcome, 'resolved', `opening the FIFO ${fifo} succeeded`);
  return (outcome as { err: unknown }).err;
}
