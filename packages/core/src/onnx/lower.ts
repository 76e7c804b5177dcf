/**
 * Lowering of traced tfjs kernels to ONNX nodes (opset 17). tfjs keeps NHWC; ONNX convolutions and pools are
 * NCHW, so each is wrapped in a Transpose pair, which onnxruntime's transpose optimiser cancels between
 * consecutive ops (measured: no cost, see shared/spec/js-runtime.md section 10). Shapes are static from the trace;
 * `batchDynamic` marks, per value, which dims change with the batch size so Reshape targets can use -1.
 */
import * as tf from '@tensorflow/tfjs';
import { CmidError } from '../runtime/errors.js';
import type { IrNode } from '../graph/ir.js';
import { WHERE_POSITIVE } from '../graph/fuse.js';
import { TensorDataType, type AttributeValue } from './proto.js';
import { GRAD_LOWERINGS } from './lower-grad.js';
import { byName, emit, float, inp, int, ints, normAxis, out, transpose, valueOf, type LowerContext, type Lowering } from './lower-util.js';

export type { LowerContext } from './lower-util.js';

const v = valueOf;

/** A Reshape target honouring the batch dims: a varying dim becomes -1 (at most one may vary). */
function reshapeTarget(c: LowerContext, outId: number): string {
  const shape = [...v(c, outId).shape];
  const dyn = c.batchDims(outId);
  if (dyn !== undefined) {
    const varying = dyn.map((d, i) => (d ? i : -1)).filter((i) => i >= 0);
    if (varying.length > 1) {
      throw new CmidError('kernel', `ONNX export: a Reshape to [${shape}] has ${varying.length} batch-dependent dims; export with dynamicBatch: false.`);
    }
    for (const i of varying) shape[i] = -1;
  }
  return c.ints(shape, 'shape');
}

function unary(onnx: string): Lowering {
  return (n, c) => emit(c, onnx, [inp(n, c, 0)], [out(n, c)]);
}
function binary(onnx: string): Lowering {
  return (n, c) => emit(c, onnx, [inp(n, c, 0), inp(n, c, 1)], [out(n, c)]);
}

function convPads(n: IrNode, c: LowerContext, xShape: number[], filterShape: number[], depthwise: boolean) {
  const a = n.attrs as unknown as { strides: number | [number, number]; pad: unknown; dilations?: number | [number, number]; dimRoundingMode?: 'floor' | 'round' | 'ceil' };
  const info = tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number], filterShape as [number, number, number, number], a.strides,
    a.dilations ?? 1, a.pad as 'same', a.dimRoundingMode, depthwise, 'channelsLast');
  const p = info.padInfo;
  return { info, pads: [p.top, p.left, p.bottom, p.right] };
}

const conv2d: Lowering = (n, c) => {
  const x = byName(n, 'x'), f = byName(n, 'filter');
  const xShape = v(c, x).shape, fShape = v(c, f).shape;
  const { info, pads } = convPads(n, c, xShape, fShape, false);
  const xt = transpose(c, c.name(x), [0, 3, 1, 2], 'x_nchw');
  const wt = transpose(c, c.name(f), [3, 2, 0, 1], 'w_oihw');
  const inputs = [xt, wt];
  const bias = byName(n, 'bias');
  if (bias >= 0) inputs.push(c.name(bias));
  const y = c.fresh('conv_nchw');
  emit(c, 'Conv', inputs, [y], {
    strides: ints([info.strideHeight, info.strideWidth]), dilations: ints([info.dilationHeight, info.dilationWidth]), pads: ints(pads),
  });
  const act = (n.attrs as { activation?: string }).activation;
  if (act !== undefined && act !== 'linear') {
    const yt = transpose(c, y, [0, 2, 3, 1]);
    activation(c, act, yt, out(n, c), n);
  } else {
    emit(c, 'Transpose', [y], [out(n, c)], { perm: ints([0, 2, 3, 1]) });
  }
};

