/**
 * Image resizing with the exact semantics of the two families the references use, as one separable pass per axis
 * with precomputed tap weights (no per-pixel allocation). uint8 images run in the wasm SIMD kernels of
 * wasm/augment.c; float32 images in the typed-array loops at the end of this file.
 *
 * - `antialias: true` (default), "PIL semantics": Pillow's `ImagingResample` (Resample.c). The filter support is
 *   widened by the scale when shrinking; taps outside the image are dropped and the rest renormalised; bicubic uses
 *   a = -0.5. For uint8 input this reproduces Pillow bit for bit: 22-bit fixed-point coefficients, horizontal pass
 *   first into a uint8 intermediate, then the vertical pass, each rounded and clipped (`clip8`). For float input it
 *   is torchvision's `resize(..., antialias=True)` on float tensors (same weights, float arithmetic).
 *   Used by CMID's global resize to 224 (PIL BICUBIC, cmid.md §6.2 step 0) and by torchvision's RandomResizedCrop on
 *   PIL images (MoCo-v2, BYOL, SwAV, MAE, SimMIM pipelines).
 * - `antialias: false`, "OpenCV / torchvision-tensor semantics": half-pixel interpolation, source coordinate
 *   (dst + 0.5) * in/out - 0.5, edge taps clamped to the border; bicubic uses a = -0.75. uint8 output is rounded half
 *   to even and clamped (torchvision's uint8 tensor path). Used for CMID's crop resize (albumentations calls
 *   cv2.resize INTER_LINEAR, cmid.md §5.1). Deliberate difference: OpenCV's uint8 INTER_LINEAR uses 11-bit
 *   fixed-point weights, so it can differ from this (exact float) result by 1 at a few pixels.
 * - `nearest`: OpenCV INTER_NEAREST / torch 'nearest' (src = floor(dst * in / out)), the label resize of mmseg;
 *   `nearest-exact`: PIL NEAREST / torch 'nearest-exact' (src = floor((dst + 0.5) * in / out)).
 *
 * `box` selects a source region: the result equals cropping first and resizing the crop (taps never read outside
 * the box), which is what torchvision's resized_crop and albumentations' crop + resize do. `flipHorizontal` mirrors
 * the output in the same pass (= hflip after the resize).
 */
import { CmidError } from '../runtime/errors.js';
import { checkImage, type Image, type PixelData } from './image.js';
import { wasmResizeU8 } from './wasm/augment-wasm.js';

export type Interpolation = 'nearest' | 'nearest-exact' | 'bilinear' | 'bicubic';

/** A region in pixels of the source image. */
export interface PixelBox {
  top: number;
  left: number;
  height: number;
  width: number;
}

export interface ResizeOptions {
  /** Default 'bilinear'. */
  interpolation?: Interpolation;
  /** true (default): PIL / torchvision antialias semantics; false: OpenCV / torchvision tensor semantics. */
  antialias?: boolean;
  /** Source region to resample (crop + resize in one pass). Default: the whole image. */
  box?: PixelBox;
  /** Mirror the result left-right in the same pass. Default false. */
  flipHorizontal?: boolean;
}

const PRECISION_BITS = 22; // Pillow: 32 - 8 - 2

/**
 * Tap table of one axis: output i reads K consecutive source indices from start[i] (absolute). Every output has the
 * same K (outputs with fewer taps are padded with zero weights, which changes no result), so the inner loops are
 * straight-line code for the common K.
 */
interface AxisTaps {
  start: Int32Array;
  K: number;
  /** float weights [out * K] */
  w: Float64Array;
  /** the same as float32, for the wasm kernels */
  wf: Float32Array;
  /** Pillow fixed-point weights [out * K] (antialias tables only) */
  wi: Int32Array | undefined;
}

function bilinearFilter(x: number): number {
  if (x < 0) x = -x;
  return x < 1 ? 1 - x : 0;
}

