/**
 * Loader for heap-kernels.wasm (csrc/batchnorm.c, csrc/maxpool.c, csrc/eltwise.c and csrc/colsum.c, built by scripts/build-heap-kernels.sh and
 * committed): kernels that run directly on the tfjs wasm backend's own memory, so their inputs and outputs are the
 * tensors' buffers and nothing is copied in or out. That suits memory-bound kernels (the fused batch
 * normalisation, the max-pool gradient), where the copies into gemm.wasm's memory would cost as much as the work.
 *
 * The module imports the backend's WebAssembly.Memory (the emscripten module's `asm.memory`), has no data
 * segments (checked before it is instantiated, since they would be written over the backend's heap), and its
 * stack pointer is set to the end of a 16 KiB block allocated with the backend's own malloc. It is
 * single-threaded and instantiated once per backend instance, on first use. Pointers passed to it are byte
 * offsets on the backend's heap (`backend.dataIdMap.get(dataId).memoryOffset`); scratch comes from the backend's
 * malloc and is freed before the kernel returns.
 */
import { fileURLToPath } from 'node:url';
import type * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { CmidError } from '../../runtime/errors.js';
import { compileCommittedWasm } from '../../runtime/wasm-module.js';

export const HEAP_KERNEL_EXPORTS = ['__stack_pointer', 'bn_chunk_floats', 'bn_train_forward', 'bn_train_backward', 'maxpool_grad', 'add_relu', 'relu_grad'] as const;

export interface HeapKernels {
  bn_chunk_floats: () => number;
  bn_train_forward: (...args: number[]) => void;
  bn_train_backward: (...args: number[]) => void;
  maxpool_grad: (...args: number[]) => void;
  add_relu: (a: number, b: number, y: number, n: number) => void;
  relu_grad: (dy: number, y: number, dx: number, n: number) => void;
}

const STACK_BYTES = 16384;
const BUILD = 'packages/core/scripts/build-heap-kernels.sh';

/** Absolute path of the committed heap-kernels.wasm (this file is <pkg>/{src,dist}/kernels/wasm/). */
export function heapKernelsWasmPath(): string {
  return fileURLToPath(new URL('../../../src/kernels/wasm/heap-kernels.wasm', import.meta.url));
}

interface EmscriptenModule {
  asm?: { memory?: unknown };
  _malloc: (bytes: number) => number;
  _free: (ptr: number) => void;
}

let compiled: WebAssembly.Module | null = null;
const instances = new WeakMap<object, HeapKernels>();

/** The module instantiated on `backend`'s memory (cached per backend instance). */
export function heapKernels(backend: BackendWasm): HeapKernels {
  const cached = instances.get(backend);
  if (cached !== undefined) return cached;
  const em = backend.wasm as unknown as EmscriptenModule;
  const memory = em.asm?.memory;
  if (!(memory instanceof WebAssembly.Memory)) {
    throw new CmidError('backend', '@cmid/core heap kernels: this tfjs-backend-wasm build does not expose its WebAssembly.Memory (asm.memory); ' +
      'set fusedBatchNormOptions.enabled = false (or CMID_FUSED_KERNELS=0) to use the unfused batch norm.');
  }
  compiled ??= compileCommittedWasm(heapKernelsWasmPath(), HEAP_KERNEL_EXPORTS, 'heap kernels', BUILD, { noDataSegments: true });
  let instance: WebAssembly.Instance;
  try {
    instance = new WebAssembly.Instance(compiled, { env: { memory } });
  } catch (e) {
    throw new CmidError('backend', `@cmid/core heap kernels: cannot instantiate ${heapKernelsWasmPath()} on the tfjs wasm memory ` +
      `(${(e as Error).message}); set CMID_FUSED_KERNELS=0 to use the unfused batch norm.`);
  }
  const ex = instance.exports as unknown as HeapKernels & { __stack_pointer: WebAssembly.Global };
  const block = em._malloc(STACK_BYTES + 16);
  ex.__stack_pointer.value = (block + STACK_BYTES) & ~15; // the stack grows down from the block's (aligned) end
  instances.set(backend, ex);
  return ex;
}

/** Byte offset of a tensor's data on the backend's heap. */
export function heapPtr(backend: BackendWasm, t: tf.TensorInfo): number {
  return (backend.dataIdMap.get(t.dataId) as unknown as { memoryOffset: number }).memoryOffset;
}

/** Scratch on the backend's heap: byte offsets of regions of the given byte sizes (16-byte aligned), and a free(). */
export function heapScratch(backend: BackendWasm, bytes: number[]): { ptrs: number[]; free: () => void } {
  const em = backend.wasm as unknown as EmscriptenModule;
  const total = bytes.reduce((s, b) => s + ((b + 15) & ~15), 16);
  const block = em._malloc(total);
  if (block === 0) throw new CmidError('backend', `@cmid/core heap kernels: out of wasm memory allocating ${total} bytes of scratch.`);
  let p = (block + 15) & ~15;
  const ptrs = bytes.map((b) => {
    const at = p;
    p += (b + 15) & ~15;
    return at;
  });
  return { ptrs, free: () => em._free(block) };
}
