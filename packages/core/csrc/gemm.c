// Batched single-precision GEMM for the tfjs wasm backend, in wasm SIMD (128-bit).
//
// C[b] = op(A[b]) * op(B[b]) for b in [0, batch), with op() given by element strides, so that transposes are only
// a choice of strides and never an explicit copy: element (m, k) of A is A[aOff[b] + m*rsa + k*csa] and element
// (k, n) of B is B[bOff[b] + k*rsb + n*csb]. C[b] is dense row-major [M, N] at C + b*M*N.
//
// Layout follows the usual blocked scheme: a KC x NC block of B is packed into NR-wide column panels, an MC x KC
// block of A into MR-high row panels, and an MR x NR register-blocked micro-kernel runs over the panels.
// 4 x 8 (8 f32x4 accumulators) measured about 1.8x faster than 6 x 8 (12) or 8 x 8 (16) under V8: x64 has 16
// xmm registers and larger tiles spill. Packing is where the transposes are absorbed. Edge tiles go through a small buffer.
//
// No libc: built with clang --target=wasm32 -nostdlib; the module exports its memory, and the caller (JS)
// places operands after __heap_base and grows the memory as needed. See scripts/build-gemm.sh.
//
// The same source is built four times: gemm.wasm (own memory, single-threaded) and gemm-mt.wasm (imported shared
// memory, one instance per thread, src/kernels/wasm/gemm.ts), each also with relaxed SIMD's fused multiply-add
// (gemm-fma.wasm, gemm-mt-fma.wasm, used where the runtime validates relaxed SIMD). There is therefore no mutable static data: every
// entry point takes its scratch (packed panels, im2col columns) as pointers, one region per thread, and computes one
// part of the output (a range of rows, columns or channels) chosen by the caller. Each output element is computed
// by exactly one call, with a summation order that does not depend on the part boundaries (the depth loop is
// blocked by KC from 0 whatever the rows and columns), so any split gives bit-identical results.
#include <wasm_simd128.h>

// a*b + c per lane: one fused multiply-add with relaxed SIMD (the -fma builds; V8 emits vfmadd where the CPU has
// FMA3, else a multiply and an add), otherwise a multiply and an add, each rounded.
#ifdef CMID_FMA
#define MADD(a, b, c) wasm_f32x4_relaxed_madd(a, b, c)
#else
#define MADD(a, b, c) wasm_f32x4_add(c, wasm_f32x4_mul(a, b))
#endif

#define MR 4
#define NR 8
#define KC 256
#define MC 96
#define NC 1024

extern unsigned char __heap_base;

// Per-thread scratch for packed panels (1 MiB + 96 KiB), passed by the caller: A panels, then B panels.
#define SCRATCH_FLOATS (MC * KC + KC * NC)

__attribute__((export_name("heap_base"))) unsigned heap_base(void) { return (unsigned)&__heap_base; }
__attribute__((export_name("gemm_scratch_bytes"))) unsigned gemm_scratch_bytes(void) { return 4u * SCRATCH_FLOATS; }

// Transpose the 4x4 block whose rows start at s0..s3 and store its rows at d, d + ds, d + 2ds, d + 3ds.
static inline void transpose4x4(const float *s0, const float *s1, const float *s2, const float *s3, float *d, int ds) {
  v128_t x0 = wasm_v128_load(s0), x1 = wasm_v128_load(s1), x2 = wasm_v128_load(s2), x3 = wasm_v128_load(s3);
  v128_t t0 = wasm_i32x4_shuffle(x0, x1, 0, 4, 1, 5);  // x00 x10 x01 x11
  v128_t t1 = wasm_i32x4_shuffle(x0, x1, 2, 6, 3, 7);  // x02 x12 x03 x13
  v128_t t2 = wasm_i32x4_shuffle(x2, x3, 0, 4, 1, 5);  // x20 x30 x21 x31
  v128_t t3 = wasm_i32x4_shuffle(x2, x3, 2, 6, 3, 7);  // x22 x32 x23 x33
  wasm_v128_store(d, wasm_i32x4_shuffle(t0, t2, 0, 1, 4, 5));
  wasm_v128_store(d + ds, wasm_i32x4_shuffle(t0, t2, 2, 3, 6, 7));
  wasm_v128_store(d + 2 * ds, wasm_i32x4_shuffle(t1, t3, 0, 1, 4, 5));
  wasm_v128_store(d + 3 * ds, wasm_i32x4_shuffle(t1, t3, 2, 3, 6, 7));
}

