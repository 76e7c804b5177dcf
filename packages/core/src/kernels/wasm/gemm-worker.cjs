'use strict';
/**
 * The part of the threaded GEMM module (gemm-threads.ts) that runs on every thread: the job dispatcher, shared by
 * the main thread (which require()s this file) and by the workers (which run it as their script). Plain CommonJS
 * so that a worker can load it as is, from src/ or from an installed package, without a TypeScript loader.
 *
 * Control block (an Int32Array over a SharedArrayBuffer), written by the main thread before it bumps SEQ:
 *   SEQ    job sequence number; workers Atomics.wait on it
 *   NEXT   (tag << 16) | parts claimed so far; a thread claims part p of job `tag` by compare-exchange, so a worker
 *          that wakes late can never claim a part of a job whose arguments it has not seen
 *   DONE   parts finished; the main thread waits on it
 *   ERR    set when a part threw (a wasm trap); the main thread then throws
 *   READY  workers that have instantiated the module; WORKER_PARTS  parts run by workers (statistics)
 *   OP, NPARTS, ARGS..., PARTS (lo, hi) pairs
 * Per-thread scratch (packed panels, im2col columns, gathered filter rows) lies at REGION + t * REGION_STRIDE.
 */
const { isMainThread, workerData } = require('node:worker_threads');

const SEQ = 0, NEXT = 1, DONE = 2, ERR = 3, OP = 4, NPARTS = 5, REGION = 6, REGION_STRIDE = 7;
const COLS_OFF = 8, WT_OFF = 9, READY = 10, WORKER_PARTS = 11, ARGS = 16, PARTS = 64, MAX_PARTS = 64, CTRL_INTS = PARTS + 2 * MAX_PARTS;
const OP_GEMM = 1, OP_FILTER_GRAD = 2, OP_INPUT_GRAD = 3, OP_CONV_FORWARD = 4;

/** Runs part p of the current job on thread t with the exports `ex` of this thread's instance. */
function runPart(ex, ctrl, t, p) {
  const lo = ctrl[PARTS + 2 * p], hi = ctrl[PARTS + 2 * p + 1];
  const region = ctrl[REGION] + t * ctrl[REGION_STRIDE];
  const cols = region + ctrl[COLS_OFF], wt = region + ctrl[WT_OFF];
  const a = (i) => ctrl[ARGS + i];
  switch (ctrl[OP]) {
    case OP_GEMM: {
      // batch M N K  A rsa csa aOff  B rsb csb bOff  C  splitDim(0 batch, 1 rows, 2 columns)
      const batch = a(0), M = a(1), N = a(2), dim = a(13);
      ex.gemm_batched(
        batch, M, N, a(3), a(4), a(5), a(6), a(7), a(8), a(9), a(10), a(11), a(12),
        dim === 0 ? lo : 0, dim === 0 ? hi : batch, dim === 1 ? lo : 0, dim === 1 ? hi : M, dim === 2 ? lo : 0, dim === 2 ? hi : N,
        region,
      );
      return;
    }
    case OP_FILTER_GRAD:
      // x B H W Ci dy Ho Wo Co kh kw sh sw dh dw pt pl chunk out splitCols; part = rows [lo, hi) of dW, or its
      // columns with splitCols
      ex.conv2d_filter_grad(
        a(0), a(1), a(2), a(3), a(4), a(5), a(6), a(7), a(8), a(9), a(10), a(11), a(12), a(13), a(14), a(15), a(16),
        cols, a(17), a(18), a(19) ? 0 : lo, a(19) ? a(9) * a(10) * a(4) : hi, a(19) ? lo : 0, a(19) ? hi : a(8), region,
      );
      return;
    case OP_INPUT_GRAD:
      // dy B H W Ci w Ho Wo Co kh kw sh sw dh dw pt pl chunk dx splitPixels; part = channels [lo, hi) of dx, or
      // output pixels [lo, hi) with splitPixels (any for 1x1 stride-1 filters, whole images otherwise)
      ex.conv2d_input_grad(
        a(0), a(1), a(2), a(3), a(4), a(5), a(6), a(7), a(8), a(9), a(10), a(11), a(12), a(13), a(14), a(15), a(16),
        cols, a(17), a(18), a(19) ? 0 : lo, a(19) ? a(4) : hi, a(19) ? lo : 0, a(19) ? hi : a(1) * a(6) * a(7), wt, region,
      );
      return;
    case OP_CONV_FORWARD:
      // x B H W Ci w Ho Wo Co kh kw sh sw dh dw pt pl chunk out splitCols; part = output rows [lo, hi), or
      // output columns with splitCols
      ex.conv2d_forward(
        a(0), a(1), a(2), a(3), a(4), a(5), a(6), a(7), a(8), a(9), a(10), a(11), a(12), a(13), a(14), a(15), a(16),
        cols, a(17), a(18), a(19) ? 0 : lo, a(19) ? a(1) * a(6) * a(7) : hi, a(19) ? lo : 0, a(19) ? hi : a(8), region,
      );
      return;
    default:
      throw new Error(`gemm-worker: unknown op ${ctrl[OP]}`);
  }
}

/** Claims and runs parts of job `tag` until none is left unclaimed. */
function claimParts(ex, ctrl, t, tag) {
  for (;;) {
    const v = Atomics.load(ctrl, NEXT);
    if (v >>> 16 !== tag || (v & 0xffff) >= ctrl[NPARTS]) return;
    if (Atomics.compareExchange(ctrl, NEXT, v, v + 1) !== v) continue;
    try {
      runPart(ex, ctrl, t, v & 0xffff);
    } catch {
      Atomics.store(ctrl, ERR, 1);
    }
    if (t !== 0) Atomics.add(ctrl, WORKER_PARTS, 1);
    if (Atomics.add(ctrl, DONE, 1) + 1 === ctrl[NPARTS]) Atomics.notify(ctrl, DONE);
  }
}

module.exports = { runPart, claimParts, SEQ, NEXT, DONE, ERR, OP, NPARTS, REGION, REGION_STRIDE, COLS_OFF, WT_OFF, READY, WORKER_PARTS, ARGS, PARTS, MAX_PARTS, CTRL_INTS, OP_GEMM, OP_FILTER_GRAD, OP_INPUT_GRAD, OP_CONV_FORWARD };

if (!isMainThread && workerData !== null && typeof workerData === 'object' && workerData.cmidGemm === true) {
  // workerData: { module: WebAssembly.Module, memory: shared WebAssembly.Memory, ctrl: SharedArrayBuffer, t, stackTop }
  const { module, memory, t, stackTop } = workerData;
  const ctrl = new Int32Array(workerData.ctrl);
  const ex = new WebAssembly.Instance(module, { env: { memory } }).exports;
  // the kernels use no shadow stack today, but give this instance its own in case a future build does
  if (ex.__stack_pointer !== undefined) ex.__stack_pointer.value = stackTop;
  Atomics.add(ctrl, READY, 1);
  let seen = 0;
  for (;;) {
    Atomics.wait(ctrl, SEQ, seen);
    seen = Atomics.load(ctrl, SEQ);
    claimParts(ex, ctrl, t, Atomics.load(ctrl, NEXT) >>> 16);
  }
}
