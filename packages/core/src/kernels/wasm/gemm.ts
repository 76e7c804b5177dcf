/**
 * Loader and caller for our own wasm SIMD module gemm.wasm (csrc/gemm.c and csrc/colsum.c, built by
 * scripts/build-gemm.sh into gemm.wasm next to this file and committed, since CI has no clang): the GEMM behind
 * BatchMatMul, _FusedMatMul and the conv gradients, the im2col filter gradient of Conv2DBackpropFilter, and the
 * float64-accumulated column sums behind Sum and Mean.
 *
 * The module has its own linear memory, separate from tfjs-backend-wasm's heap: operands are copied in (one
 * memcpy each, small next to the O(MNK) work), the result is copied out. Transposes and batch broadcasting are
 * strides and per-batch offsets, never copies.
 *
 * It is instantiated synchronously on first use (kernel functions are synchronous; Node compiles a module of this
 * size synchronously without complaint). The path is resolved from the package root, so it works from src/
 * (vitest, tsx) and from dist/ (after tsc), since package.json "files" ships src/ too.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** What the TS side needs from gemm.wasm (checked by a test against the committed binary). */
export const GEMM_EXPORTS = ['memory', 'heap_base', 'gemm_batched', 'conv2d_filter_grad', 'conv2d_input_grad', 'colsum_acc'] as const;

interface GemmExports {
  memory: WebAssembly.Memory;
  heap_base: () => number;
  gemm_batched: (
    batch: number, M: number, N: number, K: number,
    aPtr: number, rsa: number, csa: number, aOffPtr: number,
    bPtr: number, rsb: number, csb: number, bOffPtr: number,
    cPtr: number,
  ) => void;
  conv2d_filter_grad: (
    xPtr: number, B: number, H: number, W: number, Ci: number,
    dyPtr: number, Ho: number, Wo: number, Co: number,
    kh: number, kw: number, sh: number, sw: number, dh: number, dw: number, padTop: number, padLeft: number,
    colsPtr: number, chunkRows: number, outPtr: number,
  ) => void;
  conv2d_input_grad: (
    dyPtr: number, B: number, H: number, W: number, Ci: number,
    wPtr: number, Ho: number, Wo: number, Co: number,
    kh: number, kw: number, sh: number, sw: number, dh: number, dw: number, padTop: number, padLeft: number,
    colsPtr: number, chunkRows: number, dxPtr: number,
  ) => void;
  colsum_acc: (xPtr: number, rows: number, cols: number, accPtr: number) => void;
}

/** Absolute path of the committed gemm.wasm (this file is <pkg>/{src,dist}/kernels/wasm/gemm.{ts,js}). */
export function gemmWasmPath(): string {
  return fileURLToPath(new URL('../../../src/kernels/wasm/gemm.wasm', import.meta.url));
}

let gemm: GemmExports | undefined;

function load(): GemmExports {
  if (gemm !== undefined) return gemm;
  const path = gemmWasmPath();
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new Error(
      `@cmid/core BatchMatMul: cannot read ${path} (${(e as Error).message}). ` +
        'It is committed with the package; rebuild it with packages/core/scripts/build-gemm.sh if it was deleted.',
    );
  }
  const instance = new WebAssembly.Instance(new WebAssembly.Module(new Uint8Array(bytes)), {});
  const ex = instance.exports as unknown as GemmExports;
  for (const name of GEMM_EXPORTS) {
    if (!(name in ex)) throw new Error(`@cmid/core: ${path} does not export '${name}'; rebuild it with scripts/build-gemm.sh.`);
  }
  gemm = ex;
  return ex;
}

/** One operand: its data, and where element (row, col) of op(X) sits: offset + row*rs + col*cs. */
export interface GemmOperand {
  data: Float32Array;
  rs: number;
  cs: number;
  /** Element offset of each batch's matrix in `data` (length = batch). */
  offsets: Int32Array;
}

/**
 * Reserves consecutive 16-byte aligned regions of the given byte sizes after the module's static data, growing
 * its memory as needed, and returns their addresses. Valid until the next call (every caller is synchronous).
 */
function workspace(g: GemmExports, bytes: number[]): number[] {
  let p = (g.heap_base() + 15) & ~15;
  const ptrs = bytes.map((n) => {
    const at = p;
    p += (n + 15) & ~15;
    return at;
  });
  const have = g.memory.buffer.byteLength;
  if (p > have) g.memory.grow(Math.ceil((p - have) / 65536));
  return ptrs;
}

/**
 * out[b] = opA[b] (M x K) * opB[b] (K x N), out dense [batch, M, N].
 * `out` may be a view on another wasm heap; it is written with one copy.
 */