// Pack rows [0, mc) x depth [0, kc) of A (already offset) into MR-high panels: panel p, depth k, row i at
// dst[p*MR*kc + k*MR + i]. Rows past mc are zero.
static void pack_a(const float *A, int rsa, int csa, int mc, int kc, float *dst) {
  for (int m0 = 0; m0 < mc; m0 += MR) {
    int mr = mc - m0 < MR ? mc - m0 : MR;
    const float *a = A + m0 * rsa;
    if (mr == MR && rsa == 1) {
      // transposed A: the MR rows of one depth are contiguous
      for (int k = 0; k < kc; k++) wasm_v128_store(dst + k * MR, wasm_v128_load(a + k * csa));
    } else if (mr == MR && csa == 1) {
      // row-major A: transpose 4 x 4 blocks
      int k = 0;
      for (; k + 4 <= kc; k += 4) transpose4x4(a + k, a + rsa + k, a + 2 * rsa + k, a + 3 * rsa + k, dst + k * MR, MR);
      for (; k < kc; k++)
        for (int i = 0; i < MR; i++) dst[k * MR + i] = a[i * rsa + k];
    } else {
      for (int k = 0; k < kc; k++)
        for (int i = 0; i < MR; i++) dst[k * MR + i] = i < mr ? a[i * rsa + k * csa] : 0.0f;
    }
    dst += kc * MR;
  }
}

// Pack depth [0, kc) x columns [0, nc) of B (already offset) into NR-wide panels: panel p, depth k, column j at
// dst[p*NR*kc + k*NR + j]. Columns past nc are zero.
static void pack_b(const float *B, int rsb, int csb, int kc, int nc, float *dst) {
  for (int n0 = 0; n0 < nc; n0 += NR) {
    int nr = nc - n0 < NR ? nc - n0 : NR;
    const float *b = B + n0 * csb;
    if (nr == NR && csb == 1) {
      for (int k = 0; k < kc; k++) {
        const float *s = b + k * rsb;
        wasm_v128_store(dst, wasm_v128_load(s));
        wasm_v128_store(dst + 4, wasm_v128_load(s + 4));
        dst += NR;
      }
    } else if (nr == NR && rsb == 1) {
      // transposed B: each column is contiguous in depth; transpose 4x4 blocks with shuffles
      int k = 0;
      for (; k + 4 <= kc; k += 4) {
        const float *c = b + k;
        transpose4x4(c, c + csb, c + 2 * csb, c + 3 * csb, dst + k * NR, NR);
        c += 4 * csb;
        transpose4x4(c, c + csb, c + 2 * csb, c + 3 * csb, dst + k * NR + 4, NR);
      }
      for (; k < kc; k++)
        for (int j = 0; j < NR; j++) dst[k * NR + j] = b[j * csb + k];
      dst += kc * NR;
    } else {
      for (int k = 0; k < kc; k++) {
        for (int j = 0; j < NR; j++) dst[j] = j < nr ? b[k * rsb + j * csb] : 0.0f;
        dst += NR;
      }
    }
  }
}

// MR x NR tile: C (row stride ldc) = or += sum_k a[k*MR+i] * b[k*NR+j]. The loops over i and j unroll fully,
// so the MR x NR/4 accumulators live in registers.
static inline void micro_kernel(int kc, const float *a, const float *b, float *C, int ldc, int accumulate) {
  v128_t c[MR][NR / 4];
#pragma clang loop unroll(full)
  for (int i = 0; i < MR; i++)
#pragma clang loop unroll(full)
    for (int j = 0; j < NR / 4; j++) c[i][j] = wasm_f32x4_splat(0.0f);
  for (int k = 0; k < kc; k++) {
    v128_t bv[NR / 4];
#pragma clang loop unroll(full)
    for (int j = 0; j < NR / 4; j++) bv[j] = wasm_v128_load(b + 4 * j);
#pragma clang loop unroll(full)
    for (int i = 0; i < MR; i++) {
      v128_t av = wasm_v128_load32_splat(a + i);
#pragma clang loop unroll(full)
      for (int j = 0; j < NR / 4; j++) c[i][j] = MADD(av, bv[j], c[i][j]);
    }
    a += MR;
    b += NR;
  }
#pragma clang loop unroll(full)
  for (int i = 0; i < MR; i++)
#pragma clang loop unroll(full)
    for (int j = 0; j < NR / 4; j++) {
      float *p = C + i * ldc + 4 * j;
      wasm_v128_store(p, accumulate ? wasm_f32x4_add(c[i][j], wasm_v128_load(p)) : c[i][j]);
    }
}

