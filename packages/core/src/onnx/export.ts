/**
 * ONNX export of any tfjs computation, and of a Module in eval mode: trace (graph/trace.ts), lower each kernel
 * (lower.ts), encode (proto.ts). With `dynamicBatch` (default) the function is traced at two batch sizes and the
 * dims that change become the symbolic dim "batch"; Reshape targets use -1 there.
 */
import * as tf from '@tensorflow/tfjs';
import { CmidError } from '../runtime/errors.js';
import { trace } from '../graph/trace.js';
import type { IrGraph } from '../graph/ir.js';
import { fuseReluGrad } from '../graph/fuse.js';
import type { Module } from '../nn/module.js';
import { lowerNode, type LowerContext } from './lower.js';
import { encodeModel, floatTensor, int64Tensor, TensorDataType, type NodeProto, type TensorProto, type ValueInfoProto } from './proto.js';

export interface ExportOptions {
  /** Make the leading dim of every input a symbolic "batch" dim (default true). */
  dynamicBatch?: boolean;
  /** Parameters as initializers (inference, default) or as graph inputs (training, weights fed each run). */
  params?: 'initializers' | 'inputs';
  opset?: number;
  /** Free-form metadata stored in the model. */
  metadata?: Record<string, string>;
}

export interface ExportResult {
  model: Uint8Array;
  graph: IrGraph;
  /** The eager outputs at the example inputs (for checking the export); the caller disposes. */
  eagerOutputs: tf.Tensor[];
}

type Fn = (inputs: Record<string, tf.Tensor>) => tf.Tensor | tf.Tensor[] | Record<string, tf.Tensor>;

function growBatch(t: tf.Tensor): tf.Tensor {
  return tf.concat([t, tf.slice(t, [0], [1])], 0);
}

export function exportFunction(f: Fn, inputs: Record<string, tf.Tensor>, params: Record<string, tf.Tensor> = {}, options: ExportOptions = {}): ExportResult {
  const { dynamicBatch = true, opset = 17 } = options;
  const first = trace(f, { inputs, params });
  let batchDims: boolean[][] | undefined;
  if (dynamicBatch) {
    const bigger = Object.fromEntries(Object.entries(inputs).map(([k, t]) => [k, growBatch(t)]));
    const second = trace(f, { inputs: bigger, params });
    tf.dispose([...Object.values(bigger), ...second.outputs]);
    const a = first.graph, b = second.graph;
    const same = a.nodes.length === b.nodes.length && a.values.length === b.values.length && a.nodes.every((n, i) => n.op === b.nodes[i]!.op);
    if (!same) {
      throw new CmidError('kernel', 'ONNX export: the traced graph changes with the batch size, so the batch cannot be made dynamic; export with dynamicBatch: false.');
    }
    batchDims = a.values.map((v, i) => v.shape.map((d, j) => d !== b.values[i]!.shape[j]));
    // constants folded at trace time whose shape follows the batch are unfolded (their nodes emitted);
    // a batch-shaped constant that no node produced was created from the batch size inside the model.
    const producedByFold = new Set(a.nodes.filter((n) => n.folded).flatMap((n) => n.outputs));
    a.values.forEach((v, i) => {
      if (v.kind === 'const' && batchDims![i]!.some(Boolean) && !producedByFold.has(i)) {
        throw new CmidError('kernel', `ONNX export: a constant of shape [${v.shape}] depends on the batch size (a tensor created from the batch inside the model); export with dynamicBatch: false.`);
      }
    });
  }
  const model = encodeIrGraph(first.graph, { ...options, opset, initializerValues: params, ...(batchDims ? { batchDims } : {}) });
  return { model, graph: first.graph, eagerOutputs: first.outputs };
}

/** Export a module's forward() in eval mode; parameters and persistent buffers become named initializers. */
export function exportModule(module: Module & { forward(x: tf.Tensor): tf.Tensor }, example: tf.Tensor, options: ExportOptions = {}): ExportResult {
  const wasTraining = module.training;
  module.eval();
  try {
    const params = Object.fromEntries(module.stateEntries().map((e) => [e.name, e.variable as tf.Tensor]));
    return exportFunction((i) => module.forward(i.input!), { input: example }, params, options);
  } finally {
    module.train(wasTraining);
  }
}

const DT = { float32: TensorDataType.FLOAT, int32: TensorDataType.INT32, bool: TensorDataType.BOOL } as const;

export interface EncodeOptions extends ExportOptions {
  /** Per value, which dims vary with the batch (from exportFunction's dual trace); absent: static shapes. */
  batchDims?: boolean[][];
  /** Values of the parameters when they become initializers. */
  initializerValues?: Record<string, tf.Tensor>;
}

