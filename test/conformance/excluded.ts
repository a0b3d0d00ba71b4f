/**
 * tfjs-core op specs a backend fails on purpose, by backend, each with the reason. A name matches when the
 * spec's full name, without the test-environment part (`tfjs-lens {}`), starts with `prefix`. Keep it short:
 * a failure that tfjs-lens can fix is fixed in lib/backend/kernel-patches/, not listed here.
 */
export interface Exclusion {
  prefix: string;
  why: string;
}

const TF_SIGN = 'libtensorflow defines Sign(NaN) = NaN; tfjs defines 0 (tfjs-node lists the same specs)';

/** Exclusions per backend name. */
export const EXCLUDED: Record<string, Exclusion[]> = {
  cpu: [],
  tensorflow: [
    { prefix: 'avgPool3d x=[1,1,1,1,1] f=[1,1,3] s=1 p=valid', why: 'libtensorflow rejects a window larger than the input ("output size would be negative"); tfjs returns an empty tensor' },
    { prefix: 'conv2dTranspose input=8x8x8,output=4x4x8,f=8,s=1,inDepth=8,p=same vec4', why: "libtensorflow's Conv2DBackpropInput rejects an output shape smaller than 'same' padding implies; the tfjs kernels accept it" },
    { prefix: 'einsum 2d matrix calculate trace: duplicate axes not implemented yet', why: "libtensorflow's Einsum implements repeated indices (a trace); the spec expects tfjs's error" },
    { prefix: 'einsum nonexistent dimension throws error', why: "libtensorflow's Einsum accepts this equation; the spec expects tfjs's error" },
    { prefix: 'multinomial creates the same data given the same seed', why: "the samples come from libtensorflow's own seeded generator, not tfjs's: same seed, same samples, other values" },
    { prefix: 'sign basic', why: TF_SIGN },
    { prefix: 'sign does not propagate NaNs', why: TF_SIGN },
    { prefix: 'sign accepts a tensor-like object', why: TF_SIGN },
    { prefix: 'tan numbers exceed float32 precision', why: "libtensorflow's float32 tan differs by 2 ulp next to a pole (30144.1777 vs 30144.1758)" },
    { prefix: 'unique 1d tensor with NaN and Infinity', why: "libtensorflow's Unique treats every NaN as distinct; tfjs merges them (tfjs-node lists it too)" },
  ],
};

/** The spec name without the test-environment part. */
export function specKey(fullName: string): string {
  return fullName.replace(/ tfjs-lens \{[^}]*\}/, '');
}

/** The exclusion that covers a spec, if any. */
export function exclusionFor(backend: string, fullName: string): Exclusion | undefined {
  const key = specKey(fullName);
  return (EXCLUDED[backend] ?? []).find((e) => key.startsWith(e.prefix));
}
