import { afterAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../src/index.js';
import { expectClose, onBackend, randomArray } from '../../../src/testing/index.js';
import {
  conv2dFilterGrad, conv2dForward, conv2dInputGrad, gemmBatched, gemmThreadOptions, gemmThreadingStatus, setGemmThreads, splitRange,
  type ConvGeometry, type GemmOperand,
} from '../../../src/kernels/wasm/gemm.js';
import { conv2DOptions } from '../../../src/kernels/wasm/Conv2D.js';

const saved = { ...gemmThreadOptions };
afterAll(() => {
  Object.assign(gemmThreadOptions, saved);
  setGemmThreads(undefined);
});

/** Runs f with `threads` threads and the split knobs given (minPartFlops 0: even tiny jobs are split). */
function withThreads<T>(threads: number, partsPerThread: number, f: () => T): T {
  setGemmThreads(threads);
  Object.assign(gemmThreadOptions, { partsPerThread, minPartFlops: 0 });
  try {
    return f();
  } finally {
    Object.assign(gemmThreadOptions, saved);
  }
}

/** Bitwise equality of two float arrays (NaN patterns and signed zeros included), reporting the first mismatch. */
function expectBitIdentical(actual: Float32Array, expected: Float32Array, what: string): void {
  expect(actual.length, what).toBe(expected.length);
  const a = new Uint32Array(actual.buffer, actual.byteOffset, actual.length);
  const e = new Uint32Array(expected.buffer, expected.byteOffset, expected.length);
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== e[i]) expect(`${what}: element ${i} is ${actual[i]}`).toBe(`${what}: element ${i} is ${expected[i]}`);
  }
}

/** Thread counts and parts per thread compared against the single-threaded module. */
const SPLITS: Array<[number, number]> = [[2, 1], [2, 3], [3, 1], [4, 2]];