export function gemmBatched(batch: number, M: number, N: number, K: number, a: GemmOperand, b: GemmOperand, out: Float32Array): void {
  const g = load();
  // layout after the module's data: [aOff][bOff] [A] [B] [C]
  const [aOffPtr, bOffPtr, aPtr, bPtr, cPtr] = workspace(g, [4 * batch, 4 * batch, 4 * a.data.length, 4 * b.data.length, 4 * batch * M * N]) as [number, number, number, number, number];
  const buf = g.memory.buffer;
  new Int32Array(buf, aOffPtr, batch).set(a.offsets);
  new Int32Array(buf, bOffPtr, batch).set(b.offsets);
  new Float32Array(buf, aPtr, a.data.length).set(a.data);
  new Float32Array(buf, bPtr, b.data.length).set(b.data);
  g.gemm_batched(batch, M, N, K, aPtr, a.rs, a.cs, aOffPtr, bPtr, b.rs, b.cs, bOffPtr, cPtr);
  out.set(new Float32Array(g.memory.buffer, cPtr, batch * M * N));
}

/** Geometry of a 2-D NHWC convolution for conv2dFilterGrad (pads are the top/left ones; bottom/right follow). */
export interface ConvGeometry {
  b: number; h: number; w: number; ci: number;
  ho: number; wo: number; co: number;
  kh: number; kw: number; sh: number; sw: number; dh: number; dw: number;
  padTop: number; padLeft: number;
}

/**
 * dW [kh*kw*Ci, Co] = im2col(x)^T @ dy on our GEMM, the im2col matrix built `chunkRows` output pixels at a time
 * (see conv2d_filter_grad in csrc/gemm.c). x and dy are views (e.g. on the tfjs heap); `out` is written with one copy.
 */
export function conv2dFilterGrad(x: Float32Array, dy: Float32Array, c: ConvGeometry, chunkRows: number, out: Float32Array): void {
  const g = load();
  const k = c.kh * c.kw * c.ci;
  const rows = c.b * c.ho * c.wo;
  const colsFloats = Math.min(chunkRows, rows) * k;
  const [xPtr, dyPtr, colsPtr, outPtr] = workspace(g, [4 * x.length, 4 * dy.length, 4 * colsFloats, 4 * k * c.co]) as [number, number, number, number];
  const buf = g.memory.buffer;
  new Float32Array(buf, xPtr, x.length).set(x);
  new Float32Array(buf, dyPtr, dy.length).set(dy);
  g.conv2d_filter_grad(
    xPtr, c.b, c.h, c.w, c.ci, dyPtr, c.ho, c.wo, c.co,
    c.kh, c.kw, c.sh, c.sw, c.dh, c.dw, c.padTop, c.padLeft, colsPtr, Math.max(1, chunkRows), outPtr,
  );
  out.set(new Float32Array(g.memory.buffer, outPtr, k * c.co));
}

/**
 * dx = col2im(dy @ W^T) on our GEMM, W the HWIO filter as [kh*kw*Ci, Co], the product formed `chunkRows` output
 * pixels at a time (see conv2d_input_grad in csrc/gemm.c). dy and filter are views; `out` (dx) is written with one copy.
 */
export function conv2dInputGrad(dy: Float32Array, filter: Float32Array, c: ConvGeometry, chunkRows: number, out: Float32Array): void {
  const g = load();
  const k = c.kh * c.kw * c.ci;
  const rows = c.b * c.ho * c.wo;
  const dxFloats = c.b * c.h * c.w * c.ci;
  const [dyPtr, wPtr, colsPtr, dxPtr] = workspace(g, [4 * dy.length, 4 * filter.length, 4 * Math.min(chunkRows, rows) * k, 4 * dxFloats]) as [number, number, number, number];
  const buf = g.memory.buffer;
  new Float32Array(buf, dyPtr, dy.length).set(dy);
  new Float32Array(buf, wPtr, filter.length).set(filter);
  g.conv2d_input_grad(
    dyPtr, c.b, c.h, c.w, c.ci, wPtr, c.ho, c.wo, c.co,
    c.kh, c.kw, c.sh, c.sw, c.dh, c.dw, c.padTop, c.padLeft, colsPtr, Math.max(1, chunkRows), dxPtr,
  );
  out.set(new Float32Array(g.memory.buffer, dxPtr, dxFloats));
}

/** Rows copied into the module per colsum_acc call: 256 KiB, so each block is summed from cache. */
const COLSUM_CHUNK_FLOATS = 65536;

/**
 * Column sums of x viewed as row-major [rows, cols], accumulated in float64 (see csrc/colsum.c); returns them
 * as a Float64Array of length cols (a copy). x is streamed into the module in chunks of about 256 KiB.
 */
export function columnSums(x: Float32Array, rows: number, cols: number): Float64Array {
  const g = load();
  const chunkRows = Math.max(1, Math.floor(COLSUM_CHUNK_FLOATS / cols));
  const [accPtr, xPtr] = workspace(g, [8 * cols, 4 * Math.min(rows, chunkRows) * cols]) as [number, number];
  const buf = g.memory.buffer;
  new Float64Array(buf, accPtr, cols).fill(0);
  for (let r0 = 0; r0 < rows; r0 += chunkRows) {
    const n = Math.min(chunkRows, rows - r0);
    new Float32Array(buf, xPtr, n * cols).set(x.subarray(r0 * cols, (r0 + n) * cols));
    g.colsum_acc(xPtr, n, cols, accPtr);
  }
  return new Float64Array(buf, accPtr, cols).slice();
}