/** Lower and encode an IR graph (from trace() or traceSymbolic()) as an ONNX model. */
export function encodeIrGraph(graph: IrGraph, options: EncodeOptions = {}): Uint8Array {
  const { batchDims, opset = 17 } = options;
  const g = fuseReluGrad(graph);
  const params = options.initializerValues ?? {};
  const paramsAsInputs = options.params === 'inputs';
  const names = new Map<number, string>();
  const used = new Set<string>();
  const unique = (base: string) => {
    let s = base.replace(/[^A-Za-z0-9_.:/-]/g, '_');
    if (used.has(s)) {
      let i = 1;
      while (used.has(`${s}_${i}`)) i++;
      s = `${s}_${i}`;
    }
    used.add(s);
    return s;
  };
  const initializers: TensorProto[] = [];
  const nodes: NodeProto[] = [];
  // folded constants that vary with the batch are computed in the graph instead
  const unfold = new Set<number>();
  if (batchDims !== undefined) {
    g.values.forEach((v, i) => {
      if (v.kind === 'const' && batchDims[i]!.some(Boolean)) unfold.add(i);
    });
  }
  let freshCount = 0;
  const dims = (id: number) => {
    const v = g.values[id]!;
    return v.shape.map((d, j) => (batchDims?.[id]?.[j] ? 'batch' : d));
  };
  const ctx: LowerContext = {
    graph: g,
    nodes,
    initializers,
    name(id) {
      let n = names.get(id);
      if (n !== undefined) return n;
      const v = g.values[id]!;
      n = unique(v.name ?? (v.kind === 'const' ? `const_${id}` : `v${id}`));
      names.set(id, n);
      if (v.kind === 'param' && !paramsAsInputs) {
        const t = params[v.name!]!;
        if (t.dtype === 'int32') {
          const i32 = t.dataSync() as Int32Array;
          initializers.push({ name: n, dataType: TensorDataType.INT32, dims: v.shape, rawData: new Uint8Array(i32.buffer.slice(i32.byteOffset, i32.byteOffset + i32.byteLength)) });
        } else initializers.push(floatTensor(n, v.shape, Float32Array.from(t.dataSync())));
      }
      if (v.kind === 'const' && !unfold.has(id)) {
        const data = v.data!;
        if (v.dtype === 'float32') initializers.push(floatTensor(n, v.shape, data as Float32Array));
        else if (v.dtype === 'int32') {
          const i32 = data as Int32Array;
          initializers.push({ name: n, dataType: TensorDataType.INT32, dims: v.shape, rawData: new Uint8Array(i32.buffer, i32.byteOffset, i32.byteLength) });
        } else initializers.push({ name: n, dataType: TensorDataType.BOOL, dims: v.shape, rawData: Uint8Array.from(data as Uint8Array, (x) => (x ? 1 : 0)) });
      }
      return n;
    },
    fresh: (hint) => unique(`${hint}_${freshCount++}`),
    ints(values, hint = 'ints') {
      const n = unique(`${hint}_${freshCount++}`);
      initializers.push(int64Tensor(n, [values.length], values));
      return n;
    },
    floatConst(values, hint = 'f') {
      const n = unique(`${hint}_${freshCount++}`);
      initializers.push(floatTensor(n, [values.length], Float32Array.from(values)));
      return n;
    },
    batchDims: (id) => batchDims?.[id],
  };
  // reserve graph-level names first so they stay readable
  g.inputs.forEach((id) => ctx.name(id));
  g.outputs.forEach((id, i) => {
    const kind = g.values[id]!.kind;
    if (!names.has(id) && (kind === 'op' || unfold.has(id))) names.set(id, unique(g.outputNames[i]!));
  });
  for (const node of g.nodes) {
    if (!node.folded || node.outputs.some((o) => unfold.has(o))) lowerNode(node, ctx);
  }
  // parameters are named (and become initializers) only when a node uses them; as inputs, likewise
  const paramInputs: ValueInfoProto[] = paramsAsInputs
    ? g.params.filter((id) => names.has(id)).map((id) => ({ name: names.get(id)!, elemType: DT[g.values[id]!.dtype], shape: g.values[id]!.shape }))
    : [];
  // outputs that are graph inputs or constants need an Identity to be graph outputs of their own name
  const outputs: ValueInfoProto[] = g.outputs.map((id, i) => {
    const v = g.values[id]!;
    let n = names.get(id);
    if (n === undefined || (v.kind !== 'op' && !unfold.has(id))) {
      const o = unique(g.outputNames[i]!);
      nodes.push({ opType: 'Identity', inputs: [ctx.name(id)], outputs: [o] });
      n = o;
    }
    return { name: n, elemType: DT[v.dtype], shape: dims(id) };
  });
  return encodeModel({
    opset,
    graph: {
      name: 'cmid',
      nodes,
      inputs: [...g.inputs.map((id) => ({ name: names.get(id)!, elemType: DT[g.values[id]!.dtype], shape: dims(id) })), ...paramInputs],
      outputs,
      initializers,
    },
    ...(options.metadata ? { metadata: options.metadata } : {}),
  });
}