function bicubicFilter(x: number, a: number): number {
  if (x < 0) x = -x;
  if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
  return 0;
}

/** Packs per-output (first index, weights) runs into a uniform-K table inside [0, inSize). */
function pack(inSize: number, firsts: Int32Array, runs: Float64Array[], fixed: boolean): AxisTaps {
  const outSize = firsts.length;
  let K = 1;
  for (const r of runs) K = Math.max(K, r.length);
  K = Math.min(K, inSize);
  const start = new Int32Array(outSize);
  const w = new Float64Array(outSize * K);
  const wi = fixed ? new Int32Array(outSize * K) : undefined;
  for (let i = 0; i < outSize; i++) {
    const run = runs[i]!;
    const s = Math.min(Math.max(firsts[i]!, 0), inSize - K);
    for (let j = 0; j < run.length; j++) {
      const v = run[j]!;
      const at = i * K + firsts[i]! - s + j;
      w[at] = v;
      if (wi) wi[at] = v < 0 ? Math.trunc(-0.5 + v * (1 << PRECISION_BITS)) : Math.trunc(0.5 + v * (1 << PRECISION_BITS));
    }
    start[i] = s;
  }
  return { start, K, w, wf: Float32Array.from(w), wi };
}

/** Pillow's precompute_coeffs (+ normalize_coeffs_8bpc) for a source segment of length inSize. */
function antialiasTaps(inSize: number, outSize: number, method: 'bilinear' | 'bicubic'): AxisTaps {
  const baseSupport = method === 'bilinear' ? 1 : 2;
  const scale = inSize / outSize;
  const filterscale = Math.max(scale, 1);
  const support = baseSupport * filterscale;
  const ss = 1 / filterscale;
  const firsts = new Int32Array(outSize);
  const runs: Float64Array[] = [];
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    const k = new Float64Array(xmax);
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      const t = (x + xmin - center + 0.5) * ss;
      k[x] = method === 'bilinear' ? bilinearFilter(t) : bicubicFilter(t, -0.5);
      ww += k[x]!;
    }
    if (ww !== 0) for (let x = 0; x < xmax; x++) k[x]! /= ww;
    firsts[xx] = xmin;
    runs.push(k);
  }
  return pack(inSize, firsts, runs, true);
}

/**
 * Half-pixel interpolation taps (OpenCV, torch upsample_*2d with align_corners=False). Out-of-range taps are folded
 * onto the border index (the same as clamping the index).
 */
function interpolationTaps(inSize: number, outSize: number, method: 'bilinear' | 'bicubic'): AxisTaps {
  const scale = inSize / outSize;
  const n = method === 'bilinear' ? 2 : 4;
  const firsts = new Int32Array(outSize);
  const runs: Float64Array[] = [];
  const tap = new Float64Array(n);
  const idx = new Int32Array(n);
  for (let xx = 0; xx < outSize; xx++) {
    let src = (xx + 0.5) * scale - 0.5;
    if (method === 'bilinear') {
      if (src < 0) src = 0; // torch clamps the bilinear source index at 0 (not the cubic one)
      const i0 = Math.floor(src);
      const l = src - i0;
      idx[0] = i0;
      idx[1] = i0 + 1;
      tap[0] = 1 - l;
      tap[1] = l;
    } else {
      const i0 = Math.floor(src);
      const t = src - i0;
      for (let j = 0; j < 4; j++) {
        idx[j] = i0 - 1 + j;
        tap[j] = bicubicFilter(t + 1 - j, -0.75);
      }
    }
    let lo = inSize, hi = -1;
    for (let j = 0; j < n; j++) {
      idx[j] = Math.min(Math.max(idx[j]!, 0), inSize - 1);
      if (tap[j] !== 0) {
        lo = Math.min(lo, idx[j]!);
        hi = Math.max(hi, idx[j]!);
      }
    }
    if (hi < lo) lo = hi = idx[0]!;
    const run = new Float64Array(hi - lo + 1);
    for (let j = 0; j < n; j++) if (tap[j] !== 0) run[idx[j]! - lo] += tap[j]!;
    firsts[xx] = lo;
    runs.push(run);
  }
  return pack(inSize, firsts, runs, false);
}

