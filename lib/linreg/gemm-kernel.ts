/**
 * The float64 matrix-product kernel behind the Gram matrices of `linreg/`: C += Xᵀ·Y on packed panels.
 *
 * Why hand-written: fitting the linear shortcuts of GPT-2 needs ~5·10¹¹ float64 multiply-adds
 * (all cross-Gram blocks h_iᵀh_j, docs/methods.md §7); npm has no float64 BLAS that runs everywhere
 * Node runs, tfjs only multiplies in float32, and plain JavaScript loops reach ~2.5·10⁹ multiply-adds/s.
 * This 4×4 register-blocked WebAssembly SIMD kernel (f64x2 lanes) reaches ~12·10⁹/s per core (about 5×),
 * and shares its memory with worker threads (see `gemm-engine.ts`). The module (~400 bytes) is
 * assembled below from named instructions, so it can be read and changed without external tools.
 * A plain JavaScript kernel with identical semantics is the fallback where WebAssembly SIMD is missing.
 *
 * Kernel contract, `gemm(xp, yp, c, aBegin, aEnd, bBlocks, nb, ldc, sym)`, all byte offsets/sizes i32:
 * - left panel at `xp`: layout `[aBlocks][nb][4]` float64 (4 columns of X per block, nb rows),
 * - right panel at `yp`: layout `[bBlocks][nb][4]` float64,
 * - C at `c`, row-major float64 with a row stride of `ldc` bytes:
 *   `C[4ab + r][4bb + s] += Σ_{n<nb} XP[ab][n][r] · YP[bb][n][s]`
 *   for block rows ab ∈ [aBegin, aEnd) and block columns bb ∈ [sym ? ab : 0, bBlocks).
 */

/** Signature of a kernel (wasm export or JS fallback); see the module comment. */
export type GemmKernel = (xp: number, yp: number, c: number, aBegin: number, aEnd: number, bBlocks: number, nb: number, ldc: number, sym: number) => void;

// ---- a tiny WebAssembly assembler -----------------------------------------------------------------

const uleb = (value: number): number[] => {
  const out: number[] = [];
  let v = value >>> 0;
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v) byte |= 0x80;
    out.push(byte);
  } while (v);
  return out;
};
const sleb = (value: number): number[] => {
  const out: number[] = [];
  let v = value | 0;
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    if ((v === 0 && !(byte & 0x40)) || (v === -1 && byte & 0x40)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
};
const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, bytes: number[]): number[] => [id, ...uleb(bytes.length), ...bytes];
const name = (s: string): number[] => vec([...new TextEncoder().encode(s)].map((b) => [b]));

const T_I32 = 0x7f;
const T_V128 = 0x7b;
const BLOCK_VOID = 0x40;
const op = {
  block: [0x02, BLOCK_VOID],
  loop: [0x03, BLOCK_VOID],
  ifI32: [0x04, T_I32],
  else: [0x05],
  end: [0x0b],
  br: (depth: number) => [0x0c, ...uleb(depth)],
  brIf: (depth: number) => [0x0d, ...uleb(depth)],
  get: (local: number) => [0x20, ...uleb(local)],
  set: (local: number) => [0x21, ...uleb(local)],
  tee: (local: number) => [0x22, ...uleb(local)],
  i32: (v: number) => [0x41, ...sleb(v)],
  i32GeS: [0x4e],
  i32LtU: [0x49],
  i32Add: [0x6a],
  i32Mul: [0x6c],
  i32Shl: [0x74],
  // SIMD (prefix 0xfd); memarg = [log2 alignment, offset]
  v128Load: (offset: number) => [0xfd, ...uleb(0), 4, ...uleb(offset)],
  v128Store: (offset: number) => [0xfd, ...uleb(11), 4, ...uleb(offset)],
  v128Load64Splat: (offset: number) => [0xfd, ...uleb(10), 3, ...uleb(offset)],
  v128Zero: [0xfd, ...uleb(12), ...new Array<number>(16).fill(0)],
  f64x2Add: [0xfd, ...uleb(0xf0)],
  f64x2Mul: [0xfd, ...uleb(0xf2)],
};

