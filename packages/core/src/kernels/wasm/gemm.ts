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
 * Threads: with more than one thread (`gemmThreads()`: CMID_GEMM_THREADS, else os.availableParallelism()), the
 * same source built with a shared memory (gemm-mt.wasm) is instantiated once on the main thread and once in each
 * of threads - 1 workers (gemm-worker.cjs), all on one shared WebAssembly.Memory. A kernel call is a synchronous
 * fork/join: the main thread writes the job and its parts (ranges of batches, rows, columns or channels of the
 * output) into a shared control block, wakes the workers with Atomics.notify, claims parts itself like any worker,
 * and waits with Atomics.wait until every part is done. Each output element is computed by one part with the same
 * summation order as the single-threaded call, so results are bit-identical for any split (tested). Workers are
 * unref()'d; without SharedArrayBuffer or shared wasm memory, or when gemm-mt.wasm fails to load, everything runs
 * single-threaded on gemm.wasm (`gemmThreadingStatus()` says why).
 *
 * It is instantiated synchronously on first use (kernel functions are synchronous; Node compiles a module of this
 * size synchronously without complaint). The path is resolved from the package root, so it works from src/
 * (vitest, tsx) and from dist/ (after tsc), since package.json "files" ships src/ too.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import { CmidError } from '../../runtime/errors.js';
import { compileCommittedWasm } from '../../runtime/wasm-module.js';

/** What the TS side needs from gemm.wasm and gemm-mt.wasm (checked by a test against the committed binaries). */
export const GEMM_EXPORTS = ['heap_base', 'gemm_scratch_bytes', 'gemm_batched', 'conv2d_filter_grad', 'conv2d_input_grad', 'conv2d_forward', 'colsum_acc'] as const;

interface GemmExports {
  memory?: WebAssembly.Memory;
  __stack_pointer?: WebAssembly.Global;
  heap_base: () => number;
  gemm_scratch_bytes: () => number;
  colsum_acc: (xPtr: number, rows: number, cols: number, accPtr: number) => void;
}

/** The dispatcher shared with the workers (plain CommonJS, see gemm-worker.cjs). */
interface WorkerSide {
  runPart: (ex: GemmExports, ctrl: Int32Array, t: number, p: number) => void;
  claimParts: (ex: GemmExports, ctrl: Int32Array, t: number, tag: number) => void;
  SEQ: number; NEXT: number; DONE: number; ERR: number; OP: number; NPARTS: number; REGION: number; REGION_STRIDE: number;
  COLS_OFF: number; WT_OFF: number; READY: number; WORKER_PARTS: number; ARGS: number; PARTS: number; MAX_PARTS: number; CTRL_INTS: number;
  OP_GEMM: number; OP_FILTER_GRAD: number; OP_INPUT_GRAD: number; OP_CONV_FORWARD: number;
}
const W = createRequire(import.meta.url)(fileURLToPath(new URL('../../../src/kernels/wasm/gemm-worker.cjs', import.meta.url))) as WorkerSide;

/**
 * Absolute path of a committed GEMM module (this file is <pkg>/{src,dist}/kernels/wasm/gemm.{ts,js}): gemm.wasm
 * or gemm-mt.wasm, or their relaxed-SIMD builds gemm-fma.wasm / gemm-mt-fma.wasm (by default where `gemmFma()`).
 */
export function gemmWasmPath(threaded = false, fma = gemmFma().fma): string {
  return fileURLToPath(new URL(`../../../src/kernels/wasm/${threaded ? 'gemm-mt' : 'gemm'}${fma ? '-fma' : ''}.wasm`, import.meta.url));
}

let fmaChoice: { fma: boolean; reason: string } | undefined;

/**
 * Whether the GEMM modules use relaxed SIMD's fused multiply-add (decided once per process): yes where the runtime
 * validates gemm-fma.wasm, as Node 22 does; on Node 20 after enabling V8's --experimental-wasm-relaxed-simd (a
 * process-wide flag that only lets modules use the relaxed instructions; workers inherit it). The micro-kernel's
 * multiply and add become one vfmadd where the CPU has FMA3: 1.25x on a 1024^3 GEMM on one thread here, and each
 * product is rounded once instead of twice (results differ from the plain build in the last bits; any thread
 * split of either build is bit-identical). CMID_GEMM_FMA=0 keeps the plain build.
 */
