/**
 * What every ONNX lowering (lower.ts, lower-grad.ts) works with: the context the encoder provides and the small
 * helpers that emit nodes and read a traced node's inputs.
 */
import type { IrGraph, IrNode, IrValue } from '../graph/ir.js';
import type { AttributeValue, NodeProto, TensorProto } from './proto.js';

export interface LowerContext {
  graph: IrGraph;
  nodes: NodeProto[];
  initializers: TensorProto[];
  /** ONNX value name of an IR value. */
  name(id: number): string;
  /** A fresh intermediate name. */
  fresh(hint: string): string;
  /** An int64 constant initializer; returns its name. */
  ints(values: readonly number[], hint?: string): string;
  floatConst(values: readonly number[], hint?: string): string;
  /** Per value: which dims vary with the batch size (undefined: static graph). */
  batchDims(id: number): boolean[] | undefined;
}

export type Lowering = (n: IrNode, c: LowerContext) => void;

export const ints = (v: readonly number[]): AttributeValue => ({ type: 'ints', value: v });
export const int = (v: number): AttributeValue => ({ type: 'int', value: v });
export const float = (v: number): AttributeValue => ({ type: 'float', value: v });
export const str = (v: string): AttributeValue => ({ type: 'string', value: v });

export function emit(c: LowerContext, opType: string, inputs: string[], outputs: string[], attributes?: Record<string, AttributeValue>): void {
  c.nodes.push({ opType, inputs, outputs, ...(attributes ? { attributes } : {}) });
}

export const valueOf = (c: LowerContext, id: number): IrValue => c.graph.values[id]!;
export const inp = (n: IrNode, c: LowerContext, i: number) => c.name(n.inputs[i]!);
export const out = (n: IrNode, c: LowerContext, i = 0) => c.name(n.outputs[i]!);
/** The value id of a named kernel input, or -1 when the kernel was called without it (optional bias). */
export const byName = (n: IrNode, name: string): number => {
  const i = n.inputNames.indexOf(name);
  return i < 0 ? -1 : n.inputs[i]!;
};
export const normAxis = (axis: number, rank: number) => (axis < 0 ? axis + rank : axis);

export function transpose(c: LowerContext, x: string, perm: number[], hint = 't'): string {
  const y = c.fresh(hint);
  emit(c, 'Transpose', [x], [y], { perm: ints(perm) });
  return y;
}
