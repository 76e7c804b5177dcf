// Max-pool gradient for NHWC float32 on the tfjs heap (heap-kernels.wasm, see csrc/batchnorm.c for the module):
// dx[n, y, x, c] = sum of dy over the output cells whose window takes its maximum at (y, x). The maximum is the
// first one in row-major window order (tfjs's cpu kernel, PyTorch and onnxruntime's MaxPool indices); padding
// never wins; a NaN wins if it comes first (v > best is false for NaN either way round). Channels are innermost,
// four at a time: the running maximum and the element offset of the winning tap per lane, then a scalar add.
#include <wasm_simd128.h>

__attribute__((export_name("maxpool_grad"))) void maxpool_grad(const float *x, const float *dy, float *dx, int N, int H, int W,
                                                             int C, int Ho, int Wo, int kh, int kw, int sh, int sw, int top,
                                                             int left, int *taps) {
  // taps: scratch for kh*kw element offsets (the window's valid taps, row-major)
  int total = N * H * W * C, i = 0;
  for (; i + 4 <= total; i += 4) wasm_v128_store(dx + i, wasm_f32x4_splat(0.0f));
  for (; i < total; i++) dx[i] = 0.0f;
  for (int n = 0; n < N; n++)
    for (int oy = 0; oy < Ho; oy++) {
      int y0 = oy * sh - top;
      for (int ox = 0; ox < Wo; ox++) {
        int x0 = ox * sw - left;
        const float *g = dy + ((n * Ho + oy) * Wo + ox) * C;
        int nt = 0;
        for (int fy = 0; fy < kh; fy++) {
          int yy = y0 + fy;
          if (yy < 0 || yy >= H) continue;
          for (int fx = 0; fx < kw; fx++) {
            int xx = x0 + fx;
            if (xx < 0 || xx >= W) continue;
            taps[nt++] = ((n * H + yy) * W + xx) * C;
          }
        }
        if (nt == 0) continue;
        int c = 0;
        for (; c + 4 <= C; c += 4) {
          v128_t best = wasm_v128_load(x + taps[0] + c);
          v128_t at = wasm_i32x4_splat(taps[0]);
          for (int t = 1; t < nt; t++) {
            v128_t v = wasm_v128_load(x + taps[t] + c);
            v128_t m = wasm_f32x4_gt(v, best);
            best = wasm_v128_bitselect(v, best, m);
            at = wasm_v128_bitselect(wasm_i32x4_splat(taps[t]), at, m);
          }
          dx[wasm_i32x4_extract_lane(at, 0) + c] += g[c];
          dx[wasm_i32x4_extract_lane(at, 1) + c + 1] += g[c + 1];
          dx[wasm_i32x4_extract_lane(at, 2) + c + 2] += g[c + 2];
          dx[wasm_i32x4_extract_lane(at, 3) + c + 3] += g[c + 3];
        }
        for (; c < C; c++) {
          int at = taps[0];
          float best = x[at + c];
          for (int t = 1; t < nt; t++)
            if (x[taps[t] + c] > best) {
              best = x[taps[t] + c];
              at = taps[t];
            }
          dx[at + c] += g[c];
        }
      }
    }
}
