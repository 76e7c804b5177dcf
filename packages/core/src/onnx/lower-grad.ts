/**
 * ONNX lowerings of the kernels that only appear in training graphs: the backward kernels tfjs derives under
 * tf.grads (Conv2DBackpropInput/Filter, MaxPoolGrad, UnsortedSegmentSum, Step, ...) and the small ops its
 * gradient rules and our optimisers use. Layout as in lower.ts: tensors stay NHWC, NCHW-only ONNX ops are wrapped
 * in transposes that onnxruntime cancels.
 *
 * - Input gradient of a convolution: ConvTranspose with the forward pads and the output_padding that restores the
 *   input size.
 * - Filter gradient: im2col in NHWC (one strided Slice per kernel tap, concatenated on channels, which is exactly
 *   HWIO order) and one Gemm with transA; a 1x1 convolution is a single Gemm on the (strided) input. Its OHWI
 *   variant (compiled training steps, graph/filter-layout.ts) swaps the Gemm's operands: [Co, kh*kw*Ci] is OHWI.
 * - Max-pool gradient: MaxPool's Indices output (flat NCHW positions, first maximum) and a ScatterElements add.
 * - Segment sums (gather gradients): ScatterND with reduction add.
 */
import * as tf from '@tensorflow/tfjs';
import { CmidError } from '../runtime/errors.js';
import type { IrNode } from '../graph/ir.js';
import { CONV_FILTER_GRAD_OHWI } from '../graph/filter-layout.js';
import { byName, emit, inp, int, ints, out, str, transpose, valueOf, type LowerContext, type Lowering } from './lower-util.js';

/** The value id of a kernel input the lowering cannot do without. */
const required = (n: IrNode, name: string): number => {
  const id = byName(n, name);
  if (id < 0) throw new CmidError('kernel', `ONNX lowering of ${n.op}: input "${name}" missing.`);
  return id;
};
const shapeOf = (c: LowerContext, id: number) => valueOf(c, id).shape;
function reshape(c: LowerContext, x: string, shape: number[], hint = 'r'): string {
  const y = c.fresh(hint);
  emit(c, 'Reshape', [x, c.ints(shape)], [y]);
  return y;
}

