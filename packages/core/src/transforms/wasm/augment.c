// uint8 image kernels of the augmentation pipeline, in wasm SIMD (128-bit). Built by build-augment.sh into
// augment.wasm next to this file (committed: CI has no clang); augment-wasm.ts loads it and places the operands.
//
// Every kernel reproduces the semantics documented in the TS file that calls it:
// - resize_h_fixed / resize_v_fixed: Pillow's 8-bit resampling (Resample.c) bit for bit: 22-bit fixed-point weights,
//   sum + 2^21, arithmetic shift, clip to 0..255, horizontal pass first into a uint8 intermediate (resize.ts).
// - resize_h_f32 / resize_v_f32_u8: half-pixel interpolation in float32, rounded half to even (resize.ts).
// - blur_u8: separable symmetric Gaussian, reflect-101 borders, float32, rounded half to even (gaussian-blur.ts).
// - hue_u8 / saturation_u8 / gray_sum_u8: torchvision's uint8 tensor colour ops; scalar float32 code, which is the
//   same IEEE arithmetic as torch's CPU kernels (no FMA contraction: -ffp-contract=off) (color-jitter.ts).
// - lut_u8, normalize_u8, noise_u8: table lookups and the ziggurat fast path of gauss-noise.ts (float64, as the TS).
//
// Buffers: the caller adds 16 bytes of slack after every input and output, because the 3-band paths read and
// write one lane past a pixel (the extra lane is never used and is overwritten by the next pixel).
// No libc: built with clang --target=wasm32 -nostdlib.
#include <stdint.h>
#include <wasm_simd128.h>

#define EXPORT(name) __attribute__((export_name(#name)))
#define PB 22
#define HALF (1 << (PB - 1))

extern unsigned char __heap_base;

EXPORT(heap_base) unsigned heap_base(void) { return (unsigned)&__heap_base; }

static inline v128_t u8x4_to_i32x4(const uint8_t *p) {
  return wasm_u32x4_extend_low_u16x8(wasm_u16x8_extend_low_u8x16(wasm_v128_load32_zero(p)));
}

static inline int clamp255(int v) { return v < 0 ? 0 : v > 255 ? 255 : v; }

// ---------------------------------------------------------------- Pillow fixed-point resampling

// rows [y0, y0 + rows) of src (W x C) -> dst (rows x outW x C); output x reads K pixels from start[x] (absolute).
EXPORT(resize_h_fixed)
void resize_h_fixed(const uint8_t *src, int W, int C, int y0, int rows, const int32_t *start, int K, const int32_t *wi, int outW, uint8_t *dst) {
  for (int r = 0; r < rows; r++) {
    const uint8_t *row = src + (long)(y0 + r) * W * C;
    uint8_t *out = dst + (long)r * outW * C;
    if (C == 3 || C == 4) {
      for (int x = 0; x < outW; x++) {
        const uint8_t *p = row + start[x] * C;
        const int32_t *w = wi + x * K;
        v128_t acc = wasm_i32x4_splat(HALF);
        for (int k = 0; k < K; k++, p += C) acc = wasm_i32x4_add(acc, wasm_i32x4_mul(u8x4_to_i32x4(p), wasm_i32x4_splat(w[k])));
        acc = wasm_i32x4_shr(acc, PB);
        v128_t n16 = wasm_i16x8_narrow_i32x4(acc, acc);
        wasm_v128_store32_lane(out + x * C, wasm_u8x16_narrow_i16x8(n16, n16), 0);
      }
    } else {
      for (int x = 0; x < outW; x++) {
        const uint8_t *p0 = row + start[x] * C;
        const int32_t *w = wi + x * K;
        for (int c = 0; c < C; c++) {
          int s = HALF;
          for (int k = 0; k < K; k++) s += p0[k * C + c] * w[k];
          out[x * C + c] = (uint8_t)clamp255(s >> PB);
        }
      }
    }
  }
}

