import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { initBackend } from '../../../src/index.js';
import { GEMM_EXPORTS, gemmWasmPath } from '../../../src/kernels/wasm/gemm.js';
import { checkGradFiniteDiff, expectClose, onBackend, randomArray } from '../../../src/testing/index.js';

interface Case {
  a: number[];
  b: number[];
  tA: boolean;
  tB: boolean;
}

const name = (c: Case): string => `a=[${c.a}] b=[${c.b}] tA=${c.tA} tB=${c.tB}`;
const size = (s: number[]): number => s.reduce((x, y) => x * y, 1);

/** float64 reference with NumPy broadcasting of the batch dims (tfjs's cpu kernel only handles equal or size-1 batches). */
function reference(c: Case, a: Float32Array, b: Float32Array): Float64Array {
  const ar = c.a.length;
  const br = c.b.length;
  const M = c.tA ? c.a[ar - 1]! : c.a[ar - 2]!;
  const K = c.tA ? c.a[ar - 2]! : c.a[ar - 1]!;
  const N = c.tB ? c.b[br - 2]! : c.b[br - 1]!;
  const aB = c.a.slice(0, -2);
  const bB = c.b.slice(0, -2);
  const rank = Math.max(aB.length, bB.length);
  const pad = (s: number[]): number[] => [...new Array<number>(rank - s.length).fill(1), ...s];
  const pa = pad(aB);
  const pb = pad(bB);
  const outB = pa.map((d, i) => Math.max(d, pb[i]!));
  const total = size(outB);
  const out = new Float64Array(total * M * N);
  for (let t = 0; t < total; t++) {
    let rem = t;
    let ia = 0;
    let ib = 0;
    let sa = 1;
    let sb = 1;
    for (let d = rank - 1; d >= 0; d--) {
      const i = rem % outB[d]!;
      rem = Math.floor(rem / outB[d]!);
      ia += (pa[d] === 1 ? 0 : i) * sa;
      ib += (pb[d] === 1 ? 0 : i) * sb;
      sa *= pa[d]!;
      sb *= pb[d]!;
    }
    for (let m = 0; m < M; m++) {
      for (let n = 0; n < N; n++) {
        let s = 0;
        for (let k = 0; k < K; k++) {
          const av = a[ia * M * K + (c.tA ? k * M + m : m * K + k)]!;
          const bv = b[ib * K * N + (c.tB ? n * K + k : k * N + n)]!;
          s += av * bv;
        }
        out[(t * M + m) * N + n] = s;
      }
    }
  }
  return out;
}

function run(c: Case, a: Float32Array, b: Float32Array): tf.Tensor {
  return tf.matMul(tf.tensor(a, c.a), tf.tensor(b, c.b), c.tA, c.tB);
}

// every combination of transposes on shapes that are not multiples of the 4x8 tile, plus blocking edges:
// K > 256 (depth blocks accumulate), M > 96 (row blocks), N > 1024 (column blocks)
const cases: Case[] = [];
for (const tA of [false, true]) {
  for (const tB of [false, true]) {
    const ab = (B: number[], M: number, K: number, N: number): Case => ({
      a: [...B, ...(tA ? [K, M] : [M, K])],
      b: [...B, ...(tB ? [N, K] : [K, N])],
      tA,
      tB,
    });
    cases.push(ab([], 1, 1, 1), ab([], 5, 7, 3), ab([3], 5, 7, 4), ab([2], 13, 9, 17), ab([], 101, 300, 19), ab([2, 3], 6, 4, 9));
  }
}
cases.push(
  { a: [1030, 3], b: [1030, 5], tA: true, tB: false },
  { a: [2, 3], b: [3, 1031], tA: false, tB: false },
  { a: [4, 49, 32], b: [4, 49, 32], tA: false, tB: true }, // Swin window attention, small
);
// broadcasting of batch dims, as tfjs's cpu kernel computes it correctly (one side has a single matrix)
const broadcastCases: Case[] = [
  { a: [1, 5, 7], b: [4, 7, 3], tA: false, tB: false },
  { a: [4, 5, 7], b: [1, 7, 3], tA: false, tB: false },
  { a: [4, 7, 5], b: [7, 3], tA: true, tB: false },
  { a: [5, 7], b: [3, 4, 3, 7], tA: false, tB: true },
];
// general broadcasting that tfjs's cpu kernel gets wrong (it indexes batches modulo): float64 reference
const generalBroadcast: Case[] = [
  { a: [2, 1, 5, 7], b: [1, 3, 7, 4], tA: false, tB: false },
  { a: [2, 1, 7, 5], b: [3, 4, 7], tA: true, tB: true },
];