const depthwise: Lowering = (n, c) => {
  const x = byName(n, 'x'), f = byName(n, 'filter');
  const xShape = v(c, x).shape, fShape = v(c, f).shape; // [kh, kw, C, m]
  const { info, pads } = convPads(n, c, xShape, fShape, true);
  const [kh, kw, C, m] = fShape as [number, number, number, number];
  const fr = c.fresh('dw');
  emit(c, 'Reshape', [c.name(f), c.ints([kh, kw, 1, C * m])], [fr]);
  const wt = transpose(c, fr, [3, 2, 0, 1], 'w_oihw');
  const xt = transpose(c, c.name(x), [0, 3, 1, 2], 'x_nchw');
  const inputs = [xt, wt];
  const bias = byName(n, 'bias');
  if (bias >= 0) inputs.push(c.name(bias));
  const y = c.fresh('dwconv_nchw');
  emit(c, 'Conv', inputs, [y], {
    group: int(C), strides: ints([info.strideHeight, info.strideWidth]), dilations: ints([info.dilationHeight, info.dilationWidth]), pads: ints(pads),
  });
  const act = (n.attrs as { activation?: string }).activation;
  if (act !== undefined && act !== 'linear') activation(c, act, transpose(c, y, [0, 2, 3, 1]), out(n, c), n);
  else emit(c, 'Transpose', [y], [out(n, c)], { perm: ints([0, 2, 3, 1]) });
};

function activation(c: LowerContext, act: string, x: string, y: string, n: IrNode): void {
  switch (act) {
    case 'relu': emit(c, 'Relu', [x], [y]); break;
    case 'relu6': emit(c, 'Clip', [x, c.floatConst([0]), c.floatConst([6])], [y]); break;
    case 'sigmoid': emit(c, 'Sigmoid', [x], [y]); break;
    case 'elu': emit(c, 'Elu', [x], [y]); break;
    case 'leakyrelu': emit(c, 'LeakyRelu', [x], [y], { alpha: float((n.attrs as { leakyreluAlpha?: number }).leakyreluAlpha ?? 0.2) }); break;
    default: throw new CmidError('kernel', `ONNX export: activation "${act}" of ${n.op} has no lowering yet.`);
  }
}

function pool(onnx: 'MaxPool' | 'AveragePool'): Lowering {
  return (n, c) => {
    const x = n.inputs[0]!;
    const a = n.attrs as unknown as { filterSize: number | [number, number]; strides: number | [number, number]; pad: unknown; dimRoundingMode?: 'floor' | 'round' | 'ceil' };
    const info = tf.backend_util.computePool2DInfo(v(c, x).shape as [number, number, number, number], a.filterSize, a.strides, 1, a.pad as 'same', a.dimRoundingMode);
    const p = info.padInfo;
    const xt = transpose(c, c.name(x), [0, 3, 1, 2], 'x_nchw');
    const y = c.fresh('pool_nchw');
    const attrs: Record<string, AttributeValue> = {
      kernel_shape: ints([info.filterHeight, info.filterWidth]), strides: ints([info.strideHeight, info.strideWidth]),
      pads: ints([p.top, p.left, p.bottom, p.right]),
    };
    if (onnx === 'AveragePool') attrs.count_include_pad = int(0); // tfjs averages over valid cells only
    emit(c, onnx, [xt], [y], attrs);
    emit(c, 'Transpose', [y], [out(n, c)], { perm: ints([0, 2, 3, 1]) });
  };
}

/**
 * Inference batch norm (tf.batchNorm, channels last) as one ONNX BatchNormalization between two transposes that move
 * the channel axis to 1 and back. onnxruntime cancels the transposes against those around the neighbouring
 * convolution and folds a BatchNormalization with constant statistics into that convolution's weights (and, in NCHWc
 * layout, the ReLU and residual add after it); the decomposed Sub/Mul/Add form blocked both.
 */
const batchNorm: Lowering = (n, c) => {
  const eps = (n.attrs as { varianceEpsilon?: number }).varianceEpsilon ?? 0.001;
  const xId = byName(n, 'x');
  const shape = v(c, xId).shape;
  const rank = shape.length, C = shape[rank - 1]!;
  if (rank < 2) throw new CmidError('kernel', `ONNX lowering of FusedBatchNorm: a rank-${rank} input has no batch axis.`);
  // BatchNormalization takes [C] statistics; tf.batchNorm also accepts [1, ..., C] and a single value
  const perChannel = (name: string, fill: number): string => {
    const id = byName(n, name);
    if (id < 0) return c.floatConst(new Array<number>(C).fill(fill), `bn_${name}`);
    const s = v(c, id).shape;
    if (s.length === 1 && s[0] === C) return c.name(id);
    const r = c.fresh(`bn_${name}`);
    if (s.reduce((a, d) => a * d, 1) === C) emit(c, 'Reshape', [c.name(id), c.ints([C])], [r]);
    else emit(c, 'Expand', [c.name(id), c.ints([C])], [r]);
    return r;
  };
  const inputs = [perChannel('scale', 1), perChannel('offset', 0), perChannel('mean', 0), perChannel('variance', 1)];
  const x = c.name(xId);
  if (rank === 2) {
    emit(c, 'BatchNormalization', [x, ...inputs], [out(n, c)], { epsilon: float(eps) });
    return;
  }
  const toFirst = [0, rank - 1, ...Array.from({ length: rank - 2 }, (_, k) => k + 1)];
  const toLast = [0, ...Array.from({ length: rank - 2 }, (_, k) => k + 2), 1];
  const xt = transpose(c, x, toFirst, 'bn_in');
  const y = c.fresh('bn_out');
  emit(c, 'BatchNormalization', [xt, ...inputs], [y], { epsilon: float(eps) });
  emit(c, 'Transpose', [y], [out(n, c)], { perm: ints(toLast) });
};

