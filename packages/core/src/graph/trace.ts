/**
 * Tracing: run a function of tensors eagerly on the active backend while recording every kernel call into an
 * IrGraph. For the duration of the trace each kernel registered on the backend is wrapped by a recorder that runs
 * the real kernel and logs (name, inputs, attrs, outputs); nested calls (a kernel calling another kernel's
 * function directly) are not recorded, so our composite wasm kernels appear as one node. Because the kernels
 * really run, shapes come from execution and the eager result is available to check an export against.
 *
 * Values are identified by (dataId, shape): tfjs's Reshape returns the input's dataId with a new shape. A node
 * whose inputs are all constants is folded into a constant (shape tensors, scales, index tables).
 */
import * as tf from '@tensorflow/tfjs';
import { CmidError } from '../runtime/errors.js';
import type { IrDType, IrGraph, IrNode, IrValue } from './ir.js';

export interface TraceSpec {
  /** Graph inputs by name, in order. */
  inputs: Record<string, tf.Tensor>;
  /** Parameters by name (e.g. a module's state_dict keys); values become initializers or inputs on export. */
  params?: Record<string, tf.Tensor>;
}

export interface TraceResult {
  graph: IrGraph;
  /** The eager outputs of the traced call (caller disposes). */
  outputs: tf.Tensor[];
}

let tracing = false;

/** Whether trace() is recording the current backend's kernels (ops then avoid kernels that have no ONNX lowering). */
export function isTracing(): boolean {
  return tracing;
}

export function trace(f: (inputs: Record<string, tf.Tensor>) => tf.Tensor | tf.Tensor[] | Record<string, tf.Tensor>, spec: TraceSpec): TraceResult {
  if (tracing) throw new Error('trace: already tracing (nested traces are not supported)');
  const backendName = tf.getBackend();
  const backend = tf.backend();
  const values: IrValue[] = [];
  const nodes: IrNode[] = [];
  const dataIdTag = new WeakMap<object, number>();
  let nextTag = 0;
  const tagOf = (dataId: object) => {
    let t = dataIdTag.get(dataId);
    if (t === undefined) dataIdTag.set(dataId, (t = nextTag++));
    return t;
  };
  const byKey = new Map<string, number>(); // `${tag}|${shape}` -> value id
  const byTag = new Map<number, number>(); // tag -> some value id with that data
  const key = (info: tf.TensorInfo) => `${tagOf(info.dataId)}|${info.shape.join(',')}`;
  const dtypeOf = (d: string): IrDType => (d === 'int32' ? 'int32' : d === 'bool' ? 'bool' : 'float32');

  const addValue = (v: Omit<IrValue, 'id'>, info: tf.TensorInfo): number => {
    const id = values.length;
    values.push({ ...v, id });
    byKey.set(key(info), id);
    if (!byTag.has(tagOf(info.dataId))) byTag.set(tagOf(info.dataId), id);
    return id;
  };

  const inputIds: number[] = [];
  const paramIds: number[] = [];
  for (const [name, t] of Object.entries(spec.inputs)) {
    inputIds.push(addValue({ shape: [...t.shape], dtype: dtypeOf(t.dtype), kind: 'input', name }, t));
  }
  for (const [name, t] of Object.entries(spec.params ?? {})) {
    paramIds.push(addValue({ shape: [...t.shape], dtype: dtypeOf(t.dtype), kind: 'param', name }, t));
  }

  const readConst = (info: tf.TensorInfo): Float32Array | Int32Array | Uint8Array => {
    const raw = backend.readSync(info.dataId) as Float32Array | Int32Array | Uint8Array;
    const size = info.shape.reduce((a, b) => a * b, 1);
    return raw.slice(0, size);
  };

  /** The value id for a kernel input, creating a reshape or constant where needed. */
  const valueFor = (info: tf.TensorInfo): number => {
    const found = byKey.get(key(info));
    if (found !== undefined) return found;
    const tag = tagOf(info.dataId);
    const same = byTag.get(tag);
    if (same !== undefined) {
      // same data, another shape: an implicit reshape (tfjs Reshape shares dataIds)
      const src = values[same]!;
      if (src.kind === 'const') {
        return addValue({ shape: [...info.shape], dtype: src.dtype, kind: 'const', data: src.data! }, info);
      }
      const out = addValue({ shape: [...info.shape], dtype: src.dtype, kind: 'op' }, info);
      nodes.push({ op: 'Reshape', inputs: [same], outputs: [out], attrs: { shape: [...info.shape] }, inputNames: ['x'] });
      return out;
    }
    return addValue({ shape: [...info.shape], dtype: dtypeOf(info.dtype), kind: 'const', data: readConst(info) }, info);
  };

  let depth = 0;
  const originals = tf.getKernelsForBackend(backendName);
  const wrap = (k: tf.KernelConfig): tf.KernelConfig => ({
    kernelName: k.kernelName,
    backendName,
    kernelFunc: (args) => {
      if (depth > 0) return k.kernelFunc(args);
      depth++;
      try {
        const inputNames = Object.keys(args.inputs).filter((n) => args.inputs[n] != null);
        const inputInfos = inputNames.map((n) => args.inputs[n]!);
        const inputIdsHere = inputInfos.map(valueFor);
        const result = k.kernelFunc(args);
        const outs = Array.isArray(result) ? result : [result as tf.TensorInfo];
        const allConst = inputIdsHere.length > 0 && inputIdsHere.every((id) => values[id]!.kind === 'const');
        const outputIds = outs.map((o) =>
          allConst
            ? addValue({ shape: [...o.shape], dtype: dtypeOf(o.dtype), kind: 'const', data: readConst(o) }, o)
            : addValue({ shape: [...o.shape], dtype: dtypeOf(o.dtype), kind: 'op' }, o),
        );
        nodes.push({ op: k.kernelName, inputs: inputIdsHere, outputs: outputIds, attrs: { ...(args.attrs ?? {}) }, inputNames, ...(allConst ? { folded: true } : {}) });
        return result;
      } finally {
        depth--;
      }
    },
  });

  for (const k of originals) {
    tf.unregisterKernel(k.kernelName, backendName);
    tf.registerKernel(wrap(k));
  }
  tracing = true;
  let rawOut: tf.Tensor | tf.Tensor[] | Record<string, tf.Tensor>;
  try {
    rawOut = f(spec.inputs);
  } finally {
    tracing = false;
    for (const k of originals) {
      tf.unregisterKernel(k.kernelName, backendName);
      tf.registerKernel(k);
    }
  }
  const entries: [string, tf.Tensor][] = rawOut instanceof tf.Tensor
    ? [['output', rawOut]]
    : Array.isArray(rawOut)
      ? rawOut.map((t, i) => [`output${i}`, t] as [string, tf.Tensor])
      : Object.entries(rawOut);
  const outputIds = entries.map(([name, t]) => {
    const id = byKey.get(key(t)) ?? (byTag.has(tagOf(t.dataId)) ? valueFor(t) : undefined);
    if (id === undefined) throw new CmidError('kernel', `trace: output "${name}" was not produced by the traced function.`);
    return id;
  });
  return {
    graph: { values, nodes, inputs: inputIds, params: paramIds, outputs: outputIds, outputNames: entries.map(([n]) => n) },
    outputs: entries.map(([, t]) => t),
  };
}