describe('threaded GEMM module: bit-identical to the single-threaded one for every split', () => {
  it('starts its workers (SharedArrayBuffer and shared wasm memory are available in Node 20)', async () => {
    // wait for every engine's workers, so that the comparisons below really run parts on several threads
    for (const [t] of SPLITS) {
      setGemmThreads(t);
      for (let i = 0; i < 200 && gemmThreadingStatus().readyWorkers < t - 1; i++) await new Promise((r) => setTimeout(r, 25));
      const s = gemmThreadingStatus();
      expect(s.threads).toBe(t);
      expect(s.readyWorkers).toBe(t - 1);
      expect(s.workerErrors).toEqual([]);
    }
    setGemmThreads(undefined);
  });

  it('splitRange: covers [0, n) with aligned inner bounds, never an empty part', () => {
    for (const [n, parts, align] of [[1, 4, 4], [3, 2, 4], [5, 2, 4], [17, 3, 8], [1000, 7, 4], [8, 8, 1], [0, 2, 4]] as const) {
      const r = splitRange(n, parts, align);
      if (n === 0) {
        expect(r).toEqual([]);
        continue;
      }
      expect(r[0]![0]).toBe(0);
      expect(r[r.length - 1]![1]).toBe(n);
      expect(r.length).toBeLessThanOrEqual(Math.min(parts, Math.ceil(n / align)));
      for (let i = 0; i < r.length; i++) {
        expect(r[i]![1]).toBeGreaterThan(r[i]![0]);
        if (i > 0) expect(r[i]![0]).toBe(r[i - 1]![1]);
        if (i < r.length - 1) expect(r[i]![1] % align).toBe(0);
      }
    }
  });

  // batch, M, N, K, transposeA, transposeB, broadcast b
  const GEMMS: Array<[number, number, number, number, boolean, boolean, boolean]> = [
    [1, 1, 1, 1, false, false, false],
    [1, 3, 5, 7, false, false, false], // smaller than any split
    [1, 5, 3, 2, true, true, false],
    [1, 97, 13, 300, false, true, false], // rows split, K past one depth block
    [1, 9, 131, 33, true, false, false], // columns split
    [3, 67, 45, 513, false, false, false], // batch < threads: rows
    [7, 33, 65, 129, true, true, false], // batch split
    [5, 17, 23, 19, false, false, true], // broadcast b
    [2, 130, 1030, 20, false, false, false], // N past one column block (1024)
  ];
  for (const [batch, M, N, K, tA, tB, bcast] of GEMMS) {
    it(`gemmBatched batch=${batch} M=${M} N=${N} K=${K} tA=${tA} tB=${tB}${bcast ? ' b broadcast' : ''}`, () => {
      const a: GemmOperand = {
        data: randomArray(batch * M * K, 1, -2, 2), ...(tA ? { rs: 1, cs: M } : { rs: K, cs: 1 }),
        offsets: Int32Array.from({ length: batch }, (_, i) => i * M * K),
      };
      const b: GemmOperand = {
        data: randomArray((bcast ? 1 : batch) * K * N, 2), ...(tB ? { rs: 1, cs: K } : { rs: N, cs: 1 }),
        offsets: Int32Array.from({ length: batch }, (_, i) => (bcast ? 0 : i * K * N)),
      };
      const run = (): Float32Array => {
        const out = new Float32Array(batch * M * N);
        gemmBatched(batch, M, N, K, a, b, out);
        return out;
      };
      const single = withThreads(1, 1, run);
      // the single-threaded result is a GEMM: check one entry against a float64 dot product
      let ref = 0;
      for (let k = 0; k < K; k++) ref += a.data[a.offsets[batch - 1]! + (M - 1) * a.rs + k * a.cs]! * b.data[b.offsets[batch - 1]! + k * b.rs + (N - 1) * b.cs]!;
      expect(single[batch * M * N - 1]).toBeCloseTo(ref, 3);
      for (const [t, ppt] of SPLITS) expectBitIdentical(withThreads(t, ppt, run), single, `threads=${t} parts/thread=${ppt}`);
    });
  }

  const CONVS: Array<Partial<ConvGeometry> & { b: number; h: number; w: number; ci: number; co: number; k: number; s: number; pad: number; d?: number }> = [
    { b: 2, h: 6, w: 6, ci: 8, co: 5, k: 1, s: 1, pad: 0 }, // 1x1 stride 1: x itself is the column matrix
    { b: 1, h: 5, w: 7, ci: 3, co: 2, k: 3, s: 1, pad: 1 }, // fewer channels than parts
    { b: 2, h: 13, w: 11, ci: 37, co: 45, k: 3, s: 2, pad: 1 },
    { b: 1, h: 12, w: 10, ci: 6, co: 9, k: 5, s: 3, pad: 2 },
    { b: 2, h: 9, w: 9, ci: 5, co: 4, k: 3, s: 1, pad: 0, d: 2 }, // dilated (filter gradient only)
    { b: 2, h: 7, w: 7, ci: 8, co: 5, k: 1, s: 2, pad: 0 },
    { b: 1, h: 3, w: 3, ci: 16, co: 70, k: 3, s: 1, pad: 1 }, // fewer output pixels than channels: forward splits columns
    { b: 2, h: 4, w: 4, ci: 8, co: 40, k: 1, s: 1, pad: 0 }, // 1x1: forward and dW split columns, dx splits pixels
    { b: 2, h: 5, w: 5, ci: 3, co: 40, k: 3, s: 2, pad: 1 }, // dW with fewer rows than columns, through im2col
    { b: 4, h: 8, w: 8, ci: 3, co: 6, k: 3, s: 1, pad: 1 }, // dx split by whole images (dy larger than W)
    { b: 3, h: 9, w: 7, ci: 2, co: 5, k: 3, s: 2, pad: 1 }, // the same, strided; with 4 threads back to channels
  ];
  for (const c of CONVS) {
    const d = c.d ?? 1;
    const ho = Math.floor((c.h + 2 * c.pad - d * (c.k - 1) - 1) / c.s) + 1;
    const wo = Math.floor((c.w + 2 * c.pad - d * (c.k - 1) - 1) / c.s) + 1;
    const g: ConvGeometry = {
      b: c.b, h: c.h, w: c.w, ci: c.ci, ho, wo, co: c.co, kh: c.k, kw: c.k, sh: c.s, sw: c.s, dh: d, dw: d, padTop: c.pad, padLeft: c.pad,
    };
    const name = `x=[${c.b},${c.h},${c.w},${c.ci}] ${c.k}x${c.k}x${c.co} s${c.s} pad${c.pad} d${d}`;
    const x = randomArray(c.b * c.h * c.w * c.ci, 3);
    const dy = randomArray(c.b * ho * wo * c.co, 4);
    const w = randomArray(c.k * c.k * c.ci * c.co, 5);
    for (const chunk of [1, 7, 256, 100000]) {
      it(`conv2dFilterGrad ${name} chunk=${chunk}`, () => {
        const run = (): Float32Array => {
          const out = new Float32Array(c.k * c.k * c.ci * c.co);
          conv2dFilterGrad(x, dy, g, chunk, out);
          return out;
        };
        const single = withThreads(1, 1, run);
        for (const [t, ppt] of SPLITS) expectBitIdentical(withThreads(t, ppt, run), single, `threads=${t} parts/thread=${ppt}`);
      });
      it(`conv2dForward ${name} chunk=${chunk}`, () => {
        const run = (): Float32Array => {
          const out = new Float32Array(c.b * ho * wo * c.co).fill(NaN); // every element must be written
          conv2dForward(x, w, g, chunk, out);
          return out;
        };
        const single = withThreads(1, 1, run);
        expect(single.every((v) => Number.isFinite(v))).toBe(true);
        for (const [t, ppt] of SPLITS) expectBitIdentical(withThreads(t, ppt, run), single, `threads=${t} parts/thread=${ppt}`);
      });
      if (d !== 1) continue;
      it(`conv2dInputGrad ${name} chunk=${chunk}`, () => {
        const run = (): Float32Array => {
          const out = new Float32Array(x.length).fill(NaN); // every element must be written
          conv2dInputGrad(dy, w, g, chunk, out);
          return out;
        };
        const single = withThreads(1, 1, run);
        expect(single.every((v) => Number.isFinite(v))).toBe(true);
        for (const [t, ppt] of SPLITS) expectBitIdentical(withThreads(t, ppt, run), single, `threads=${t} parts/thread=${ppt}`);
      });
    }
  }
});

