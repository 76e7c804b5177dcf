/**
 * Convolution filters stored as OHWI inside a compiled training step.
 *
 * tfjs keeps conv filters as HWIO [kh, kw, Ci, Co]; onnxruntime's Conv and ConvTranspose take OIHW. The HWIO ->
 * OIHW transpose (perm [3, 2, 0, 1]) moves every axis, and onnxruntime runs such a transpose element by element:
 * 37 ms for one 3x3x512x512 filter, against 8.4 ms for OHWI -> OIHW ([0, 3, 1, 2], one axis moved), measured on
 * 2 threads. A training step reads every filter this way once per step.
 *
 * This rewrite keeps chosen 4D state (filters, their optimiser slots and accumulators, EMA teachers) in OHWI
 * ([3, 0, 1, 2] of the logical shape) from the graph's input to its output:
 * - their graph inputs and outputs take the OHWI shape (the trainer converts at its state boundary);
 * - pointwise ops (the optimiser, the EMA, gradient accumulation) run on OHWI values as they are, since every
 *   full-size operand is brought to the same layout and scalars broadcast alike;
 * - reductions over all axes read OHWI values as they are;
 * - every filter gradient comes out of its im2col Gemm as [Co, kh*kw*Ci], which is OHWI (Conv2DBackpropFilter
 *   becomes `CmidConv2DBackpropFilterOHWI`), so gradient sums, clipping norms and the update need no transpose;
 * - every other reader (the forward Conv2D, Conv2DBackpropInput, reshapes, ...) gets an explicit Transpose back to
 *   HWIO, which onnxruntime folds with the lowering's own HWIO -> OIHW transpose into the one-axis [0, 3, 1, 2].
 * Values and results are unchanged: only where the elements sit in memory differs.
 */
import { CmidError } from '../runtime/errors.js';
import type { IrGraph, IrNode, IrValue } from './ir.js';

/** Conv2DBackpropFilter whose output is OHWI [Co, kh, kw, Ci] (same inputs and attrs). */
export const CONV_FILTER_GRAD_OHWI = 'CmidConv2DBackpropFilterOHWI';

/** Logical HWIO [a, b, c, d] -> stored OHWI [d, a, b, c]. */
export const TO_OHWI = [3, 0, 1, 2] as const;
/** Stored OHWI -> logical HWIO. */
export const FROM_OHWI = [1, 2, 3, 0] as const;

export const ohwiShape = (s: readonly number[]): number[] => [s[3]!, s[0]!, s[1]!, s[2]!];

const POINTWISE = new Set([
  'Abs', 'Acos', 'Acosh', 'Asin', 'Asinh', 'Atan', 'Atanh', 'Ceil', 'ClipByValue', 'Cos', 'Cosh', 'Elu', 'Erf', 'Exp', 'Expm1', 'Floor',
  'Identity', 'LeakyRelu', 'Log', 'Log1p', 'Neg', 'Reciprocal', 'Relu', 'Relu6', 'Round', 'Rsqrt', 'Selu', 'Sigmoid', 'Sign', 'Sin', 'Sinh',
  'Softplus', 'Sqrt', 'Square', 'Step', 'Tan', 'Tanh', 'OnesLike', 'ZerosLike', 'IsNan', 'IsInf', 'IsFinite', 'LogicalNot', 'Cast',
  'Add', 'Sub', 'Multiply', 'RealDiv', 'Maximum', 'Minimum', 'Pow', 'SquaredDifference', 'FloorDiv', 'Mod', 'Atan2', 'DivNoNan',
  'Greater', 'GreaterEqual', 'Less', 'LessEqual', 'Equal', 'NotEqual', 'LogicalAnd', 'LogicalOr', 'LogicalXor', 'AddN', 'Select', 'SelectV2',
  'EluGrad',
]);
const REDUCTIONS = new Set(['Sum', 'Mean', 'Max', 'Min', 'Prod', 'All', 'Any']);

const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
const same = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

/**
 * Rewrites `g` so that the 4D inputs (parameters and inputs) named in `stored` are fed in OHWI, and the graph
 * outputs for which `outputStored(name)` is true are produced in OHWI. Other inputs and outputs are unchanged.
 */
