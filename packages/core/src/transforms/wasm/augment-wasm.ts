/**
 * Loader and callers of augment.wasm (augment.c, wasm SIMD; built by build-augment.sh next to this file and
 * committed, since CI has no clang). The uint8 paths of resize, blur, colour jitter, grayscale, noise and
 * normalisation run here: in V8 a scalar typed-array loop costs about 1.5 ns per multiply-add on the reference
 * machine, several times the SIMD code, and the CMID pipeline does ~10 M of them per sample.
 *
 * The module has its own linear memory. Each call resets a bump arena after the module's data, copies its inputs
 * in (one memcpy each), runs, and copies the result out; calls are synchronous and never nested, so one arena
 * suffices (each worker thread has its own instance). Every buffer gets 16 bytes of slack, because the 3-band SIMD
 * paths read and write one lane past the last pixel (and the horizontal resize loads read up to 13 bytes past). Instantiated synchronously on first use; the path is resolved
 * from the package root, so it works from src/ (vitest, tsx) and from dist/ (package.json "files" ships src/).
 */
import { fileURLToPath } from 'node:url';
import { compileCommittedWasm } from '../../runtime/wasm-module.js';

/** What the TS side needs from augment.wasm (a test checks the committed binary). */
export const AUGMENT_EXPORTS = [
  'memory',
  'heap_base',
  'resize_h_fixed',
  'resize_v_fixed',
  'resize_h_f32',
  'resize_v_f32_u8',
  'blur_u8',
  'gray_sum_u8',
  'gray_u8',
  'saturation_u8',
  'hue_u8',
  'lut_u8',
  'normalize_u8',
  'noise_u8',
] as const;

interface AugmentExports {
  memory: WebAssembly.Memory;
  heap_base: () => number;
  resize_h_fixed: (src: number, W: number, C: number, y0: number, rows: number, start: number, K: number, wi: number, outW: number, pw: number, dst: number) => void;
  resize_v_fixed: (tmp: number, rowLen: number, start: number, K: number, wi: number, outH: number, dst: number) => void;
  resize_h_f32: (src: number, W: number, C: number, y0: number, rows: number, start: number, K: number, wf: number, outW: number, g: number, dst: number) => void;
  resize_v_f32_u8: (tmp: number, rowLen: number, start: number, K: number, wf: number, outH: number, dst: number) => void;
  blur_u8: (src: number, H: number, W: number, C: number, kern: number, r: number, xIdx: number, yIdx: number, pad: number, tmp: number, dst: number) => void;
  gray_sum_u8: (src: number, npix: number) => number;
  gray_u8: (src: number, npix: number, mode: number, oc: number, dst: number) => void;
  saturation_u8: (src: number, npix: number, F: number, G: number, dst: number) => void;
  hue_u8: (src: number, npix: number, HF: number, dst: number) => void;
  lut_u8: (src: number, n: number, lut: number, dst: number) => void;
  normalize_u8: (src: number, n: number, C: number, lut: number, dst: number, sums: number) => void;
  noise_u8: (
    src: number,
    n: number,
    state: number,
    sigma: number,
    mean: number,
    kw: number,
    tab: number,
    margin: number,
    rnd: number,
    dst: number,
    slow: number,
    slowWord: number,
    done: number,
  ) => number;
}

/** Absolute path of the committed augment.wasm (this file is <pkg>/{src,dist}/transforms/wasm/augment-wasm.{ts,js}). */
export function augmentWasmPath(): string {
  return fileURLToPath(new URL('../../../src/transforms/wasm/augment.wasm', import.meta.url));
}

let mod: AugmentExports | undefined;

function load(): AugmentExports {
  if (mod !== undefined) return mod;
  const compiled = compileCommittedWasm(augmentWasmPath(), AUGMENT_EXPORTS, 'transforms', 'packages/core/src/transforms/wasm/build-augment.sh');
  const ex = new WebAssembly.Instance(compiled, {}).exports as unknown as AugmentExports;
  mod = ex;
  return ex;
}

/** A bump allocator over the module memory, reset by every call. Sizes in bytes; views are made after sizing. */
class Arena {
  private next = 0;
  readonly m: AugmentExports;
  constructor() {
    this.m = load();
    this.next = (this.m.heap_base() + 15) & ~15;
  }
  /** Reserves bytes (+16 slack), 16-byte aligned; returns the pointer. Call `commit` before making views. */
  take(bytes: number): number {
    const p = this.next;
    this.next = (p + bytes + 16 + 15) & ~15;
    return p;
  }
  commit(): ArrayBuffer {
    const have = this.m.memory.buffer.byteLength;
    if (this.next > have) this.m.memory.grow(Math.ceil((this.next - have) / 65536));
    return this.m.memory.buffer;
  }
}

/** Taps of one axis: output i reads K source indices from start[i], with float and (Pillow) fixed-point weights. */
export interface WasmTaps {
  start: Int32Array;
  K: number;
  wf: Float32Array;
  wi: Int32Array | undefined;
}