export function gemmFma(): { fma: boolean; reason: string } {
  if (fmaChoice !== undefined) return fmaChoice;
  if (process.env['CMID_GEMM_FMA'] === '0') return (fmaChoice = { fma: false, reason: 'CMID_GEMM_FMA=0' });
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    bytes = new Uint8Array(readFileSync(gemmWasmPath(false, true)));
  } catch (e) {
    return (fmaChoice = { fma: false, reason: `cannot read the relaxed-SIMD build (${(e as Error).message})` });
  }
  if (WebAssembly.validate(bytes)) return (fmaChoice = { fma: true, reason: 'relaxed SIMD available' });
  try {
    setFlagsFromString('--experimental-wasm-relaxed-simd');
  } catch {
    // an embedder that refuses flag changes: validate() below says no
  }
  if (WebAssembly.validate(bytes)) return (fmaChoice = { fma: true, reason: 'relaxed SIMD enabled (--experimental-wasm-relaxed-simd)' });
  return (fmaChoice = { fma: false, reason: 'this runtime does not validate relaxed SIMD' });
}

/** Knobs for the threaded module, exported for tests and benchmarks. */
export const gemmThreadOptions = {
  /**
   * Parts per thread a job is split into at most: threads claim parts as they come, so a thread that starts late
   * (a worker waking up after the single-threaded elementwise phases) or runs slower takes fewer of them. 4 against
   * 1: eager ResNet-50 step medians 1.52 / 1.93 s against 1.78 / 2.17 s (two runs of 4 alternating pairs, 6 of 8
   * pairs faster); more parts duplicate more packing.
   */
  partsPerThread: 4,
  /** No part smaller than this many flops (2 M N K): small jobs stay on the main thread without waking anyone. */
  minPartFlops: 4e6,
  /**
   * How the convolution kernels split a job: 'auto' picks the dimension whose parts repeat less packing (see
   * conv2dForward, conv2dFilterGrad, conv2dInputGrad); 'fixed' always splits output rows (forward), rows of dW
   * and channels of dx, as before 2026-12-07 (kept to compare).
   */
  convSplit: 'auto' as 'auto' | 'fixed',
};

/** One loaded module: the main thread's instance, its memory, and for the threaded one its workers. */
interface Engine {
  ex: GemmExports;
  memory: WebAssembly.Memory;
  threads: number;
  /** First byte free for workspaces (after the static data, and the workers' stacks). */
  base: number;
  scratchBytes: number;
  ctrl: Int32Array;
  tag: number;
  seq: number;
  workers: Worker[];
}

const STACK_BYTES = 65536;

function readModule(threaded: boolean): WebAssembly.Module {
  return compileCommittedWasm(gemmWasmPath(threaded), GEMM_EXPORTS, 'kernels', 'packages/core/scripts/build-gemm.sh');
}

function singleThreaded(): Engine {
  const ex = new WebAssembly.Instance(readModule(false), {}).exports as unknown as GemmExports;
  return {
    ex, memory: ex.memory!, threads: 1, base: (ex.heap_base() + 15) & ~15, scratchBytes: ex.gemm_scratch_bytes(),
    ctrl: new Int32Array(W.CTRL_INTS), tag: 0, seq: 0, workers: [],
  };
}

