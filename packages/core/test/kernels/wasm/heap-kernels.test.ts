import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { initBackend } from '../../../src/index.js';
import { HEAP_KERNEL_EXPORTS, heapKernels, heapKernelsWasmPath } from '../../../src/kernels/wasm/heap-kernels.js';
import { sectionIds } from '../../../src/runtime/wasm-module.js';

describe('heap-kernels.wasm (runs on the tfjs wasm heap)', () => {
  it('imports only the memory, exports what heap-kernels.ts calls, and has no data segments to write over the heap', () => {
    const bytes = new Uint8Array(readFileSync(heapKernelsWasmPath()));
    const mod = new WebAssembly.Module(bytes);
    expect(WebAssembly.Module.imports(mod)).toEqual([{ module: 'env', name: 'memory', kind: 'memory' }]);
    const exported = WebAssembly.Module.exports(mod).map((e) => e.name);
    for (const n of HEAP_KERNEL_EXPORTS) expect(exported).toContain(n);
    expect(sectionIds(bytes)).not.toContain(11); // data
    expect(sectionIds(bytes)).toContain(10); // code (the parser walks the sections)
  });

  it('shares the backend memory, leaves other tensors intact and its stack inside a block it allocated', async () => {
    await initBackend({ backend: 'wasm' });
    const backend = tf.backend() as BackendWasm;
    const k = heapKernels(backend);
    expect(heapKernels(backend)).toBe(k); // one instance per backend
    const bystander = tf.tensor1d(Array.from({ length: 4096 }, (_, i) => i));
    const x = tf.randomNormal([2, 16, 16, 8]);
    const grads = tf.grads((a: tf.Tensor) => tf.sum(tf.maxPool(a as tf.Tensor4D, 3, 2, 'same')))([x]);
    tf.dispose(grads);
    expect(Array.from(bystander.dataSync()).every((v, i) => v === i)).toBe(true);
    tf.dispose([bystander, x]);
  });
});