/**
 * Separable resize of uint8 HWC rows [y0, y0 + rows) of `src`: horizontal pass with `tx`, vertical with `ty`
 * (ty.start absolute, >= y0). fixed: Pillow fixed point; else float32 with round-half-even. Returns H x W x C bytes.
 */
export function wasmResizeU8(src: Uint8Array, W: number, C: number, y0: number, rows: number, tx: WasmTaps, ty: WasmTaps, outW: number, outH: number, fixed: boolean): Uint8Array {
  const a = new Arena();
  const rowLen = outW * C;
  const pSrc = a.take(src.length);
  const pTxs = a.take(4 * tx.start.length);
  const pTxw = a.take(4 * tx.start.length * tx.K);
  const pTys = a.take(4 * outH);
  const pTyw = a.take(4 * outH * ty.K);
  const pTmp = a.take(rows * rowLen * (fixed ? 1 : 4));
  const pDst = a.take(outH * rowLen);
  // scratch of the horizontal kernel: split weights (fixed) or the 4-output groups (float)
  const pPw = a.take(fixed ? 32 * outW * ((tx.K + 1) >> 1) : (outW >> 2) * (4 + 64 * tx.K));
  const buf = a.commit();
  new Uint8Array(buf, pSrc, src.length).set(src);
  new Int32Array(buf, pTxs, tx.start.length).set(tx.start);
  const tys = new Int32Array(buf, pTys, outH);
  for (let i = 0; i < outH; i++) tys[i] = ty.start[i]! - y0;
  if (fixed) {
    new Int32Array(buf, pTxw, tx.wi!.length).set(tx.wi!);
    new Int32Array(buf, pTyw, ty.wi!.length).set(ty.wi!);
    a.m.resize_h_fixed(pSrc, W, C, y0, rows, pTxs, tx.K, pTxw, outW, pPw, pTmp);
    a.m.resize_v_fixed(pTmp, rowLen, pTys, ty.K, pTyw, outH, pDst);
  } else {
    new Float32Array(buf, pTxw, tx.wf.length).set(tx.wf);
    new Float32Array(buf, pTyw, ty.wf.length).set(ty.wf);
    a.m.resize_h_f32(pSrc, W, C, y0, rows, pTxs, tx.K, pTxw, outW, pPw, pTmp);
    a.m.resize_v_f32_u8(pTmp, rowLen, pTys, ty.K, pTyw, outH, pDst);
  }
  return new Uint8Array(a.m.memory.buffer, pDst, outH * rowLen).slice();
}

/** Gaussian blur of a uint8 HWC image into `dst` (may alias `src`). kern = r + 1 weights, centre last. */
export function wasmBlurU8(src: Uint8Array, H: number, W: number, C: number, kern: Float32Array, r: number, xIdx: Int32Array, yIdx: Int32Array, dst: Uint8Array): void {
  const a = new Arena();
  const n = H * W * C;
  const pSrc = a.take(n);
  const pK = a.take(4 * kern.length);
  const pX = a.take(4 * xIdx.length);
  const pY = a.take(4 * yIdx.length);
  const pPad = a.take(4 * (W + 2 * r) * C);
  const pTmp = a.take(4 * n);
  const pDst = a.take(n);
  const buf = a.commit();
  new Uint8Array(buf, pSrc, n).set(src);
  new Float32Array(buf, pK, kern.length).set(kern);
  new Int32Array(buf, pX, xIdx.length).set(xIdx);
  new Int32Array(buf, pY, yIdx.length).set(yIdx);
  a.m.blur_u8(pSrc, H, W, C, pK, r, pX, pY, pPad, pTmp, pDst);
  dst.set(new Uint8Array(a.m.memory.buffer, pDst, n));
}

/** Sum of torchvision's truncated gray over an RGB uint8 array. */
export function wasmGraySum(src: Uint8Array): number {
  const a = new Arena();
  const p = a.take(src.length);
  new Uint8Array(a.commit(), p, src.length).set(src);
  return a.m.gray_sum_u8(p, src.length / 3);
}

/** Gray of an RGB uint8 array into `dst` (npix * oc values; may alias `src`): OpenCV's fixed point or torchvision's float32. */
export function wasmGray(src: Uint8Array, mode: 'opencv' | 'torchvision', oc: 1 | 3, dst: Uint8Array): void {
  const a = new Arena();
  const npix = src.length / 3;
  const pSrc = a.take(src.length);
  const pDst = a.take(npix * oc);
  new Uint8Array(a.commit(), pSrc, src.length).set(src);
  a.m.gray_u8(pSrc, npix, mode === 'opencv' ? 0 : 1, oc, pDst);
  dst.set(new Uint8Array(a.m.memory.buffer, pDst, npix * oc));
}

