/**
 * Loader and caller for our own wasm SIMD GEMM (csrc/gemm.c, built by scripts/build-gemm.sh into gemm.wasm next
 * to this file and committed, since CI has no clang). BatchMatMul and _FusedMatMul use it for every float32 case.
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
export const GEMM_EXPORTS = ['memory', 'heap_base', 'gemm_batched'] as const;

interface GemmExports {
  memory: WebAssembly.Memory;
  heap_base: () => number;
  gemm_batched: (
    batch: number, M: number, N: number, K: number,
    aPtr: number, rsa: number, csa: number, aOffPtr: number,
    bPtr: number, rsb: number, csb: number, bOffPtr: number,
    cPtr: number,
  ) => void;
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
 * out[b] = opA[b] (M x K) * opB[b] (K x N), out dense [batch, M, N].
 * `out` may be a view on another wasm heap; it is written with one copy.
 */
export function gemmBatched(batch: number, M: number, N: number, K: number, a: GemmOperand, b: GemmOperand, out: Float32Array): void {
  const g = load();
  const base = (g.heap_base() + 15) & ~15;
  // layout after the module's data: [aOff][bOff] [A] [B] [C], each 16-byte aligned
  const align = (bytes: number): number => (bytes + 15) & ~15;
  const aOffPtr = base;
  const bOffPtr = aOffPtr + align(4 * batch);
  const aPtr = bOffPtr + align(4 * batch);
  const bPtr = aPtr + align(4 * a.data.length);
  const cPtr = bPtr + align(4 * b.data.length);
  const end = cPtr + 4 * batch * M * N;
  const have = g.memory.buffer.byteLength;
  if (end > have) g.memory.grow(Math.ceil((end - have) / 65536));
  const buf = g.memory.buffer;
  new Int32Array(buf, aOffPtr, batch).set(a.offsets);
  new Int32Array(buf, bOffPtr, batch).set(b.offsets);
  new Float32Array(buf, aPtr, a.data.length).set(a.data);
  new Float32Array(buf, bPtr, b.data.length).set(b.data);
  g.gemm_batched(batch, M, N, K, aPtr, a.rs, a.cs, aOffPtr, bPtr, b.rs, b.cs, bOffPtr, cPtr);
  out.set(new Float32Array(g.memory.buffer, cPtr, batch * M * N));
}