interface ConvAttrs {
  strides: number | [number, number];
  pad: unknown;
  dilations?: number | [number, number];
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

function convInfo(xShape: number[], fShape: number[], a: ConvAttrs, depthwise = false) {
  return tf.backend_util.computeConv2DInfo(xShape as [number, number, number, number], fShape as [number, number, number, number], a.strides,
    a.dilations ?? 1, a.pad as 'same', a.dimRoundingMode, depthwise, 'channelsLast');
}

const conv2dBackpropInput: Lowering = (n, c) => {
  const a = n.attrs as unknown as ConvAttrs & { inputShape: number[] };
  const dy = required(n, 'dy'), f = required(n, 'filter');
  const fShape = shapeOf(c, f);
  const info = convInfo(a.inputShape, fShape, a);
  const p = info.padInfo;
  const [, H, W] = a.inputShape as [number, number, number, number];
  const { strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw, outHeight: ho, outWidth: wo } = info;
  const opH = H - (sh * (ho - 1) + kh - p.top - p.bottom);
  const opW = W - (sw * (wo - 1) + kw - p.left - p.right);
  if (opH < 0 || opW < 0 || opH >= sh || opW >= sw) {
    throw new CmidError('kernel', `ONNX lowering of Conv2DBackpropInput: unsupported geometry (output padding ${opH}, ${opW} for stride ${sh}, ${sw}).`);
  }
  const dyt = transpose(c, c.name(dy), [0, 3, 1, 2], 'dy_nchw');
  const { dilationHeight: dh, dilationWidth: dw } = info;
  if (sh === 1 && sw === 1 && dh === 1 && dw === 1 && (kh * kw === 1 || ho * wo >= 784) && process.env.CMID_DX_CONV !== '0') {
    // stride 1: the input gradient is a convolution of dy with the filter's channels swapped and its taps flipped,
    // padded by k - 1 - pad; onnxruntime's Conv runs it faster than ConvTranspose except for 3x3 filters on small
    // maps (measured on the ResNet-50 layers, 2 threads: 56x56 3x3 10 against 17 ms; 7x7 3x3 18 against 12 ms)
    let w = transpose(c, c.name(f), [2, 3, 0, 1], 'w_dx'); // [Ci, Co, kh, kw]
    if (kh * kw > 1) {
      const flipped = c.fresh('w_dx_flip');
      emit(c, 'Slice', [w, c.ints([-1, -1]), c.ints([-kh - 1, -kw - 1]), c.ints([2, 3]), c.ints([-1, -1])], [flipped]);
      w = flipped;
    }
    const y = c.fresh('dx_nchw');
    emit(c, 'Conv', [dyt, w], [y], {
      kernel_shape: ints([kh, kw]), pads: ints([kh - 1 - p.top, kw - 1 - p.left, kh - 1 - p.bottom, kw - 1 - p.right]),
    });
    emit(c, 'Transpose', [y], [out(n, c)], { perm: ints([0, 2, 3, 1]) });
    return;
  }
  const wt = transpose(c, c.name(f), [3, 2, 0, 1], 'w_oihw'); // [Co, Ci, kh, kw]: ConvTranspose's [in, out, kh, kw]
  const y = c.fresh('dx_nchw');
  emit(c, 'ConvTranspose', [dyt, wt], [y], {
    strides: ints([sh, sw]), pads: ints([p.top, p.left, p.bottom, p.right]), output_padding: ints([opH, opW]), kernel_shape: ints([kh, kw]),
  });
  emit(c, 'Transpose', [y], [out(n, c)], { perm: ints([0, 2, 3, 1]) });
};

interface Im2colGeometry {
  kh: number; kw: number; sh: number; sw: number; dh: number; dw: number; ho: number; wo: number;
  p: { top: number; bottom: number; left: number; right: number };
}

/**
 * The im2col of a convolution's input x (NHWC or NCHW): x padded, one strided Slice per kernel tap on the spatial
 * axes, concatenated on the channel axis, so the channels run (tap, input channel) in HWI order. A 1x1 stride-1
 * filter needs none of it.
 */
function im2col(c: LowerContext, x: string, g: Im2colGeometry, layout: 'nhwc' | 'nchw'): string {
  const { kh, kw, sh, sw, dh, dw, ho, wo, p } = g;
  const [hAxis, cAxis] = layout === 'nhwc' ? [1, 3] : [2, 1];
  let src = x;
  if (p.top || p.bottom || p.left || p.right) {
    const pads = [0, 0, 0, 0, 0, 0, 0, 0];
    pads[hAxis] = p.top; pads[hAxis + 1] = p.left; pads[4 + hAxis] = p.bottom; pads[5 + hAxis] = p.right;
    src = c.fresh('xpad');
    emit(c, 'Pad', [x, c.ints(pads), c.floatConst([0])], [src], { mode: str('constant') });
  }
  if (kh === 1 && kw === 1 && sh === 1 && sw === 1) return src; // every (padded) input pixel is one output pixel
  const taps: string[] = [];
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const h0 = i * dh, w0 = j * dw;
      const t = c.fresh('tap');
      emit(c, 'Slice', [src, c.ints([h0, w0]), c.ints([h0 + (ho - 1) * sh + 1, w0 + (wo - 1) * sw + 1]), c.ints([hAxis, hAxis + 1]), c.ints([sh, sw])], [t]);
      taps.push(t);
    }
  }
  if (taps.length === 1) return taps[0]!;
  const cols = c.fresh('im2col');
  emit(c, 'Concat', taps, [cols], { axis: int(cAxis) });
  return cols;
}

const conv2dBackpropFilter = (ohwi: boolean): Lowering => (n, c) => {
  const a = n.attrs as unknown as ConvAttrs & { filterShape: number[] };
  const x = required(n, 'x'), dy = required(n, 'dy');
  const xShape = shapeOf(c, x);
  const info = convInfo(xShape, a.filterShape, a);
  const p = info.padInfo;
  const [N, , , Ci] = xShape as [number, number, number, number];
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw, filterHeight: kh, filterWidth: kw, outHeight: ho, outWidth: wo } = info;
  const Co = a.filterShape[3]!;
  // NCHW when the activations outweigh the per-image filter gradient the batched MatMul writes (the early, large
  // layers); the later ones (7x7 and 14x14 at ResNet widths) keep one Gemm over all pixels.
  if (ohwi && process.env.CMID_DW_NCHW !== '0' && ho * wo * (Ci + Co) > Co * kh * kw * Ci) {
    const g = filterGradNchw(c, c.name(x), c.name(dy), { N, Ci, Co, kh, kw, sh, sw, dh, dw, ho, wo, p });
    emit(c, 'Reshape', [g, c.ints([Co, kh, kw, Ci])], [out(n, c)]);
    return;
  }
  const rows = N * ho * wo;
  const dy2 = reshape(c, c.name(dy), [rows, Co], 'dy2d');
  const cols = im2col(c, c.name(x), { kh, kw, sh, sw, dh, dw, ho, wo, p }, 'nhwc');
  const cols2 = reshape(c, cols, [rows, kh * kw * Ci], 'cols2d');
  const g = c.fresh('dw2d');
  if (ohwi) {
    // dy^T cols: [Co, kh*kw*Ci], the rows of cols being (tap, channel) in HWI order, i.e. OHWI (graph/filter-layout.ts)
    emit(c, 'Gemm', [dy2, cols2], [g], { transA: int(1) });
    emit(c, 'Reshape', [g, c.ints([Co, kh, kw, Ci])], [out(n, c)]);
  } else {
    emit(c, 'Gemm', [cols2, dy2], [g], { transA: int(1) });
    emit(c, 'Reshape', [g, c.ints([kh, kw, Ci, Co])], [out(n, c)]);
  }
};

