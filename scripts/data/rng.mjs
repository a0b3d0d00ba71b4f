// Deterministic pseudo-random helpers shared by the data generators in scripts/data/.
// mulberry32: a small, well-known 32-bit generator; good enough for sampling templates,
// and identical on every platform and Node version (pure 32-bit integer arithmetic).

/**
 * Create a seeded random source.
 * @param {number} seed 32-bit integer seed.
 * @returns {{ next: () => number, int: (n: number) => number, pick: <T>(xs: readonly T[]) => T,
 *   chance: (p: number) => boolean, shuffle: <T>(xs: T[]) => T[], sample: <T>(xs: readonly T[], k: number) => T[] }}
 */
export function makeRng(seed) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n) => Math.floor(next() * n);
  const pick = (xs) => {
    if (xs.length === 0) throw new RangeError('pick from an empty list');
    return xs[int(xs.length)];
  };
  const chance = (p) => next() < p;
  const shuffle = (xs) => {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = int(i + 1);
      [xs[i], xs[j]] = [xs[j], xs[i]];
    }
    return xs;
  };
  const sample = (xs, k) => shuffle([...xs]).slice(0, k);
  return { next, int, pick, chance, shuffle, sample };
}

/**
 * FNV-1a 32-bit hash of a string, for stable per-item decisions (e.g. train/held-out split)
 * that do not depend on the order in which items are generated.
 * @param {string} s
 * @returns {number} unsigned 32-bit hash
 */
export function fnv1a(s) {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}