describe('threaded GEMM through the tfjs kernels', () => {
  it('the workers ran parts in the comparisons above', () => {
    for (const [t] of SPLITS) {
      setGemmThreads(t);
      expect(gemmThreadingStatus().workerParts, `threads=${t}`).toBeGreaterThan(0);
    }
    setGemmThreads(undefined);
  });

  it('conv2d gradients and matmuls: identical on 1 and 2 threads, and close to cpu', async () => {
    const f = (): tf.Tensor[] => {
      const x = tf.tensor(randomArray(2 * 15 * 15 * 24, 7), [2, 15, 15, 24]) as tf.Tensor4D;
      const w1 = tf.tensor(randomArray(3 * 3 * 24 * 40, 8), [3, 3, 24, 40]) as tf.Tensor4D;
      const w2 = tf.tensor(randomArray(40 * 33, 9), [1, 1, 40, 33]) as tf.Tensor4D;
      const m = tf.tensor(randomArray(33 * 10, 10), [33, 10]) as tf.Tensor2D;
      return tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor, e: tf.Tensor) => {
        const y = tf.conv2d(tf.relu(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same')), c as tf.Tensor4D, 1, 'valid');
        return tf.sum(tf.square(tf.matMul(tf.reshape(y, [-1, 33]), e as tf.Tensor2D)));
      })([x, w1, w2, m]);
    };
    const cpu = await onBackend('cpu', f);
    await initBackend({ backend: 'wasm' });
    setGemmThreads(1);
    const one = await onBackend('wasm', f);
    setGemmThreads(2);
    Object.assign(gemmThreadOptions, { minPartFlops: 0 });
    const two = await onBackend('wasm', f);
    Object.assign(gemmThreadOptions, saved);
    setGemmThreads(undefined);
    for (let i = 0; i < cpu.length; i++) {
      expectBitIdentical(two[i]!, one[i]!, `gradient ${i}`);
      expectClose(one[i]!, cpu[i]!, 1e-4, 1e-5, `gradient ${i} vs cpu`);
    }
  });

  it('exits without terminating its workers (they are unref()d), and falls back without SharedArrayBuffer', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cmid-gemm-'));
    const gemm = fileURLToPath(new URL('../../../src/kernels/wasm/gemm.ts', import.meta.url));
    const script = join(dir, 'run.mts');
    writeFileSync(script, [
      // as in a runtime without it (a browser page that is not cross-origin isolated); node's flag would also break tsx
      "if (process.argv.includes('--no-sab')) delete (globalThis as { SharedArrayBuffer?: unknown }).SharedArrayBuffer;",
      `const { gemmBatched, gemmThreadingStatus } = await import(${JSON.stringify(gemm)});`,
      'const a = new Float32Array(300 * 400).fill(1), b = new Float32Array(400 * 300).fill(2), o = new Float32Array(300 * 300);',
      'const z = new Int32Array(1);',
      'gemmBatched(1, 300, 300, 400, { data: a, rs: 400, cs: 1, offsets: z }, { data: b, rs: 300, cs: 1, offsets: z }, o);',
      'const v = o[o.length - 1];',
      // products that round differently with and without fused multiply-add
      'for (let i = 0; i < a.length; i++) { a[i] = Math.sin(i) / 3; b[i] = Math.cos(i * 0.7) / 7; }',
      'gemmBatched(1, 300, 300, 400, { data: a, rs: 400, cs: 1, offsets: z }, { data: b, rs: 300, cs: 1, offsets: z }, o);',
      'console.log(JSON.stringify({ v, some: Array.from(o.subarray(0, 2000)), ...gemmThreadingStatus() }));',
    ].join('\n'));
    type Out = { v: number; some: number[]; threads: number; reason: string; fma: boolean; fmaReason: string };
    const run = (flags: string[], env: Record<string, string> = {}): Out => {
      const out = execFileSync(process.execPath, ['--import', 'tsx', script, ...flags], {
        env: { ...process.env, CMID_GEMM_THREADS: '2', ...env }, timeout: 60_000, encoding: 'utf8',
      });
      return JSON.parse(out.trim().split('\n').pop()!) as Out;
    };
    const threaded = run([]);
    expect(threaded).toMatchObject({ v: 800, threads: 2 });
    // Node 20 validates relaxed SIMD once gemm.ts has set V8's flag (Node 22 without it); CMID_GEMM_FMA=0 opts out
    expect(threaded.fma, threaded.fmaReason).toBe(true);
    const plain = run([], { CMID_GEMM_FMA: '0' });
    expect(plain).toMatchObject({ v: 800, threads: 2, fma: false, fmaReason: 'CMID_GEMM_FMA=0' });
    expectClose(threaded.some, plain.some, 1e-5, 1e-6, 'fma vs plain');
    expect(threaded.some.some((x, i) => x !== plain.some[i])).toBe(true); // it is the fused build
    const fallback = run(['--no-sab']);
    expect(fallback.v).toBe(800);
    expect(fallback.threads).toBe(1);
    expect(fallback.reason).toMatch(/SharedArrayBuffer/);
  });
});