function reduce(onnx: 'ReduceMean' | 'ReduceSum' | 'ReduceMax' | 'ReduceMin' | 'ReduceProd'): Lowering {
  return (n, c) => {
    const rank = v(c, n.inputs[0]!).shape.length;
    const a = n.attrs as { axis?: number | number[] | null; reductionIndices?: number | number[] | null }; // Max names it reductionIndices
    const raw = a.axis ?? a.reductionIndices; // tf.max(x) / tf.min(x) over all axes pass reductionIndices: null
    const axes = (raw === undefined || raw === null ? [...Array(rank).keys()] : Array.isArray(raw) ? raw : [raw]).map((a) => normAxis(a, rank));
    const keepdims = (n.attrs as { keepDims?: boolean }).keepDims ? 1 : 0;
    // opset 17: ReduceSum takes its axes as an input, the other reductions as an attribute
    if (onnx === 'ReduceSum') emit(c, onnx, [inp(n, c, 0), c.ints(axes)], [out(n, c)], { keepdims: int(keepdims) });
    else emit(c, onnx, [inp(n, c, 0)], [out(n, c)], { axes: ints(axes), keepdims: int(keepdims) });
  };
}

const matmul: Lowering = (n, c) => {
  const a = n.attrs as { transposeA?: boolean; transposeB?: boolean; activation?: string };
  const aId = byName(n, 'a'), bId = byName(n, 'b');
  const swapLast = (id: number, name: string) => {
    const r = v(c, id).shape.length;
    const perm = [...Array(r).keys()];
    [perm[r - 1], perm[r - 2]] = [perm[r - 2]!, perm[r - 1]!];
    return transpose(c, name, perm);
  };
  const A = a.transposeA ? swapLast(aId, c.name(aId)) : c.name(aId);
  const B = a.transposeB ? swapLast(bId, c.name(bId)) : c.name(bId);
  const bias = byName(n, 'bias');
  const act = a.activation;
  const needsPost = bias >= 0 || (act !== undefined && act !== 'linear');
  const mm = needsPost ? c.fresh('mm') : out(n, c);
  emit(c, 'MatMul', [A, B], [mm]);
  if (!needsPost) return;
  let cur = mm;
  if (bias >= 0) {
    const biased = act !== undefined && act !== 'linear' ? c.fresh('mm_b') : out(n, c);
    emit(c, 'Add', [cur, c.name(bias)], [biased]);
    cur = biased;
  }
  if (act !== undefined && act !== 'linear') activation(c, act, cur, out(n, c), n);
};

/** A reshape to the same shape (tf.batchNorm wraps its kernel in two) is an Identity, which onnxruntime removes; a
 * Reshape node would stop its transpose optimiser from cancelling the layout transposes on either side. */
const reshapeLike: Lowering = (n, c) => {
  const i = n.inputs[0]!, o = n.outputs[0]!;
  const same = (a: readonly unknown[] | undefined, b: readonly unknown[] | undefined) => a === b || (!!a && !!b && a.length === b.length && a.every((x, k) => x === b[k]));
  if (same(v(c, i).shape, v(c, o).shape) && same(c.batchDims(i), c.batchDims(o))) return emit(c, 'Identity', [inp(n, c, 0)], [out(n, c)]);
  emit(c, 'Reshape', [inp(n, c, 0), reshapeTarget(c, o)], [out(n, c)]);
};

const ONNX_DTYPE: Record<string, number> = { float32: TensorDataType.FLOAT, int32: TensorDataType.INT32, bool: TensorDataType.BOOL };