// output row y = sum_k w[y K + k] * tmp row (start[y] + k) (start relative to tmp), per byte.
EXPORT(resize_v_fixed)
void resize_v_fixed(const uint8_t *tmp, int rowLen, const int32_t *start, int K, const int32_t *wi, int outH, uint8_t *dst) {
  for (int y = 0; y < outH; y++) {
    const uint8_t *base = tmp + (long)start[y] * rowLen;
    const int32_t *w = wi + y * K;
    uint8_t *out = dst + (long)y * rowLen;
    int i = 0;
    for (; i + 16 <= rowLen; i += 16) {
      v128_t a0 = wasm_i32x4_splat(HALF), a1 = a0, a2 = a0, a3 = a0;
      for (int k = 0; k < K; k++) {
        v128_t v = wasm_v128_load(base + (long)k * rowLen + i);
        v128_t lo = wasm_u16x8_extend_low_u8x16(v), hi = wasm_u16x8_extend_high_u8x16(v);
        v128_t wk = wasm_i32x4_splat(w[k]);
        a0 = wasm_i32x4_add(a0, wasm_i32x4_mul(wasm_u32x4_extend_low_u16x8(lo), wk));
        a1 = wasm_i32x4_add(a1, wasm_i32x4_mul(wasm_u32x4_extend_high_u16x8(lo), wk));
        a2 = wasm_i32x4_add(a2, wasm_i32x4_mul(wasm_u32x4_extend_low_u16x8(hi), wk));
        a3 = wasm_i32x4_add(a3, wasm_i32x4_mul(wasm_u32x4_extend_high_u16x8(hi), wk));
      }
      v128_t n0 = wasm_i16x8_narrow_i32x4(wasm_i32x4_shr(a0, PB), wasm_i32x4_shr(a1, PB));
      v128_t n1 = wasm_i16x8_narrow_i32x4(wasm_i32x4_shr(a2, PB), wasm_i32x4_shr(a3, PB));
      wasm_v128_store(out + i, wasm_u8x16_narrow_i16x8(n0, n1));
    }
    for (; i < rowLen; i++) {
      int s = HALF;
      for (int k = 0; k < K; k++) s += base[(long)k * rowLen + i] * w[k];
      out[i] = (uint8_t)clamp255(s >> PB);
    }
  }
}

// ---------------------------------------------------------------- float32 interpolation (OpenCV / torch semantics)

EXPORT(resize_h_f32)
void resize_h_f32(const uint8_t *src, int W, int C, int y0, int rows, const int32_t *start, int K, const float *wf, int outW, float *dst) {
  for (int r = 0; r < rows; r++) {
    const uint8_t *row = src + (long)(y0 + r) * W * C;
    float *out = dst + (long)r * outW * C;
    if (C == 3 || C == 4) {
      for (int x = 0; x < outW; x++) {
        const uint8_t *p = row + start[x] * C;
        const float *w = wf + x * K;
        v128_t acc = wasm_f32x4_splat(0.0f);
        for (int k = 0; k < K; k++, p += C) acc = wasm_f32x4_add(acc, wasm_f32x4_mul(wasm_f32x4_convert_i32x4(u8x4_to_i32x4(p)), wasm_f32x4_splat(w[k])));
        wasm_v128_store(out + x * C, acc);
      }
    } else {
      for (int x = 0; x < outW; x++) {
        const uint8_t *p0 = row + start[x] * C;
        const float *w = wf + x * K;
        for (int c = 0; c < C; c++) {
          float s = 0.0f;
          for (int k = 0; k < K; k++) s += (float)p0[k * C + c] * w[k];
          out[x * C + c] = s;
        }
      }
    }
  }
}

static inline v128_t round_to_u8(v128_t a0, v128_t a1, v128_t a2, v128_t a3) {
  v128_t i0 = wasm_i32x4_trunc_sat_f32x4(wasm_f32x4_nearest(a0)), i1 = wasm_i32x4_trunc_sat_f32x4(wasm_f32x4_nearest(a1));
  v128_t i2 = wasm_i32x4_trunc_sat_f32x4(wasm_f32x4_nearest(a2)), i3 = wasm_i32x4_trunc_sat_f32x4(wasm_f32x4_nearest(a3));
  return wasm_u8x16_narrow_i16x8(wasm_i16x8_narrow_i32x4(i0, i1), wasm_i16x8_narrow_i32x4(i2, i3));
}

static inline uint8_t round_scalar(float v) {
  float r = __builtin_rintf(v); // ties to even
  return (uint8_t)(r <= 0.0f ? 0 : r >= 255.0f ? 255 : (int)r);
}

