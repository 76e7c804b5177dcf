/**
 * The one place that converts between PyTorch and tfjs tensor layouts.
 * PyTorch: images NCHW, Conv2d weight OIHW [out, in/groups, kh, kw], Linear weight [out, in].
 * tfjs:    images NHWC, conv2d filter HWIO [kh, kw, in, out], depthwise filter [kh, kw, in, multiplier],
 *          dense weight [in, out].
 * pointwise1d: a kernel-1 Conv1d weight [out, in, 1] (DINO-style heads), kept in tfjs as a dense [in, out].
 * Parameters remember their TorchLayout so that stateDict() writes PyTorch shapes and loadStateDict() reads them.
 */
export type TorchLayout = 'plain' | 'conv2d' | 'depthwise2d' | 'linear' | 'pointwise1d';

export interface HostTensor {
  shape: number[];
  data: Float32Array;
}

/** Permute a dense row-major array: out[perm-indexed] = in. `perm[i]` is the input axis of output axis i. */
export function permute(data: Float32Array, shape: readonly number[], perm: readonly number[]): HostTensor {
  const rank = shape.length;
  const outShape = perm.map((p) => shape[p]!);
  const inStrides = new Array<number>(rank);
  let s = 1;
  for (let i = rank - 1; i >= 0; i--) {
    inStrides[i] = s;
    s *= shape[i]!;
  }
  const strideOfOut = perm.map((p) => inStrides[p]!);
  const out = new Float32Array(data.length);
  const idx = new Array<number>(rank).fill(0);
  let src = 0;
  for (let o = 0; o < out.length; o++) {
    out[o] = data[src]!;
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]!++;
      src += strideOfOut[d]!;
      if (idx[d]! < outShape[d]!) break;
      src -= strideOfOut[d]! * outShape[d]!;
      idx[d] = 0;
    }
  }
  return { shape: outShape, data: out };
}

/** PyTorch-layout values -> tfjs layout. */
export function torchToTf(t: HostTensor, layout: TorchLayout): HostTensor {
  switch (layout) {
    case 'plain':
      return t;
    case 'conv2d': // OIHW -> HWIO
      return permute(t.data, t.shape, [2, 3, 1, 0]);
    case 'depthwise2d': {
      // [C*mult, 1, kh, kw] -> [kh, kw, C, mult]; output channel o = c*mult + m in both frameworks
      const [o, , kh, kw] = t.shape as [number, number, number, number];
      const p = permute(t.data, t.shape, [2, 3, 1, 0]); // [kh, kw, 1, o]
      return { shape: [kh, kw, o, 1], data: p.data }; // multiplier recovered by the layer (reshape)
    }
    case 'linear': // [out, in] -> [in, out]
      return permute(t.data, t.shape, [1, 0]);
    case 'pointwise1d': // [out, in, 1] -> [in, out]
      return permute(t.data, [t.shape[0]!, t.shape[1]!], [1, 0]);
  }
}

/** tfjs-layout values -> PyTorch layout. */
export function tfToTorch(t: HostTensor, layout: TorchLayout): HostTensor {
  switch (layout) {
    case 'plain':
      return t;
    case 'conv2d': // HWIO -> OIHW
      return permute(t.data, t.shape, [3, 2, 0, 1]);
    case 'depthwise2d': {
      const [kh, kw, c, m] = t.shape as [number, number, number, number];
      const p = permute(t.data, [kh, kw, c * m, 1], [2, 3, 0, 1]); // [c*m, 1, kh, kw]
      return p;
    }
    case 'linear':
      return permute(t.data, t.shape, [1, 0]);
    case 'pointwise1d': {
      const p = permute(t.data, t.shape, [1, 0]);
      return { shape: [...p.shape, 1], data: p.data };
    }
  }
}

/** The PyTorch shape of a tfjs-layout shape. */
export function torchShape(tfShape: readonly number[], layout: TorchLayout): number[] {
  switch (layout) {
    case 'plain':
      return [...tfShape];
    case 'conv2d':
      return [tfShape[3]!, tfShape[2]!, tfShape[0]!, tfShape[1]!];
    case 'depthwise2d':
      return [tfShape[2]! * tfShape[3]!, 1, tfShape[0]!, tfShape[1]!];
    case 'linear':
      return [tfShape[1]!, tfShape[0]!];
    case 'pointwise1d':
      return [tfShape[1]!, tfShape[0]!, 1];
  }
}

/** NCHW host array -> NHWC (for comparing with PyTorch outputs in tests and for feeding PyTorch-made inputs). */
export function nchwToNhwc(t: HostTensor): HostTensor {
  return permute(t.data, t.shape, [0, 2, 3, 1]);
}

export function nhwcToNchw(t: HostTensor): HostTensor {
  return permute(t.data, t.shape, [0, 3, 1, 2]);
}