export const LOWERINGS: Record<string, Lowering> = {
  Conv2D: conv2d,
  FusedConv2D: conv2d,
  DepthwiseConv2dNative: depthwise,
  FusedDepthwiseConv2D: depthwise,
  MaxPool: pool('MaxPool'),
  AvgPool: pool('AveragePool'),
  FusedBatchNorm: batchNorm,
  BatchMatMul: matmul,
  _FusedMatMul: matmul,
  Add: binary('Add'), Sub: binary('Sub'), Multiply: binary('Mul'), RealDiv: binary('Div'), Maximum: binary('Max'), Minimum: binary('Min'),
  Pow: binary('Pow'), Greater: binary('Greater'), Less: binary('Less'), Equal: binary('Equal'), GreaterEqual: binary('GreaterOrEqual'),
  LessEqual: binary('LessOrEqual'), LogicalAnd: binary('And'), LogicalOr: binary('Or'),
  SquaredDifference: (n, c) => {
    const d = c.fresh('sqd');
    emit(c, 'Sub', [inp(n, c, 0), inp(n, c, 1)], [d]);
    emit(c, 'Mul', [d, d], [out(n, c)]);
  },
  AddN: (n, c) => emit(c, 'Sum', n.inputs.map((id) => c.name(id)), [out(n, c)]),
  Relu: unary('Relu'), Sigmoid: unary('Sigmoid'), Tanh: unary('Tanh'), Exp: unary('Exp'), Log: unary('Log'), Sqrt: unary('Sqrt'),
  Neg: unary('Neg'), Abs: unary('Abs'), Erf: unary('Erf'), Floor: unary('Floor'), Ceil: unary('Ceil'), Round: unary('Round'),
  Sign: unary('Sign'), Reciprocal: unary('Reciprocal'), Sin: unary('Sin'), Cos: unary('Cos'), Elu: unary('Elu'), Softplus: unary('Softplus'),
  LogicalNot: unary('Not'), Identity: unary('Identity'),
  Rsqrt: (n, c) => {
    const s = c.fresh('sqrt');
    emit(c, 'Sqrt', [inp(n, c, 0)], [s]);
    emit(c, 'Reciprocal', [s], [out(n, c)]);
  },
  Square: (n, c) => emit(c, 'Mul', [inp(n, c, 0), inp(n, c, 0)], [out(n, c)]),
  Relu6: (n, c) => emit(c, 'Clip', [inp(n, c, 0), c.floatConst([0]), c.floatConst([6])], [out(n, c)]),
  // dy * float(x > 0): onnxruntime's Where is not vectorised, so Greater + Cast + Mul is faster than Greater + Where
  // (13.6 against 19.7 ms on [8, 256, 56, 56], 2 threads) and keeps tfjs's own semantics for a non-finite dy
  [WHERE_POSITIVE]: (n, c) => {
    const pos = c.fresh('pos'), mask = c.fresh('pos_f');
    emit(c, 'Greater', [inp(n, c, 0), c.floatConst([0])], [pos]);
    emit(c, 'Cast', [pos], [mask], { to: int(TensorDataType.FLOAT) });
    emit(c, 'Mul', [inp(n, c, 1), mask], [out(n, c)]);
  },
  LeakyRelu: (n, c) => emit(c, 'LeakyRelu', [inp(n, c, 0)], [out(n, c)], { alpha: float((n.attrs as { alpha: number }).alpha) }),
  Cast: (n, c) => emit(c, 'Cast', [inp(n, c, 0)], [out(n, c)], { to: int(ONNX_DTYPE[(n.attrs as { dtype: string }).dtype] ?? 1) }),
  Reshape: reshapeLike,
  ExpandDims: reshapeLike,
  Squeeze: reshapeLike,
  Transpose: (n, c) => emit(c, 'Transpose', [inp(n, c, 0)], [out(n, c)], { perm: ints((n.attrs as { perm: number[] }).perm) }),
  Softmax: (n, c) => {
    const rank = v(c, n.inputs[0]!).shape.length;
    const dim = (n.attrs as { dim?: number }).dim ?? -1;
    emit(c, 'Softmax', [inp(n, c, 0)], [out(n, c)], { axis: int(normAxis(dim, rank)) });
  },
  Mean: reduce('ReduceMean'), Sum: reduce('ReduceSum'), Max: reduce('ReduceMax'), Min: reduce('ReduceMin'), Prod: reduce('ReduceProd'),
  Concat: (n, c) => {
    const rank = v(c, n.outputs[0]!).shape.length;
    emit(c, 'Concat', n.inputs.map((id) => c.name(id)), [out(n, c)], { axis: int(normAxis((n.attrs as { axis: number }).axis, rank)) });
  },
  Slice: (n, c) => {
    const a = n.attrs as { begin: number | number[]; size: number | number[] };
    const inShape = v(c, n.inputs[0]!).shape;
    const begin = Array.isArray(a.begin) ? a.begin : [a.begin];
    const size = Array.isArray(a.size) ? a.size : [a.size];
    const dyn = c.batchDims(n.inputs[0]!);
    const starts: number[] = [], ends: number[] = [], axes: number[] = [];
    inShape.forEach((d, i) => {
      const b = begin[i] ?? 0;
      const s = size[i] === undefined || size[i] === -1 ? d - b : size[i]!;
      if (b === 0 && s === d) return; // full axis: nothing to slice (and batch-safe)
      if (dyn?.[i]) throw new CmidError('kernel', 'ONNX export: Slice along the batch axis cannot be made dynamic; export with dynamicBatch: false.');
      starts.push(b); ends.push(b + s); axes.push(i);
    });
    if (axes.length === 0) return emit(c, 'Identity', [inp(n, c, 0)], [out(n, c)]);
    emit(c, 'Slice', [inp(n, c, 0), c.ints(starts), c.ints(ends), c.ints(axes)], [out(n, c)]);
  },
  GatherV2: (n, c) => {
    const a = n.attrs as { axis: number; batchDims?: number };
    if ((a.batchDims ?? 0) !== 0) throw new CmidError('kernel', 'ONNX export: GatherV2 with batchDims > 0 has no lowering yet.');
    const rank = v(c, n.inputs[0]!).shape.length;
    emit(c, 'Gather', [c.name(byName(n, 'x')), c.name(byName(n, 'indices'))], [out(n, c)], { axis: int(normAxis(a.axis, rank)) });
  },
  PadV2: (n, c) => {
    const a = n.attrs as { paddings: [number, number][]; constantValue: number };
    const pads = [...a.paddings.map((p) => p[0]), ...a.paddings.map((p) => p[1])];
    emit(c, 'Pad', [inp(n, c, 0), c.ints(pads), c.floatConst([a.constantValue])], [out(n, c)], { mode: { type: 'string', value: 'constant' } });
  },
  Tile: (n, c) => emit(c, 'Tile', [inp(n, c, 0), c.ints((n.attrs as { reps: number[] }).reps)], [out(n, c)]),
  Pack: (n, c) => {
    const rank = v(c, n.outputs[0]!).shape.length;
    const axis = normAxis((n.attrs as { axis: number }).axis, rank);
    const parts = n.inputs.map((id) => {
      const u = c.fresh('unsq');
      emit(c, 'Unsqueeze', [c.name(id), c.ints([axis])], [u]);
      return u;
    });
    emit(c, 'Concat', parts, [out(n, c)], { axis: int(axis) });
  },
  Unpack: (n, c) => {
    const rank = v(c, n.inputs[0]!).shape.length;
    const axis = normAxis((n.attrs as { axis: number }).axis, rank);
    const parts = n.outputs.map(() => c.fresh('split'));
    emit(c, 'Split', [inp(n, c, 0), c.ints(n.outputs.map(() => 1))], parts, { axis: int(axis) });
    parts.forEach((p, i) => emit(c, 'Squeeze', [p, c.ints([axis])], [out(n, c, i)]));
  },
  SplitV: (n, c) => {
    const rank = v(c, n.inputs[0]!).shape.length;
    const axis = normAxis((n.attrs as { axis: number }).axis, rank);
    const sizes = n.outputs.map((id) => v(c, id).shape[axis]!);
    emit(c, 'Split', [inp(n, c, 0), c.ints(sizes)], n.outputs.map((id) => c.name(id)), { axis: int(axis) });
  },
  ...GRAD_LOWERINGS,
};

/** Lower one node, or throw naming the op that has no lowering. */
export function lowerNode(n: IrNode, c: LowerContext): void {
  const f = LOWERINGS[n.op];
  if (f === undefined) {
    throw new CmidError('kernel', `ONNX export: tfjs kernel "${n.op}" has no ONNX lowering yet (used with inputs ${n.inputs.map((id) => `[${c.graph.values[id]!.shape}]`).join(', ')}). Add one in packages/core/src/onnx/lower.ts.`);
  }
  f(n, c);
}