EXPORT(resize_v_f32_u8)
void resize_v_f32_u8(const float *tmp, int rowLen, const int32_t *start, int K, const float *wf, int outH, uint8_t *dst) {
  for (int y = 0; y < outH; y++) {
    const float *base = tmp + (long)start[y] * rowLen;
    const float *w = wf + y * K;
    uint8_t *out = dst + (long)y * rowLen;
    int i = 0;
    for (; i + 16 <= rowLen; i += 16) {
      v128_t a0 = wasm_f32x4_splat(0.0f), a1 = a0, a2 = a0, a3 = a0;
      for (int k = 0; k < K; k++) {
        const float *p = base + (long)k * rowLen + i;
        v128_t wk = wasm_f32x4_splat(w[k]);
        a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(wasm_v128_load(p), wk));
        a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(wasm_v128_load(p + 4), wk));
        a2 = wasm_f32x4_add(a2, wasm_f32x4_mul(wasm_v128_load(p + 8), wk));
        a3 = wasm_f32x4_add(a3, wasm_f32x4_mul(wasm_v128_load(p + 12), wk));
      }
      wasm_v128_store(out + i, round_to_u8(a0, a1, a2, a3));
    }
    for (; i < rowLen; i++) {
      float s = 0.0f;
      for (int k = 0; k < K; k++) s += base[(long)k * rowLen + i] * w[k];
      out[i] = round_scalar(s);
    }
  }
}

// ---------------------------------------------------------------- Gaussian blur

// kern[0..r]: outer taps first, kern[r] the centre. xIdx[i] = C * reflect101(i - r, W), yIdx[i] = reflect101(i - r, H).
// pad: (W + 2r) * C floats; tmp: H * W * C floats.
EXPORT(blur_u8)
void blur_u8(const uint8_t *src, int H, int W, int C, const float *kern, int r, const int32_t *xIdx, const int32_t *yIdx, float *pad, float *tmp, uint8_t *dst) {
  const int rowLen = W * C;
  const float wc = kern[r];
  for (int y = 0; y < H; y++) {
    const uint8_t *row = src + (long)y * rowLen;
    for (int i = 0; i < W + 2 * r; i++) {
      const uint8_t *s = row + xIdx[i];
      for (int c = 0; c < C; c++) pad[i * C + c] = (float)s[c];
    }
    float *out = tmp + (long)y * rowLen;
    int i = 0;
    for (; i + 4 <= rowLen; i += 4) {
      v128_t acc = wasm_f32x4_mul(wasm_f32x4_splat(wc), wasm_v128_load(pad + i + r * C));
      for (int k = 0; k < r; k++) {
        v128_t pair = wasm_f32x4_add(wasm_v128_load(pad + i + k * C), wasm_v128_load(pad + i + (2 * r - k) * C));
        acc = wasm_f32x4_add(acc, wasm_f32x4_mul(wasm_f32x4_splat(kern[k]), pair));
      }
      wasm_v128_store(out + i, acc);
    }
    for (; i < rowLen; i++) {
      float s = wc * pad[i + r * C];
      for (int k = 0; k < r; k++) s += kern[k] * (pad[i + k * C] + pad[i + (2 * r - k) * C]);
      out[i] = s;
    }
  }
  for (int y = 0; y < H; y++) {
    const float *c0 = tmp + (long)yIdx[y + r] * rowLen;
    uint8_t *out = dst + (long)y * rowLen;
    int i = 0;
    for (; i + 16 <= rowLen; i += 16) {
      v128_t wcv = wasm_f32x4_splat(wc);
      v128_t a0 = wasm_f32x4_mul(wcv, wasm_v128_load(c0 + i)), a1 = wasm_f32x4_mul(wcv, wasm_v128_load(c0 + i + 4));
      v128_t a2 = wasm_f32x4_mul(wcv, wasm_v128_load(c0 + i + 8)), a3 = wasm_f32x4_mul(wcv, wasm_v128_load(c0 + i + 12));
      for (int k = 0; k < r; k++) {
        const float *pa = tmp + (long)yIdx[y + k] * rowLen + i, *pb = tmp + (long)yIdx[y + 2 * r - k] * rowLen + i;
        v128_t wk = wasm_f32x4_splat(kern[k]);
        a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(wk, wasm_f32x4_add(wasm_v128_load(pa), wasm_v128_load(pb))));
        a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(wk, wasm_f32x4_add(wasm_v128_load(pa + 4), wasm_v128_load(pb + 4))));
        a2 = wasm_f32x4_add(a2, wasm_f32x4_mul(wk, wasm_f32x4_add(wasm_v128_load(pa + 8), wasm_v128_load(pb + 8))));
        a3 = wasm_f32x4_add(a3, wasm_f32x4_mul(wk, wasm_f32x4_add(wasm_v128_load(pa + 12), wasm_v128_load(pb + 12))));
      }
      wasm_v128_store(out + i, round_to_u8(a0, a1, a2, a3));
    }
    for (; i < rowLen; i++) {
      float s = wc * c0[i];
      for (int k = 0; k < r; k++) s += kern[k] * (tmp[(long)yIdx[y + k] * rowLen + i] + tmp[(long)yIdx[y + 2 * r - k] * rowLen + i]);
      out[i] = round_scalar(s);
    }
  }
}