// One C[M,N] += or = A*B over packed blocks; mc x nc of C at C (row stride ldc).
static void macro_kernel(int mc, int nc, int kc, const float *pa, const float *pb, float *C, int ldc, int accumulate) {
  float tile[MR * NR] __attribute__((aligned(16)));
  for (int n0 = 0; n0 < nc; n0 += NR) {
    int nr = nc - n0 < NR ? nc - n0 : NR;
    const float *b = pb + n0 * kc;
    for (int m0 = 0; m0 < mc; m0 += MR) {
      int mr = mc - m0 < MR ? mc - m0 : MR;
      const float *a = pa + m0 * kc;
      float *c = C + m0 * ldc + n0;
      if (mr == MR && nr == NR) {
        micro_kernel(kc, a, b, c, ldc, accumulate);
      } else {
        micro_kernel(kc, a, b, tile, NR, 0);
        for (int i = 0; i < mr; i++)
          for (int j = 0; j < nr; j++) c[i * ldc + j] = accumulate ? c[i * ldc + j] + tile[i * NR + j] : tile[i * NR + j];
      }
    }
  }
}

// C = A*B, or C += A*B when `accumulate`; C has row stride ldc; ws is SCRATCH_FLOATS of scratch.
static void gemm(int M, int N, int K, const float *A, int rsa, int csa, const float *B, int rsb, int csb, float *C,
                 int ldc, int accumulate, float *ws) {
  float *packA = ws, *packB = ws + MC * KC;
  if (K == 0) {
    if (!accumulate)
      for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) C[i * ldc + j] = 0.0f;
    return;
  }
  for (int n0 = 0; n0 < N; n0 += NC) {
    int nc = N - n0 < NC ? N - n0 : NC;
    for (int k0 = 0; k0 < K; k0 += KC) {
      int kc = K - k0 < KC ? K - k0 : KC;
      pack_b(B + k0 * rsb + n0 * csb, rsb, csb, kc, nc, packB);
      for (int m0 = 0; m0 < M; m0 += MC) {
        int mc = M - m0 < MC ? M - m0 : MC;
        pack_a(A + m0 * rsa + k0 * csa, rsa, csa, mc, kc, packA);
        macro_kernel(mc, nc, kc, packA, packB, C + m0 * ldc + n0, ldc, accumulate || k0 > 0);
      }
    }
  }
}

// batch GEMMs; aOff/bOff hold each batch's element offset into A and B (broadcasting is a repeated offset).
// Computes the part batches [b0, b1) x rows [m0, m1) x columns [n0, n1) of C (dense [batch, M, N]).
__attribute__((export_name("gemm_batched"))) void gemm_batched(int batch, int M, int N, int K, const float *A, int rsa,
                                                                int csa, const int *aOff, const float *B, int rsb,
                                                                int csb, const int *bOff, float *C, int b0, int b1,
                                                                int m0, int m1, int n0, int n1, float *ws) {
  (void)batch;
  for (int i = b0; i < b1; i++)
    gemm(m1 - m0, n1 - n0, K, A + aOff[i] + m0 * rsa, rsa, csa, B + bOff[i] + n0 * csb, rsb, csb,
         C + i * M * N + m0 * N + n0, N, 0, ws);
}

static void fill_zero(float *d, int n) {
  int i = 0;
  for (; i + 4 <= n; i += 4) wasm_v128_store(d + i, wasm_f32x4_splat(0.0f));
  for (; i < n; i++) d[i] = 0.0f;
}

