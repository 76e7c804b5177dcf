// Batch normalisation with batch statistics (training mode), forward and backward, optionally fused with the ReLU
// that follows it, for float32 [rows, C] (NHWC with rows = B*H*W). Built into heap-kernels.wasm
// (scripts/build-heap-kernels.sh), a module that runs on the tfjs wasm backend's own memory: it imports that
// memory, has no data segments and no globals besides the stack pointer, which the loader points at a block it
// allocated on the same heap (src/kernels/wasm/heap-kernels.ts). Inputs and outputs are the tensors' own buffers,
// so nothing is copied.
//
// The arithmetic is the one of the tf-op formulation in src/ops/batch-norm-train.ts (PyTorch 1.13's CPU kernels),
// operation by operation in float32, and the sums are csrc/colsum.c's (float32 pairwise over 16 rows, float64
// across blocks) over the same chunks of rows as the Sum/Mean kernels, so the fused and unfused paths agree to the
// last bit except for the reciprocal square root (here 1/sqrt, correctly rounded twice):
//   forward   mean = sum(x)/n, var = sum((x-mean)^2)/n, invstd = 1/sqrt(var+eps), alpha = gamma*invstd,
//             shift = beta - mean*alpha, y = x*alpha + shift (then max(y, 0) with relu; NaN passes)
//   backward  g = dy (times step(x*alpha + shift) with relu), dbeta = sum(g), dot = sum((x-mean)*g),
//             k = dot*(invstd*invstd)/n, dx = ((g - dbeta/n) - (x-mean)*k) * (invstd*gamma), dgamma = dot*invstd
// Passes over the activations: 3 reads and 1 write forward, 2 reads of x and dy and 1 write backward, where the
// tf ops take 6 and 7 full passes plus 4 for the ReLU.
#include <wasm_simd128.h>

void colsum_acc(const float *x, int rows, int cols, double *acc);

// Rows per colsum_acc call: 64 Ki floats, as columnSums in src/kernels/wasm/gemm.ts (same blocks, same sums).
#define CHUNK_FLOATS 65536

__attribute__((export_name("bn_chunk_floats"))) int bn_chunk_floats(void) { return CHUNK_FLOATS; }

static int chunk_rows(int cols) {
  int r = CHUNK_FLOATS / cols;
  return r < 1 ? 1 : r;
}

static void zero_f64(double *d, int n) {
  for (int i = 0; i < n; i++) d[i] = 0.0;
}

// tfjs Step with alpha 0: 1 where v > 0, 0 elsewhere, NaN where v is NaN.
static inline v128_t step4(v128_t v) {
  v128_t one = wasm_v128_and(wasm_f32x4_gt(v, wasm_f32x4_splat(0.0f)), wasm_f32x4_splat(1.0f));
  return wasm_v128_or(one, wasm_v128_and(wasm_f32x4_ne(v, v), v));
}
static inline float step1(float v) { return v != v ? v : (v > 0.0f ? 1.0f : 0.0f); }

// alpha = gamma*invstd, shift = beta - mean*alpha
static void affine(int C, const float *mean, const float *invstd, const float *gamma, const float *beta, float *alpha, float *shift) {
  for (int c = 0; c < C; c++) {
    alpha[c] = gamma[c] * invstd[c];
    shift[c] = beta[c] - mean[c] * alpha[c];
  }
}

// The gradient reaching the normalisation for rows [r0, r0 + n): dy, or dy*step(x*alpha + shift) with relu
// (written to g); returns the pointer to use.
static const float *masked_grad(const float *x, const float *dy, int n, int C, const float *alpha, const float *shift, int relu, float *g) {
  if (!relu) return dy;
  for (int r = 0; r < n; r++) {
    const float *xr = x + r * C, *dr = dy + r * C;
    float *gr = g + r * C;
    int c = 0;
    for (; c + 4 <= C; c += 4) {
      v128_t pre = wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(xr + c), wasm_v128_load(alpha + c)), wasm_v128_load(shift + c));
      wasm_v128_store(gr + c, wasm_f32x4_mul(wasm_v128_load(dr + c), step4(pre)));
    }
    for (; c < C; c++) gr[c] = dr[c] * step1(xr[c] * alpha[c] + shift[c]);
  }
  return g;
}