// ---------------------------------------------------------------- colour (torchvision uint8 semantics)

static float INV255[256], TV_R[256], TV_G[256], TV_B[256];
static uint8_t V255[256];
static float HUE_S[65536], HUE_CR[65536];
static uint8_t HUE_P[65536];
static int colour_ready = 0;

static inline float clamp01(float x) { return x < 0.0f ? 0.0f : x > 1.0f ? 1.0f : x; }

static void colour_init(void) {
  if (colour_ready) return;
  for (int v = 0; v < 256; v++) {
    INV255[v] = (float)((double)v / 255.0);
    V255[v] = (uint8_t)(int)(INV255[v] * 255.0f);
    TV_R[v] = 0.2989f * (float)v;
    TV_G[v] = 0.587f * (float)v;
    TV_B[v] = 0.114f * (float)v;
  }
  for (int mx = 0; mx < 256; mx++) {
    float v = INV255[mx];
    for (int mn = 0; mn <= mx; mn++) {
      float cr = v - INV255[mn];
      float s = cr / (mx == mn ? 1.0f : v);
      int idx = (mx << 8) | mn;
      HUE_CR[idx] = cr;
      HUE_S[idx] = s;
      HUE_P[idx] = (uint8_t)(int)(clamp01(v * (1.0f - s)) * 255.0f);
    }
  }
  colour_ready = 1;
}

static inline int tv_gray(int r, int g, int b) { return (int)((TV_R[r] + TV_G[g]) + TV_B[b]); }

// Sum over pixels of torchvision's truncated gray (exact integer).
EXPORT(gray_sum_u8)
double gray_sum_u8(const uint8_t *src, int npix) {
  colour_init();
  double sum = 0;
  for (int p = 0; p < npix * 3; p += 3) sum += tv_gray(src[p], src[p + 1], src[p + 2]);
  return sum;
}

// dst = trunc(clamp(F v + G gray, 0, 255)) per band, F = f32(factor), G = f32(1 - factor).
EXPORT(saturation_u8)
void saturation_u8(const uint8_t *src, int npix, float F, float G, uint8_t *dst) {
  colour_init();
  float a[256], b[256];
  for (int v = 0; v < 256; v++) {
    a[v] = F * (float)v;
    b[v] = G * (float)v;
  }
  for (int p = 0; p < npix * 3; p += 3) {
    int r = src[p], g = src[p + 1], bl = src[p + 2];
    float gb = b[tv_gray(r, g, bl)];
    float x0 = a[r] + gb, x1 = a[g] + gb, x2 = a[bl] + gb;
    dst[p] = (uint8_t)(x0 <= 0.0f ? 0 : x0 >= 255.0f ? 255 : (int)x0);
    dst[p + 1] = (uint8_t)(x1 <= 0.0f ? 0 : x1 >= 255.0f ? 255 : (int)x1);
    dst[p + 2] = (uint8_t)(x2 <= 0.0f ? 0 : x2 >= 255.0f ? 255 : (int)x2);
  }
}