export function storeFiltersOhwi(g: IrGraph, stored: ReadonlySet<string>, outputStored: (outputName: string) => boolean): IrGraph {
  const values: IrValue[] = g.values.map((v) => ({ ...v, shape: [...v.shape] }));
  /** The values whose data is OHWI (their IR shape is then the OHWI shape), with their logical HWIO shape. */
  const logical = new Map<number, number[]>();
  for (const v of values) {
    if ((v.kind === 'input' || v.kind === 'param') && v.name !== undefined && stored.has(v.name)) {
      if (v.shape.length !== 4) throw new CmidError('kernel', `filter layout: "${v.name}" is [${v.shape}], not a 4D filter.`);
      logical.set(v.id, v.shape);
      v.shape = ohwiShape(v.shape);
    }
  }
  if (logical.size === 0) return g;
  const nodes: IrNode[] = [];
  const newValue = (shape: number[], dtype: IrValue['dtype']): number => {
    const id = values.length;
    values.push({ id, shape, dtype, kind: 'op' });
    return id;
  };
  const toLogicalCache = new Map<number, number>();
  const toOhwiCache = new Map<number, number>();
  const toLogical = (id: number): number => {
    let r = toLogicalCache.get(id);
    if (r === undefined) {
      r = newValue([...logical.get(id)!], values[id]!.dtype);
      nodes.push({ op: 'Transpose', inputs: [id], outputs: [r], attrs: { perm: [...FROM_OHWI] }, inputNames: ['x'] });
      toLogicalCache.set(id, r);
    }
    return r;
  };
  const toOhwi = (id: number): number => {
    let r = toOhwiCache.get(id);
    if (r === undefined) {
      const shape = values[id]!.shape;
      r = newValue(ohwiShape(shape), values[id]!.dtype);
      logical.set(r, [...shape]);
      nodes.push({ op: 'Transpose', inputs: [id], outputs: [r], attrs: { perm: [...TO_OHWI] }, inputNames: ['x'] });
      toOhwiCache.set(id, r);
    }
    return r;
  };
  const markOhwi = (id: number) => {
    const shape = values[id]!.shape;
    logical.set(id, [...shape]);
    values[id]!.shape = ohwiShape(shape);
  };

  for (const n of g.nodes) {
    if (n.op === 'Conv2DBackpropFilter' && !n.folded) {
      // a filter gradient meets the filter's OHWI optimiser state: make it in OHWI
      nodes.push({ ...n, op: CONV_FILTER_GRAD_OHWI });
      markOhwi(n.outputs[0]!);
      continue;
    }
    if (n.folded || !n.inputs.some((i) => logical.has(i))) {
      nodes.push(n);
      continue;
    }
    if (POINTWISE.has(n.op)) {
      // the full-size operands: every non-scalar input must have the output's (logical) shape
      const outShape = g.values[n.outputs[0]!]!.shape;
      const full = (id: number) => same(logical.get(id) ?? values[id]!.shape, outShape);
      const scalar = (id: number) => !logical.has(id) && size(values[id]!.shape) === 1;
      if (outShape.length === 4 && n.inputs.every((i) => full(i) || scalar(i))) {
        nodes.push({ ...n, inputs: n.inputs.map((i) => (logical.has(i) || scalar(i) ? i : toOhwi(i))) });
        for (const o of n.outputs) markOhwi(o);
        continue;
      }
    }
    if (REDUCTIONS.has(n.op) && n.inputs.length === 1) {
      const a = n.attrs as { axis?: number | number[] | null };
      const axes = new Set((a.axis === undefined || a.axis === null ? [0, 1, 2, 3] : Array.isArray(a.axis) ? a.axis : [a.axis]).map((x) => (x < 0 ? x + 4 : x)));
      if (axes.size === 4) {
        nodes.push(n); // a reduction over every axis does not depend on the order of the elements
        continue;
      }
    }
    nodes.push({ ...n, inputs: n.inputs.map((i) => (logical.has(i) ? toLogical(i) : i)) });
  }

  // graph outputs in the layout their consumers expect
  const outputs = g.outputs.map((id, k) => {
    const want = outputStored(g.outputNames[k]!);
    if (want && !logical.has(id)) {
      if (values[id]!.shape.length !== 4) throw new CmidError('kernel', `filter layout: output "${g.outputNames[k]}" is [${values[id]!.shape}], not a 4D filter.`);
      return toOhwi(id);
    }
    return !want && logical.has(id) ? toLogical(id) : id;
  });

  return { ...g, values, nodes, outputs };
}
