// uint8 image kernels of the augmentation pipeline, in wasm SIMD (128-bit). Built by build-augment.sh into
// augment.wasm next to this file (committed: CI has no clang); augment-wasm.ts loads it and places the operands.
//
// Every kernel reproduces the semantics documented in the TS file that calls it:
// - resize_h_fixed / resize_v_fixed: Pillow's 8-bit resampling (Resample.c) bit for bit: 22-bit fixed-point weights,
//   sum + 2^21, arithmetic shift, clip to 0..255, horizontal pass first into a uint8 intermediate (resize.ts).
// - resize_h_f32 / resize_v_f32_u8: half-pixel interpolation in float32, rounded half to even (resize.ts).
// - blur_u8: separable symmetric Gaussian, reflect-101 borders, float32, rounded half to even (gaussian-blur.ts).
// - gray_u8: OpenCV's fixed-point and torchvision's float32 gray (grayscale.ts).
// - hue_u8 / saturation_u8 / gray_sum_u8: torchvision's uint8 tensor colour ops; float32 SIMD lanes doing the same
//   IEEE operations as torch's CPU kernels (no FMA contraction: -ffp-contract=off) (color-jitter.ts).
// - lut_u8 (color-jitter.ts), normalize_u8 (normalize.ts): table lookups.
// - noise_u8: the Rng's xoshiro128** stream (rng.ts), the ziggurat fast path of gauss-noise.ts in float32 and its
//   slow path in float64 where certain (see noise_slow).
//
// Buffers: the caller adds 16 bytes of slack after every input and output, because the 3-band paths read and
// write one lane past a pixel (the extra lane is never used and is overwritten by the next pixel), and
// resize_h_fixed and resize_h_f32 read up to 8 and 13 bytes past their last tap.
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

static inline v128_t f32s(float x) { return wasm_f32x4_splat(x); }

// 16 RGB pixels (48 bytes) <-> planes; two 2-input byte shuffles per plane.
static inline void load_rgb16(const uint8_t *p, v128_t *R, v128_t *G, v128_t *B) {
  v128_t v0 = wasm_v128_load(p), v1 = wasm_v128_load(p + 16), v2 = wasm_v128_load(p + 32);
  *R = wasm_i8x16_shuffle(wasm_i8x16_shuffle(v0, v1, 0, 3, 6, 9, 12, 15, 18, 21, 24, 27, 30, 0, 0, 0, 0, 0), v2, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 17, 20, 23, 26, 29);
  *G = wasm_i8x16_shuffle(wasm_i8x16_shuffle(v0, v1, 1, 4, 7, 10, 13, 16, 19, 22, 25, 28, 31, 0, 0, 0, 0, 0), v2, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 18, 21, 24, 27, 30);
  *B = wasm_i8x16_shuffle(wasm_i8x16_shuffle(v0, v1, 2, 5, 8, 11, 14, 17, 20, 23, 26, 29, 0, 0, 0, 0, 0, 0), v2, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 16, 19, 22, 25, 28, 31);
}

static inline void store_rgb16(uint8_t *p, v128_t R, v128_t G, v128_t B) {
  wasm_v128_store(p, wasm_i8x16_shuffle(wasm_i8x16_shuffle(R, G, 0, 16, 0, 1, 17, 0, 2, 18, 0, 3, 19, 0, 4, 20, 0, 5), B, 0, 1, 16, 3, 4, 17, 6, 7, 18, 9, 10, 19, 12, 13, 20, 15));
  wasm_v128_store(p + 16, wasm_i8x16_shuffle(wasm_i8x16_shuffle(R, G, 21, 0, 6, 22, 0, 7, 23, 0, 8, 24, 0, 9, 25, 0, 10, 26), B, 0, 21, 2, 3, 22, 5, 6, 23, 8, 9, 24, 11, 12, 25, 14, 15));
  wasm_v128_store(p + 32, wasm_i8x16_shuffle(wasm_i8x16_shuffle(R, G, 0, 11, 27, 0, 12, 28, 0, 13, 29, 0, 14, 30, 0, 15, 31, 0), B, 26, 1, 2, 27, 4, 5, 28, 7, 8, 29, 10, 11, 30, 13, 14, 31));
}

// u8x16 -> four f32x4 (lanes 0-3, 4-7, 8-11, 12-15), exact.
static inline void u8x16_to_f32(v128_t x, v128_t f[4]) {
  v128_t lo = wasm_u16x8_extend_low_u8x16(x), hi = wasm_u16x8_extend_high_u8x16(x);
  f[0] = wasm_f32x4_convert_i32x4(wasm_u32x4_extend_low_u16x8(lo));
  f[1] = wasm_f32x4_convert_i32x4(wasm_u32x4_extend_high_u16x8(lo));
  f[2] = wasm_f32x4_convert_i32x4(wasm_u32x4_extend_low_u16x8(hi));
  f[3] = wasm_f32x4_convert_i32x4(wasm_u32x4_extend_high_u16x8(hi));
}

// The low bytes of four i32x4 -> u8x16.
static inline v128_t low_bytes_to_u8x16(v128_t a, v128_t b, v128_t c, v128_t d) {
  v128_t ab = wasm_i8x16_shuffle(a, b, 0, 4, 8, 12, 16, 20, 24, 28, 0, 0, 0, 0, 0, 0, 0, 0);
  v128_t cd = wasm_i8x16_shuffle(c, d, 0, 4, 8, 12, 16, 20, 24, 28, 0, 0, 0, 0, 0, 0, 0, 0);
  return wasm_i64x2_shuffle(ab, cd, 0, 2);
}

// Four f32x4 holding integers in [0, 255] -> u8x16, exact: x + 2^23 holds the integer in its low byte.
static inline v128_t int_f32_to_u8x16(v128_t a, v128_t b, v128_t c, v128_t d) {
  const v128_t magic = f32s(8388608.0f);
  return low_bytes_to_u8x16(wasm_f32x4_add(a, magic), wasm_f32x4_add(b, magic), wasm_f32x4_add(c, magic), wasm_f32x4_add(d, magic));
}

static inline int clamp255(int v) { return v < 0 ? 0 : v > 255 ? 255 : v; }

// ---------------------------------------------------------------- Pillow fixed-point resampling

// Pixel pair (k, k+1) of a 3- or 4-band row (bytes off .. off + 2C of v) as i16 lanes, bands side by side:
// [c0 k, c0 k+1, c1 k, c1 k+1, ...] (for 3 bands the last two lanes are 0).
#define PAIR3(v, o) wasm_i8x16_shuffle(v, zero, o, 16, o + 3, 16, o + 1, 16, o + 4, 16, o + 2, 16, o + 5, 16, 16, 16, 16, 16)
#define PAIR4(v, o) wasm_i8x16_shuffle(v, zero, o, 16, o + 4, 16, o + 1, 16, o + 5, 16, o + 2, 16, o + 6, 16, o + 3, 16, o + 7, 16)

