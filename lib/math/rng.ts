/**
 * Seeded pseudo-random numbers. Every random choice in tfjs-lens (dataset sampling, permutation tests,
 * random positions) takes a seed and draws from an `Rng`, so that a run can be repeated exactly and
 * its seed reported (the original research code used unseeded numpy RNGs, see docs/methods.md §0).
 *
 * Generator: xoshiro128** 1.1 (Blackman & Vigna, 2018; public domain), 128-bit state, period 2^128 − 1,
 * 32-bit outputs. The state is filled from the seed with splitmix32, so nearby seeds (0, 1, 2, …) give
 * unrelated streams. Written here (about 60 lines) rather than taken from npm because we need exactly
 * these few draws with a documented, stable algorithm; the same seed gives the same stream forever.
 *
 * Not for cryptography.
 */
import { InvalidArgumentError } from '../errors.js';

const TWO_POW_32 = 4294967296;

/** splitmix32 step: returns the next 32-bit output and advances the internal counter. */
function splitmix32(state: { x: number }): number {
  state.x = (state.x + 0x9e3779b9) | 0;
  let z = state.x;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** A seeded xoshiro128** generator. Create one with `createRng(seed)`. */
export class Rng {
  /** The seed this generator started from (for reports). */
  readonly seed: number;
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spareNormal: number | undefined;

  /**
   * @param seed any finite number; it is reduced to an unsigned 32-bit integer (`seed >>> 0` of its
   *   integer part, after folding in the high bits), so use integers 0 … 2^32−1 for clarity.
   */
  constructor(seed: number) {
    if (!Number.isFinite(seed)) throw new InvalidArgumentError(`rng seed must be a finite number, got ${seed}`);
    this.seed = seed;
    const int = Math.trunc(seed);
    const mixed = (int >>> 0) ^ Math.floor(Math.abs(int) / TWO_POW_32);
    const sm = { x: mixed | 0 };
    this.s0 = splitmix32(sm);
    this.s1 = splitmix32(sm);
    this.s2 = splitmix32(sm);
    this.s3 = splitmix32(sm);
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1; // the all-zero state is a fixed point
  }

  /**
   * A generator started from an explicit xoshiro128** state (four 32-bit words, not all zero), e.g. to
   * check the published reference outputs; `seed` is reported as NaN.
   */
  static fromState(state: readonly [number, number, number, number]): Rng {
    if (state.every((w) => (w | 0) === 0)) throw new InvalidArgumentError('xoshiro128** state must not be all zero');
    const rng = new Rng(0);
    (rng as { seed: number }).seed = NaN;
    [rng.s0, rng.s1, rng.s2, rng.s3] = state.map((w) => w | 0) as [number, number, number, number];
    return rng;
  }

  /** Next unsigned 32-bit integer, uniform on 0 … 2^32−1. */
  nextUint32(): number {
    const s0 = this.s0;
    const s1 = this.s1;
    const s2 = this.s2;
    const s3 = this.s3;
    const t = s1 << 9;
    let r = Math.imul(s1, 5);
    r = Math.imul((r << 7) | (r >>> 25), 9);
    const n2 = s2 ^ s0;
    const n3 = s3 ^ s1;
    this.s1 = s1 ^ n2;
    this.s0 = s0 ^ n3;
    this.s2 = n2 ^ t;
    this.s3 = (n3 << 11) | (n3 >>> 21);
    return r >>> 0;
  }

  /** Uniform double on [0, 1) with 53 random bits. */
  uniform(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /**
   * Uniform integer on 0 … n−1, without modulo bias (rejection sampling on 32-bit draws).
   * @param n positive integer ≤ 2^32.
   */
  uniformInt(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > TWO_POW_32) {
      throw new InvalidArgumentError(`uniformInt(n) needs an integer 1 ≤ n ≤ 2^32, got ${n}`);
    }
    if (n === 1) return 0;
    const limit = TWO_POW_32 - (TWO_POW_32 % n); // accept draws below the largest multiple of n
    for (;;) {
      const x = this.nextUint32();
      if (x < limit) return x % n;
    }
  }

  /** Standard normal draw (Box–Muller on two uniforms; the second value is kept for the next call). */
  normal(): number {
    if (this.spareNormal !== undefined) {
      const v = this.spareNormal;
      this.spareNormal = undefined;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const radius = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = radius * Math.sin(2 * Math.PI * v);
    return radius * Math.cos(2 * Math.PI * v);
  }

  /** Shuffles `items` in place (Fisher–Yates, uniform over all orders) and returns it. */
  shuffle<A extends { length: number; [i: number]: unknown }>(items: A): A {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.uniformInt(i + 1);
      const tmp = items[i];
      items[i] = items[j];
      items[j] = tmp;
    }
    return items;
  }

  /** A uniformly random permutation of 0 … n−1. */
  permutation(n: number): Int32Array {
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = i;
    return this.shuffle(out);
  }
}

/** Creates a seeded generator (xoshiro128**, see the module comment). */
export function createRng(seed: number): Rng {
  return new Rng(seed);
}

/**
 * mulberry32: a tiny seeded uniform [0, 1) generator, kept because the shipped model's training recipe
 * (weights/train/train.ts) and the safetensors fuzz test were recorded with it; new code uses `createRng`.
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