/**
 * Filter gradient on NCHW operands, OHWI result [Co, kh*kw*Ci]: im2col per image along the channel axis (one Slice
 * per tap on H and W, concatenated on C, so the rows are (tap, channel) in HWI order), a batched MatMul dy[n] cols[n]^T
 * and a sum over the batch. The operands stay in the layout of the convolutions around them, so onnxruntime needs no
 * NHWC copies of x and dy.
 */
function filterGradNchw(c: LowerContext, x: string, dy: string, g: Im2colGeometry & { N: number; Ci: number; Co: number }): string {
  const { N, Ci, Co, kh, kw, ho, wo } = g;
  const cols = im2col(c, transpose(c, x, [0, 3, 1, 2], 'x_nchw'), g, 'nchw');
  const k = kh * kw * Ci;
  const colsT = transpose(c, reshape(c, cols, [N, k, ho * wo], 'cols3d'), [0, 2, 1], 'cols3d_t');
  const dy3 = reshape(c, transpose(c, dy, [0, 3, 1, 2], 'dy_nchw'), [N, Co, ho * wo], 'dy3d');
  const per = c.fresh('dw3d');
  emit(c, 'MatMul', [dy3, colsT], [per]);
  const sum = c.fresh('dw2d');
  emit(c, 'ReduceSum', [per, c.ints([0])], [sum], { keepdims: int(0) });
  return sum;
}

const maxPoolGrad: Lowering = (n, c) => {
  const a = n.attrs as unknown as { filterSize: number | [number, number]; strides: number | [number, number]; pad: unknown; dimRoundingMode?: 'floor' | 'round' | 'ceil' };
  const dy = required(n, 'dy'), x = required(n, 'input');
  const xShape = shapeOf(c, x) as [number, number, number, number];
  const info = tf.backend_util.computePool2DInfo(xShape, a.filterSize, a.strides, 1, a.pad as 'same', a.dimRoundingMode);
  const p = info.padInfo;
  const [N, H, W, C] = xShape;
  const xt = transpose(c, c.name(x), [0, 3, 1, 2], 'x_nchw');
  const pooled = c.fresh('mp'), indices = c.fresh('mp_idx');
  emit(c, 'MaxPool', [xt], [pooled, indices], {
    kernel_shape: ints([info.filterHeight, info.filterWidth]), strides: ints([info.strideHeight, info.strideWidth]), pads: ints([p.top, p.left, p.bottom, p.right]),
  });
  const flatIdx = reshape(c, indices, [-1], 'mp_idx_flat');
  const flatDy = reshape(c, transpose(c, c.name(dy), [0, 3, 1, 2], 'dy_nchw'), [-1], 'dy_flat');
  const zeros = c.fresh('zeros');
  emit(c, 'Expand', [c.floatConst([0]), c.ints([N * C * H * W])], [zeros]);
  const scattered = c.fresh('dx_flat');
  emit(c, 'ScatterElements', [zeros, flatIdx, flatDy], [scattered], { axis: int(0), reduction: str('add') });
  emit(c, 'Transpose', [reshape(c, scattered, [N, C, H, W], 'dx_nchw')], [out(n, c)], { perm: ints([0, 2, 3, 1]) });
};

const unsortedSegmentSum: Lowering = (n, c) => {
  const x = required(n, 'x'), ids = required(n, 'segmentIds');
  const numSegments = (n.attrs as { numSegments: number }).numSegments;
  const xShape = shapeOf(c, x), idShape = shapeOf(c, ids);
  const rest = xShape.slice(idShape.length);
  const k = idShape.reduce((p, d) => p * d, 1);
  const x2 = reshape(c, c.name(x), [k, ...rest], 'seg_x');
  const idx64 = c.fresh('seg_idx');
  emit(c, 'Cast', [reshape(c, c.name(ids), [k, 1], 'seg_ids')], [idx64], { to: int(7) });
  const zeros = c.fresh('zeros');
  emit(c, 'Expand', [c.floatConst([0]), c.ints([numSegments, ...rest])], [zeros]);
  emit(c, 'ScatterND', [zeros, idx64, x2], [out(n, c)], { reduction: str('add') });
};

