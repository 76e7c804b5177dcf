/**
 * Output shapes and dtypes of tfjs kernels, for tracing without arithmetic (graph/symbolic-backend.ts). One rule
 * per kernel name; a kernel without a rule can still be traced when all its inputs are constants (it is then
 * evaluated on the cpu backend and folded), otherwise the trace stops with an error naming the kernel.
 */
import * as tf from '@tensorflow/tfjs';

export type DType = 'float32' | 'int32' | 'bool';
export interface ShapeOf {
  shape: number[];
  dtype: DType;
}
export type ShapeRule = (inputs: Record<string, ShapeOf>, attrs: Record<string, unknown>, order: string[]) => ShapeOf[];

const first = (inputs: Record<string, ShapeOf>, order: string[]): ShapeOf => inputs[order[0]!]!;
const normAxis = (axis: number, rank: number) => (axis < 0 ? axis + rank : axis);
const toArray = (v: unknown): number[] => (Array.isArray(v) ? (v as number[]) : [v as number]);

const sameAsFirst: ShapeRule = (i, _a, o) => [{ ...first(i, o), shape: [...first(i, o).shape] }];
const toBool: ShapeRule = (i, _a, o) => [{ shape: [...first(i, o).shape], dtype: 'bool' }];

function broadcast(...shapes: number[][]): number[] {
  return shapes.reduce((a, b) => tf.broadcast_util.assertAndGetBroadcastShape(a, b));
}
const binary: ShapeRule = (i, _a, o) => [{ shape: broadcast(i[o[0]!]!.shape, i[o[1]!]!.shape), dtype: i[o[0]!]!.dtype }];
const compare: ShapeRule = (i, _a, o) => [{ shape: broadcast(i[o[0]!]!.shape, i[o[1]!]!.shape), dtype: 'bool' }];

function reduceRule(dtype?: DType): ShapeRule {
  return (i, a, o) => {
    const x = first(i, o);
    const rank = x.shape.length;
    const raw = a.axis ?? a.reductionIndices;
    const axes = (raw === undefined || raw === null ? [...Array(rank).keys()] : toArray(raw)).map((ax) => normAxis(ax, rank));
    const keep = Boolean(a.keepDims);
    const shape = keep ? x.shape.map((d, k) => (axes.includes(k) ? 1 : d)) : x.shape.filter((_, k) => !axes.includes(k));
    return [{ shape, dtype: dtype ?? x.dtype }];
  };
}
const argReduce: ShapeRule = (i, a, o) => {
  const x = first(i, o);
  const axis = normAxis(toArray(a.axis)[0]!, x.shape.length);
  return [{ shape: x.shape.filter((_, k) => k !== axis), dtype: 'int32' }];
};

function conv(depthwise: boolean): ShapeRule {
  return (i, a) => {
    const x = i.x!, f = i.filter!;
    const info = tf.backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number], f.shape as [number, number, number, number], a.strides as [number, number],
      (a.dilations as number) ?? 1, a.pad as 'same', a.dimRoundingMode as 'floor' | undefined, depthwise, 'channelsLast');
    return [{ shape: [...info.outShape], dtype: 'float32' }];
  };
}
const pool: ShapeRule = (i, a, o) => {
  const x = first(i, o);
  const info = tf.backend_util.computePool2DInfo(x.shape as [number, number, number, number], a.filterSize as [number, number],
    a.strides as [number, number], 1, a.pad as 'same', a.dimRoundingMode as 'floor' | undefined);
  return [{ shape: [...info.outShape], dtype: x.dtype }];
};

const matmul: ShapeRule = (i, a) => {
  const A = i.a!.shape, B = i.b!.shape;
  const ra = A.length, rb = B.length;
  const m = a.transposeA ? A[ra - 1]! : A[ra - 2]!;
  const n = a.transposeB ? B[rb - 2]! : B[rb - 1]!;
  const batch = broadcast(A.slice(0, -2), B.slice(0, -2));
  return [{ shape: [...batch, m, n], dtype: 'float32' }];
};

function inferReshape(size: number, target: number[]): number[] {
  return tf.util.inferFromImplicitShape([...target], size);
}

const sizeOf = (s: number[]) => s.reduce((p, d) => p * d, 1);