static void copy_f32(float *d, const float *s, int n) {
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    wasm_v128_store(d + i, wasm_v128_load(s + i));
    wasm_v128_store(d + i + 4, wasm_v128_load(s + i + 4));
  }
  for (; i + 4 <= n; i += 4) wasm_v128_store(d + i, wasm_v128_load(s + i));
  for (; i < n; i++) d[i] = s[i];
}

// Rows [r0, r0 + nr), columns [k0, k1) of the im2col matrix of x (NHWC [B, H, W, Ci]) for a kh x kw filter, dense
// [nr, k1 - k0]: row r is output pixel (b, oh, ow) in row-major order, column (i, j, c) is
// x[b, oh*sh + i*dh - pt, ow*sw + j*dw - pl, c] (0 outside x). With dw == 1 the in-range taps of one filter row are
// one contiguous run of x and are copied at once.
static void im2col(const float *x, int H, int W, int Ci, int Ho, int Wo, int kh, int kw, int sh, int sw, int dh, int dw,
                   int pt, int pl, int r0, int nr, int k0, int k1, float *cols) {
  int K = k1 - k0, rowK = kw * Ci;
  int ilo = k0 / rowK, ihi = (k1 - 1) / rowK;
  int bi = r0 / (Ho * Wo), oh = (r0 / Wo) % Ho, ow = r0 % Wo;
  (void)kh;
  for (int r = 0; r < nr; r++) {
    float *dst = cols + r * K;
    int w0 = ow * sw - pl;
    // taps j in [jlo, jhi) are inside the row
    int jlo = 0, jhi = kw;
    while (jlo < kw && w0 + jlo * dw < 0) jlo++;
    while (jhi > jlo && w0 + (jhi - 1) * dw >= W) jhi--;
    for (int i = ilo; i <= ihi; i++) {
      // this filter row's columns [a, e) (relative to the row) are in the range
      int a = k0 > i * rowK ? k0 - i * rowK : 0, e = k1 < (i + 1) * rowK ? k1 - i * rowK : rowK;
      float *d = dst + i * rowK + a - k0;
      int ih = oh * sh + i * dh - pt;
      if (ih < 0 || ih >= H || jlo >= jhi) {
        fill_zero(d, e - a);
        continue;
      }
      const float *row = x + (bi * H + ih) * W * Ci;
      int lo = jlo * Ci, hi = jhi * Ci;
      int ca = a > lo ? a : lo, cb = e < hi ? e : hi;  // copied part [ca, cb)
      if (ca >= cb) {
        fill_zero(d, e - a);
        continue;
      }
      fill_zero(d, ca - a);
      if (dw == 1) {
        copy_f32(d + ca - a, row + w0 * Ci + ca, cb - ca);
      } else {
        for (int j = ca / Ci; j * Ci < cb; j++) {
          int p0 = j * Ci > ca ? j * Ci : ca, p1 = (j + 1) * Ci < cb ? (j + 1) * Ci : cb;
          copy_f32(d + p0 - a, row + (w0 + j * dw) * Ci + p0 - j * Ci, p1 - p0);
        }
      }
      fill_zero(d + cb - a, e - cb);
    }
    if (++ow == Wo) {
      ow = 0;
      if (++oh == Ho) {
        oh = 0;
        bi++;
      }
    }
  }
}

