/**
 * Loader and caller of jpeg.wasm (jpeg.c: a baseline JPEG decoder in wasm SIMD, built by build-jpeg.sh next to this
 * file and committed, since CI has no clang). sharp costs about 1 ms per call before it decodes a pixel (libvips
 * pipeline set-up and the hop to libuv's pool); the 200-500 px JPEGs of the scene and pretraining datasets decode in
 * about that much again, so whole-image JPEG reads try this decoder first (decoders/sharp.ts).
 *
 * The module returns what libjpeg-turbo returns with the settings of sharp and PIL (ISLOW IDCT, fancy upsampling),
 * byte for byte, for the JPEGs it accepts: 8-bit sequential Huffman, grey or YCbCr with 4:4:4, 4:2:2 or 4:2:0
 * chroma, no ICC profile, no Adobe marker. Anything else, and anything libjpeg would warn about, returns undefined and
 * the caller decodes with sharp as before (which also reports truncated and corrupt files). See jpeg.c.
 *
 * The module has its own memory: the file is copied in, the pixels copied out. An instance whose memory grew past
 * RESET_BYTES (a large image) is dropped after the call, so a long run does not keep the largest image's memory.
 * Instantiated synchronously on first use; each worker thread has its own instance.
 */
import { fileURLToPath } from 'node:url';
import { CmidError } from '../../../runtime/errors.js';
import { compileCommittedWasm } from '../../../runtime/wasm-module.js';

/** What the TS side needs from jpeg.wasm (a test checks the committed binary). */
export const JPEG_EXPORTS = ['memory', 'heap_base', 'jpeg_input', 'jpeg_decode', 'jpeg_width', 'jpeg_height', 'jpeg_channels', 'jpeg_pixels'] as const;

interface JpegExports {
  memory: WebAssembly.Memory;
  heap_base: () => number;
  jpeg_input: (len: number) => number;
  jpeg_decode: (data: number, len: number) => number;
  jpeg_width: () => number;
  jpeg_height: () => number;
  jpeg_channels: () => number;
  jpeg_pixels: () => number;
}

/** Images above this many pixels go to sharp (the module would hold ~4.5 bytes per pixel during the decode). */
export const WASM_JPEG_MAX_PIXELS = 4096 * 4096;
/** An instance whose memory grew past this is dropped after the call. */
const RESET_BYTES = 64 * 1024 * 1024;

/** Absolute path of the committed jpeg.wasm (this file is <pkg>/{src,dist}/io/decoders/wasm/jpeg-wasm.{ts,js}). */
export function jpegWasmPath(): string {
  return fileURLToPath(new URL('../../../../src/io/decoders/wasm/jpeg.wasm', import.meta.url));
}

let compiled: WebAssembly.Module | undefined;
let instance: JpegExports | undefined;

function load(): JpegExports {
  if (instance !== undefined) return instance;
  compiled ??= compileCommittedWasm(jpegWasmPath(), JPEG_EXPORTS, 'io', 'packages/core/src/io/decoders/wasm/build-jpeg.sh');
  const ex = new WebAssembly.Instance(compiled, {}).exports as unknown as JpegExports;
  instance = ex;
  return ex;
}

/** Why the module declined a file (the codes of jpeg.c), for tests and diagnostics. */
export type WasmJpegRefusal = 'unsupported' | 'corrupt' | 'memory' | 'too-large';

export interface WasmJpegImage {
  data: Uint8Array;
  width: number;
  height: number;
  /** 1 (grey) or 3 (RGB). */
  channels: number;
}

/**
 * Decodes a whole JPEG file held in memory, or says why not. `maxPixels` bounds the image size (from the SOF
 * header the caller has already parsed; the module checks nothing about size itself).
 */
export function decodeJpegWasm(file: Uint8Array, pixels: number, maxPixels = WASM_JPEG_MAX_PIXELS): WasmJpegImage | WasmJpegRefusal {
  if (pixels > maxPixels) return 'too-large';
  const m = load();
  try {
    const p = m.jpeg_input(file.length);
    if (p === 0) return 'memory';
    new Uint8Array(m.memory.buffer, p, file.length).set(file);
    const r = m.jpeg_decode(p, file.length);
    if (r !== 0) return r === -1 ? 'unsupported' : r === -2 ? 'corrupt' : 'memory';
    const width = m.jpeg_width();
    const height = m.jpeg_height();
    const channels = m.jpeg_channels();
    const data = new Uint8Array(width * height * channels);
    data.set(new Uint8Array(m.memory.buffer, m.jpeg_pixels(), data.length));
    return { data, width, height, channels };
  } finally {
    if (m.memory.buffer.byteLength > RESET_BYTES) instance = undefined;
  }
}

/** Whether whole-image JPEG reads may use the module: CMID_JPEG_DECODER=sharp turns it off (A/B runs, a suspected bug). */
export function wasmJpegEnabled(): boolean {
  const v = process.env['CMID_JPEG_DECODER'];
  if (v === undefined || v === '' || v === 'wasm') return true;
  if (v === 'sharp') return false;
  throw new CmidError('config', `CMID_JPEG_DECODER=${v}: expected 'wasm' (the default) or 'sharp'.`);
}