export const SHAPE_RULES: Record<string, ShapeRule> = {
  // elementwise
  ...Object.fromEntries(
    ['Abs', 'Acos', 'Acosh', 'Asin', 'Asinh', 'Atan', 'Atanh', 'Ceil', 'ClipByValue', 'Cos', 'Cosh', 'Elu', 'Erf', 'Exp', 'Expm1', 'Floor',
      'Identity', 'LeakyRelu', 'Log', 'Log1p', 'Neg', 'Reciprocal', 'Relu', 'Relu6', 'Round', 'Rsqrt', 'Selu', 'Sigmoid', 'Sign', 'Sin',
      'Sinh', 'Softplus', 'Sqrt', 'Square', 'Step', 'Tan', 'Tanh', 'OnesLike', 'ZerosLike', 'Softmax', 'EluGrad', 'Prelu', 'Reverse']
      .map((k) => [k, sameAsFirst]),
  ),
  IsNan: toBool,
  IsInf: toBool,
  IsFinite: toBool,
  LogicalNot: toBool,
  Cast: (i, a, o) => [{ shape: [...first(i, o).shape], dtype: a.dtype as DType }],
  Add: binary, Sub: binary, Multiply: binary, RealDiv: binary, Maximum: binary, Minimum: binary, Pow: binary, SquaredDifference: binary,
  FloorDiv: binary, Mod: binary, Atan2: binary, DivNoNan: binary,
  Greater: compare, GreaterEqual: compare, Less: compare, LessEqual: compare, Equal: compare, NotEqual: compare,
  LogicalAnd: compare, LogicalOr: compare, LogicalXor: compare,
  AddN: (i, _a, o) => [{ shape: broadcast(...o.map((k) => i[k]!.shape)), dtype: first(i, o).dtype }],
  Select: (i) => [{ shape: broadcast(i.condition!.shape, i.t!.shape, i.e!.shape), dtype: i.t!.dtype }],
  SelectV2: (i) => [{ shape: broadcast(i.condition!.shape, i.t!.shape, i.e!.shape), dtype: i.t!.dtype }],
  // reductions
  Sum: reduceRule(), Mean: reduceRule(), Max: reduceRule(), Min: reduceRule(), Prod: reduceRule(), All: reduceRule('bool'), Any: reduceRule('bool'),
  ArgMax: argReduce, ArgMin: argReduce,
  // shape ops
  Reshape: (i, a, o) => [{ shape: inferReshape(sizeOf(first(i, o).shape), a.shape as number[]), dtype: first(i, o).dtype }],
  ExpandDims: (i, a, o) => {
    const x = first(i, o);
    const rank = x.shape.length + 1;
    const dim = normAxis(a.dim as number, rank);
    const shape = [...x.shape];
    shape.splice(dim, 0, 1);
    return [{ shape, dtype: x.dtype }];
  },
  Squeeze: (i, a, o) => {
    const x = first(i, o);
    return [{ shape: tf.util.squeezeShape(x.shape, a.axis as number[] | undefined).newShape, dtype: x.dtype }];
  },
  Transpose: (i, a, o) => [{ shape: (a.perm as number[]).map((p) => first(i, o).shape[p]!), dtype: first(i, o).dtype }],
  Tile: (i, a, o) => [{ shape: first(i, o).shape.map((d, k) => d * (a.reps as number[])[k]!), dtype: first(i, o).dtype }],
  BroadcastTo: (i, a, o) => [{ shape: [...(a.shape as number[])], dtype: first(i, o).dtype }],
  PadV2: (i, a, o) => [{ shape: first(i, o).shape.map((d, k) => d + (a.paddings as [number, number][])[k]![0] + (a.paddings as [number, number][])[k]![1]), dtype: first(i, o).dtype }],
  MirrorPad: (i, a, o) => [{ shape: first(i, o).shape.map((d, k) => d + (a.paddings as [number, number][])[k]![0] + (a.paddings as [number, number][])[k]![1]), dtype: first(i, o).dtype }],
  Slice: (i, a, o) => {
    const x = first(i, o);
    const begin = toArray(a.begin), size = toArray(a.size);
    return [{ shape: x.shape.map((d, k) => (size[k] === undefined || size[k] === -1 ? d - (begin[k] ?? 0) : size[k]!)), dtype: x.dtype }];
  },
  StridedSlice: (i, a, o) => {
    const x = first(i, o);
    const info = tf.slice_util.sliceInfo(x.shape, a.begin as number[], a.end as number[], a.strides as number[], a.beginMask as number,
      a.endMask as number, a.ellipsisMask as number, a.newAxisMask as number, a.shrinkAxisMask as number);
    return [{ shape: [...info.finalShape], dtype: x.dtype }];
  },
  Concat: (i, a, o) => {
    const shapes = o.map((k) => i[k]!.shape);
    const axis = normAxis(toArray(a.axis)[0]!, shapes[0]!.length);
    const shape = [...shapes[0]!];
    shape[axis] = shapes.reduce((s, sh) => s + sh[axis]!, 0);
    return [{ shape, dtype: first(i, o).dtype }];
  },
  Pack: (i, a, o) => {
    const x = first(i, o);
    const axis = normAxis(a.axis as number, x.shape.length + 1);
    const shape = [...x.shape];
    shape.splice(axis, 0, o.length);
    return [{ shape, dtype: x.dtype }];
  },
  Unpack: (i, a, o) => {
    const x = first(i, o);
    const axis = normAxis(a.axis as number, x.shape.length);
    const shape = x.shape.filter((_, k) => k !== axis);
    return Array.from({ length: x.shape[axis]! }, () => ({ shape: [...shape], dtype: x.dtype }));
  },
  SplitV: (i, a, o) => {
    const x = first(i, o);
    const axis = normAxis(a.axis as number, x.shape.length);
    const sizes = tf.backend_util.prepareSplitSize({ shape: x.shape } as unknown as tf.Tensor, a.numOrSizeSplits as number | number[], axis);
    return sizes.map((s) => ({ shape: x.shape.map((d, k) => (k === axis ? s : d)), dtype: x.dtype }));
  },
  GatherV2: (i, a) => {
    const x = i.x!, idx = i.indices!;
    const axis = normAxis(a.axis as number, x.shape.length);
    const bd = (a.batchDims as number) ?? 0;
    return [{ shape: [...x.shape.slice(0, axis), ...idx.shape.slice(bd), ...x.shape.slice(axis + 1)], dtype: x.dtype }];
  },
  GatherNd: (i) => {
    const p = i.params!.shape, idx = i.indices!.shape;
    const last = idx[idx.length - 1]!;
    return [{ shape: [...idx.slice(0, -1), ...p.slice(last)], dtype: i.params!.dtype }];
  },
  UnsortedSegmentSum: (i, a) => [{ shape: [a.numSegments as number, ...i.x!.shape.slice(i.segmentIds!.shape.length)], dtype: i.x!.dtype }],
  OneHot: (i, a) => [{ shape: [...i.indices!.shape, a.depth as number], dtype: (a.dtype as DType) ?? 'int32' }],
  TopK: (i, a) => {
    const x = i.x!;
    const shape = [...x.shape.slice(0, -1), a.k as number];
    return [{ shape, dtype: x.dtype }, { shape: [...shape], dtype: 'int32' }];
  },
  // neural network
  Conv2D: conv(false),
  FusedConv2D: conv(false),
  DepthwiseConv2dNative: conv(true),
  FusedDepthwiseConv2D: conv(true),
  Conv2DBackpropInput: (_i, a) => [{ shape: [...(a.inputShape as number[])], dtype: 'float32' }],
  Conv2DBackpropFilter: (_i, a) => [{ shape: [...(a.filterShape as number[])], dtype: 'float32' }],
  DepthwiseConv2dNativeBackpropInput: (_i, a) => [{ shape: [...(a.inputShape as number[])], dtype: 'float32' }],
  DepthwiseConv2dNativeBackpropFilter: (_i, a) => [{ shape: [...(a.filterShape as number[])], dtype: 'float32' }],
  MaxPool: pool,
  AvgPool: pool,
  MaxPoolGrad: (i) => [{ shape: [...i.input!.shape], dtype: 'float32' }],
  AvgPoolGrad: (i) => [{ shape: [...i.input!.shape], dtype: 'float32' }],
  FusedBatchNorm: (i) => [{ shape: [...i.x!.shape], dtype: 'float32' }],
  BatchMatMul: matmul,
  _FusedMatMul: matmul,
  ResizeBilinear: (i, a) => {
    const [b, , , c] = i.images!.shape as [number, number, number, number];
    const [h, w] = a.size as [number, number];
    return [{ shape: [b, h, w, c], dtype: 'float32' }];
  },
  ResizeNearestNeighbor: (i, a) => {
    const [b, , , c] = i.images!.shape as [number, number, number, number];
    const [h, w] = a.size as [number, number];
    return [{ shape: [b, h, w, c], dtype: i.images!.dtype }];
  },
  ResizeBilinearGrad: (i) => [{ shape: [...i.images!.shape], dtype: 'float32' }],
  ResizeNearestNeighborGrad: (i) => [{ shape: [...i.images!.shape], dtype: 'float32' }],
};
