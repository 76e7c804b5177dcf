/**
 * Rotation by multiples of 90 degrees COUNTER-CLOCKWISE, as numpy.rot90 and PIL's ROTATE_90/180/270 (the CMID change
 * detection loader rotates A, B and the label with PIL, downstream.md §3.3). k is taken modulo 4; negative k rotates
 * clockwise. For k = 1 the output is W x H and output (i, j) = input (j, W - 1 - i).
 */
import { checkImage, type Image, type PixelData } from './image.js';

export function rot90<T extends PixelData>(img: Image<T>, k = 1): Image<T> {
  checkImage(img, 'rot90');
  const { height: H, width: W, channels: C } = img;
  const q = ((k % 4) + 4) % 4;
  const src = img.data;
  const out = (src instanceof Uint8Array ? new Uint8Array(src.length) : new Float32Array(src.length)) as T;
  if (q === 0) {
    out.set(src);
    return { data: out, height: H, width: W, channels: C };
  }
  const oh = q === 2 ? H : W;
  const ow = q === 2 ? W : H;
  // Walk the source once; compute where each source pixel (y, x) lands.
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      let oy: number, ox: number;
      if (q === 1) {
        oy = W - 1 - x;
        ox = y;
      } else if (q === 2) {
        oy = H - 1 - y;
        ox = W - 1 - x;
      } else {
        oy = x;
        ox = H - 1 - y;
      }
      const s = (y * W + x) * C;
      const d = (oy * ow + ox) * C;
      for (let c = 0; c < C; c++) out[d + c] = src[s + c]!;
    }
  }
  return { data: out, height: oh, width: ow, channels: C };
}