/** Assembles the kernel module (imports `env.mem`, a shared memory; exports `gemm`). */
function assembleGemmModule(): Uint8Array<ArrayBuffer> {
  // parameters
  const XP = 0, YP = 1, C = 2, A_BEGIN = 3, A_END = 4, B_BLOCKS = 5, NB = 6, LDC = 7, SYM = 8;
  // i32 locals
  const AB = 9, BB = 10, XO = 11, YO = 12, X_END = 13, CPTR = 14, X_BASE = 15;
  // v128 locals: acc[r][0] holds columns (0,1) and acc[r][1] columns (2,3) of row r
  const ACC = (r: number, half: number) => 16 + 2 * r + half;
  const Y01 = 24, Y23 = 25, XS = 26;
  const code: number[] = [];
  const emit = (...parts: (number[] | number)[]) => {
    for (const p of parts) Array.isArray(p) ? code.push(...p) : code.push(p);
  };
  const PANEL_ROW = 32; // bytes of one packed row of a block: 4 float64

  emit(op.get(A_BEGIN), op.set(AB));
  emit(op.block, op.loop); // for ab in [aBegin, aEnd)
  emit(op.get(AB), op.get(A_END), op.i32GeS, op.brIf(1));
  emit(op.get(XP), op.get(AB), op.get(NB), op.i32Mul, op.i32(5), op.i32Shl, op.i32Add, op.set(X_BASE)); // xp + ab·nb·32
  emit(op.get(SYM), op.ifI32, op.get(AB), op.else, op.i32(0), op.end, op.set(BB)); // bb = sym ? ab : 0
  emit(op.block, op.loop); //   for bb in [bb, bBlocks)
  emit(op.get(BB), op.get(B_BLOCKS), op.i32GeS, op.brIf(1));
  for (let r = 0; r < 4; r++) for (let h = 0; h < 2; h++) emit(op.v128Zero, op.set(ACC(r, h)));
  emit(op.get(X_BASE), op.set(XO));
  emit(op.get(YP), op.get(BB), op.get(NB), op.i32Mul, op.i32(5), op.i32Shl, op.i32Add, op.set(YO));
  emit(op.get(X_BASE), op.get(NB), op.i32(5), op.i32Shl, op.i32Add, op.set(X_END));
  emit(op.loop); //     for n in [0, nb)
  emit(op.get(YO), op.v128Load(0), op.set(Y01), op.get(YO), op.v128Load(16), op.set(Y23));
  for (let r = 0; r < 4; r++) {
    emit(op.get(XO), op.v128Load64Splat(8 * r), op.set(XS));
    emit(op.get(ACC(r, 0)), op.get(XS), op.get(Y01), op.f64x2Mul, op.f64x2Add, op.set(ACC(r, 0)));
    emit(op.get(ACC(r, 1)), op.get(XS), op.get(Y23), op.f64x2Mul, op.f64x2Add, op.set(ACC(r, 1)));
  }
  emit(op.get(YO), op.i32(PANEL_ROW), op.i32Add, op.set(YO));
  emit(op.get(XO), op.i32(PANEL_ROW), op.i32Add, op.tee(XO), op.get(X_END), op.i32LtU, op.brIf(0));
  emit(op.end);
  // cptr = c + 4·ab·ldc + bb·32; add the 4×4 tile into C
  emit(op.get(C), op.get(AB), op.i32(2), op.i32Shl, op.get(LDC), op.i32Mul, op.i32Add, op.get(BB), op.i32(5), op.i32Shl, op.i32Add, op.set(CPTR));
  for (let r = 0; r < 4; r++) {
    emit(op.get(CPTR), op.get(CPTR), op.v128Load(0), op.get(ACC(r, 0)), op.f64x2Add, op.v128Store(0));
    emit(op.get(CPTR), op.get(CPTR), op.v128Load(16), op.get(ACC(r, 1)), op.f64x2Add, op.v128Store(16));
    emit(op.get(CPTR), op.get(LDC), op.i32Add, op.set(CPTR));
  }
  emit(op.get(BB), op.i32(1), op.i32Add, op.set(BB), op.br(0));
  emit(op.end, op.end);
  emit(op.get(AB), op.i32(1), op.i32Add, op.set(AB), op.br(0));
  emit(op.end, op.end);
  emit(op.end); // function

  const locals = vec([
    [...uleb(7), T_I32],
    [...uleb(11), T_V128],
  ]);
  const body = [...locals, ...code];
  const funcType = [0x60, ...vec(new Array<number[]>(9).fill([T_I32])), ...uleb(0)];
  const memoryImport = [...name('env'), ...name('mem'), 0x02, 0x03, ...uleb(1), ...uleb(65536)]; // shared, min 1, max 65536 pages
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec([funcType])),
    ...section(2, vec([memoryImport])),
    ...section(3, vec([[0]])),
    ...section(7, vec([[...name('gemm'), 0x00, 0]])),
    ...section(10, vec([[...uleb(body.length), ...body]])),
  ]);
}