// Inlined with constant C and (for K <= 8) constant KP, so the tap loop unrolls.
static inline __attribute__((always_inline)) void resize_h_fixed_c34(const uint8_t *src, int W, const int C, int y0, int rows, const int32_t *start, const int KP, const int16_t *pw, int outW, uint8_t *dst) {
  const v128_t zero = wasm_i32x4_splat(0), half = wasm_i32x4_splat(HALF);
  for (int r = 0; r < rows; r++) {
    const uint8_t *row = src + (long)(y0 + r) * W * C;
    uint8_t *out = dst + (long)r * outW * C;
    for (int x = 0; x < outW; x++) {
      const uint8_t *p = row + start[x] * C;
      const int16_t *w = pw + (long)x * KP * 16;
      v128_t hi = zero, lo = zero;
      int j = 0;
      for (; j + 2 <= KP; j += 2, p += 4 * C, w += 32) { // two pairs from one 16-byte load
        v128_t v = wasm_v128_load(p);
        v128_t p0 = C == 3 ? PAIR3(v, 0) : PAIR4(v, 0), p1 = C == 3 ? PAIR3(v, 6) : PAIR4(v, 8);
        hi = wasm_i32x4_add(hi, wasm_i32x4_add(wasm_i32x4_dot_i16x8(p0, wasm_v128_load(w)), wasm_i32x4_dot_i16x8(p1, wasm_v128_load(w + 16))));
        lo = wasm_i32x4_add(lo, wasm_i32x4_add(wasm_i32x4_dot_i16x8(p0, wasm_v128_load(w + 8)), wasm_i32x4_dot_i16x8(p1, wasm_v128_load(w + 24))));
      }
      if (j < KP) {
        v128_t v = wasm_v128_load64_zero(p);
        v128_t p0 = C == 3 ? PAIR3(v, 0) : PAIR4(v, 0);
        hi = wasm_i32x4_add(hi, wasm_i32x4_dot_i16x8(p0, wasm_v128_load(w)));
        lo = wasm_i32x4_add(lo, wasm_i32x4_dot_i16x8(p0, wasm_v128_load(w + 8)));
      }
      v128_t acc = wasm_i32x4_shr(wasm_i32x4_add(wasm_i32x4_add(wasm_i32x4_shl(hi, 11), lo), half), PB);
      v128_t n16 = wasm_i16x8_narrow_i32x4(acc, acc);
      wasm_v128_store32_lane(out + x * C, wasm_u8x16_narrow_i16x8(n16, n16), 0);
    }
  }
}