function multiThreaded(threads: number): Engine {
  if (typeof SharedArrayBuffer !== 'function') throw new Error('SharedArrayBuffer is unavailable');
  const mod = readModule(true);
  const memory = new WebAssembly.Memory({ initial: 256, maximum: 65536, shared: true });
  const ex = new WebAssembly.Instance(mod, { env: { memory } }).exports as unknown as GemmExports;
  const stacks = (ex.heap_base() + 15) & ~15;
  const base = stacks + (threads - 1) * STACK_BYTES;
  const have = memory.buffer.byteLength;
  if (base > have) memory.grow(Math.ceil((base - have) / 65536));
  const ctrlBuf = new SharedArrayBuffer(4 * W.CTRL_INTS);
  const workers: Worker[] = [];
  try {
    for (let t = 1; t < threads; t++) {
      const w = new Worker(fileURLToPath(new URL('../../../src/kernels/wasm/gemm-worker.cjs', import.meta.url)), {
        workerData: { cmidGemm: true, module: mod, memory, ctrl: ctrlBuf, t, stackTop: stacks + t * STACK_BYTES },
        stdout: false,
        stderr: false,
      });
      // A worker that fails to start never claims a part, so jobs still complete (on the threads that did start).
      w.on('error', (e) => {
        status.errors.push(`worker ${t}: ${(e as Error).message}`);
      });
      w.unref();
      workers.push(w);
    }
  } catch (e) {
    for (const w of workers) void w.terminate();
    throw e;
  }
  return {
    ex, memory, threads, base, scratchBytes: ex.gemm_scratch_bytes(), ctrl: new Int32Array(ctrlBuf), tag: 0, seq: 0, workers,
  };
}

function threadsFromEnv(): number {
  const env = process.env['CMID_GEMM_THREADS'];
  if (env !== undefined && env !== '') {
    const n = Number(env);
    if (!Number.isInteger(n) || n < 1) throw new Error(`CMID_GEMM_THREADS must be a positive integer, got '${env}'.`);
    return n;
  }
  return availableParallelism();
}

const status: { requested: number | undefined; threads: number; reason: string; errors: string[] } = {
  requested: undefined, threads: 1, reason: 'not loaded yet', errors: [],
};
let single: Engine | undefined;
/** Threaded engines by thread count (one in practice; tests compare several). */
const multi = new Map<number, Engine>();
let current: Engine | undefined;

/**
 * Sets the number of threads our GEMM module uses from the next kernel call on (1: the single-threaded module;
 * undefined: CMID_GEMM_THREADS, else os.availableParallelism()). Threaded modules are kept for reuse, one per
 * thread count asked for.
 */
export function setGemmThreads(threads?: number): void {
  if (threads !== undefined && (!Number.isInteger(threads) || threads < 1)) throw new Error(`setGemmThreads: ${threads} is not a positive integer.`);
  status.requested = threads;
  current = undefined;
}

/**
 * The threads the module runs on now and why (e.g. the reason it fell back to one), how many of its workers have
 * started (they start asynchronously; until then the main thread runs their parts), and how many parts they ran.
 */
export function gemmThreadingStatus(): { threads: number; reason: string; fma: boolean; fmaReason: string; readyWorkers: number; workerParts: number; workerErrors: string[] } {
  const e = engine();
  return {
    threads: status.threads, reason: status.reason, fma: gemmFma().fma, fmaReason: gemmFma().reason, readyWorkers: Atomics.load(e.ctrl, W.READY),
    workerParts: Atomics.load(e.ctrl, W.WORKER_PARTS), workerErrors: [...status.errors],
  };
}

function engine(): Engine {
  if (current !== undefined) return current;
  const want = Math.min(status.requested ?? threadsFromEnv(), W.MAX_PARTS);
  if (want > 1) {
    try {
      let e = multi.get(want);
      if (e === undefined) multi.set(want, (e = multiThreaded(want)));
      current = e;
      status.threads = want;
      status.reason = `${want} threads (${want - 1} workers)`;
      return current;
    } catch (e) {
      status.reason = `single-threaded: the threaded module failed to start (${(e as Error).message})`;
    }
  } else {
    status.reason = status.requested === 1 ? 'single-threaded: setGemmThreads(1)' : 'single-threaded: 1 thread asked for or available';
  }
  single ??= singleThreaded();
  current = single;
  status.threads = 1;
  return current;
}

/** One operand: its data, and where element (row, col) of op(X) sits: offset + row*rs + col*cs. */
export interface GemmOperand {
  data: Float32Array;
  rs: number;
  cs: number;
  /** Element offsets of each batch's matrix in `data` (length = batch). */
  offsets: Int32Array;
}

