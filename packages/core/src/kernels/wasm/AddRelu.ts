/**
 * CmidAddRelu (inputs a, b of one shape: relu(a + b)) and CmidReluGradFromOutput (inputs dy, y = the ReLU's
 * output: dy * step(y)), for src/ops/add-relu.ts: csrc/eltwise.c on heap-kernels.wasm, in place on the tfjs heap.
 * They replace Add + Relu (forward) and Step + Cast + Multiply (backward) at the 16 residual joins of ResNet-50:
 * about 25 ms of an eager step at batch 2.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { ADD_RELU, RELU_GRAD_FROM_OUTPUT } from '../../ops/add-relu.js';
import { heapKernels, heapPtr, type HeapKernels } from './heap-kernels.js';

/**
 * A kernel over two float32 inputs of one shape (named `names`) that writes an output of that shape with the
 * heap kernel `run(in0, in1, out, n)`.
 */
function sameShapeKernel(op: string, names: [string, string], run: (k: HeapKernels) => (p: number, q: number, o: number, n: number) => void): tf.KernelFunc {
  return ((args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend }) => {
    const a = args.inputs[names[0]] as tf.TensorInfo, b = args.inputs[names[1]] as tf.TensorInfo;
    if (a.dtype !== 'float32' || b.dtype !== 'float32' || !tf.util.arraysEqual(a.shape, b.shape)) {
      throw new Error(`${op}: inputs must be float32 tensors of one shape (got ${a.dtype} [${a.shape.join(', ')}] and ${b.dtype} [${b.shape.join(', ')}]).`);
    }
    const backend = args.backend as BackendWasm;
    const out = backend.makeOutput([...a.shape], 'float32');
    run(heapKernels(backend))(heapPtr(backend, a), heapPtr(backend, b), heapPtr(backend, out), tf.util.sizeFromShape(a.shape));
    return out;
  }) as unknown as tf.KernelFunc;
}

const addRelu = sameShapeKernel(ADD_RELU, ['a', 'b'], (k) => k.add_relu);
const reluGrad = sameShapeKernel(RELU_GRAD_FROM_OUTPUT, ['dy', 'y'], (k) => k.relu_grad);

export const addReluConfig: tf.KernelConfig = { kernelName: ADD_RELU, backendName: 'wasm', kernelFunc: addRelu };
export const reluGradFromOutputConfig: tf.KernelConfig = { kernelName: RELU_GRAD_FROM_OUTPUT, backendName: 'wasm', kernelFunc: reluGrad };