// rows [y0, y0 + rows) of src (W x C) -> dst (rows x outW x C); output x reads K pixels from start[x] (absolute).
// 3 and 4 bands: two taps per i32x4.dot_i16x8_s (pmaddwd) on a pixel pair (PAIR3 / PAIR4). The 22-bit weights do
// not fit in i16, so each is split w = 2^11 hi + lo (lo = w & 2047, hi = w >> 11, both in i16) and the sum is
// 2^11 sum(p hi) + sum(p lo): the same integer as Pillow's sum(p w) (i32 wrap-around arithmetic; the true sum fits
// in i32). pw: scratch for the split weights, outW * ceil(K / 2) * 32 bytes. An odd K gets a zero-weight pad tap;
// the loads read at most 8 bytes past the last tap (inside the row or the caller's 16 bytes of slack).
EXPORT(resize_h_fixed)
void resize_h_fixed(const uint8_t *src, int W, int C, int y0, int rows, const int32_t *start, int K, const int32_t *wi, int outW, int16_t *pw, uint8_t *dst) {
  if (C == 3 || C == 4) {
    const int KP = (K + 1) / 2;
    for (int x = 0; x < outW; x++) {
      for (int j = 0; j < KP; j++) {
        int32_t w0 = wi[x * K + 2 * j], w1 = 2 * j + 1 < K ? wi[x * K + 2 * j + 1] : 0;
        int16_t *o = pw + ((long)x * KP + j) * 16;
        for (int l = 0; l < 8; l += 2) {
          o[l] = (int16_t)(w0 >> 11);
          o[l + 1] = (int16_t)(w1 >> 11);
          o[8 + l] = (int16_t)(w0 & 2047);
          o[8 + l + 1] = (int16_t)(w1 & 2047);
        }
      }
    }
#define H34(c, kp) resize_h_fixed_c34(src, W, c, y0, rows, start, kp, pw, outW, dst)
    switch (KP * 8 + C) {
      case 1 * 8 + 3: H34(3, 1); break;
      case 2 * 8 + 3: H34(3, 2); break;
      case 3 * 8 + 3: H34(3, 3); break;
      case 4 * 8 + 3: H34(3, 4); break;
      case 1 * 8 + 4: H34(4, 1); break;
      case 2 * 8 + 4: H34(4, 2); break;
      case 3 * 8 + 4: H34(4, 3); break;
      case 4 * 8 + 4: H34(4, 4); break;
      default:
        if (C == 3) H34(3, KP);
        else H34(4, KP);
    }
#undef H34
    return;
  }
  for (int r = 0; r < rows; r++) {
    const uint8_t *row = src + (long)(y0 + r) * W * C;
    uint8_t *out = dst + (long)r * outW * C;
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

// Groups of four 3-band outputs whose taps span at most 16 source bytes (every group when enlarging with K = 2, as
// the CMID crops): one 16-byte load, then per tap a byte shuffle to the 12 lanes (4 pixels x 3 bands) and the same
// float operations per lane as the per-pixel path. g: per group, the first source pixel, then per tap 16 shuffle
// indices (byte of the load per lane, 0x80 = none) and 12 weights. Returns whether every group qualifies (else the
// caller uses the per-pixel path).
static int h_f32_groups(const int32_t *start, int K, const float *wf, int outW, uint8_t *g) {
  const int stride = 4 + K * 64;
  for (int x0 = 0; x0 + 4 <= outW; x0 += 4) {
    int b = start[x0], e = start[x0];
    for (int j = 1; j < 4; j++) {
      if (start[x0 + j] < b) b = start[x0 + j];
      if (start[x0 + j] > e) e = start[x0 + j];
    }
    if ((e + K - b) * 3 > 16) return 0; // the load reads <= 13 bytes past the taps: next row or slack
    uint8_t *o = g + (x0 / 4) * stride;
    *(int32_t *)o = b;
    for (int k = 0; k < K; k++) {
      uint8_t *idx = o + 4 + k * 64;
      float *w = (float *)(idx + 16);
      for (int l = 0; l < 16; l++) idx[l] = l < 12 ? (uint8_t)((start[x0 + l / 3] + k - b) * 3 + l % 3) : 0x80;
      for (int l = 0; l < 12; l++) w[l] = wf[(x0 + l / 3) * K + k];
    }
  }
  return 1;
}

// g: scratch for h_f32_groups, (outW / 4) * (4 + 64 K) bytes, 4-byte aligned.
EXPORT(resize_h_f32)
void resize_h_f32(const uint8_t *src, int W, int C, int y0, int rows, const int32_t *start, int K, const float *wf, int outW, uint8_t *g, float *dst) {
  const int grouped = C == 3 && h_f32_groups(start, K, wf, outW, g);
  const int stride = 4 + K * 64;
  for (int r = 0; r < rows; r++) {
    const uint8_t *row = src + (long)(y0 + r) * W * C;
    float *out = dst + (long)r * outW * C;
    if (C == 3 || C == 4) {
      int x = 0;
      if (grouped) {
        for (; x + 4 <= outW; x += 4) {
          const uint8_t *gg = g + (x / 4) * stride;
          const v128_t v = wasm_v128_load(row + 3 * *(const int32_t *)gg);
          v128_t a0 = wasm_f32x4_splat(0.0f), a1 = a0, a2 = a0;
          for (int k = 0; k < K; k++) {
            const uint8_t *idx = gg + 4 + k * 64;
            const float *w = (const float *)(idx + 16);
            v128_t px = wasm_i8x16_swizzle(v, wasm_v128_load(idx));
            v128_t lo = wasm_u16x8_extend_low_u8x16(px), hi = wasm_u16x8_extend_high_u8x16(px);
            a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(wasm_f32x4_convert_i32x4(wasm_u32x4_extend_low_u16x8(lo)), wasm_v128_load(w)));
            a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(wasm_f32x4_convert_i32x4(wasm_u32x4_extend_high_u16x8(lo)), wasm_v128_load(w + 4)));
            a2 = wasm_f32x4_add(a2, wasm_f32x4_mul(wasm_f32x4_convert_i32x4(wasm_u32x4_extend_low_u16x8(hi)), wasm_v128_load(w + 8)));
          }
          wasm_v128_store(out + 3 * x, a0);
          wasm_v128_store(out + 3 * x + 4, a1);
          wasm_v128_store(out + 3 * x + 8, a2);
        }
      }
      for (; x < outW; x++) {
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

// kern[0..r]: outer taps first, kern[r] the centre. xIdx[i] = C * reflect101(i - r, W), yIdx[i] = reflect101(i - r, H)
// (so xIdx[r + x] = C x: the middle of the padded row is the row itself, converted 16 bytes at a time).
// pad: (W + 2r) * C floats; tmp: H * W * C floats.
EXPORT(blur_u8)
void blur_u8(const uint8_t *src, int H, int W, int C, const float *kern, int r, const int32_t *xIdx, const int32_t *yIdx, float *pad, float *tmp, uint8_t *dst) {
  const int rowLen = W * C;
  const float wc = kern[r];
  for (int y = 0; y < H; y++) {
    const uint8_t *row = src + (long)y * rowLen;
    for (int i = 0; i < r; i++) { // reflected borders
      for (int c = 0; c < C; c++) {
        pad[i * C + c] = (float)row[xIdx[i] + c];
        pad[(W + r + i) * C + c] = (float)row[xIdx[W + r + i] + c];
      }
    }
    float *mid = pad + r * C; // the row itself: xIdx[r + x] = C x
    int j = 0;
    for (; j + 16 <= rowLen; j += 16) {
      v128_t f[4];
      u8x16_to_f32(wasm_v128_load(row + j), f);
      wasm_v128_store(mid + j, f[0]);
      wasm_v128_store(mid + j + 4, f[1]);
      wasm_v128_store(mid + j + 8, f[2]);
      wasm_v128_store(mid + j + 12, f[3]);
    }
    for (; j < rowLen; j++) mid[j] = (float)row[j];
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
//
// Sixteen pixels at a time in planar form (R, G, B: one u8x16 each, four f32x4 quarters in the arithmetic). Every
// float32 operation of the reference is one IEEE operation per lane (no FMA: -ffp-contract=off), so the lanes give
// the scalar float32 results bit for bit. Remainders (< 16 pixels) go through the same block code on a zero-padded
// copy, so there is one code path per kernel.

// trunc(clamp(x, 0, 255)) as an integer-valued float (torch's clamp(0, 255).to(uint8); x is never NaN here).
static inline v128_t clamp_trunc255(v128_t x) { return wasm_f32x4_trunc(wasm_f32x4_pmin(wasm_f32x4_pmax(x, f32s(0.0f)), f32s(255.0f))); }

// torchvision's uint8 gray as an integer-valued float: trunc((0.2989 r + 0.587 g) + 0.114 b), each step float32.
static inline v128_t tv_gray4(v128_t r, v128_t g, v128_t b) {
  return wasm_f32x4_trunc(wasm_f32x4_add(wasm_f32x4_add(wasm_f32x4_mul(f32s(0.2989f), r), wasm_f32x4_mul(f32s(0.587f), g)), wasm_f32x4_mul(f32s(0.114f), b)));
}

// Runs block(in, out, ...) on whole 16-pixel blocks, then once on a zero-padded copy of the rest.
#define FOR_RGB_BLOCKS(src, dst, npix, BLOCK)                                  \
  do {                                                                        \
    int p_ = 0;                                                               \
    for (; p_ + 16 <= (npix); p_ += 16) BLOCK((src) + 3 * p_, (dst) + 3 * p_); \
    int rest_ = 3 * ((npix) - p_);                                            \
    if (rest_ > 0) {                                                          \
      uint8_t tin_[48], tout_[48];                                            \
      for (int k_ = 0; k_ < 48; k_++) tin_[k_] = k_ < rest_ ? (src)[3 * p_ + k_] : 0; \
      BLOCK(tin_, tout_);                                                     \
      for (int k_ = 0; k_ < rest_; k_++) (dst)[3 * p_ + k_] = tout_[k_];      \
    }                                                                         \
  } while (0)

static inline v128_t gray_block_sum(const uint8_t *in) {
  v128_t R, G, B, r[4], g[4], b[4];
  load_rgb16(in, &R, &G, &B);
  u8x16_to_f32(R, r);
  u8x16_to_f32(G, g);
  u8x16_to_f32(B, b);
  return wasm_f32x4_add(wasm_f32x4_add(tv_gray4(r[0], g[0], b[0]), tv_gray4(r[1], g[1], b[1])), wasm_f32x4_add(tv_gray4(r[2], g[2], b[2]), tv_gray4(r[3], g[3], b[3])));
}

// Sum over pixels of torchvision's truncated gray (exact: float32 lane sums stay below 2^24 between flushes).
EXPORT(gray_sum_u8)
double gray_sum_u8(const uint8_t *src, int npix) {
  double sum = 0;
  v128_t acc = f32s(0.0f);
  int p = 0, blocks = 0;
  for (; p + 16 <= npix; p += 16) {
    acc = wasm_f32x4_add(acc, gray_block_sum(src + 3 * p)); // <= 1020 per lane per block
    if (++blocks == 8192) {
      sum += (double)wasm_f32x4_extract_lane(acc, 0) + (double)wasm_f32x4_extract_lane(acc, 1) + (double)wasm_f32x4_extract_lane(acc, 2) + (double)wasm_f32x4_extract_lane(acc, 3);
      acc = f32s(0.0f);
      blocks = 0;
    }
  }
  if (p < npix) {
    uint8_t t[48];
    for (int k = 0; k < 48; k++) t[k] = k < 3 * (npix - p) ? src[3 * p + k] : 0; // zero pixels have gray 0
    acc = wasm_f32x4_add(acc, gray_block_sum(t));
  }
  return sum + (double)wasm_f32x4_extract_lane(acc, 0) + (double)wasm_f32x4_extract_lane(acc, 1) + (double)wasm_f32x4_extract_lane(acc, 2) + (double)wasm_f32x4_extract_lane(acc, 3);
}

// Gray of RGB uint8, replicated to 3 bands (oc = 3) or one plane (oc = 1). mode 0: OpenCV's RGB2GRAY,
// (4899 R + 9617 G + 1868 B + 8192) >> 14, as two i32x4.dot_i16x8_s on (R, G) and (B, 1) pairs (exact integers);
// mode 1: torchvision's truncated float32 gray (tv_gray4).
static int gray_mode, gray_oc;

static inline v128_t gray16(v128_t R, v128_t G, v128_t B) {
  if (gray_mode == 0) {
    const v128_t wrg = wasm_i16x8_make(4899, 9617, 4899, 9617, 4899, 9617, 4899, 9617);
    const v128_t wb1 = wasm_i16x8_make(1868, 8192, 1868, 8192, 1868, 8192, 1868, 8192);
    const v128_t one = wasm_i8x16_splat(1);
    v128_t rg0 = wasm_i8x16_shuffle(R, G, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    v128_t rg1 = wasm_i8x16_shuffle(R, G, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    v128_t b0 = wasm_i8x16_shuffle(B, one, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    v128_t b1 = wasm_i8x16_shuffle(B, one, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
#define G4(rg, b, half) wasm_i32x4_shr(wasm_i32x4_add(wasm_i32x4_dot_i16x8(half(rg), wrg), wasm_i32x4_dot_i16x8(half(b), wb1)), 14)
    v128_t g0 = G4(rg0, b0, wasm_u16x8_extend_low_u8x16), g1 = G4(rg0, b0, wasm_u16x8_extend_high_u8x16);
    v128_t g2 = G4(rg1, b1, wasm_u16x8_extend_low_u8x16), g3 = G4(rg1, b1, wasm_u16x8_extend_high_u8x16);
#undef G4
    return low_bytes_to_u8x16(g0, g1, g2, g3);
  }
  v128_t r[4], g[4], b[4];
  u8x16_to_f32(R, r);
  u8x16_to_f32(G, g);
  u8x16_to_f32(B, b);
  return int_f32_to_u8x16(tv_gray4(r[0], g[0], b[0]), tv_gray4(r[1], g[1], b[1]), tv_gray4(r[2], g[2], b[2]), tv_gray4(r[3], g[3], b[3]));
}

// in: 16 pixels; out: 48 bytes (oc = 3) or 16 (oc = 1).
static inline void gray_block(const uint8_t *in, uint8_t *out) {
  v128_t R, G, B;
  load_rgb16(in, &R, &G, &B);
  v128_t g = gray16(R, G, B);
  if (gray_oc == 3) store_rgb16(out, g, g, g);
  else wasm_v128_store(out, g);
}

EXPORT(gray_u8)
void gray_u8(const uint8_t *src, int npix, int mode, int oc, uint8_t *dst) {
  gray_mode = mode;
  gray_oc = oc;
  int p = 0;
  for (; p + 16 <= npix; p += 16) gray_block(src + 3 * p, dst + oc * p);
  if (p < npix) {
    uint8_t tin[48], tout[48];
    for (int k = 0; k < 48; k++) tin[k] = k < 3 * (npix - p) ? src[3 * p + k] : 0;
    gray_block(tin, tout);
    for (int k = 0; k < oc * (npix - p); k++) dst[oc * p + k] = tout[k];
  }
}

static float sat_F, sat_G;

// dst = trunc(clamp(F v + G gray, 0, 255)) per band (F v and G gray each rounded to float32).
static inline void sat_block(const uint8_t *in, uint8_t *out) {
  const v128_t F = f32s(sat_F), G = f32s(sat_G);
  v128_t R8, G8, B8, r[4], g[4], b[4], oR[4], oG[4], oB[4];
  load_rgb16(in, &R8, &G8, &B8);
  u8x16_to_f32(R8, r);
  u8x16_to_f32(G8, g);
  u8x16_to_f32(B8, b);
  for (int q = 0; q < 4; q++) {
    v128_t gb = wasm_f32x4_mul(G, tv_gray4(r[q], g[q], b[q]));
    oR[q] = clamp_trunc255(wasm_f32x4_add(wasm_f32x4_mul(F, r[q]), gb));
    oG[q] = clamp_trunc255(wasm_f32x4_add(wasm_f32x4_mul(F, g[q]), gb));
    oB[q] = clamp_trunc255(wasm_f32x4_add(wasm_f32x4_mul(F, b[q]), gb));
  }
  store_rgb16(out, int_f32_to_u8x16(oR[0], oR[1], oR[2], oR[3]), int_f32_to_u8x16(oG[0], oG[1], oG[2], oG[3]), int_f32_to_u8x16(oB[0], oB[1], oB[2], oB[3]));
}

// F = f32(factor), G = f32(1 - factor).
EXPORT(saturation_u8)
void saturation_u8(const uint8_t *src, int npix, float F, float G, uint8_t *dst) {
  sat_F = F;
  sat_G = G;
  FOR_RGB_BLOCKS(src, dst, npix, sat_block);
}

static float hue_shift;

// torchvision adjust_hue on uint8: RGB/255 -> HSV (float32) -> (h + shift) mod 1 -> RGB -> trunc(255 x), the
// branches of the reference as selects. x/255 is the float32 division; max/min of the quotients are the quotients
// of max/min (division by 255 is monotonic and injective on 0..255), so the channel tests compare quotients, and
// trunc(255 (x/255)) = x for every x in 0..255 (float32), so the value channel is the byte maximum itself.
// The hue is (k + (v - x)/c) - (v - y)/c with (k, x, y) = (0, b, g) if max = r, else (2, r, b) if max = g, else
// (4, g, r): the reference's three candidates, of which it keeps one (0 + bc = bc exactly, bc >= 0).
static inline void hue_block(const uint8_t *in, uint8_t *out) {
  const v128_t one = f32s(1.0f), zero = f32s(0.0f), six = f32s(6.0f), c255 = f32s(255.0f), hf = f32s(hue_shift), magic = f32s(8388608.0f);
  v128_t R8, G8, B8, rq[4], gq[4], bq[4], M[4], P[4], K[4];
  load_rgb16(in, &R8, &G8, &B8);
  u8x16_to_f32(R8, rq);
  u8x16_to_f32(G8, gq);
  u8x16_to_f32(B8, bq);
  for (int q = 0; q < 4; q++) {
    v128_t r = wasm_f32x4_div(rq[q], c255), g = wasm_f32x4_div(gq[q], c255), b = wasm_f32x4_div(bq[q], c255);
    v128_t v = wasm_f32x4_pmax(wasm_f32x4_pmax(r, g), b);
    v128_t mn = wasm_f32x4_pmin(wasm_f32x4_pmin(r, g), b);
    v128_t eq = wasm_f32x4_eq(v, mn);
    v128_t cr = wasm_f32x4_sub(v, mn);
    v128_t s = wasm_f32x4_div(cr, wasm_v128_bitselect(one, v, eq));
    v128_t crd = wasm_v128_bitselect(one, cr, eq);
    v128_t isR = wasm_f32x4_eq(v, r), isG = wasm_f32x4_eq(v, g);
    v128_t k0 = wasm_v128_bitselect(zero, wasm_v128_bitselect(f32s(2.0f), f32s(4.0f), isG), isR);
    v128_t x = wasm_v128_bitselect(b, wasm_v128_bitselect(r, g, isG), isR);
    v128_t y = wasm_v128_bitselect(g, wasm_v128_bitselect(b, r, isG), isR);
    v128_t h = wasm_f32x4_sub(wasm_f32x4_add(k0, wasm_f32x4_div(wasm_f32x4_sub(v, x), crd)), wasm_f32x4_div(wasm_f32x4_sub(v, y), crd));
    h = wasm_f32x4_add(wasm_f32x4_div(h, six), one);
    h = wasm_v128_bitselect(wasm_f32x4_sub(h, one), h, wasm_f32x4_ge(h, one));
    h = wasm_f32x4_add(h, hf);
    h = wasm_v128_bitselect(wasm_f32x4_sub(h, one), wasm_v128_bitselect(wasm_f32x4_add(h, one), h, wasm_f32x4_lt(h, zero)), wasm_f32x4_ge(h, one));
    v128_t h6 = wasm_f32x4_mul(h, six);
    v128_t fl = wasm_f32x4_floor(h6); // sector 0..6 (6 from h = 1 exactly: sector 0)
    v128_t f = wasm_f32x4_sub(h6, fl);
    K[q] = wasm_f32x4_add(fl, magic); // the sector in the low byte
    v128_t odd = wasm_i32x4_eq(wasm_v128_and(K[q], wasm_i32x4_splat(1)), wasm_i32x4_splat(1));
    v128_t mid = wasm_v128_bitselect(wasm_f32x4_mul(v, wasm_f32x4_sub(one, wasm_f32x4_mul(s, f))), wasm_f32x4_mul(v, wasm_f32x4_sub(one, wasm_f32x4_mul(s, wasm_f32x4_sub(one, f)))), odd);
    mid = wasm_f32x4_pmin(wasm_f32x4_pmax(mid, zero), one);
    v128_t pp = wasm_f32x4_pmin(wasm_f32x4_pmax(wasm_f32x4_mul(v, wasm_f32x4_sub(one, s)), zero), one);
    // gray lanes need no special case: s = 0 there, so mid = p = v and every channel is trunc(255 v) = max
    M[q] = wasm_f32x4_add(wasm_f32x4_trunc(wasm_f32x4_mul(mid, c255)), magic);
    P[q] = wasm_f32x4_add(wasm_f32x4_trunc(wasm_f32x4_mul(pp, c255)), magic);
  }
  v128_t v8 = wasm_u8x16_max(wasm_u8x16_max(R8, G8), B8);
  v128_t m8 = low_bytes_to_u8x16(M[0], M[1], M[2], M[3]), p8 = low_bytes_to_u8x16(P[0], P[1], P[2], P[3]), k8 = low_bytes_to_u8x16(K[0], K[1], K[2], K[3]);
#define SECTOR(a, b) wasm_v128_or(wasm_i8x16_eq(k8, wasm_i8x16_splat(a)), wasm_i8x16_eq(k8, wasm_i8x16_splat(b)))
  v128_t k14 = SECTOR(1, 4), k23 = SECTOR(2, 3), k12 = SECTOR(1, 2), k45 = SECTOR(4, 5), k34 = SECTOR(3, 4), k25 = SECTOR(2, 5);
#undef SECTOR
  // sector: 0 (v, t, p), 1 (q, v, p), 2 (p, v, t), 3 (p, q, v), 4 (t, p, v), 5 (v, p, q), 6 = 0; mid is t or q
  v128_t oR = wasm_v128_bitselect(m8, wasm_v128_bitselect(p8, v8, k23), k14);
  v128_t oG = wasm_v128_bitselect(v8, wasm_v128_bitselect(p8, m8, k45), k12);
  v128_t oB = wasm_v128_bitselect(v8, wasm_v128_bitselect(m8, p8, k25), k34);
  store_rgb16(out, oR, oG, oB);
}

EXPORT(hue_u8)
void hue_u8(const uint8_t *src, int npix, float HF, uint8_t *dst) {
  hue_shift = HF;
  FOR_RGB_BLOCKS(src, dst, npix, hue_block);
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

// xoshiro128** (rng.ts Rng.nextU32), on a state passed in and written back by the caller.
static inline uint32_t rotl32(uint32_t x, int k) { return (x << k) | (x >> (32 - k)); }

#define XOSHIRO_NEXT(out)                     \
  do {                                        \
    (out) = rotl32(s1 * 5u, 7) * 9u;          \
    uint32_t t_ = s1 << 9;                    \
    s2 ^= s0;                                 \
    s3 ^= s1;                                 \
    s1 ^= s2;                                 \
    s0 ^= s3;                                 \
    s2 ^= t_;                                 \
    s3 = rotl32(s3, 11);                      \
  } while (0)

// The same step on four independent states held across lanes (S0 = word 0 of the four states, ...).
static inline v128_t rotl32x4(v128_t x, int k) { return wasm_v128_or(wasm_i32x4_shl(x, k), wasm_u32x4_shr(x, 32 - k)); }
#define XOSHIRO_STATE_X4(S0, S1, S2, S3)   \
  do {                                    \
    v128_t t_ = wasm_i32x4_shl(S1, 9);    \
    S2 = wasm_v128_xor(S2, S0);           \
    S3 = wasm_v128_xor(S3, S1);           \
    S1 = wasm_v128_xor(S1, S2);           \
    S0 = wasm_v128_xor(S0, S3);           \
    S2 = wasm_v128_xor(S2, t_);           \
    S3 = rotl32x4(S3, 11);                \
  } while (0)
// rotl(s1 * 5, 7) * 9 with shifts and adds (x * 5 = x + 4x, x * 9 = x + 8x, mod 2^32)
static inline v128_t xoshiro_out_x4(v128_t S1) {
  v128_t m = rotl32x4(wasm_i32x4_add(S1, wasm_i32x4_shl(S1, 2)), 7);
  return wasm_i32x4_add(m, wasm_i32x4_shl(m, 3));
}

// The state transition is linear over GF(2), so JUMP steps are a 128 x 128 bit matrix: column b (as the four
// words s0..s3) is the state reached from the unit state with only bit b set. Built once (128 x JUMP steps, four
// columns at a time) and stored as sixteen 256-entry tables (the xor of the columns of each byte value of each
// state byte), it moves a state JUMP words ahead with 16 lookups and xors.
#define JUMP 1024
static v128_t jump_tab[16][256];
static int jump_ready = 0;

static void jump_init(void) {
  if (jump_ready) return;
  for (int b0 = 0; b0 < 128; b0 += 4) {
    uint32_t w[4][4] = {{0}}; // w[word][lane]: lane l starts at unit state e_(b0 + l)
    for (int l = 0; l < 4; l++) w[(b0 + l) >> 5][l] = 1u << ((b0 + l) & 31);
    v128_t S0 = wasm_v128_load(w[0]), S1 = wasm_v128_load(w[1]), S2 = wasm_v128_load(w[2]), S3 = wasm_v128_load(w[3]);
    for (int k = 0; k < JUMP; k++) XOSHIRO_STATE_X4(S0, S1, S2, S3);
    wasm_v128_store(w[0], S0);
    wasm_v128_store(w[1], S1);
    wasm_v128_store(w[2], S2);
    wasm_v128_store(w[3], S3);
    for (int l = 0; l < 4; l++) {
      int b = b0 + l; // bit (b & 7) of state byte b >> 3 (little-endian bytes of s0..s3)
      v128_t col = wasm_u32x4_make(w[0][l], w[1][l], w[2][l], w[3][l]);
      for (int v = 0; v < 256; v++)
        if (v >> (b & 7) & 1) jump_tab[b >> 3][v] = wasm_v128_xor(jump_tab[b >> 3][v], col);
    }
  }
  jump_ready = 1;
}

// The state JUMP steps after st.
static inline v128_t jump_ahead(v128_t st) {
  uint8_t by[16];
  wasm_v128_store(by, st);
  v128_t acc = jump_tab[0][by[0]];
  for (int k = 1; k < 16; k++) acc = wasm_v128_xor(acc, jump_tab[k][by[k]]);
  return acc;
}

// out[0..n) = the next n words of the stream from state[0..4) (which is advanced). Blocks of 4 JUMP words run
// as four lanes, lane j producing words [j JUMP, (j + 1) JUMP) of the block from the state jumped j JUMP ahead;
// a 4 x 4 transpose per four steps puts each lane's words in place. The rest is the scalar generator.
static void xoshiro_fill(uint32_t *state, uint32_t *out, int n) {
  int i = 0;
  if (n >= 4 * JUMP) {
    jump_init();
    v128_t st = wasm_v128_load(state);
    for (; i + 4 * JUMP <= n; i += 4 * JUMP) {
      v128_t l1 = jump_ahead(st), l2 = jump_ahead(l1), l3 = jump_ahead(l2);
      v128_t t0 = wasm_i32x4_shuffle(st, l1, 0, 4, 1, 5), t1 = wasm_i32x4_shuffle(l2, l3, 0, 4, 1, 5);
      v128_t t2 = wasm_i32x4_shuffle(st, l1, 2, 6, 3, 7), t3 = wasm_i32x4_shuffle(l2, l3, 2, 6, 3, 7);
      v128_t S0 = wasm_i64x2_shuffle(t0, t1, 0, 2), S1 = wasm_i64x2_shuffle(t0, t1, 1, 3);
      v128_t S2 = wasm_i64x2_shuffle(t2, t3, 0, 2), S3 = wasm_i64x2_shuffle(t2, t3, 1, 3);
      uint32_t *o = out + i;
      for (int k = 0; k < JUMP; k += 4) {
        v128_t o0 = xoshiro_out_x4(S1);
        XOSHIRO_STATE_X4(S0, S1, S2, S3);
        v128_t o1 = xoshiro_out_x4(S1);
        XOSHIRO_STATE_X4(S0, S1, S2, S3);
        v128_t o2 = xoshiro_out_x4(S1);
        XOSHIRO_STATE_X4(S0, S1, S2, S3);
        v128_t o3 = xoshiro_out_x4(S1);
        XOSHIRO_STATE_X4(S0, S1, S2, S3);
        // o_m holds step k + m of the four lanes; lane j's words k .. k + 3 go to o + j JUMP + k
        v128_t a0 = wasm_i32x4_shuffle(o0, o1, 0, 4, 1, 5), a1 = wasm_i32x4_shuffle(o2, o3, 0, 4, 1, 5);
        v128_t a2 = wasm_i32x4_shuffle(o0, o1, 2, 6, 3, 7), a3 = wasm_i32x4_shuffle(o2, o3, 2, 6, 3, 7);
        wasm_v128_store(o + k, wasm_i64x2_shuffle(a0, a1, 0, 2));
        wasm_v128_store(o + JUMP + k, wasm_i64x2_shuffle(a0, a1, 1, 3));
        wasm_v128_store(o + 2 * JUMP + k, wasm_i64x2_shuffle(a2, a3, 0, 2));
        wasm_v128_store(o + 3 * JUMP + k, wasm_i64x2_shuffle(a2, a3, 1, 3));
      }
      // the stream continues from lane 3's state (block start + 4 JUMP)
      st = wasm_u32x4_make(wasm_i32x4_extract_lane(S0, 3), wasm_i32x4_extract_lane(S1, 3), wasm_i32x4_extract_lane(S2, 3), wasm_i32x4_extract_lane(S3, 3));
    }
    wasm_v128_store(state, st);
  }
  uint32_t s0 = state[0], s1 = state[1], s2 = state[2], s3 = state[3];
  for (; i < n; i++) XOSHIRO_NEXT(out[i]);
  state[0] = s0;
  state[1] = s1;
  state[2] = s2;
  state[3] = s3;
}

// ---- The ziggurat's slow path (gauss-noise.ts zigguratSlow) in float64, decided here whenever that is certain.
// Its arithmetic is the TS's operation for operation, except exp and log: Math.exp / Math.log (V8: fdlibm, < 1 ulp)
// are replaced by exp_approx / log_approx (a few ulp). So every comparison that involves them is taken only when
// the two sides differ by more than `margin` (relative; the caller passes 1e-12, about 4500 ulp, orders of magnitude
// above both error bounds), and a tail value (its z comes from log) only when the noisy value is farther than that
// from an integer (the truncation and clip points). Otherwise the kernel stops before that value and the caller
// finishes the rest in TS: the result is the TS's bit for bit either way.

static inline double f64_of(uint64_t b) {
  union { uint64_t u; double d; } c = {b};
  return c.d;
}
static inline uint64_t bits_of(double d) {
  union { double d; uint64_t u; } c = {d};
  return c.u;
}

#define LN2_HI 6.93147180369123816490e-01 // 32 significant bits: k LN2_HI is exact for |k| < 2^20
#define LN2_LO 1.90821492927058770002e-10

// e^a for a in [-700, 0]: a = k ln2 + r, |r| <= ln2 / 2, Taylor to degree 13 (truncation < 1e-17) evaluated by
// Estrin's scheme (short dependency chains), times 2^k.
static double exp_approx(double a) {
  double kd = __builtin_rint(a * 1.44269504088896338700);
  double r = (a - kd * LN2_HI) - kd * LN2_LO;
  double r2 = r * r, r4 = r2 * r2, r8 = r4 * r4;
  double q0 = 1.0 + r, q1 = 0.5 + r * (1.0 / 6.0), q2 = 1.0 / 24.0 + r * (1.0 / 120.0), q3 = 1.0 / 720.0 + r * (1.0 / 5040.0);
  double q4 = 1.0 / 40320.0 + r * (1.0 / 362880.0), q5 = 1.0 / 3628800.0 + r * (1.0 / 39916800.0), q6 = 1.0 / 479001600.0 + r * (1.0 / 6227020800.0);
  double s0 = q0 + r2 * q1, s1 = q2 + r2 * q3, s2 = q4 + r2 * q5;
  double p = (s0 + r4 * s1) + r8 * (s2 + r4 * q6);
  return p * f64_of((uint64_t)((int)kd + 1023) << 52);
}

// log(u) for u in [2^-32, 1]: u = m 2^e with m in [sqrt(1/2), sqrt(2)), log m = 2 atanh(s), s = (m - 1) / (m + 1),
// |s| < 0.172, series to s^23 (truncation < 1e-19; Estrin's scheme in z = s^2); log(1) = 0 exactly.
static double log_approx(double u) {
  uint64_t b = bits_of(u);
  int e = (int)(b >> 52) - 1023;
  double m = f64_of((b & 0xfffffffffffffULL) | 0x3ff0000000000000ULL);
  if (m > 1.4142135623730951) {
    m *= 0.5;
    e += 1;
  }
  double f = m - 1.0; // exact
  double sv = f / (2.0 + f), z = sv * sv, z2 = z * z, z4 = z2 * z2, z8 = z4 * z4;
  // 1/3 + z/5 + z^2/7 + ... + z^10/23
  double q0 = 1.0 / 3 + z * (1.0 / 5), q1 = 1.0 / 7 + z * (1.0 / 9), q2 = 1.0 / 11 + z * (1.0 / 13), q3 = 1.0 / 15 + z * (1.0 / 17);
  double q4 = 1.0 / 19 + z * (1.0 / 21), q5 = 1.0 / 23;
  double p = (q0 + z2 * q1) + z4 * (q2 + z2 * q3) + z8 * (q4 + z2 * q5);
  double lm = 2.0 * sv + 2.0 * sv * (z * p);
  return (double)e * LN2_HI + ((double)e * LN2_LO + lm);
}

#define ZIG_R 3.442619855899

// The same decision as `x < y` when certain; -1 when x and y are within margin (relative) of each other.
static inline int certain_lt(double x, double y, double margin) {
  double d = x - y, ax = x < 0 ? -x : x, ay = y < 0 ? -y : y;
  if (!((d < 0 ? -d : d) > margin * (ax > ay ? ax : ay))) return -1;
  return x < y;
}

// zigguratSlow from word (hz, iz) with the generator in s[0..4): 1 and *z set when decided; 0 when uncertain.
// *exact: whether z is the TS's value bit for bit (no log involved).
static int zig_slow(uint32_t *st, int32_t hz, int iz, const double *KN, const double *WN, const double *FN, double margin, double *z, int *exact) {
  uint32_t s0 = st[0], s1 = st[1], s2 = st[2], s3 = st[3];
  int ok = 1;
  for (;;) {
    double x = (double)hz * WN[iz];
    if (iz == 0) {
      double t;
      for (;;) {
        uint32_t w1, w2;
        XOSHIRO_NEXT(w1);
        t = -log_approx(1.0 - (double)w1 / 4294967296.0) / ZIG_R;
        XOSHIRO_NEXT(w2);
        double y = -log_approx(1.0 - (double)w2 / 4294967296.0);
        int c = certain_lt(y + y, t * t, margin);
        if (c < 0) {
          ok = 0;
          break;
        }
        if (!c) break;
      }
      *z = hz > 0 ? ZIG_R + t : -ZIG_R - t;
      *exact = 0;
      break;
    }
    uint32_t w;
    XOSHIRO_NEXT(w);
    int c = certain_lt(FN[iz] + ((double)w / 4294967296.0) * (FN[iz - 1] - FN[iz]), exp_approx(-0.5 * x * x), margin);
    if (c < 0) {
      ok = 0;
      break;
    }
    if (c) {
      *z = x;
      *exact = 1;
      break;
    }
    XOSHIRO_NEXT(w);
    iz = (int)(w & 127);
    hz = ((int32_t)w) >> 7;
    if ((double)(hz < 0 ? -hz : hz) < KN[iz]) {
      *z = (double)hz * WN[iz];
      *exact = 1;
      break;
    }
  }
  st[0] = s0;
  st[1] = s1;
  st[2] = s2;
  st[3] = s3;
  return ok;
}

// Finishes slow values 0.. of slow[] in order (dst[i] = trunc(clip(src + mean + sigma z)) in float64, as the TS),
// advancing state; stops before the first value it cannot decide with certainty (state is then the state before
// that value). tab: KN, WN, FN (128 float64 each). Returns how many it finished.
static int noise_slow(const uint8_t *src, uint8_t *dst, const int32_t *slow, const uint32_t *slowWord, int ns, uint32_t *state, double sigma, double mean, const double *tab, double margin) {
  int j = 0;
  for (; j < ns; j++) {
    uint32_t st[4] = {state[0], state[1], state[2], state[3]};
    double z;
    int exact;
    const uint32_t u = slowWord[j];
    if (!zig_slow(st, ((int32_t)u) >> 7, (int)(u & 127), tab, tab + 128, tab + 256, margin, &z, &exact)) break;
    const int i = slow[j];
    double v = (double)src[i] + mean + sigma * z;
    if (!exact) { // v may differ from the TS's by ~1e-13: certain only away from the integers
      double fl = __builtin_floor(v), d = v - fl, sz = sigma * z;
      if (1.0 - d < d) d = 1.0 - d;
      if (!(d > margin * 256.0 * (1.0 + (v < 0 ? -v : v) + (sz < 0 ? -sz : sz)))) break;
    }
    dst[i] = (uint8_t)(v <= 0.0 ? 0 : v >= 255.0 ? 255 : (int)v);
    state[0] = st[0];
    state[1] = st[1];
    state[2] = st[2];
    state[3] = st[3];
  }
  return j;
}

// Ziggurat fast path on one 32-bit word per value (layer = low 7 bits, magnitude = the signed top 25 bits), in
// float32 (the layer bounds are integers below 2^24 and |magnitude| <= 2^24, so the acceptance test is exact;
// z = magnitude * width is rounded to float32). Adds mean + sigma z, clips to [0, 255] and truncates. The words
// are the Rng's: xoshiro128** from state[0..4), one per value in index order (generated into rnd[0..n) first by
// xoshiro_fill, then used 16 at a time), and state gets the advanced words. kw: (bound, width) float32 pairs
// per layer. Values that need the slow path are listed in slow[] with their word in slowWord[] (in index order);
// noise_slow finishes them from the advanced state as far as it can with certainty, writing how many to *done;
// the caller finishes the rest (their dst holds the source value), drawing further words from state.
// tab, margin: see noise_slow. Returns how many need the slow path.
EXPORT(noise_u8)
int noise_u8(const uint8_t *src, int n, uint32_t *state, double sigma, double mean, const float *kw, const double *tab, double margin, uint32_t *rnd, uint8_t *dst, int32_t *slow, uint32_t *slowWord, int32_t *done) {
  xoshiro_fill(state, rnd, n);
  int ns = 0;
  const v128_t vs = wasm_f32x4_splat((float)sigma), vm = wasm_f32x4_splat((float)mean);
  const v128_t zero = wasm_f32x4_splat(0.0f), top = wasm_f32x4_splat(255.0f), magic = wasm_f32x4_splat(8388608.0f);
  int i = 0;
  for (; i + 16 <= n; i += 16) {
    v128_t s8 = wasm_v128_load(src + i);
    v128_t lo = wasm_u16x8_extend_low_u8x16(s8), hi = wasm_u16x8_extend_high_u8x16(s8);
    v128_t sv[4] = {wasm_u32x4_extend_low_u16x8(lo), wasm_u32x4_extend_high_u16x8(lo), wasm_u32x4_extend_low_u16x8(hi), wasm_u32x4_extend_high_u16x8(hi)};
    v128_t q[4];
    unsigned fast = 0;
    for (int g = 0; g < 4; g++) {
      const uint32_t *r = rnd + i + 4 * g;
      v128_t hz = wasm_f32x4_convert_i32x4(wasm_i32x4_shr(wasm_v128_load(r), 7));
      v128_t a = wasm_v128_load64_lane(kw + 2 * (r[1] & 127), wasm_v128_load64_zero(kw + 2 * (r[0] & 127)), 1);
      v128_t b = wasm_v128_load64_lane(kw + 2 * (r[3] & 127), wasm_v128_load64_zero(kw + 2 * (r[2] & 127)), 1);
      v128_t k = wasm_i32x4_shuffle(a, b, 0, 2, 4, 6), w = wasm_i32x4_shuffle(a, b, 1, 3, 5, 7);
      fast |= (unsigned)wasm_i32x4_bitmask(wasm_f32x4_lt(wasm_f32x4_abs(hz), k)) << (4 * g);
      v128_t v = wasm_f32x4_add(wasm_f32x4_add(wasm_f32x4_convert_i32x4(sv[g]), vm), wasm_f32x4_mul(vs, wasm_f32x4_mul(hz, w)));
      v = wasm_f32x4_pmin(wasm_f32x4_pmax(v, zero), top);
      // trunc of a value in [0, 255], + 2^23: the integer sits in the low byte (exact; = trunc_sat)
      q[g] = wasm_f32x4_add(wasm_f32x4_trunc(v), magic);
    }
    v128_t q01 = wasm_i8x16_shuffle(q[0], q[1], 0, 4, 8, 12, 16, 20, 24, 28, 0, 0, 0, 0, 0, 0, 0, 0);
    v128_t q23 = wasm_i8x16_shuffle(q[2], q[3], 0, 4, 8, 12, 16, 20, 24, 28, 0, 0, 0, 0, 0, 0, 0, 0);
    wasm_v128_store(dst + i, wasm_i64x2_shuffle(q01, q23, 0, 2));
    for (unsigned m = ~fast & 0xffffu; m != 0; m &= m - 1) {
      int j = i + __builtin_ctz(m);
      slow[ns] = j;
      slowWord[ns++] = rnd[j];
      dst[j] = src[j];
    }
  }
  const float sigmaf = (float)sigma, meanf = (float)mean;
  for (; i < n; i++) {
    uint32_t uu = rnd[i];
    int z7 = (int)(uu & 127);
    int32_t h = ((int32_t)uu) >> 7;
    float a = (float)(h < 0 ? -h : h);
    if (!(a < kw[2 * z7])) {
      slow[ns] = i;
      slowWord[ns++] = uu;
      dst[i] = src[i];
      continue;
    }
    float x = (float)src[i] + meanf + sigmaf * ((float)h * kw[2 * z7 + 1]);
    dst[i] = (uint8_t)(x <= 0.0f ? 0 : x >= 255.0f ? 255 : (int)x);
  }
  *done = noise_slow(src, dst, slow, slowWord, ns, state, sigma, mean, tab, margin);
  return ns;
}