/**
 * Reserves consecutive 16-byte aligned regions of the given byte sizes after the module's static data (and the
 * workers' stacks), growing its memory as needed, and returns their addresses. Valid until the next call (every
 * caller is synchronous).
 */
function workspace(e: Engine, bytes: number[]): number[] {
  let p = e.base;
  const ptrs = bytes.map((n) => {
    const at = p;
    p += (n + 15) & ~15;
    return at;
  });
  const have = e.memory.buffer.byteLength;
  if (p > have) e.memory.grow(Math.ceil((p - have) / 65536));
  return ptrs;
}

const align16 = (n: number): number => (n + 15) & ~15;

/** How many parts a job of `flops` is split into on this engine, at most `units` (the splittable extent). */
function partCount(e: Engine, flops: number, units: number): number {
  if (e.threads === 1) return 1;
  const byWork = Math.floor(flops / gemmThreadOptions.minPartFlops);
  const want = Math.max(1, Math.round(e.threads * gemmThreadOptions.partsPerThread));
  return Math.max(1, Math.min(want, byWork, units, W.MAX_PARTS));
}

/** [lo, hi) ranges splitting [0, n) into `parts` nearly equal pieces, inner bounds multiples of `align`. */
export function splitRange(n: number, parts: number, align: number): Array<[number, number]> {
  const units = Math.ceil(n / align);
  const p = Math.max(1, Math.min(parts, units));
  const out: Array<[number, number]> = [];
  let lo = 0;
  for (let i = 1; i <= p; i++) {
    const hi = i === p ? n : Math.min(n, Math.round((units * i) / p) * align);
    if (hi > lo) out.push([lo, hi]);
    lo = hi;
  }
  return out;
}

/**
 * Runs job `op` (arguments `args`, parts `ranges`) with per-thread scratch regions at `region` + t * `stride`:
 * directly for one part, else by fork/join over the engine's threads.
 */
/** How long the main thread waits without any part of a job finishing before it reports a dead worker. */
const STALL_MS = 60_000;

function runJob(e: Engine, op: number, args: number[], ranges: Array<[number, number]>, region: number, stride: number, colsOff: number, wtOff: number): void {
  const c = e.ctrl;
  c[W.OP] = op;
  c[W.REGION] = region;
  c[W.REGION_STRIDE] = stride;
  c[W.COLS_OFF] = colsOff;
  c[W.WT_OFF] = wtOff;
  for (let i = 0; i < args.length; i++) c[W.ARGS + i] = args[i]!;
  for (let p = 0; p < ranges.length; p++) {
    c[W.PARTS + 2 * p] = ranges[p]![0];
    c[W.PARTS + 2 * p + 1] = ranges[p]![1];
  }
  if (ranges.length === 1 || e.workers.length === 0) {
    c[W.NPARTS] = ranges.length;
    for (let p = 0; p < ranges.length; p++) W.runPart(e.ex, c, 0, p);
    return;
  }
  e.tag = (e.tag % 0x7fff) + 1;
  c[W.NPARTS] = ranges.length;
  Atomics.store(c, W.DONE, 0);
  Atomics.store(c, W.ERR, 0);
  Atomics.store(c, W.NEXT, e.tag << 16);
  e.seq = (e.seq + 1) | 0;
  Atomics.store(c, W.SEQ, e.seq);
  Atomics.notify(c, W.SEQ);
  W.claimParts(e.ex, c, 0, e.tag);
  // A worker that died inside a part (killed, out of memory) would leave this wait forever: after STALL_MS without
  // a part finishing, give up with an error that says how to run without threads.
  let last = Atomics.load(c, W.DONE);
  let since = performance.now();
  for (;;) {
    const d = Atomics.load(c, W.DONE);
    if (d >= ranges.length) break;
    if (d !== last) {
      last = d;
      since = performance.now();
    } else if (performance.now() - since > STALL_MS) {
      throw new CmidError(
        'kernel',
        `@cmid/core: a GEMM worker thread stopped responding (${ranges.length - d} of ${ranges.length} parts unfinished after ` +
          `${STALL_MS / 1000} s). Run with CMID_GEMM_THREADS=1 to keep the matmuls on the main thread.`,
      );
    }
    Atomics.wait(c, W.DONE, d, 1000);
  }
  if (Atomics.load(c, W.ERR) !== 0) throw new Error('@cmid/core: a part of a threaded GEMM job failed (wasm trap).');
}