/** A constant broadcast to the output's shape, in the output's dtype. */
function filled(value: number): Lowering {
  return (n, c) => {
    const v = c.graph.values[n.outputs[0]!]!;
    const shape = c.ints(v.shape);
    if (v.dtype === 'float32') return emit(c, 'Expand', [c.floatConst([value]), shape], [out(n, c)]);
    const f = c.fresh('fill');
    emit(c, 'Expand', [c.floatConst([value]), shape], [f]);
    emit(c, 'Cast', [f], [out(n, c)], { to: int(v.dtype === 'int32' ? 6 : 9) });
  };
}

const stridedSlice: Lowering = (n, c) => {
  const a = n.attrs as unknown as { begin: number[]; end: number[]; strides: number[]; beginMask: number; endMask: number; ellipsisMask: number; newAxisMask: number; shrinkAxisMask: number };
  const xShape = shapeOf(c, n.inputs[0]!);
  const info = tf.slice_util.sliceInfo(xShape, a.begin, a.end, a.strides, a.beginMask, a.endMask, a.ellipsisMask, a.newAxisMask, a.shrinkAxisMask);
  if (info.strides.some((s) => s <= 0)) throw new CmidError('kernel', 'ONNX lowering of StridedSlice: negative strides are not supported yet.');
  const starts: number[] = [], ends: number[] = [], axes: number[] = [], steps: number[] = [];
  info.begin.forEach((b, k) => {
    const e = info.end[k]!, s = info.strides[k]!;
    if (b === 0 && e >= xShape[k]! && s === 1) return;
    starts.push(b); ends.push(e); axes.push(k); steps.push(s);
  });
  let y = inp(n, c, 0);
  if (axes.length > 0) {
    const s = c.fresh('ss');
    emit(c, 'Slice', [y, c.ints(starts), c.ints(ends), c.ints(axes), c.ints(steps)], [s]);
    y = s;
  }
  emit(c, 'Reshape', [y, c.ints(info.finalShape)], [out(n, c)]);
};

export const GRAD_LOWERINGS: Record<string, Lowering> = {
  Conv2DBackpropInput: conv2dBackpropInput,
  Conv2DBackpropFilter: conv2dBackpropFilter(false),
  [CONV_FILTER_GRAD_OHWI]: conv2dBackpropFilter(true),
  MaxPoolGrad: maxPoolGrad,
  UnsortedSegmentSum: unsortedSegmentSum,
  Step: (n, c) => {
    const alpha = (n.attrs as { alpha?: number }).alpha ?? 0;
    const pos = c.fresh('pos');
    emit(c, 'Greater', [inp(n, c, 0), c.floatConst([0])], [pos]);
    emit(c, 'Where', [pos, c.floatConst([1]), c.floatConst([alpha])], [out(n, c)]);
  },
  Select: (n, c) => emit(c, 'Where', [c.name(required(n, 'condition')), c.name(required(n, 't')), c.name(required(n, 'e'))], [out(n, c)]),
  SelectV2: (n, c) => emit(c, 'Where', [c.name(required(n, 'condition')), c.name(required(n, 't')), c.name(required(n, 'e'))], [out(n, c)]),
  ZerosLike: filled(0),
  OnesLike: filled(1),
  Fill: (n, c) => filled((n.attrs as { value: number }).value)(n, c),
  BroadcastTo: (n, c) => emit(c, 'Expand', [inp(n, c, 0), c.ints((n.attrs as { shape: number[] }).shape)], [out(n, c)]),
  Log1p: (n, c) => {
    const s = c.fresh('p1');
    emit(c, 'Add', [inp(n, c, 0), c.floatConst([1])], [s]);
    emit(c, 'Log', [s], [out(n, c)]);
  },
  ClipByValue: (n, c) => {
    const a = n.attrs as { clipValueMin: number; clipValueMax: number };
    emit(c, 'Clip', [inp(n, c, 0), c.floatConst([a.clipValueMin]), c.floatConst([a.clipValueMax])], [out(n, c)]);
  },
  IsNan: (n, c) => emit(c, 'IsNaN', [inp(n, c, 0)], [out(n, c)]),
  IsInf: (n, c) => emit(c, 'IsInf', [inp(n, c, 0)], [out(n, c)]),
  NotEqual: (n, c) => {
    const e = c.fresh('eq');
    emit(c, 'Equal', [inp(n, c, 0), inp(n, c, 1)], [e]);
    emit(c, 'Not', [e], [out(n, c)]);
  },
  ArgMax: (n, c) => {
    const rank = shapeOf(c, n.inputs[0]!).length;
    const axis = (n.attrs as { axis: number | number[] }).axis;
    const ax = Array.isArray(axis) ? axis[0]! : axis;
    const i64 = c.fresh('argmax');
    emit(c, 'ArgMax', [inp(n, c, 0)], [i64], { axis: int(ax < 0 ? ax + rank : ax), keepdims: int(0) });
    emit(c, 'Cast', [i64], [out(n, c)], { to: int(6) });
  },
  StridedSlice: stridedSlice,
};
