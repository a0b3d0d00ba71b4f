/**
 * The backend a test tier runs on. `npm test` runs every tier on its default backends (wasm and cpu), then
 * again with `TFJS_LENS_TEST_BACKEND=tensorflow` when that backend is set up (scripts/run-tests.mjs).
 * Tests that exercise one backend's own kernels keep naming it.
 */

/** The tier's backend when one is selected, else `fallback`. */
export function testBackend<T extends string>(fallback: T): T | string {
  return process.env.TFJS_LENS_TEST_BACKEND || fallback;
}

/** The tier's backend alone when one is selected, else `fallbacks` (tests that compare several backends). */
export function testBackends<T extends string>(fallbacks: readonly T[]): readonly (T | string)[] {
  const chosen = process.env.TFJS_LENS_TEST_BACKEND;
  return chosen ? [chosen] : fallbacks;
}

/**
 * `node:test` options for a test that runs no tensor code of its own choosing (a browser, a Slurm cluster,
 * documentation checks): it runs in the default tier and is skipped, saying so, in a backend tier, so that
 * the tensorflow tier re-runs only what depends on the backend.
 */
export function defaultTierOnly(): { skip?: string } {
  const chosen = process.env.TFJS_LENS_TEST_BACKEND;
  return chosen ? { skip: `backend-independent: runs in the default tier, not again on ${chosen}` } : {};
}