/**
 * out[b] = opA[b] (M x K) * opB[b] (K x N), out dense [batch, M, N].
 * `out` may be a view on another wasm heap; it is written with one copy.
 */
export function gemmBatched(batch: number, M: number, N: number, K: number, a: GemmOperand, b: GemmOperand, out: Float32Array): void {
  const e = engine();
  const flops = 2 * batch * M * N * K;
  // split batches when there are enough (no packing is repeated), else the larger of M and N (that repeats the
  // packing of the smaller operand only)
  let dim = 0;
  let extent = batch;
  let align = 1;
  if (batch < e.threads) [dim, extent, align] = M >= N ? [1, M, 4] : [2, N, 8];
  const ranges = splitRange(extent, partCount(e, flops, Math.ceil(extent / align)), align);
  const stride = align16(e.scratchBytes);
  // layout after the module's data: [aOff][bOff] [A] [B] [C] [scratch per thread]
  const [aOffPtr, bOffPtr, aPtr, bPtr, cPtr, region] = workspace(e, [4 * batch, 4 * batch, 4 * a.data.length, 4 * b.data.length, 4 * batch * M * N, stride * e.threads]) as [number, number, number, number, number, number];
  const buf = e.memory.buffer;
  new Int32Array(buf, aOffPtr, batch).set(a.offsets);
  new Int32Array(buf, bOffPtr, batch).set(b.offsets);
  new Float32Array(buf, aPtr, a.data.length).set(a.data);
  new Float32Array(buf, bPtr, b.data.length).set(b.data);
  runJob(e, W.OP_GEMM, [batch, M, N, K, aPtr, a.rs, a.cs, aOffPtr, bPtr, b.rs, b.cs, bOffPtr, cPtr, dim], ranges, region, stride, 0, 0);
  out.set(new Float32Array(e.memory.buffer, cPtr, batch * M * N));
}

/** Geometry of a 2-D NHWC convolution for conv2dFilterGrad (pads are the top/left ones; bottom/right follow). */
export interface ConvGeometry {
  b: number; h: number; w: number; ci: number;
  ho: number; wo: number; co: number;
  kh: number; kw: number; sh: number; sw: number; dh: number; dw: number;
  padTop: number; padLeft: number;
}

/**
 * out [B*Ho*Wo, Co] = im2col(x) @ W on our GEMM, W the HWIO filter as [kh*kw*Ci, Co], the im2col matrix built
 * `chunkRows` output pixels at a time (see conv2d_forward in csrc/gemm.c). x and filter are views (e.g. on the
 * tfjs heap); `out` is written with one copy. Threads split the output rows (each builds its own im2col rows).
 */