describe('Conv2D / _FusedConv2D on our GEMM (wasm) vs cpu and vs XNNPACK', () => {
  const CASES: Array<{ x: [number, number, number, number]; k: [number, number]; co: number; pad: 'same' | 'valid' | number; s: number | [number, number]; d?: number }> = [
    { x: [2, 7, 5, 9], k: [1, 1], co: 6, pad: 'same', s: 1 },
    { x: [1, 3, 3, 1], k: [1, 1], co: 1, pad: 'valid', s: 1 },
    { x: [3, 4, 4, 17], k: [1, 1], co: 33, pad: 0, s: 1 },
    { x: [2, 5, 5, 8], k: [1, 1], co: 4, pad: 1, s: 1 }, // 1x1 padded
    { x: [2, 6, 6, 8], k: [1, 1], co: 4, pad: 'same', s: 2 }, // 1x1 strided (the ResNet downsampling shortcut)
    { x: [2, 9, 8, 5], k: [3, 3], co: 7, pad: 'same', s: 1 },
    { x: [1, 11, 13, 6], k: [3, 3], co: 4, pad: 'valid', s: 2 },
    { x: [2, 15, 15, 3], k: [7, 7], co: 8, pad: 3, s: 2 }, // the ResNet stem
    { x: [1, 8, 10, 4], k: [3, 2], co: 5, pad: 'same', s: [2, 1] }, // non-square filter and strides
    { x: [2, 10, 10, 3], k: [3, 3], co: 4, pad: 'same', s: 1, d: 2 }, // dilated
  ];
  for (const c of CASES) {
    const name = `x=[${c.x}] ${c.k.join('x')}x${c.co} pad=${c.pad} s=${c.s} d=${c.d ?? 1}`;
    const xs = randomArray(c.x.reduce((a, b) => a * b, 1), 31, -2, 2);
    const ws = randomArray(c.k[0] * c.k[1] * c.x[3] * c.co, 32);
    it(`conv2d forward and gradients ${name}`, async () => {
      const f = (): tf.Tensor[] => {
        const x = tf.tensor(xs, c.x) as tf.Tensor4D;
        const w = tf.tensor(ws, [c.k[0], c.k[1], c.x[3], c.co]) as tf.Tensor4D;
        const y = tf.conv2d(x, w, c.s, c.pad, 'NHWC', c.d ?? 1);
        if (c.d !== undefined) return [y]; // tfjs has no gradient of a dilated conv2d with strides > 1 in general; forward only
        const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.s, c.pad))))([x, w]);
        return [y, ...g];
      };
      const cpu = await onBackend('cpu', f);
      const wasm = await onBackend('wasm', f);
      conv2DOptions.route = 'xnnpack';
      const xnn = await onBackend('wasm', f);
      conv2DOptions.route = 'auto';
      for (let i = 0; i < cpu.length; i++) {
        expectClose(wasm[i]!, cpu[i]!, 1e-4, 1e-5, `${name} output ${i}`);
        expectClose(xnn[i]!, cpu[i]!, 1e-4, 1e-5, `${name} xnnpack output ${i}`);
      }
    });
    for (const activation of ['linear', 'relu', 'prelu', 'leakyrelu', 'sigmoid'] as const) {
      it(`fused conv2d ${name} bias=[${c.co}] act=${activation}`, async () => {
        const f = (): tf.Tensor =>
          tf.fused.conv2d({
            x: tf.tensor(xs, c.x) as tf.Tensor4D,
            filter: tf.tensor(ws, [c.k[0], c.k[1], c.x[3], c.co]) as tf.Tensor4D,
            strides: c.s,
            pad: c.pad,
            dilations: c.d ?? 1,
            bias: tf.tensor1d(randomArray(c.co, 33)),
            activation,
            preluActivationWeights: activation === 'prelu' ? tf.tensor1d(randomArray(c.co, 34, 0, 0.5)) : undefined,
            leakyreluAlpha: 0.3,
          });
        const [cpu] = await onBackend('cpu', f);
        const [wasm] = await onBackend('wasm', f);
        expectClose(wasm!, cpu!, 1e-4, 1e-5, name);
      });
    }
  }

  it('the im2col block size does not change the result (chunks of 16 output pixels vs one block)', async () => {
    const xs = randomArray(2 * 12 * 12 * 6, 41);
    const ws = randomArray(3 * 3 * 6 * 7, 42);
    const f = (): tf.Tensor[] => [tf.conv2d(tf.tensor(xs, [2, 12, 12, 6]) as tf.Tensor4D, tf.tensor(ws, [3, 3, 6, 7]) as tf.Tensor4D, 1, 'same')];
    const before = conv2DOptions.chunkFloats;
    try {
      const big = await onBackend('wasm', f);
      conv2DOptions.chunkFloats = 1; // 16 rows per block (the floor)
      const small = await onBackend('wasm', f);
      expectBitIdentical(small[0]!, big[0]!, 'chunked');
    } finally {
      conv2DOptions.chunkFloats = before;
    }
  });
  it('no leak through the GEMM route (conv2d and fused conv2d)', async () => {
    await initBackend({ backend: 'wasm' });
    const x = tf.tensor(randomArray(2 * 4 * 4 * 6, 1), [2, 4, 4, 6]) as tf.Tensor4D;
    const w = tf.tensor(randomArray(6 * 5, 2), [1, 1, 6, 5]) as tf.Tensor4D;
    const bias = tf.tensor1d(randomArray(5, 3));
    const tensors = tf.memory().numTensors;
    const ids = tf.backend().numDataIds();
    for (let i = 0; i < 3; i++) {
      tf.conv2d(x, w, 1, 'same').dispose();
      tf.fused.conv2d({ x, filter: w, strides: 1, pad: 'valid', bias, activation: 'relu' }).dispose();
    }
    expect(tf.memory().numTensors).toBe(tensors);
    expect(tf.backend().numDataIds()).toBe(ids);
    tf.dispose([x, w, bias]);
  });
});