static inline void hue_pixel(const uint8_t *px, float HF, uint8_t *out) {
  int R = px[0], G = px[1], B = px[2];
  int mx = R > G ? (R > B ? R : B) : (G > B ? G : B);
  int mn = R < G ? (R < B ? R : B) : (G < B ? G : B);
  uint8_t vOut = V255[mx];
  if (mx == mn) {
    out[0] = out[1] = out[2] = vOut;
    return;
  }
  int idx = (mx << 8) | mn;
  float cr = HUE_CR[idx], s = HUE_S[idx], v = INV255[mx];
  uint8_t pOut = HUE_P[idx];
  float h;
  if (mx == R) h = (v - INV255[B]) / cr - (v - INV255[G]) / cr;
  else if (mx == G) h = (2.0f + (v - INV255[R]) / cr) - (v - INV255[B]) / cr;
  else h = (4.0f + (v - INV255[G]) / cr) - (v - INV255[R]) / cr;
  h = h / 6.0f + 1.0f;
  if (h >= 1.0f) h -= 1.0f;
  h = h + HF;
  if (h >= 1.0f) h -= 1.0f;
  else if (h < 0.0f) h = h + 1.0f;
  float h6 = h * 6.0f;
  float fl = __builtin_floorf(h6);
  float f = h6 - fl;
  int i = ((int)fl) % 6;
  float mid = (i & 1) == 0 ? v * (1.0f - s * (1.0f - f)) : v * (1.0f - s * f);
  uint8_t mOut = (uint8_t)(int)(clamp01(mid) * 255.0f);
  switch (i) {
    case 0: out[0] = vOut; out[1] = mOut; out[2] = pOut; break;
    case 1: out[0] = mOut; out[1] = vOut; out[2] = pOut; break;
    case 2: out[0] = pOut; out[1] = vOut; out[2] = mOut; break;
    case 3: out[0] = pOut; out[1] = mOut; out[2] = vOut; break;
    case 4: out[0] = mOut; out[1] = pOut; out[2] = vOut; break;
    default: out[0] = vOut; out[1] = pOut; out[2] = mOut; break;
  }
}

static inline v128_t gather_f(const float *t, int a, int b, int c, int d) { return wasm_f32x4_make(t[a], t[b], t[c], t[d]); }

// Which of (v, mid, p) lands in R, G, B for hue sector i = floor(6 h) (index 6 = sector 0, from h = 1 exactly).
static const uint8_t SLOT_R[7] = {0, 1, 2, 2, 1, 0, 0};
static const uint8_t SLOT_G[7] = {1, 0, 0, 1, 2, 2, 1};
static const uint8_t SLOT_B[7] = {2, 2, 1, 0, 0, 1, 2};

