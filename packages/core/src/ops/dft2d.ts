/**
 * fft2d: the 2-D discrete Fourier transform of a real tensor over its last two dims, as torch.fft.fft2 computes
 * it for CMID's Focal Frequency Loss (Jiang et al. 2021, arXiv 2012.12821; CMID uses norm='ortho').
 *
 * Built only from tf ops: the DFT is two matmuls with cos/sin matrices, so tfjs autodiff gives the gradient, it
 * runs on every backend (wasm has no FFT or complex kernels) and it lowers to ONNX MatMul. O(H*W*(H+W)) per
 * image instead of an FFT's O(H*W*log(HW)), which is cheap at patch sizes and works for any H and W, not only
 * powers of 2. The matrices are computed in float64 with the index product reduced mod N, then rounded to
 * float32, and cached as plain arrays (no tensor outlives a call).
 */
import * as tf from '@tensorflow/tfjs';

export type DftNorm = 'ortho' | 'backward' | 'forward';

const cache = new Map<string, Float32Array>();

/** [n, 2n] = [scale*cos(2 pi u k / n) | -scale*sin(2 pi u k / n)] (rows k, columns u): x @ it = DFT along x's last dim. */
function rowDftMatrix(n: number, scale: number): Float32Array {
  const key = `row:${n}:${scale}`;
  let m = cache.get(key);
  if (m === undefined) {
    m = new Float32Array(n * 2 * n);
    for (let k = 0; k < n; k++) {
      for (let u = 0; u < n; u++) {
        const angle = (2 * Math.PI * ((k * u) % n)) / n;
        m[k * 2 * n + u] = scale * Math.cos(angle);
        m[k * 2 * n + n + u] = -scale * Math.sin(angle);
      }
    }
    cache.set(key, m);
  }
  return m;
}

/** [2n, n] = [cos(2 pi u k / n); sin(2 pi u k / n)] (rows u, columns k), applied on the left along the H dim. */
function colDftMatrix(n: number): Float32Array {
  const key = `col:${n}`;
  let m = cache.get(key);
  if (m === undefined) {
    m = new Float32Array(2 * n * n);
    for (let u = 0; u < n; u++) {
      for (let k = 0; k < n; k++) {
        const angle = (2 * Math.PI * ((k * u) % n)) / n;
        m[u * n + k] = Math.cos(angle);
        m[(n + u) * n + k] = Math.sin(angle);
      }
    }
    cache.set(key, m);
  }
  return m;
}

/**
 * 2-D DFT of a real float32 tensor x [..., H, W] over its last two dims; `real` and `imag` have x's shape.
 * X[u, v] = s * sum_{h, w} x[h, w] exp(-2 pi i (u h / H + v w / W)), with s = 1 ('backward', torch's default),
 * 1/sqrt(H W) ('ortho') or 1/(H W) ('forward').
 *
 * ```ts
 * const { real, imag } = fft2d(tf.tensor4d([1, 2, 3, 4], [1, 1, 2, 2]), 'ortho');
 * // real [[5, -1], [-2, 0]], imag all 0
 * ```
 */
export function fft2d(x: tf.Tensor, norm: DftNorm = 'backward'): { real: tf.Tensor; imag: tf.Tensor } {
  if (x.rank < 2) throw new Error(`fft2d: x needs rank >= 2 ([..., H, W]), got shape [${x.shape}].`);
  if (x.dtype !== 'float32') throw new Error(`fft2d: x must be float32 (a real signal), got ${x.dtype}.`);
  if (norm !== 'ortho' && norm !== 'backward' && norm !== 'forward') {
    throw new Error(`fft2d: norm "${String(norm)}" is not one of ortho, backward, forward.`);
  }
  const shape = x.shape;
  const H = shape[shape.length - 2]!;
  const W = shape[shape.length - 1]!;
  const lead = shape.slice(0, -2);
  const n = tf.util.sizeFromShape(lead);
  const scale = norm === 'backward' ? 1 : norm === 'ortho' ? 1 / Math.sqrt(H * W) : 1 / (H * W);
  return tf.tidy(() => {
    // along W: y = x @ [C_W | -S_W] -> [n*H, 2W] = [Re | Im] of the row transforms (scale folded in)
    const rowMat = tf.tensor2d(rowDftMatrix(W, scale), [W, 2 * W]);
    const y = tf.matMul(tf.reshape(x, [n * H, W]), rowMat);
    // along H: z = [C_H; S_H] @ y, per image -> [n, 2H, 2W] = [[C yr, C yi], [S yr, S yi]]
    const colMat = tf.tensor2d(colDftMatrix(H), [2 * H, H]);
    const z = tf.matMul(colMat, tf.reshape(y, [n, H, 2 * W]));
    const cyr = tf.slice(z, [0, 0, 0], [n, H, W]);
    const cyi = tf.slice(z, [0, 0, W], [n, H, W]);
    const syr = tf.slice(z, [0, H, 0], [n, H, W]);
    const syi = tf.slice(z, [0, H, W], [n, H, W]);
    // (C - iS)(yr + i yi) = (C yr + S yi) + i (C yi - S yr)
    const real = tf.reshape(tf.add(cyr, syi), shape);
    const imag = tf.reshape(tf.sub(cyi, syr), shape);
    return { real, imag };
  });
}