// Taps depend on (in, out, method, antialias) only; crops of the same size reuse them at another offset.
const tapCache = new Map<string, AxisTaps>();

/** Taps for the source segment [offset, offset + inSize), output order reversed when `mirror`. */
function taps(offset: number, inSize: number, outSize: number, method: 'bilinear' | 'bicubic', antialias: boolean, mirror = false): AxisTaps {
  const key = `${inSize}|${outSize}|${method}|${antialias ? 1 : 0}`;
  let t = tapCache.get(key);
  if (t === undefined) {
    t = antialias ? antialiasTaps(inSize, outSize, method) : interpolationTaps(inSize, outSize, method);
    if (tapCache.size >= 1024) tapCache.delete(tapCache.keys().next().value!);
    tapCache.set(key, t);
  }
  if (!mirror) {
    if (offset === 0) return t;
    return { ...t, start: t.start.map((v) => v + offset) };
  }
  const n = t.start.length;
  const K = t.K;
  const start = new Int32Array(n);
  const w = new Float64Array(n * K);
  const wf = new Float32Array(n * K);
  const wi = t.wi ? new Int32Array(n * K) : undefined;
  for (let i = 0; i < n; i++) {
    const j = n - 1 - i;
    start[i] = t.start[j]! + offset;
    w.set(t.w.subarray(j * K, (j + 1) * K), i * K);
    wf.set(t.wf.subarray(j * K, (j + 1) * K), i * K);
    if (wi) wi.set(t.wi!.subarray(j * K, (j + 1) * K), i * K);
  }
  return { start, K, w, wf, wi };
}

function checkBox(img: Image, box: PixelBox | undefined, op: string): PixelBox {
  if (box === undefined) return { top: 0, left: 0, height: img.height, width: img.width };
  const { top, left, height, width } = box;
  if (![top, left, height, width].every(Number.isInteger) || height < 1 || width < 1 || top < 0 || left < 0 || top + height > img.height || left + width > img.width) {
    throw new CmidError(
      'input',
      `${op}: box {top: ${top}, left: ${left}, height: ${height}, width: ${width}} must be integer and lie inside the ${img.height}x${img.width} image.`,
    );
  }
  return box;
}

function nearestIndex(outSize: number, inSize: number, offset: number, exact: boolean, flip: boolean): Int32Array {
  const idx = new Int32Array(outSize);
  for (let i = 0; i < outSize; i++) {
    const s = exact ? Math.floor(((2 * i + 1) * inSize) / (2 * outSize)) : Math.floor((i * inSize) / outSize);
    idx[flip ? outSize - 1 - i : i] = Math.min(s, inSize - 1) + offset;
  }
  return idx;
}

function resizeNearest<T extends PixelData>(img: Image<T>, height: number, width: number, box: PixelBox, exact: boolean, flip: boolean): Image<T> {
  const C = img.channels;
  const W = img.width;
  const ys = nearestIndex(height, box.height, box.top, exact, false);
  const xs = nearestIndex(width, box.width, box.left, exact, flip);
  const src = img.data;
  const out = (src instanceof Uint8Array ? new Uint8Array(height * width * C) : new Float32Array(height * width * C)) as T;
  let o = 0;
  for (let y = 0; y < height; y++) {
    const row = ys[y]! * W;
    for (let x = 0; x < width; x++) {
      let p = (row + xs[x]!) * C;
      for (let c = 0; c < C; c++) out[o++] = src[p++]!;
    }
  }
  return { data: out, height, width, channels: C };
}

