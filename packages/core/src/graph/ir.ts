/**
 * The traced graph IR shared by the ONNX exporter and (later) the compiled training engine: tfjs kernel calls as
 * nodes over values with static shapes. Values are graph inputs, parameters (named by their state_dict key),
 * constants (folded at trace time, data kept) or node outputs.
 */
import type * as tf from '@tensorflow/tfjs';

export type IrDType = 'float32' | 'int32' | 'bool';

export interface IrValue {
  id: number;
  shape: number[];
  dtype: IrDType;
  kind: 'input' | 'param' | 'const' | 'op';
  /** Input or parameter name. */
  name?: string;
  /** Constant values. */
  data?: Float32Array | Int32Array | Uint8Array;
}

export interface IrNode {
  /** The tfjs kernel name, e.g. 'Conv2D'. */
  op: string;
  inputs: number[];
  outputs: number[];
  attrs: tf.NamedAttrMap;
  /** Names of the kernel's inputs, in the order of `inputs` (e.g. ['x', 'filter']). */
  inputNames: string[];
  /** All inputs were constants, so the outputs were folded into constants (kept for exporters that unfold). */
  folded?: boolean;
}

export interface IrGraph {
  values: IrValue[];
  nodes: IrNode[];
  /** Graph inputs in declaration order. */
  inputs: number[];
  /** Parameters in declaration order. */
  params: number[];
  outputs: number[];
  outputNames: string[];
}

/** Op counts, parameter count and an activation-memory estimate (sum of all op outputs), for `cmid` diagnostics. */
export function summarize(g: IrGraph): { ops: Record<string, number>; nodes: number; parameters: number; activationBytes: number } {
  const ops: Record<string, number> = {};
  for (const n of g.nodes) if (!n.folded) ops[n.op] = (ops[n.op] ?? 0) + 1;
  const size = (v: IrValue) => v.shape.reduce((a, b) => a * b, 1);
  const parameters = g.params.reduce((s, id) => s + size(g.values[id]!), 0);
  const activationBytes = g.values.filter((v) => v.kind === 'op').reduce((s, v) => s + 4 * size(v), 0);
  return { ops, nodes: g.nodes.filter((n) => !n.folded).length, parameters, activationBytes };
}

/** A readable dump: one line per node with op, input and output shapes. */
export function dumpGraph(g: IrGraph): string {
  const fmt = (id: number) => {
    const v = g.values[id]!;
    const label = v.kind === 'op' ? `%${id}` : v.kind === 'const' ? `const${id}` : `${v.kind}:${v.name}`;
    return `${label}[${v.shape.join(',')}]`;
  };
  const lines = g.nodes.filter((n) => !n.folded).map((n) => `${n.outputs.map(fmt).join(', ')} = ${n.op}(${n.inputs.map(fmt).join(', ')})`);
  const s = summarize(g);
  lines.push(`-- ${s.nodes} nodes, ${s.parameters} parameters, ~${(s.activationBytes / 2 ** 20).toFixed(1)} MiB of op outputs`);
  lines.push(`-- ops: ${Object.entries(s.ops).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  return lines.join('\n');
}
