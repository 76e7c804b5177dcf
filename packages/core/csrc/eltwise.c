// Elementwise kernels on the tfjs heap (heap-kernels.wasm, see csrc/batchnorm.c for the module): the residual
// join of a ResNet block, y = relu(a + b), and the ReLU gradient from the output, dx = dy * step(y). With
// y = relu(pre), step(y) equals step(pre) everywhere (1 where pre > 0, 0 elsewhere, NaN where pre is NaN, since
// relu keeps NaN), so this is bit for bit tfjs's Add + Relu forward and Step + Cast + Multiply backward.
#include <wasm_simd128.h>

__attribute__((export_name("add_relu"))) void add_relu(const float *a, const float *b, float *y, int n) {
  v128_t zero = wasm_f32x4_splat(0.0f);
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    v128_t v = wasm_f32x4_add(wasm_v128_load(a + i), wasm_v128_load(b + i));
    wasm_v128_store(y + i, wasm_v128_bitselect(zero, v, wasm_f32x4_lt(v, zero))); // v < 0 ? 0 : v
  }
  for (; i < n; i++) {
    float v = a[i] + b[i];
    y[i] = v < 0.0f ? 0.0f : v;
  }
}

__attribute__((export_name("relu_grad"))) void relu_grad(const float *dy, const float *y, float *dx, int n) {
  v128_t zero = wasm_f32x4_splat(0.0f), one = wasm_f32x4_splat(1.0f);
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    v128_t v = wasm_v128_load(y + i);
    v128_t step = wasm_v128_or(wasm_v128_and(wasm_f32x4_gt(v, zero), one), wasm_v128_and(wasm_f32x4_ne(v, v), v));
    wasm_v128_store(dx + i, wasm_f32x4_mul(wasm_v128_load(dy + i), step));
  }
  for (; i < n; i++) {
    float v = y[i];
    dx[i] = dy[i] * (v != v ? v : (v > 0.0f ? 1.0f : 0.0f));
  }
}