// Filter gradient of a 2-D NHWC convolution: dW [kh*kw*Ci, Co] = cols(x)^T [kh*kw*Ci, B*Ho*Wo] @ dy [B*Ho*Wo, Co],
// where cols(x) is the im2col matrix above, built `chunk` rows at a time into `cols` (chunk * (m1 - m0) floats) and
// accumulated chunk by chunk. Computes rows [m0, m1) x columns [n0, n1) of dW: threads split the rows (each part
// builds only those columns of cols(x) but packs all of dy) when dW has more rows than columns, else the columns
// (each part builds all of cols(x) and packs its slice of dy). A 1x1 filter at stride 1 without padding reads x
// itself as cols(x). ws: SCRATCH_FLOATS.
__attribute__((export_name("conv2d_filter_grad"))) void conv2d_filter_grad(
    const float *x, int B, int H, int W, int Ci, const float *dy, int Ho, int Wo, int Co, int kh, int kw, int sh, int sw,
    int dh, int dw, int pt, int pl, float *cols, int chunk, float *out, int m0, int m1, int n0, int n1, float *ws) {
  int N = B * Ho * Wo, K = kh * kw * Ci, Mp = m1 - m0, Np = n1 - n0;
  int identity = kh == 1 && kw == 1 && sh == 1 && sw == 1 && pt == 0 && pl == 0 && Ho == H && Wo == W;
  if (Mp <= 0 || Np <= 0) return;
  if (N == 0) gemm(Mp, Np, 0, x, 1, K, dy, Co, 1, out + m0 * Co + n0, Co, 0, ws);
  for (int r0 = 0; r0 < N; r0 += chunk) {
    int nr = N - r0 < chunk ? N - r0 : chunk;
    const float *a = x + r0 * Ci + m0;
    int csa = K;
    if (!identity) {
      im2col(x, H, W, Ci, Ho, Wo, kh, kw, sh, sw, dh, dw, pt, pl, r0, nr, m0, m1, cols);
      a = cols;
      csa = Mp;
    }
    gemm(Mp, Np, nr, a, 1, csa, dy + r0 * Co + n0, Co, 1, out + m0 * Co + n0, Co, r0 > 0, ws);
  }
}

// Forward 2-D NHWC convolution: out [B*Ho*Wo, Co] = cols(x) [B*Ho*Wo, kh*kw*Ci] @ W [kh*kw*Ci, Co], W the HWIO filter,
// cols(x) the im2col matrix above built `chunk` rows at a time into `cols` (chunk * kh*kw*Ci floats). Computes the
// output rows [r0, r1) x columns [n0, n1): threads split the rows when there are more rows than columns (each part
// then packs all of W), else the columns (each part builds all of cols(x) and packs its slice of W). The depth loop
// of every element is the same whatever the rows and columns, so any split gives the same bits. A 1x1 filter at
// stride 1 without padding reads x itself. ws: SCRATCH_FLOATS.
__attribute__((export_name("conv2d_forward"))) void conv2d_forward(
    const float *x, int B, int H, int W, int Ci, const float *w, int Ho, int Wo, int Co, int kh, int kw, int sh, int sw,
    int dh, int dw, int pt, int pl, float *cols, int chunk, float *out, int r0, int r1, int n0, int n1, float *ws) {
  int K = kh * kw * Ci;
  (void)B;
  if (r1 <= r0 || n1 <= n0) return;
  if (kh == 1 && kw == 1 && sh == 1 && sw == 1 && pt == 0 && pl == 0 && Ho == H && Wo == W) {
    gemm(r1 - r0, n1 - n0, K, x + r0 * Ci, Ci, 1, w + n0, Co, 1, out + r0 * Co + n0, Co, 0, ws);
    return;
  }
  for (int rs = r0; rs < r1; rs += chunk) {
    int nr = r1 - rs < chunk ? r1 - rs : chunk;
    im2col(x, H, W, Ci, Ho, Wo, kh, kw, sh, sw, dh, dw, pt, pl, rs, nr, 0, K, cols);
    gemm(nr, n1 - n0, K, cols, K, 1, w + n0, Co, 1, out + rs * Co + n0, Co, 0, ws);
  }
}

static void add_f32(float *d, const float *s, int n) {
  int i = 0;
  for (; i + 4 <= n; i += 4) wasm_v128_store(d + i, wasm_f32x4_add(wasm_v128_load(d + i), wasm_v128_load(s + i)));
  for (; i < n; i++) d[i] += s[i];
}