/** Pointwise colour kernels on RGB uint8 into `dst` (may alias `src`). */
export function wasmColour(op: 'hue' | 'saturation', src: Uint8Array, dst: Uint8Array, f: number, g = 0): void {
  const a = new Arena();
  const pSrc = a.take(src.length);
  const pDst = a.take(src.length);
  new Uint8Array(a.commit(), pSrc, src.length).set(src);
  if (op === 'hue') a.m.hue_u8(pSrc, src.length / 3, f, pDst);
  else a.m.saturation_u8(pSrc, src.length / 3, f, g, pDst);
  dst.set(new Uint8Array(a.m.memory.buffer, pDst, src.length));
}

/** dst[i] = lut[src[i]] (dst may alias src). */
export function wasmLut(src: Uint8Array, lut: Uint8Array, dst: Uint8Array): void {
  const a = new Arena();
  const pSrc = a.take(src.length);
  const pLut = a.take(256);
  const pDst = a.take(src.length);
  const buf = a.commit();
  new Uint8Array(buf, pSrc, src.length).set(src);
  new Uint8Array(buf, pLut, 256).set(lut);
  a.m.lut_u8(pSrc, src.length, pLut, pDst);
  dst.set(new Uint8Array(a.m.memory.buffer, pDst, src.length));
}

/** dst[i] = lut[(i mod C) * 256 + src[i]]; fills `sums` (length C) with the per-band float64 sums of dst if given. */
export function wasmNormalize(src: Uint8Array, C: number, lut: Float32Array, dst: Float32Array, sums?: Float64Array): void {
  const a = new Arena();
  const pSrc = a.take(src.length);
  const pLut = a.take(4 * lut.length);
  const pDst = a.take(4 * src.length);
  const pSums = a.take(8 * C);
  const buf = a.commit();
  new Uint8Array(buf, pSrc, src.length).set(src);
  new Float32Array(buf, pLut, lut.length).set(lut);
  a.m.normalize_u8(pSrc, src.length, C, pLut, pDst, sums ? pSums : 0);
  dst.set(new Float32Array(a.m.memory.buffer, pDst, src.length));
  if (sums) sums.set(new Float64Array(a.m.memory.buffer, pSums, C));
}

/** The Rng side of wasmNoiseU8: its four xoshiro128** state words out and back (Rng.storeWords / loadWords). */
export interface WordStream {
  storeWords(dst: Uint32Array, offset?: number): void;
  loadWords(src: Uint32Array, offset?: number): void;
}

/**
 * How far apart the kernel's own exp/log results must be from a decision point before it takes a ziggurat slow-path
 * decision itself (relative; see noise_slow in augment.c). Tests set Infinity (every slow value left to the TS)
 * or 0 (the kernel decides all it can) to check that both routes give the same bits.
 */
export const noiseSlowPath = { margin: 1e-12 };

/**
 * Gaussian noise on uint8 values: the kernel draws one 32-bit word per value from `rng`'s xoshiro128** stream (in
 * index order, as n calls of nextU32), adds the ziggurat fast-path noise (float32), then runs the slow path of the
 * values that need it, in index order with further words, as far as it can decide with certainty; the advanced
 * state is written back to `rng`. Returns the slow-path indices with their words and how many of them are done;
 * the caller finishes slow[done..] (their dst holds the source value) with further draws from `rng`.
 * kw: the float32 (layer bound, layer width) pairs; tab: KN, WN, FN as float64 (128 each).
 */
export function wasmNoiseU8(
  src: Uint8Array,
  rng: WordStream,
  sigma: number,
  mean: number,
  kw: Float32Array,
  tab: Float64Array,
  dst: Uint8Array,
): { slow: Int32Array; words: Uint32Array; done: number } {
  const a = new Arena();
  const n = src.length;
  const pSrc = a.take(n);
  const pState = a.take(16);
  const pKw = a.take(4 * kw.length);
  const pTab = a.take(8 * tab.length);
  const pRnd = a.take(4 * n);
  const pDst = a.take(n);
  const pSlow = a.take(4 * n);
  const pSlowW = a.take(4 * n);
  const pDone = a.take(4);
  const buf = a.commit();
  new Uint8Array(buf, pSrc, n).set(src);
  rng.storeWords(new Uint32Array(buf, pState, 4));
  new Float32Array(buf, pKw, kw.length).set(kw);
  new Float64Array(buf, pTab, tab.length).set(tab);
  const ns = a.m.noise_u8(pSrc, n, pState, sigma, mean, pKw, pTab, noiseSlowPath.margin, pRnd, pDst, pSlow, pSlowW, pDone);
  const mem = a.m.memory.buffer;
  rng.loadWords(new Uint32Array(mem, pState, 4));
  dst.set(new Uint8Array(mem, pDst, n));
  const done = new Int32Array(mem, pDone, 1)[0]!;
  return { slow: new Int32Array(mem, pSlow + 4 * done, ns - done).slice(), words: new Uint32Array(mem, pSlowW + 4 * done, ns - done).slice(), done };
}