describe('BatchMatMul (wasm, our GEMM) vs cpu', () => {
  for (const c of [...cases, ...broadcastCases]) {
    it(name(c), async () => {
      const a = randomArray(size(c.a), 1);
      const b = randomArray(size(c.b), 2);
      const [cpu] = await onBackend('cpu', () => run(c, a, b));
      const [wasm] = await onBackend('wasm', () => run(c, a, b));
      expectClose(wasm!, cpu!, 1e-4, 1e-6, name(c));
      expectClose(wasm!, reference(c, a, b), 1e-4, 1e-6, `${name(c)} vs float64`);
    });
  }
  for (const c of generalBroadcast) {
    it(`${name(c)} (general broadcast, vs float64 reference)`, async () => {
      const a = randomArray(size(c.a), 3);
      const b = randomArray(size(c.b), 4);
      await initBackend({ backend: 'wasm' });
      const y = run(c, a, b);
      const batch = tf.backend_util.assertAndGetBroadcastShape(c.a.slice(0, -2), c.b.slice(0, -2));
      expect(y.shape.slice(0, -2)).toEqual(batch);
      expectClose(y.dataSync(), reference(c, a, b), 1e-4, 1e-6, name(c));
      y.dispose();
    });
  }

  it('a=[0,3] b=[3,4] and a=[2,0] b=[0,3] (empty output, K=0 gives zeros)', async () => {
    await initBackend({ backend: 'wasm' });
    const y0 = tf.matMul(tf.zeros([0, 3]), tf.ones([3, 4]));
    expect(y0.shape).toEqual([0, 4]);
    const y1 = tf.matMul(tf.ones([2, 0]), tf.ones([0, 3]));
    expect(Array.from(y1.dataSync())).toEqual([0, 0, 0, 0, 0, 0]);
    tf.dispose([y0, y1]);
  });
});

describe('BatchMatMul gradients (wasm vs cpu, and finite differences)', () => {
  const gradCases: Case[] = [
    { a: [3, 5, 7], b: [3, 7, 4], tA: false, tB: false },
    { a: [3, 7, 5], b: [3, 4, 7], tA: true, tB: true },
    { a: [6, 9], b: [6, 4], tA: true, tB: false },
    { a: [2, 5, 8], b: [2, 3, 8], tA: false, tB: true },
  ];
  for (const c of gradCases) {
    it(`d/da, d/db of sum(matMul * w): ${name(c)}`, async () => {
      const a = randomArray(size(c.a), 5);
      const b = randomArray(size(c.b), 6);
      const f = (): tf.Tensor[] => {
        const ta = tf.tensor(a, c.a);
        const tb = tf.tensor(b, c.b);
        const loss = (x: tf.Tensor, y: tf.Tensor): tf.Scalar => {
          const z = tf.matMul(x, y, c.tA, c.tB);
          return tf.sum(tf.mul(z, tf.sin(tf.range(0, z.size).reshape(z.shape))));
        };
        return tf.grads(loss)([ta, tb]);
      };
      const cpu = await onBackend('cpu', f);
      const wasm = await onBackend('wasm', f);
      expectClose(wasm[0]!, cpu[0]!, 1e-4, 1e-6, 'da');
      expectClose(wasm[1]!, cpu[1]!, 1e-4, 1e-6, 'db');
      const bt = tf.tensor(b, c.b);
      checkGradFiniteDiff((x) => tf.sum(tf.square(tf.matMul(x, bt, c.tA, c.tB))), a, c.a);
      bt.dispose();
    });
  }
});

describe('BatchMatMul resources', () => {
  it('no leak: numTensors and numDataIds unchanged across calls (a=[4,9,6] b=[4,9,5] tA=true)', async () => {
    await initBackend({ backend: 'wasm' });
    const a = tf.tensor(randomArray(4 * 9 * 6, 7), [4, 9, 6]);
    const b = tf.tensor(randomArray(4 * 9 * 5, 8), [4, 9, 5]);
    tf.matMul(a, b, true, false).dispose();
    const tensors = tf.memory().numTensors;
    const ids = tf.backend().numDataIds();
    for (let i = 0; i < 3; i++) {
      tf.matMul(a, b, true, false).dispose();
      tf.dispose(tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.matMul(x, y, true, false)))([a, b]));
    }
    expect(tf.memory().numTensors).toBe(tensors);
    expect(tf.backend().numDataIds()).toBe(ids);
    tf.dispose([a, b]);
  });

  it('the committed gemm.wasm and gemm-mt.wasm (and their -fma builds) export what gemm.ts expects', () => {
    for (const fma of [false, true]) {
      const mod = new WebAssembly.Module(new Uint8Array(readFileSync(gemmWasmPath(false, fma))));
      const exported = WebAssembly.Module.exports(mod).map((e) => e.name);
      for (const n of [...GEMM_EXPORTS, 'memory']) expect(exported).toContain(n);
      expect(WebAssembly.Module.imports(mod)).toEqual([]);
      // the threaded build: same functions, the (shared) memory imported, the stack pointer exported
      const mt = new WebAssembly.Module(new Uint8Array(readFileSync(gemmWasmPath(true, fma))));
      const mtExported = WebAssembly.Module.exports(mt).map((e) => e.name);
      for (const n of [...GEMM_EXPORTS, '__stack_pointer']) expect(mtExported).toContain(n);
      expect(WebAssembly.Module.imports(mt)).toEqual([{ module: 'env', name: 'memory', kind: 'memory' }]);
    }
  });
});