// Forward. Outputs y [rows, C], mean, var (biased), invstd [C]. Scratch: acc (C doubles), tmp (CHUNK_FLOATS),
// alpha and shift (C floats each).
__attribute__((export_name("bn_train_forward"))) void bn_train_forward(const float *x, int rows, int C, const float *gamma,
                                                                     const float *beta, float eps, int relu, float *y,
                                                                     float *mean, float *var, float *invstd, double *acc,
                                                                     float *tmp, float *alpha, float *shift) {
  int cr = chunk_rows(C);
  zero_f64(acc, C);
  for (int r0 = 0; r0 < rows; r0 += cr) colsum_acc(x + r0 * C, rows - r0 < cr ? rows - r0 : cr, C, acc);
  for (int c = 0; c < C; c++) mean[c] = rows > 0 ? (float)(acc[c] / rows) : 0.0f;
  zero_f64(acc, C);
  for (int r0 = 0; r0 < rows; r0 += cr) {
    int n = rows - r0 < cr ? rows - r0 : cr;
    const float *xs = x + r0 * C;
    for (int r = 0; r < n; r++) {
      int c = 0;
      for (; c + 4 <= C; c += 4) {
        v128_t d = wasm_f32x4_sub(wasm_v128_load(xs + r * C + c), wasm_v128_load(mean + c));
        wasm_v128_store(tmp + r * C + c, wasm_f32x4_mul(d, d));
      }
      for (; c < C; c++) {
        float d = xs[r * C + c] - mean[c];
        tmp[r * C + c] = d * d;
      }
    }
    colsum_acc(tmp, n, C, acc);
  }
  for (int c = 0; c < C; c++) {
    var[c] = rows > 0 ? (float)(acc[c] / rows) : 0.0f;
    invstd[c] = 1.0f / __builtin_sqrtf(var[c] + eps);
  }
  affine(C, mean, invstd, gamma, beta, alpha, shift);
  v128_t zero = wasm_f32x4_splat(0.0f);
  for (int r = 0; r < rows; r++) {
    const float *xr = x + r * C;
    float *yr = y + r * C;
    int c = 0;
    for (; c + 4 <= C; c += 4) {
      v128_t v = wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(xr + c), wasm_v128_load(alpha + c)), wasm_v128_load(shift + c));
      // relu as tfjs: v < 0 ? 0 : v (NaN stays NaN)
      if (relu) v = wasm_v128_bitselect(zero, v, wasm_f32x4_lt(v, zero));
      wasm_v128_store(yr + c, v);
    }
    for (; c < C; c++) {
      float v = xr[c] * alpha[c] + shift[c];
      yr[c] = relu && v < 0.0f ? 0.0f : v;
    }
  }
}

// Backward. Inputs dy, x [rows, C] and the forward's mean, invstd; outputs dx [rows, C], dgamma, dbeta [C].
// Scratch: acc (2C doubles), tmp (2 * CHUNK_FLOATS), alpha, shift, k, dbn, s (C floats each).
__attribute__((export_name("bn_train_backward"))) void bn_train_backward(const float *dy, const float *x, int rows, int C,
                                                                       const float *mean, const float *invstd,
                                                                       const float *gamma, const float *beta, int relu,
                                                                       float *dx, float *dgamma, float *dbeta, double *acc,
                                                                       float *tmp, float *alpha, float *shift, float *k,
                                                                       float *dbn, float *s) {
  int cr = chunk_rows(C);
  float n = (float)rows;
  float *g = tmp, *prod = tmp + CHUNK_FLOATS;
  affine(C, mean, invstd, gamma, beta, alpha, shift);
  // one pass for dbeta = sum(g) (into acc) and dot = sum((x - mean) * g) (into acc + C)
  zero_f64(acc, 2 * C);
  for (int r0 = 0; r0 < rows; r0 += cr) {
    int m = rows - r0 < cr ? rows - r0 : cr;
    const float *xs = x + r0 * C;
    const float *gs = masked_grad(xs, dy + r0 * C, m, C, alpha, shift, relu, g);
    colsum_acc(gs, m, C, acc);
    for (int r = 0; r < m; r++) {
      int c = 0;
      for (; c + 4 <= C; c += 4) {
        v128_t d = wasm_f32x4_sub(wasm_v128_load(xs + r * C + c), wasm_v128_load(mean + c));
        wasm_v128_store(prod + r * C + c, wasm_f32x4_mul(d, wasm_v128_load(gs + r * C + c)));
      }
      for (; c < C; c++) prod[r * C + c] = (xs[r * C + c] - mean[c]) * gs[r * C + c];
    }
    colsum_acc(prod, m, C, acc + C);
  }
  for (int c = 0; c < C; c++) {
    dbeta[c] = (float)acc[c];
    float dot = (float)acc[C + c];
    k[c] = dot * (invstd[c] * invstd[c]) / n;
    dbn[c] = dbeta[c] / n;
    s[c] = invstd[c] * gamma[c];
    dgamma[c] = dot * invstd[c];
  }
  // dx = ((g - dbeta/n) - (x - mean)*k) * (invstd*gamma), chunk by chunk so that g stays in cache
  for (int r0 = 0; r0 < rows; r0 += cr) {
    int m = rows - r0 < cr ? rows - r0 : cr;
    const float *xs = x + r0 * C;
    const float *gs = masked_grad(xs, dy + r0 * C, m, C, alpha, shift, relu, g);
    float *ds = dx + r0 * C;
    for (int r = 0; r < m; r++) {
      int c = 0;
      for (; c + 4 <= C; c += 4) {
        v128_t d = wasm_f32x4_sub(wasm_v128_load(xs + r * C + c), wasm_v128_load(mean + c));
        v128_t a = wasm_f32x4_sub(wasm_v128_load(gs + r * C + c), wasm_v128_load(dbn + c));
        v128_t b = wasm_f32x4_sub(a, wasm_f32x4_mul(d, wasm_v128_load(k + c)));
        wasm_v128_store(ds + r * C + c, wasm_f32x4_mul(b, wasm_v128_load(s + c)));
      }
      for (; c < C; c++) {
        float d = xs[r * C + c] - mean[c];
        ds[r * C + c] = ((gs[r * C + c] - dbn[c]) - d * k[c]) * s[c];
      }
    }
  }
}
