// Column sums of a row-major [rows, cols] float32 matrix, accumulated in float64: the reduction over the leading
// axes of an NHWC tensor (batch-norm statistics reduce [B, H, W, C] over B, H and W). Linked into gemm.wasm with
// gemm.c (scripts/build-gemm.sh), so it shares that module's memory and loader (src/kernels/wasm/gemm.ts).
//
// Accuracy: rows are taken in blocks of 16, each block's 16 values of a column are summed as a pairwise tree in
// float32 (error <= 4 ulp-units of the block's |x| sum) and the block sums are added in float64. A plain float32
// running sum over n rows (what the shipped kernel does after its transpose) has an error bound of n - 1 units.
#include <wasm_simd128.h>

#define RB 16

static inline v128_t ld(const float *p) { return wasm_v128_load(p); }

// acc[j..j+3] += s (f32x4), in float64
static inline void add_f64(double *acc, v128_t s) {
  v128_t lo = wasm_f64x2_promote_low_f32x4(s);
  v128_t hi = wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(s, s, 2, 3, 2, 3));
  wasm_v128_store(acc, wasm_f64x2_add(wasm_v128_load(acc), lo));
  wasm_v128_store(acc + 2, wasm_f64x2_add(wasm_v128_load(acc + 2), hi));
}

// acc[j] += sum over r < rows of x[r*cols + j], for j < cols.
__attribute__((export_name("colsum_acc"))) void colsum_acc(const float *x, int rows, int cols, double *acc) {
  int r = 0;
  for (; r + RB <= rows; r += RB) {
    const float *p = x + r * cols;
    int j = 0;
    for (; j + 4 <= cols; j += 4) {
      const float *q = p + j;
      int c = cols;
      v128_t s0 = wasm_f32x4_add(ld(q), ld(q + c));
      v128_t s1 = wasm_f32x4_add(ld(q + 2 * c), ld(q + 3 * c));
      v128_t s2 = wasm_f32x4_add(ld(q + 4 * c), ld(q + 5 * c));
      v128_t s3 = wasm_f32x4_add(ld(q + 6 * c), ld(q + 7 * c));
      v128_t s4 = wasm_f32x4_add(ld(q + 8 * c), ld(q + 9 * c));
      v128_t s5 = wasm_f32x4_add(ld(q + 10 * c), ld(q + 11 * c));
      v128_t s6 = wasm_f32x4_add(ld(q + 12 * c), ld(q + 13 * c));
      v128_t s7 = wasm_f32x4_add(ld(q + 14 * c), ld(q + 15 * c));
      s0 = wasm_f32x4_add(s0, s1);
      s2 = wasm_f32x4_add(s2, s3);
      s4 = wasm_f32x4_add(s4, s5);
      s6 = wasm_f32x4_add(s6, s7);
      add_f64(acc + j, wasm_f32x4_add(wasm_f32x4_add(s0, s2), wasm_f32x4_add(s4, s6)));
    }
    for (; j < cols; j++) {
      double s = 0.0;
      for (int i = 0; i < RB; i++) s += p[i * cols + j];
      acc[j] += s;
    }
  }
  // the last rows (< RB): straight into float64
  for (; r < rows; r++) {
    const float *p = x + r * cols;
    int j = 0;
    for (; j + 4 <= cols; j += 4) add_f64(acc + j, ld(p + j));
    for (; j < cols; j++) acc[j] += p[j];
  }
}