// torchvision adjust_hue on uint8: RGB/255 -> HSV (float32) -> (h + HF) mod 1 -> RGB -> trunc(255 x). Four pixels
// at a time: the same float32 operations per lane as hue_pixel (IEEE division and rounding are per lane), with the
// branches turned into selects and the channel placement into table lookups (no unpredictable branches).
EXPORT(hue_u8)
void hue_u8(const uint8_t *src, int npix, float HF, uint8_t *dst) {
  colour_init();
  const v128_t one = wasm_f32x4_splat(1.0f), zero = wasm_f32x4_splat(0.0f), six = wasm_f32x4_splat(6.0f);
  const v128_t hf = wasm_f32x4_splat(HF);
  int p = 0;
  for (; p + 4 <= npix; p += 4) {
    const uint8_t *q = src + p * 3;
    int r[4], g[4], b[4], mx[4], mn[4];
    for (int l = 0; l < 4; l++) {
      r[l] = q[3 * l];
      g[l] = q[3 * l + 1];
      b[l] = q[3 * l + 2];
      mx[l] = r[l] > g[l] ? (r[l] > b[l] ? r[l] : b[l]) : (g[l] > b[l] ? g[l] : b[l]);
      mn[l] = r[l] < g[l] ? (r[l] < b[l] ? r[l] : b[l]) : (g[l] < b[l] ? g[l] : b[l]);
    }
    int ix[4];
    for (int l = 0; l < 4; l++) ix[l] = (mx[l] << 8) | mn[l];
    v128_t v = gather_f(INV255, mx[0], mx[1], mx[2], mx[3]);
    v128_t cr = gather_f(HUE_CR, ix[0], ix[1], ix[2], ix[3]);
    v128_t s = gather_f(HUE_S, ix[0], ix[1], ix[2], ix[3]);
    // gray lanes divide by 1 (their result is not used)
    v128_t eq = wasm_i32x4_make(mx[0] == mn[0] ? -1 : 0, mx[1] == mn[1] ? -1 : 0, mx[2] == mn[2] ? -1 : 0, mx[3] == mn[3] ? -1 : 0);
    cr = wasm_v128_bitselect(one, cr, eq);
    v128_t rc = wasm_f32x4_div(wasm_f32x4_sub(v, gather_f(INV255, r[0], r[1], r[2], r[3])), cr);
    v128_t gc = wasm_f32x4_div(wasm_f32x4_sub(v, gather_f(INV255, g[0], g[1], g[2], g[3])), cr);
    v128_t bc = wasm_f32x4_div(wasm_f32x4_sub(v, gather_f(INV255, b[0], b[1], b[2], b[3])), cr);
    v128_t hR = wasm_f32x4_sub(bc, gc);
    v128_t hG = wasm_f32x4_sub(wasm_f32x4_add(wasm_f32x4_splat(2.0f), rc), bc);
    v128_t hB = wasm_f32x4_sub(wasm_f32x4_add(wasm_f32x4_splat(4.0f), gc), rc);
    v128_t isR = wasm_i32x4_make(mx[0] == r[0] ? -1 : 0, mx[1] == r[1] ? -1 : 0, mx[2] == r[2] ? -1 : 0, mx[3] == r[3] ? -1 : 0);
    v128_t isG = wasm_i32x4_make(mx[0] == g[0] ? -1 : 0, mx[1] == g[1] ? -1 : 0, mx[2] == g[2] ? -1 : 0, mx[3] == g[3] ? -1 : 0);
    v128_t h = wasm_v128_bitselect(hR, wasm_v128_bitselect(hG, hB, isG), isR);
    h = wasm_f32x4_add(wasm_f32x4_div(h, six), one);
    h = wasm_v128_bitselect(wasm_f32x4_sub(h, one), h, wasm_f32x4_ge(h, one));
    h = wasm_f32x4_add(h, hf);
    h = wasm_v128_bitselect(wasm_f32x4_sub(h, one), wasm_v128_bitselect(wasm_f32x4_add(h, one), h, wasm_f32x4_lt(h, zero)), wasm_f32x4_ge(h, one));
    v128_t h6 = wasm_f32x4_mul(h, six);
    v128_t fl = wasm_f32x4_floor(h6);
    v128_t f = wasm_f32x4_sub(h6, fl);
    v128_t t = wasm_f32x4_mul(v, wasm_f32x4_sub(one, wasm_f32x4_mul(s, wasm_f32x4_sub(one, f))));
    v128_t qq = wasm_f32x4_mul(v, wasm_f32x4_sub(one, wasm_f32x4_mul(s, f)));
    v128_t iv = wasm_i32x4_trunc_sat_f32x4(fl);
    v128_t odd = wasm_i32x4_eq(wasm_v128_and(iv, wasm_i32x4_splat(1)), wasm_i32x4_splat(1));
    v128_t mid = wasm_v128_bitselect(qq, t, odd);
    mid = wasm_f32x4_pmin(wasm_f32x4_pmax(mid, zero), one);
    v128_t m8 = wasm_i32x4_trunc_sat_f32x4(wasm_f32x4_mul(mid, wasm_f32x4_splat(255.0f)));
    // Gray lanes need no special case: s = 0 there, so mid = v and every channel is V255[max].
    int ii[4] = {wasm_i32x4_extract_lane(iv, 0), wasm_i32x4_extract_lane(iv, 1), wasm_i32x4_extract_lane(iv, 2), wasm_i32x4_extract_lane(iv, 3)};
    int mm[4] = {wasm_i32x4_extract_lane(m8, 0), wasm_i32x4_extract_lane(m8, 1), wasm_i32x4_extract_lane(m8, 2), wasm_i32x4_extract_lane(m8, 3)};
    for (int l = 0; l < 4; l++) {
      uint8_t *o = dst + (p + l) * 3;
      uint8_t vals[3] = {V255[mx[l]], (uint8_t)mm[l], HUE_P[ix[l]]};
      int k = ii[l];
      o[0] = vals[SLOT_R[k]];
      o[1] = vals[SLOT_G[k]];
      o[2] = vals[SLOT_B[k]];
    }
  }
  for (; p < npix; p++) hue_pixel(src + p * 3, HF, dst + p * 3);
}

// ---------------------------------------------------------------- tables, normalisation, noise

EXPORT(lut_u8)
void lut_u8(const uint8_t *src, int n, const uint8_t *lut, uint8_t *dst) {
  for (int i = 0; i < n; i++) dst[i] = lut[src[i]];
}