let scratchF32 = new Float32Array(0);
function f32Scratch(n: number): Float32Array {
  if (scratchF32.length < n) scratchF32 = new Float32Array(n);
  return scratchF32;
}

/**
 * Resizes `img` (or its `box`) to height x width. Returns a new image of the same array type.
 *
 * ```ts
 * const small = resizeImage(img, 224, 224, { interpolation: 'bicubic' }); // = PIL img.resize((224, 224), BICUBIC)
 * ```
 */
export function resizeImage<T extends PixelData>(img: Image<T>, height: number, width: number, options: ResizeOptions = {}): Image<T> {
  checkImage(img, 'resizeImage');
  if (!Number.isInteger(height) || !Number.isInteger(width) || height < 1 || width < 1) {
    throw new CmidError('input', `resizeImage: output size ${height}x${width} must be positive integers.`);
  }
  const interpolation = options.interpolation ?? 'bilinear';
  const antialias = options.antialias ?? true;
  const flip = options.flipHorizontal ?? false;
  const box = checkBox(img, options.box, 'resizeImage');
  if (interpolation === 'nearest' || interpolation === 'nearest-exact') return resizeNearest(img, height, width, box, interpolation === 'nearest-exact', flip);
  if (interpolation !== 'bilinear' && interpolation !== 'bicubic') {
    throw new CmidError('input', `resizeImage: unknown interpolation "${String(interpolation)}". Valid: nearest, nearest-exact, bilinear, bicubic.`);
  }
  const tx = taps(box.left, box.width, width, interpolation, antialias, flip);
  const ty = taps(box.top, box.height, height, interpolation, antialias);
  const C = img.channels;
  const rowLen = width * C;
  // Source rows the vertical pass reads.
  const y0 = ty.start[0]!;
  const rows = ty.start[height - 1]! + ty.K - y0;
  if (img.data instanceof Uint8Array) {
    // uint8: wasm SIMD kernels (wasm/augment.c); antialias = Pillow's fixed point, else float32 + round half even.
    const out = wasmResizeU8(img.data, img.width, C, y0, rows, tx, ty, width, height, antialias);
    return { data: out as T, height, width, channels: C };
  }
  const tmp = f32Scratch(rows * rowLen);
  horizontalFloatF32(img.data as Float32Array, img.width, C, y0, rows, tx, width, tmp);
  const out = new Float32Array(height * rowLen);
  verticalFloatF32(tmp, rowLen, ty, y0, height, out);
  return { data: out as T, height, width, channels: C };
}

// ---- float32 kernels (uint8 images go to wasm). Monomorphic so V8 keeps one fast version per loop.

function horizontalFloatF32(src: Float32Array, W: number, C: number, y0: number, rows: number, t: AxisTaps, outW: number, dst: Float32Array): void {
  const { start, K, w } = t;
  let o = 0;
  for (let r = 0; r < rows; r++) {
    const rowBase = (y0 + r) * W;
    for (let x = 0; x < outW; x++) {
      const kb = x * K;
      const p0 = (rowBase + start[x]!) * C;
      for (let c = 0; c < C; c++) {
        let s = 0;
        let p = p0 + c;
        for (let k = 0; k < K; k++) {
          s += src[p]! * w[kb + k]!;
          p += C;
        }
        dst[o++] = s;
      }
    }
  }
}

function verticalFloatF32(tmp: Float32Array, rowLen: number, t: AxisTaps, y0: number, outH: number, dst: Float32Array): void {
  const { start, K, w } = t;
  for (let y = 0; y < outH; y++) {
    const kb = y * K;
    const b0 = (start[y]! - y0) * rowLen;
    const ob = y * rowLen;
    for (let i = 0; i < rowLen; i++) {
      let s = 0;
      let b = b0 + i;
      for (let k = 0; k < K; k++) {
        s += tmp[b]! * w[kb + k]!;
        b += rowLen;
      }
      dst[ob + i] = s;
    }
  }
}