export function conv2dForward(x: Float32Array, filter: Float32Array, c: ConvGeometry, chunkRows: number, out: Float32Array): void {
  const e = engine();
  const k = c.kh * c.kw * c.ci;
  const rows = c.b * c.ho * c.wo;
  const outFloats = rows * c.co;
  const identity = c.kh === 1 && c.kw === 1 && c.sh === 1 && c.sw === 1 && c.padTop === 0 && c.padLeft === 0 && c.ho === c.h && c.wo === c.w;
  // Split the output rows (each part packs all of W: k*co floats) or, with fewer rows than columns, the columns
  // (each part builds and packs all of im2col(x): rows*k floats).
  const splitCols = gemmThreadOptions.convSplit === 'auto' && rows < c.co;
  const ranges = splitCols
    ? splitRange(c.co, partCount(e, 2 * rows * k * c.co, Math.ceil(c.co / 8)), 8)
    : splitRange(rows, partCount(e, 2 * rows * k * c.co, Math.ceil(rows / 4)), 4);
  const widest = splitCols ? rows : Math.max(...ranges.map(([lo, hi]) => hi - lo));
  const chunk = Math.max(1, Math.min(chunkRows, widest));
  const colsOff = align16(e.scratchBytes);
  const stride = colsOff + (identity ? 0 : align16(4 * chunk * k));
  const [xPtr, wPtr, outPtr, region] = workspace(e, [4 * x.length, 4 * filter.length, 4 * outFloats, stride * e.threads]) as [number, number, number, number];
  const buf = e.memory.buffer;
  new Float32Array(buf, xPtr, x.length).set(x);
  new Float32Array(buf, wPtr, filter.length).set(filter);
  runJob(e, W.OP_CONV_FORWARD, [
    xPtr, c.b, c.h, c.w, c.ci, wPtr, c.ho, c.wo, c.co, c.kh, c.kw, c.sh, c.sw, c.dh, c.dw, c.padTop, c.padLeft, chunk, outPtr, splitCols ? 1 : 0,
  ], ranges, region, stride, colsOff, 0);
  out.set(new Float32Array(e.memory.buffer, outPtr, outFloats));
}

/**
 * dW [kh*kw*Ci, Co] = im2col(x)^T @ dy on our GEMM, the im2col matrix built `chunkRows` output pixels at a time
 * (see conv2d_filter_grad in csrc/gemm.c). x and dy are views (e.g. on the tfjs heap); `out` is written with one copy.
 * Threads split the rows of dW; each builds only its own columns of the im2col matrix.
 */
export function conv2dFilterGrad(x: Float32Array, dy: Float32Array, c: ConvGeometry, chunkRows: number, out: Float32Array): void {
  const e = engine();
  const k = c.kh * c.kw * c.ci;
  const rows = c.b * c.ho * c.wo;
  const chunk = Math.max(1, chunkRows);
  // parts: rows of dW (columns of the im2col matrix, which each thread builds for itself; each packs all of dy,
  // rows*co floats) or, when dW has fewer rows than columns, its columns (each builds all of the im2col matrix,
  // rows*k floats, and packs its slice of dy)
  const splitCols = gemmThreadOptions.convSplit === 'auto' && k < c.co;
  const ranges = splitCols
    ? splitRange(c.co, partCount(e, 2 * rows * k * c.co, Math.ceil(c.co / 8)), 8)
    : splitRange(k, partCount(e, 2 * rows * k * c.co, Math.ceil(k / 4)), 4);
  const widest = splitCols ? k : Math.max(...ranges.map(([lo, hi]) => hi - lo));
  const colsOff = align16(e.scratchBytes);
  const stride = colsOff + align16(4 * Math.min(chunk, rows) * widest);
  const [xPtr, dyPtr, outPtr, region] = workspace(e, [4 * x.length, 4 * dy.length, 4 * k * c.co, stride * e.threads]) as [number, number, number, number];
  const buf = e.memory.buffer;
  new Float32Array(buf, xPtr, x.length).set(x);
  new Float32Array(buf, dyPtr, dy.length).set(dy);
  runJob(e, W.OP_FILTER_GRAD, [
    xPtr, c.b, c.h, c.w, c.ci, dyPtr, c.ho, c.wo, c.co, c.kh, c.kw, c.sh, c.sw, c.dh, c.dw, c.padTop, c.padLeft, chunk, outPtr, splitCols ? 1 : 0,
  ], ranges, region, stride, colsOff, 0);
  out.set(new Float32Array(e.memory.buffer, outPtr, k * c.co));
}

/**
 * dx = col2im(dy @ W^T) on our GEMM, W the HWIO filter as [kh*kw*Ci, Co], the product formed `chunkRows` output
 * pixels at a time (see conv2d_input_grad in csrc/gemm.c). dy and filter are views; `out` (dx) is written with one
 * copy. Threads split the channels of dx (each element of dx is summed by one thread, in the single-threaded order).
 */
