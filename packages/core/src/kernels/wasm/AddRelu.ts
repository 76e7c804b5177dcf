/**
 * CmidAddRelu (inputs a, b of one shape: relu(a + b)) and CmidReluGradFromOutput (inputs dy, y = the ReLU's
 * output: dy * step(y)), for src/ops/add-relu.ts: csrc/eltwise.c on heap-kernels.wasm, in place on the tfjs heap.
 * They replace Add + Relu (forward) and Step + Cast + Multiply (backward) at the 16 residual joins of ResNet-50:
 * about 25 ms of an eager step at batch 2.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { ADD_RELU, RELU_GRAD_FROM_OUTPUT } from '../../ops/add-relu.js';
import { heapKernels, heapPtr } from './heap-kernels.js';

function sameShapeF32(op: string, a: tf.TensorInfo, b: tf.TensorInfo): void {
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || !tf.util.arraysEqual(a.shape, b.shape)) {
    throw new Error(`${op}: inputs must be float32 tensors of one shape (got ${a.dtype} [${a.shape.join(', ')}] and ${b.dtype} [${b.shape.join(', ')}]).`);
  }
}

function addRelu(args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend }): tf.TensorInfo {
  const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  sameShapeF32(ADD_RELU, a, b);
  const backend = args.backend as BackendWasm;
  const out = backend.makeOutput([...a.shape], 'float32');
  heapKernels(backend).add_relu(heapPtr(backend, a), heapPtr(backend, b), heapPtr(backend, out), tf.util.sizeFromShape(a.shape));
  return out;
}

function reluGrad(args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend }): tf.TensorInfo {
  const { dy, y } = args.inputs as { dy: tf.TensorInfo; y: tf.TensorInfo };
  sameShapeF32(RELU_GRAD_FROM_OUTPUT, dy, y);
  const backend = args.backend as BackendWasm;
  const out = backend.makeOutput([...y.shape], 'float32');
  heapKernels(backend).relu_grad(heapPtr(backend, dy), heapPtr(backend, y), heapPtr(backend, out), tf.util.sizeFromShape(y.shape));
  return out;
}

export const addReluConfig: tf.KernelConfig = { kernelName: ADD_RELU, backendName: 'wasm', kernelFunc: addRelu as unknown as tf.KernelFunc };
export const reluGradFromOutputConfig: tf.KernelConfig = { kernelName: RELU_GRAD_FROM_OUTPUT, backendName: 'wasm', kernelFunc: reluGrad as unknown as tf.KernelFunc };