/** The kernel module bytes (assembled once). */
export const GEMM_WASM_BYTES: Uint8Array<ArrayBuffer> = assembleGemmModule();

/** Maximum pages of the shared memory the module imports (4 GiB). */
export const GEMM_MAX_PAGES = 65536;

let compiled: WebAssembly.Module | null | undefined;

/** The compiled kernel module, or null where WebAssembly SIMD or shared memory is unavailable. */
export function gemmWasmModule(): WebAssembly.Module | null {
  if (compiled !== undefined) return compiled;
  try {
    compiled = typeof WebAssembly !== 'undefined' && WebAssembly.validate(GEMM_WASM_BYTES) ? new WebAssembly.Module(GEMM_WASM_BYTES) : null;
  } catch {
    compiled = null;
  }
  return compiled;
}

/** Instantiates the wasm kernel on `memory` (a shared WebAssembly.Memory). */
export function instantiateGemmKernel(module: WebAssembly.Module, memory: WebAssembly.Memory): GemmKernel {
  const instance = new WebAssembly.Instance(module, { env: { mem: memory } });
  return instance.exports.gemm as unknown as GemmKernel;
}

/**
 * The JavaScript fallback kernel with the same contract, over `heap()` (a Float64Array of the whole
 * memory; offsets and `ldc` are in bytes and must be multiples of 8).
 */
export function jsGemmKernel(heap: () => Float64Array): GemmKernel {
  return (xp, yp, c, aBegin, aEnd, bBlocks, nb, ldc, sym) => {
    const f = heap();
    const x0 = xp / 8;
    const y0 = yp / 8;
    const ld = ldc / 8;
    const stride = nb * 4;
    for (let ab = aBegin; ab < aEnd; ab++) {
      const xa = x0 + ab * stride;
      for (let bb = sym ? ab : 0; bb < bBlocks; bb++) {
        const yb = y0 + bb * stride;
        let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
        let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
        for (let n = 0, xo = xa, yo = yb; n < nb; n++, xo += 4, yo += 4) {
          const xv0 = f[xo]!, xv1 = f[xo + 1]!, xv2 = f[xo + 2]!, xv3 = f[xo + 3]!;
          const yv0 = f[yo]!, yv1 = f[yo + 1]!, yv2 = f[yo + 2]!, yv3 = f[yo + 3]!;
          c00 += xv0 * yv0; c01 += xv0 * yv1; c02 += xv0 * yv2; c03 += xv0 * yv3;
          c10 += xv1 * yv0; c11 += xv1 * yv1; c12 += xv1 * yv2; c13 += xv1 * yv3;
          c20 += xv2 * yv0; c21 += xv2 * yv1; c22 += xv2 * yv2; c23 += xv2 * yv3;
          c30 += xv3 * yv0; c31 += xv3 * yv1; c32 += xv3 * yv2; c33 += xv3 * yv3;
        }
        let o = c / 8 + 4 * ab * ld + 4 * bb;
        f[o] += c00; f[o + 1] += c01; f[o + 2] += c02; f[o + 3] += c03; o += ld;
        f[o] += c10; f[o + 1] += c11; f[o + 2] += c12; f[o + 3] += c13; o += ld;
        f[o] += c20; f[o + 1] += c21; f[o + 2] += c22; f[o + 3] += c23; o += ld;
        f[o] += c30; f[o + 1] += c31; f[o + 2] += c32; f[o + 3] += c33;
      }
    }
  };
}