export function conv2dInputGrad(dy: Float32Array, filter: Float32Array, c: ConvGeometry, chunkRows: number, out: Float32Array): void {
  const e = engine();
  const taps = c.kh * c.kw;
  const rows = c.b * c.ho * c.wo;
  const dxFloats = c.b * c.h * c.w * c.ci;
  const chunk = Math.max(1, chunkRows);
  const identity = taps === 1 && c.sh === 1 && c.sw === 1 && c.padTop === 0 && c.padLeft === 0 && c.ho === c.h && c.wo === c.w;
  // parts: channels of dx (each packs all of dy, rows*co floats) or, when dy is larger than W (rows > taps*ci),
  // its pixels (each packs only its rows of dy, and all of W): any pixels for a 1x1 stride-1 filter, whole images
  // otherwise (the col2im of one image never writes another), if there are at least as many images as threads
  const auto = gemmThreadOptions.convSplit === 'auto' && rows > taps * c.ci;
  const splitPixels = auto && identity;
  const splitImages = auto && !identity && c.b >= e.threads && e.threads > 1;
  const img = c.ho * c.wo;
  const ranges = splitPixels
    ? splitRange(rows, partCount(e, 2 * rows * c.ci * c.co, Math.ceil(rows / 4)), 4)
    : splitImages
      ? splitRange(c.b, partCount(e, 2 * rows * taps * c.ci * c.co, c.b), 1).map(([lo, hi]) => [lo * img, hi * img] as [number, number])
      : splitRange(c.ci, partCount(e, 2 * rows * taps * c.ci * c.co, Math.ceil(c.ci / 4)), 4);
  const widest = splitPixels || splitImages ? c.ci : Math.max(...ranges.map(([lo, hi]) => hi - lo));
  const colsOff = align16(e.scratchBytes);
  const wtOff = colsOff + (identity ? 0 : align16(4 * Math.min(chunk, rows) * taps * widest));
  const stride = wtOff + (identity || ranges.length === 1 ? 0 : align16(4 * taps * widest * c.co));
  const [dyPtr, wPtr, dxPtr, region] = workspace(e, [4 * dy.length, 4 * filter.length, 4 * dxFloats, stride * e.threads]) as [number, number, number, number];
  const buf = e.memory.buffer;
  new Float32Array(buf, dyPtr, dy.length).set(dy);
  new Float32Array(buf, wPtr, filter.length).set(filter);
  runJob(e, W.OP_INPUT_GRAD, [
    dyPtr, c.b, c.h, c.w, c.ci, wPtr, c.ho, c.wo, c.co, c.kh, c.kw, c.sh, c.sw, c.dh, c.dw, c.padTop, c.padLeft, chunk, dxPtr, splitPixels || splitImages ? 1 : 0,
  ], ranges, region, stride, colsOff, wtOff);
  out.set(new Float32Array(e.memory.buffer, dxPtr, dxFloats));
}

/** Rows copied into the module per colsum_acc call: 256 KiB, so each block is summed from cache. */
const COLSUM_CHUNK_FLOATS = 65536;

/**
 * Column sums of x viewed as row-major [rows, cols], accumulated in float64 (see csrc/colsum.c); returns them
 * as a Float64Array of length cols (a copy). x is streamed into the module in chunks of about 256 KiB.
 */
export function columnSums(x: Float32Array, rows: number, cols: number): Float64Array {
  const e = engine();
  const g = e.ex;
  const chunkRows = Math.max(1, Math.floor(COLSUM_CHUNK_FLOATS / cols));
  const [accPtr, xPtr] = workspace(e, [8 * cols, 4 * Math.min(rows, chunkRows) * cols]) as [number, number];
  const buf = e.memory.buffer;
  new Float64Array(buf, accPtr, cols).fill(0);
  for (let r0 = 0; r0 < rows; r0 += chunkRows) {
    const n = Math.min(chunkRows, rows - r0);
    new Float32Array(buf, xPtr, n * cols).set(x.subarray(r0 * cols, (r0 + n) * cols));
    g.colsum_acc(xPtr, n, cols, accPtr);
  }
  return new Float64Array(buf, accPtr, cols).slice();
}