// The adjoint of im2col for the channels [c0, c0 + cw): adds rows [r0, r0 + nr) of a [.., kh*kw*cw] column matrix
// into x (NHWC [B, H, W, Ci]), column (i, j, c) of row (b, oh, ow) into x[b, oh*sh + i*dh - pt, ow*sw + j*dw - pl,
// c0 + c] when that is inside x. Every element of x receives its terms in the same order (rows, then taps) whatever
// the channel range.
static void col2im_add(const float *cols, int H, int W, int Ci, int Ho, int Wo, int kh, int kw, int sh, int sw, int dh,
                       int dw, int pt, int pl, int r0, int nr, int c0, int cw, float *x) {
  int K = kh * kw * cw;
  int bi = r0 / (Ho * Wo), oh = (r0 / Wo) % Ho, ow = r0 % Wo;
  for (int r = 0; r < nr; r++) {
    const float *src = cols + r * K;
    int w0 = ow * sw - pl;
    int jlo = 0, jhi = kw;
    while (jlo < kw && w0 + jlo * dw < 0) jlo++;
    while (jhi > jlo && w0 + (jhi - 1) * dw >= W) jhi--;
    for (int i = 0; i < kh; i++, src += kw * cw) {
      int ih = oh * sh + i * dh - pt;
      if (ih < 0 || ih >= H) continue;
      float *row = x + (bi * H + ih) * W * Ci + c0;
      if (dw == 1 && cw == Ci) {
        add_f32(row + (w0 + jlo) * Ci, src + jlo * Ci, (jhi - jlo) * Ci);
      } else {
        for (int j = jlo; j < jhi; j++) add_f32(row + (w0 + j * dw) * Ci, src + j * cw, cw);
      }
    }
    if (++ow == Wo) {
      ow = 0;
      if (++oh == Ho) {
        oh = 0;
        bi++;
      }
    }
  }
}

// Input gradient of a 2-D NHWC convolution: dx = col2im(dy [B*Ho*Wo, Co] @ W^T [Co, kh*kw*Ci]), with W the HWIO
// filter read as [kh*kw*Ci, Co]. Computes the channels [c0, c1) of dx: the product's columns for those channels
// (W's rows (i, j, c0..c1), gathered into `wt`, kh*kw*(c1-c0)*Co floats, unless that is all of W) are formed
// `chunk` rows at a time into `cols` (chunk * kh*kw*(c1-c0) floats) and added into dx. A 1x1 filter at stride 1
// without padding writes the product straight into dx, and there threads may split the pixels [p0, p1) instead
// (each part then packs only its rows of dy); elsewhere [p0, p1) must be whole images (the output pixels of
// images b0..b1, which write only those images of dx, so images can be split too). ws: SCRATCH_FLOATS.
__attribute__((export_name("conv2d_input_grad"))) void conv2d_input_grad(
    const float *dy, int B, int H, int W, int Ci, const float *w, int Ho, int Wo, int Co, int kh, int kw, int sh, int sw,
    int dh, int dw, int pt, int pl, float *cols, int chunk, float *dx, int c0, int c1, int p0, int p1, float *wt,
    float *ws) {
  int cw = c1 - c0, taps = kh * kw;
  if (cw <= 0 || p1 <= p0) return;
  if (kh == 1 && kw == 1 && sh == 1 && sw == 1 && pt == 0 && pl == 0 && Ho == H && Wo == W) {
    gemm(p1 - p0, cw, Co, dy + p0 * Co, Co, 1, w + c0 * Co, 1, Co, dx + p0 * Ci + c0, Ci, 0, ws);
    return;
  }
  const float *wp = w;
  if (cw != Ci) {
    for (int t = 0; t < taps; t++) copy_f32(wt + t * cw * Co, w + (t * Ci + c0) * Co, cw * Co);
    wp = wt;
  }
  // [p0, p1) is whole images here: their dx rows are zeroed, then their output pixels' columns are added in
  int img = Ho * Wo, b0 = img > 0 ? p0 / img : 0, b1 = img > 0 ? p1 / img : B;
  float *dxb = dx + b0 * H * W * Ci;
  int rows = (b1 - b0) * H * W;
  if (cw == Ci) fill_zero(dxb, rows * Ci);
  else
    for (int p = 0; p < rows; p++) fill_zero(dxb + p * Ci + c0, cw);
  for (int r0 = p0; r0 < p1; r0 += chunk) {
    int nr = p1 - r0 < chunk ? p1 - r0 : chunk;
    gemm(nr, taps * cw, Co, dy + r0 * Co, Co, 1, wp, 1, Co, cols, taps * cw, 0, ws);
    col2im_add(cols, H, W, Ci, Ho, Wo, kh, kw, sh, sw, dh, dw, pt, pl, r0, nr, c0, cw, dx);
  }
}