// dst[i] = lut[(i mod C) * 256 + src[i]] (float32 per band); when sums != 0 also the per-band float64 sums of dst.
EXPORT(normalize_u8)
void normalize_u8(const uint8_t *src, int n, int C, const float *lut, float *dst, double *sums) {
  if (C == 3) {
    double s0 = 0, s1 = 0, s2 = 0;
    for (int i = 0; i + 3 <= n; i += 3) {
      float a = lut[src[i]], b = lut[256 + src[i + 1]], c = lut[512 + src[i + 2]];
      dst[i] = a;
      dst[i + 1] = b;
      dst[i + 2] = c;
      s0 += a;
      s1 += b;
      s2 += c;
    }
    if (sums) {
      sums[0] = s0;
      sums[1] = s1;
      sums[2] = s2;
    }
    return;
  }
  if (sums)
    for (int c = 0; c < C; c++) sums[c] = 0;
  for (int i = 0; i < n; i += C)
    for (int c = 0; c < C; c++) {
      float v = lut[c * 256 + src[i + c]];
      dst[i + c] = v;
      if (sums) sums[c] += v;
    }
}

// Ziggurat fast path on one 32-bit word per value (layer = low 7 bits, magnitude = the signed top 25 bits), four
// values at a time in float32 (the layer bounds kn are integers below 2^24 and |magnitude| <= 2^24, so the
// acceptance test is exact; z = magnitude * wn is rounded to float32). Adds mean + sigma z, clips to [0, 255] and
// truncates. Values that need the slow path are listed in slow[] and get dst = src, for the caller to finish.
// Returns how many.
EXPORT(noise_u8)
int noise_u8(const uint8_t *src, int n, const uint32_t *rnd, float sigma, float mean, const float *kn, const float *wn, uint8_t *dst, int32_t *slow) {
  int ns = 0;
  const v128_t m127 = wasm_i32x4_splat(127), vs = wasm_f32x4_splat(sigma), vm = wasm_f32x4_splat(mean);
  const v128_t zero = wasm_f32x4_splat(0.0f), top = wasm_f32x4_splat(255.0f);
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    v128_t u = wasm_v128_load(rnd + i);
    v128_t iz = wasm_v128_and(u, m127);
    v128_t hz = wasm_f32x4_convert_i32x4(wasm_i32x4_shr(u, 7));
    int i0 = wasm_i32x4_extract_lane(iz, 0), i1 = wasm_i32x4_extract_lane(iz, 1), i2 = wasm_i32x4_extract_lane(iz, 2), i3 = wasm_i32x4_extract_lane(iz, 3);
    v128_t k = wasm_f32x4_make(kn[i0], kn[i1], kn[i2], kn[i3]);
    v128_t w = wasm_f32x4_make(wn[i0], wn[i1], wn[i2], wn[i3]);
    int fast = wasm_i32x4_bitmask(wasm_f32x4_lt(wasm_f32x4_abs(hz), k));
    v128_t v = wasm_f32x4_add(wasm_f32x4_add(wasm_f32x4_convert_i32x4(u8x4_to_i32x4(src + i)), vm), wasm_f32x4_mul(vs, wasm_f32x4_mul(hz, w)));
    v = wasm_f32x4_pmin(wasm_f32x4_pmax(v, zero), top);
    v128_t q = wasm_i32x4_trunc_sat_f32x4(v);
    v128_t n16 = wasm_i16x8_narrow_i32x4(q, q);
    wasm_v128_store32_lane(dst + i, wasm_u8x16_narrow_i16x8(n16, n16), 0);
    if (fast != 15) {
      for (int l = 0; l < 4; l++) {
        if (!(fast & (1 << l))) {
          slow[ns++] = i + l;
          dst[i + l] = src[i + l];
        }
      }
    }
  }
  for (; i < n; i++) {
    uint32_t uu = rnd[i];
    int z7 = (int)(uu & 127);
    int32_t h = ((int32_t)uu) >> 7;
    float a = (float)(h < 0 ? -h : h);
    if (!(a < kn[z7])) {
      slow[ns++] = i;
      dst[i] = src[i];
      continue;
    }
    float x = (float)src[i] + mean + sigma * ((float)h * wn[z7]);
    dst[i] = (uint8_t)(x <= 0.0f ? 0 : x >= 255.0f ? 255 : (int)x);
  }
  return ns;
}
