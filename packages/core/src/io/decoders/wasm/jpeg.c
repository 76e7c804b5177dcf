// Baseline JPEG decoder in wasm SIMD, for the whole-image reads of the scene and pretraining datasets. Built by
// build-jpeg.sh into jpeg.wasm next to this file (committed: CI has no clang); jpeg-wasm.ts loads it.
//
// It reproduces what libjpeg-turbo (inside sharp's libvips, and inside PIL) returns with its default settings,
// byte for byte: the ISLOW integer IDCT (two passes, 13-bit constants, 2 extra bits after the column pass), fancy
// (triangle) chroma upsampling for h2v1 and h2v2 with the edge rows and columns replicated, and the fixed-point
// YCbCr -> RGB conversion (16-bit constants, the rounding folded into the Cb/Cr terms). The final clamp is the
// saturating one of libjpeg-turbo's x86 SIMD IDCT.
//
// Scope, by design narrow: 8-bit sequential Huffman JPEGs (SOF0/SOF1) with one scan holding every component, 1
// component (grey), or 3 (YCbCr) with chroma at 1x1 and luma at 1x1, 2x1 or 2x2. Everything else returns a
// negative code and the caller falls back to sharp, which then decodes it (or reports the error) as before:
// progressive, arithmetic, 12-bit, CMYK, Adobe or RGB colour transforms, ICC profiles (sharp converts them to sRGB),
// other subsamplings, DNL, several scans. Every condition under which libjpeg would emit a warning (bad Huffman
// code, data running out inside the scan, stray bytes before a marker, a wrong restart marker, a missing EOI)
// is also a fallback: with failOn: 'warning' sharp turns those into errors, and the caller must keep doing so.
// So is any coefficient whose dequantized value or column-pass result leaves the int16 range, where libjpeg-turbo's
// SIMD and C IDCTs disagree.
//
// Memory: a bump arena after __heap_base, reset by jpeg_input(); the module grows its own memory.
// No libc: built with clang --target=wasm32 -nostdlib.
#include <stdint.h>
#include <wasm_simd128.h>

#define EXPORT(name) __attribute__((export_name(#name)))

typedef uint8_t u8;
typedef uint16_t u16;
typedef int16_t i16;
typedef int32_t i32;
typedef uint32_t u32;
typedef uint64_t u64;

extern unsigned char __heap_base;

// Results (negative: fall back to sharp).
#define OK 0
#define E_UNSUPPORTED -1 // valid JPEG outside our scope
#define E_CORRUPT -2     // something libjpeg would warn about or reject
#define E_MEMORY -3

// ---- arena ----
static u32 arena_top;

static void *arena_alloc(u32 n) {
  u32 p = (arena_top + 15u) & ~15u;
  u32 end = p + n + 64u; // 64 bytes of slack after every block: SIMD tails read and write past the end
  u32 have = (u32)__builtin_wasm_memory_size(0) * 65536u;
  if (end > have) {
    u32 pages = (end - have + 65535u) / 65536u;
    if (__builtin_wasm_memory_grow(0, pages) == (unsigned long)-1) return 0;
  }
  arena_top = end;
  return (void *)(uintptr_t)p;
}

// ---- tables ----
static const u8 ZIGZAG[64] = {0,  1,  8,  16, 9,  2,  3,  10, 17, 24, 32, 25, 18, 11, 4,  5,  12, 19, 26, 33, 40, 48,
                              41, 34, 27, 20, 13, 6,  7,  14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23,
                              30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63};

typedef struct {
  u16 look[512]; // 9-bit lookahead: (length << 8) | symbol, 0 when the code is longer
  // AC tables: a code and its magnitude bits within the 9-bit lookahead, decoded at once:
  // (value << 16) | (run << 8) | (code length + magnitude bits), 0 when they do not fit (or EOB/ZRL)
  i32 fast_ac[512];
  i32 maxcode[18];
  i32 valoffset[17];
  u8 huffval[256];
  int nsym;
  u8 defined;
  u8 dc_ok; // every symbol <= 15 (libjpeg rejects a DC table otherwise)
} Huff;

typedef struct {
  i32 q[64]; // natural order
  u8 defined;
} Quant;

typedef struct {
  int id, h, v, tq;
  int td, ta;        // Huffman tables of the scan
  int bw, bh;        // blocks per row / column in the plane
  int dw, dh;        // downsampled size (libjpeg's downsampled_width / height)
  u8 *plane;         // bw*8 x bh*8 samples
  int stride;
} Comp;

static Huff dc_tab[4], ac_tab[4];
static Quant qt[4];
static Comp comps[3];
static int ncomp, width, height, hmax, vmax, restart_interval;
static u8 *out_pixels;
static int saw_adobe, saw_icc;

// ---- byte reader of the marker segments ----
static const u8 *src;
static u32 pos, end;

static inline u32 u16be(u32 p) { return ((u32)src[p] << 8) | src[p + 1]; }

static int build_huff(Huff *h, const u8 *bits, const u8 *vals, int n) {
  u16 huffcode[257];
  u8 huffsize[257];
  int p = 0;
  for (int l = 1; l <= 16; l++)
    for (int i = 0; i < bits[l]; i++) huffsize[p++] = (u8)l;
  huffsize[p] = 0;
  u32 code = 0;
  int si = huffsize[0];
  p = 0;
  while (huffsize[p]) {
    while (huffsize[p] == si) huffcode[p++] = (u16)code++;
    if (code >= (1u << si)) return E_CORRUPT; // libjpeg: bogus Huffman table
    code <<= 1;
    si++;
  }
  p = 0;
  for (int l = 1; l <= 16; l++) {
    if (bits[l]) {
      h->valoffset[l] = p - (i32)huffcode[p];
      p += bits[l];
      h->maxcode[l] = huffcode[p - 1];
    } else {
      h->maxcode[l] = -1;
    }
  }
  h->maxcode[17] = 0xFFFFF;
  for (int i = 0; i < 512; i++) h->look[i] = 0;
  p = 0;
  for (int l = 1; l <= 9; l++)
    for (int i = 1; i <= bits[l]; i++, p++) {
      int lb = huffcode[p] << (9 - l);
      for (int c = 1 << (9 - l); c > 0; c--) h->look[lb++] = (u16)((l << 8) | vals[p]);
    }
  for (int i = 0; i < 512; i++) {
    h->fast_ac[i] = 0;
    u32 e = h->look[i];
    if (!e) continue;
    int l = (int)(e >> 8), rs = (int)(e & 255), r = rs >> 4, sz = rs & 15;
    if (sz == 0 || l + sz > 9) continue;
    u32 v = ((u32)i >> (9 - l - sz)) & ((1u << sz) - 1u);
    i32 val = (v < (1u << (sz - 1))) ? (i32)v + (i32)((~0u << sz) + 1u) : (i32)v;
    h->fast_ac[i] = (i32)((u32)val << 16) | (r << 8) | (l + sz);
  }
  h->dc_ok = 1;
  for (int i = 0; i < n; i++) {
    h->huffval[i] = vals[i];
    if (vals[i] > 15) h->dc_ok = 0;
  }
  h->nsym = n;
  h->defined = 1;
  return OK;
}

// ---- entropy decoding ----
static u64 acc;      // bit buffer, next bit at bit 63
static int nbits;    // bits in acc
static int padbits;  // zero bits inserted past the end of the segment (they sit at the low end of acc)
static int hit_marker;

static inline void fill(void) {
  while (nbits <= 56) {
    u32 b = 0;
    if (!hit_marker) {
      if (pos < end) {
        b = src[pos];
        if (b != 0xFF) {
          pos++;
        } else if (pos + 1 < end && src[pos + 1] == 0) {
          pos += 2;
        } else {
          hit_marker = 1; // a marker (or the end of the file): zeros from here, as libjpeg
          b = 0;
        }
      } else {
        hit_marker = 1;
      }
    }
    if (hit_marker) padbits += 8;
    acc |= (u64)b << (56 - nbits);
    nbits += 8;
  }
}

static inline u32 get_bits(int n) {
  u32 v = (u32)(acc >> (64 - n));
  acc <<= n;
  nbits -= n;
  return v;
}

static inline int decode_sym(const Huff *h) {
  u32 e = h->look[acc >> 55];
  if (e) {
    int l = (int)(e >> 8);
    acc <<= l;
    nbits -= l;
    return (int)(e & 255);
  }
  for (int l = 10; l <= 16; l++) {
    i32 code = (i32)(acc >> (64 - l));
    if (code <= h->maxcode[l]) {
      int i = code + h->valoffset[l];
      acc <<= l;
      nbits -= l;
      return (i >= 0 && i < h->nsym) ? h->huffval[i] : -1;
    }
  }
  return -1; // libjpeg: "corrupt JPEG data: bad Huffman code" (a warning)
}

static inline i32 extend(u32 v, int s) { return (v < (1u << (s - 1))) ? (i32)v + (i32)((~0u << s) + 1u) : (i32)v; }

// One block into blk (natural order, zeroed by the caller). Returns the number of coefficients (1: DC only), or
// -1 on a bad code.
static int decode_block(i16 *blk, const Huff *dc, const Huff *ac, i32 *pred) {
  if (nbits < 32) fill();
  int s = decode_sym(dc);
  if (s < 0) return -1;
  i32 diff = 0;
  if (s) diff = extend(get_bits(s), s);
  *pred += diff;
  blk[0] = (i16)*pred;
  int last = 0;
  for (int k = 1; k < 64; k++) {
    if (nbits < 32) fill();
    i32 f = ac->fast_ac[acc >> 55];
    if (f) {
      int l = f & 255;
      k += (f >> 8) & 15;
      acc <<= l;
      nbits -= l;
      if (k > 63) return -1;
      blk[ZIGZAG[k]] = (i16)(f >> 16);
      last = k;
      continue;
    }
    int rs = decode_sym(ac);
    if (rs < 0) return -1;
    int r = rs >> 4;
    s = rs & 15;
    if (s) {
      k += r;
      if (k > 63) return -1; // libjpeg clamps the position; never in a valid file
      blk[ZIGZAG[k]] = (i16)extend(get_bits(s), s);
      last = k;
    } else {
      if (r != 15) break;
      k += 15;
    }
  }
  return last + 1;
}

// ---- IDCT (jidctint.c's ISLOW, 4 columns / rows per vector) ----
#define CONST_BITS 13
#define PASS1_BITS 2
#define F_0_298 2446
#define F_0_390 3196
#define F_0_541 4433
#define F_0_765 6270
#define F_0_899 7373
#define F_1_175 9633
#define F_1_501 12299
#define F_1_847 15137
#define F_1_961 16069
#define F_2_053 16819
#define F_2_562 20995
#define F_3_072 25172

static inline v128_t mulc(v128_t x, i32 c) { return wasm_i32x4_mul(x, wasm_i32x4_splat(c)); }

// The 1-D transform of jidctint.c on 4 lanes: in[0..7] -> out[0..7] before descaling (even part from in 0,2,4,6,
// odd from 1,3,5,7).
static inline void idct1d(const v128_t in[8], v128_t o[8]) {
  v128_t z2 = in[2], z3 = in[6];
  v128_t z1 = mulc(wasm_i32x4_add(z2, z3), F_0_541);
  v128_t tmp2 = wasm_i32x4_add(z1, mulc(z3, -F_1_847));
  v128_t tmp3 = wasm_i32x4_add(z1, mulc(z2, F_0_765));
  z2 = in[0];
  z3 = in[4];
  v128_t tmp0 = wasm_i32x4_shl(wasm_i32x4_add(z2, z3), CONST_BITS);
  v128_t tmp1 = wasm_i32x4_shl(wasm_i32x4_sub(z2, z3), CONST_BITS);
  v128_t tmp10 = wasm_i32x4_add(tmp0, tmp3);
  v128_t tmp13 = wasm_i32x4_sub(tmp0, tmp3);
  v128_t tmp11 = wasm_i32x4_add(tmp1, tmp2);
  v128_t tmp12 = wasm_i32x4_sub(tmp1, tmp2);
  tmp0 = in[7];
  tmp1 = in[5];
  tmp2 = in[3];
  tmp3 = in[1];
  z1 = wasm_i32x4_add(tmp0, tmp3);
  z2 = wasm_i32x4_add(tmp1, tmp2);
  z3 = wasm_i32x4_add(tmp0, tmp2);
  v128_t z4 = wasm_i32x4_add(tmp1, tmp3);
  v128_t z5 = mulc(wasm_i32x4_add(z3, z4), F_1_175);
  tmp0 = mulc(tmp0, F_0_298);
  tmp1 = mulc(tmp1, F_2_053);
  tmp2 = mulc(tmp2, F_3_072);
  tmp3 = mulc(tmp3, F_1_501);
  z1 = mulc(z1, -F_0_899);
  z2 = mulc(z2, -F_2_562);
  z3 = mulc(z3, -F_1_961);
  z4 = mulc(z4, -F_0_390);
  z3 = wasm_i32x4_add(z3, z5);
  z4 = wasm_i32x4_add(z4, z5);
  tmp0 = wasm_i32x4_add(tmp0, wasm_i32x4_add(z1, z3));
  tmp1 = wasm_i32x4_add(tmp1, wasm_i32x4_add(z2, z4));
  tmp2 = wasm_i32x4_add(tmp2, wasm_i32x4_add(z2, z3));
  tmp3 = wasm_i32x4_add(tmp3, wasm_i32x4_add(z1, z4));
  o[0] = wasm_i32x4_add(tmp10, tmp3);
  o[7] = wasm_i32x4_sub(tmp10, tmp3);
  o[1] = wasm_i32x4_add(tmp11, tmp2);
  o[6] = wasm_i32x4_sub(tmp11, tmp2);
  o[2] = wasm_i32x4_add(tmp12, tmp1);
  o[5] = wasm_i32x4_sub(tmp12, tmp1);
  o[3] = wasm_i32x4_add(tmp13, tmp0);
  o[4] = wasm_i32x4_sub(tmp13, tmp0);
}

static inline void transpose4(v128_t *a, v128_t *b, v128_t *c, v128_t *d) {
  v128_t t0 = wasm_i32x4_shuffle(*a, *b, 0, 4, 1, 5), t1 = wasm_i32x4_shuffle(*a, *b, 2, 6, 3, 7);
  v128_t t2 = wasm_i32x4_shuffle(*c, *d, 0, 4, 1, 5), t3 = wasm_i32x4_shuffle(*c, *d, 2, 6, 3, 7);
  *a = wasm_i32x4_shuffle(t0, t2, 0, 1, 4, 5);
  *b = wasm_i32x4_shuffle(t0, t2, 2, 3, 6, 7);
  *c = wasm_i32x4_shuffle(t1, t3, 0, 1, 4, 5);
  *d = wasm_i32x4_shuffle(t1, t3, 2, 3, 6, 7);
}

static inline v128_t descale(v128_t x, int n) { return wasm_i32x4_shr(wasm_i32x4_add(x, wasm_i32x4_splat(1 << (n - 1))), n); }

// Returns 0, or -1 when a dequantized coefficient or a column-pass result leaves +-16383: libjpeg-turbo's SIMD IDCT
// keeps them in int16 lanes and adds two of them in 16 bits, so only inside that range are its results those of
// this (32-bit) code. No valid 8-bit image comes near it.
static int idct_block(const i16 *blk, const i32 *q, u8 *out, int stride) {
  v128_t ws[16]; // [row k][half]: ws[k*2 + half], lanes = columns half*4 .. half*4+3
  v128_t bad = wasm_i32x4_splat(0);
  const v128_t hi = wasm_i32x4_splat(16383), lo = wasm_i32x4_splat(-16383);
  for (int half = 0; half < 2; half++) {
    v128_t in[8], o[8];
    for (int k = 0; k < 8; k++) {
      v128_t c = wasm_i32x4_load16x4(blk + k * 8 + half * 4);
      in[k] = wasm_i32x4_mul(c, wasm_v128_load(q + k * 8 + half * 4));
      bad = wasm_v128_or(bad, wasm_v128_or(wasm_i32x4_gt(in[k], hi), wasm_i32x4_lt(in[k], lo)));
    }
    idct1d(in, o);
    for (int k = 0; k < 8; k++) {
      v128_t w = descale(o[k], CONST_BITS - PASS1_BITS);
      bad = wasm_v128_or(bad, wasm_v128_or(wasm_i32x4_gt(w, hi), wasm_i32x4_lt(w, lo)));
      ws[k * 2 + half] = w;
    }
  }
  if (wasm_v128_any_true(bad)) return -1;
  // rows: lanes = rows r .. r+3; in[j] = element j of those rows
  for (int rh = 0; rh < 2; rh++) {
    v128_t in[8], o[8];
    for (int half = 0; half < 2; half++) {
      v128_t a = ws[(rh * 4 + 0) * 2 + half], b = ws[(rh * 4 + 1) * 2 + half], c = ws[(rh * 4 + 2) * 2 + half], d = ws[(rh * 4 + 3) * 2 + half];
      transpose4(&a, &b, &c, &d);
      in[half * 4 + 0] = a;
      in[half * 4 + 1] = b;
      in[half * 4 + 2] = c;
      in[half * 4 + 3] = d;
    }
    idct1d(in, o);
    const v128_t center = wasm_i32x4_splat(128);
    for (int j = 0; j < 8; j++) o[j] = wasm_i32x4_add(descale(o[j], CONST_BITS + PASS1_BITS + 3), center);
    // back to rows: o[j] lanes = rows; transpose the two 4x4 halves
    transpose4(&o[0], &o[1], &o[2], &o[3]);
    transpose4(&o[4], &o[5], &o[6], &o[7]);
    for (int i = 0; i < 4; i++) {
      v128_t s16 = wasm_i16x8_narrow_i32x4(o[i], o[4 + i]);
      v128_t u8v = wasm_u8x16_narrow_i16x8(s16, s16);
      wasm_v128_store64_lane(out + (rh * 4 + i) * stride, u8v, 0);
    }
  }
  return 0;
}

// DC-only block: every sample is the same (the column and row shortcuts of jidctint.c give exactly this).
static inline int dc_block(i32 dcq, u8 *out, int stride) {
  i32 w = dcq * (1 << PASS1_BITS); // column pass: DEQUANTIZE(in0) << PASS1_BITS
  if (dcq > 16383 || dcq < -16383 || w > 16383 || w < -16383) return -1; // as idct_block
  i32 v = ((w + (1 << (PASS1_BITS + 3 - 1))) >> (PASS1_BITS + 3)) + 128;
  if (v < 0) v = 0;
  if (v > 255) v = 255;
  u64 r = (u64)v * 0x0101010101010101ull;
  for (int i = 0; i < 8; i++) *(u64 *)(void *)(out + i * stride) = r;
  return 0;
}

// ---- marker parsing ----
static int parse_sof(u32 p, u32 len) {
  if (len < 8) return E_CORRUPT;
  if (src[p + 2] != 8) return E_UNSUPPORTED;
  height = (int)u16be(p + 3);
  width = (int)u16be(p + 5);
  ncomp = src[p + 7];
  if (height == 0 || width == 0) return E_UNSUPPORTED; // DNL-defined height
  if (ncomp != 1 && ncomp != 3) return E_UNSUPPORTED;
  if (len != 8u + 3u * (u32)ncomp) return E_CORRUPT;
  hmax = vmax = 1;
  for (int c = 0; c < ncomp; c++) {
    Comp *k = &comps[c];
    k->id = src[p + 8 + 3 * c];
    k->h = src[p + 9 + 3 * c] >> 4;
    k->v = src[p + 9 + 3 * c] & 15;
    k->tq = src[p + 10 + 3 * c];
    if (k->h < 1 || k->h > 4 || k->v < 1 || k->v > 4 || k->tq > 3) return E_CORRUPT;
    if (k->h > hmax) hmax = k->h;
    if (k->v > vmax) vmax = k->v;
  }
  if (ncomp == 3) {
    if (comps[1].h != 1 || comps[1].v != 1 || comps[2].h != 1 || comps[2].v != 1) return E_UNSUPPORTED;
    int h = comps[0].h, v = comps[0].v;
    if (!((h == 1 && v == 1) || (h == 2 && v == 1) || (h == 2 && v == 2))) return E_UNSUPPORTED;
    if (comps[0].id == 'R' && comps[1].id == 'G' && comps[2].id == 'B') return E_UNSUPPORTED; // RGB JPEG
  } else {
    hmax = comps[0].h; // one component: its own sampling is the maximum
    vmax = comps[0].v;
  }
  return OK;
}

static int parse_dht(u32 p, u32 len) {
  u32 q = p + 2, e = p + len;
  while (q < e) {
    if (q + 17 > e) return E_CORRUPT;
    int tc = src[q] >> 4, th = src[q] & 15;
    if (tc > 1 || th > 3) return E_CORRUPT;
    u8 bits[17];
    int n = 0;
    bits[0] = 0;
    for (int l = 1; l <= 16; l++) {
      bits[l] = src[q + l];
      n += bits[l];
    }
    if (n > 256 || q + 17 + (u32)n > e) return E_CORRUPT;
    int r = build_huff(tc ? &ac_tab[th] : &dc_tab[th], bits, src + q + 17, n);
    if (r) return r;
    q += 17 + (u32)n;
  }
  return q == e ? OK : E_CORRUPT;
}

static int parse_dqt(u32 p, u32 len) {
  u32 q = p + 2, e = p + len;
  while (q < e) {
    int pq = src[q] >> 4, tq = src[q] & 15;
    if (pq > 1 || tq > 3) return E_CORRUPT;
    u32 need = pq ? 128 : 64;
    if (q + 1 + need > e) return E_CORRUPT;
    for (int i = 0; i < 64; i++) {
      i32 v = pq ? (i32)u16be(q + 1 + 2 * (u32)i) : src[q + 1 + (u32)i];
      if (v > 32767) return E_UNSUPPORTED; // libjpeg-turbo keeps quantizers as int16
      qt[tq].q[ZIGZAG[i]] = v;
    }
    qt[tq].defined = 1;
    q += 1 + need;
  }
  return q == e ? OK : E_CORRUPT;
}

static int parse_sos(u32 p, u32 len) {
  int ns = src[p + 2];
  if (len != 6u + 2u * (u32)ns) return E_CORRUPT;
  if (ns != ncomp) return E_UNSUPPORTED; // one scan per component (non-interleaved sequential)
  for (int i = 0; i < ns; i++) {
    Comp *k = &comps[i];
    if (src[p + 3 + 2 * i] != k->id) return E_UNSUPPORTED; // another order
    k->td = src[p + 4 + 2 * i] >> 4;
    k->ta = src[p + 4 + 2 * i] & 15;
    if (k->td > 3 || k->ta > 3) return E_CORRUPT;
    if (!dc_tab[k->td].defined || !ac_tab[k->ta].defined || !dc_tab[k->td].dc_ok) return E_CORRUPT;
    if (!qt[k->tq].defined) return E_CORRUPT;
  }
  u32 e = p + 3 + 2 * (u32)ns;
  if (src[e] != 0 || src[e + 1] != 63 || src[e + 2] != 0) return E_UNSUPPORTED; // Ss, Se, Ah/Al of a sequential scan
  return OK;
}

// Skips FF fill bytes at `pos` and returns the marker code there, or -1 when `pos` is not at a marker.
static int marker_at(void) {
  if (pos >= end || src[pos] != 0xFF) return -1;
  u32 p = pos;
  while (p < end && src[p] == 0xFF) p++;
  if (p >= end || src[p] == 0) return -1;
  pos = p + 1;
  return src[p];
}

// Drops the bit buffer at the end of a segment (restart interval or scan): true when no padding bit was used and no
// whole byte of the segment was left unread (libjpeg would warn about either).
static int end_segment(void) {
  if (nbits < padbits) return 0;
  if (nbits - padbits >= 8) return 0;
  acc = 0;
  nbits = 0;
  padbits = 0;
  hit_marker = 0;
  return 1;
}

static int decode_scan(void) {
  int mcux, mcuy;
  if (ncomp == 1) {
    Comp *k = &comps[0];
    k->dw = width;
    k->dh = height;
    mcux = (width + 7) / 8;
    mcuy = (height + 7) / 8;
    k->bw = mcux;
    k->bh = mcuy;
  } else {
    mcux = (width + 8 * hmax - 1) / (8 * hmax);
    mcuy = (height + 8 * vmax - 1) / (8 * vmax);
    for (int c = 0; c < ncomp; c++) {
      Comp *k = &comps[c];
      k->bw = mcux * k->h;
      k->bh = mcuy * k->v;
      k->dw = (width * k->h + hmax - 1) / hmax;
      k->dh = (height * k->v + vmax - 1) / vmax;
    }
    if (comps[1].dw <= 2 && hmax == 2) return E_UNSUPPORTED; // libjpeg replicates instead of interpolating there
  }
  for (int c = 0; c < ncomp; c++) {
    Comp *k = &comps[c];
    k->stride = k->bw * 8;
    k->plane = arena_alloc((u32)k->stride * (u32)k->bh * 8u);
    if (!k->plane) return E_MEMORY;
  }
  i32 pred[3] = {0, 0, 0};
  __attribute__((aligned(16))) i16 blk[64];
  acc = 0;
  nbits = 0;
  padbits = 0;
  hit_marker = 0;
  int restarts_left = restart_interval, next_rst = 0;
  for (int my = 0; my < mcuy; my++) {
    for (int mx = 0; mx < mcux; mx++) {
      if (restart_interval) {
        if (restarts_left == 0) {
          if (!end_segment()) return E_CORRUPT;
          if (marker_at() != 0xD0 + next_rst) return E_CORRUPT;
          next_rst = (next_rst + 1) & 7;
          restarts_left = restart_interval;
          pred[0] = pred[1] = pred[2] = 0;
        }
        restarts_left--;
      }
      for (int c = 0; c < ncomp; c++) {
        Comp *k = &comps[c];
        int bh = ncomp == 1 ? 1 : k->h, bv = ncomp == 1 ? 1 : k->v;
        for (int v = 0; v < bv; v++) {
          for (int h = 0; h < bh; h++) {
            for (int i = 0; i < 64; i += 8) wasm_v128_store(blk + i, wasm_i32x4_splat(0));
            int n = decode_block(blk, &dc_tab[k->td], &ac_tab[k->ta], &pred[c]);
            if (n < 0) return E_CORRUPT;
            int bx = mx * bh + h, by = my * bv + v;
            u8 *o = k->plane + (u32)(by * 8) * (u32)k->stride + (u32)(bx * 8);
            const i32 *q = qt[k->tq].q;
            int r = n == 1 ? dc_block((i32)blk[0] * q[0], o, k->stride) : idct_block(blk, q, o, k->stride);
            if (r) return E_CORRUPT;
          }
        }
      }
    }
  }
  if (!end_segment()) return E_CORRUPT;
  if (marker_at() != 0xD9) return E_UNSUPPORTED; // EOI right after the scan; anything else goes to sharp
  return OK;
}

// ---- upsampling and colour conversion ----
// Chroma row `cy` of plane k upsampled to the output width into dst (u8), libjpeg's fancy upsampling. For h2v2 the
// neighbour row is the one above (even output rows) or below (odd), clamped to the downsampled height.
static void upsample_row(const Comp *k, int y, u8 *dst, i16 *sum) {
  int dw = k->dw;
  if (hmax == 1) { // h1v1
    const u8 *a = k->plane + (u32)y * (u32)k->stride;
    for (int x = 0; x < width; x += 16) wasm_v128_store(dst + x, wasm_v128_load(a + x));
    return;
  }
  const u8 *a;
  if (vmax == 2) {
    int cy = y >> 1;
    int ny = (y & 1) ? cy + 1 : cy - 1;
    if (ny < 0) ny = 0;
    if (ny > k->dh - 1) ny = k->dh - 1;
    a = k->plane + (u32)cy * (u32)k->stride;
    const u8 *b = k->plane + (u32)ny * (u32)k->stride;
    // sum[c] = 3 a[c] + b[c], with sum[-1] = sum[0] and sum[dw] = sum[dw-1]
    i16 *s = sum + 8;
    const v128_t three = wasm_i16x8_splat(3);
    for (int c = 0; c < dw; c += 8) {
      v128_t va = wasm_u16x8_load8x8(a + c), vb = wasm_u16x8_load8x8(b + c);
      wasm_v128_store(s + c, wasm_i16x8_add(wasm_i16x8_mul(va, three), vb));
    }
    s[-1] = s[0];
    s[dw] = s[dw - 1];
    const v128_t r8 = wasm_i16x8_splat(8), r7 = wasm_i16x8_splat(7);
    for (int c = 0; c < dw; c += 8) {
      v128_t m = wasm_v128_load(s + c), l = wasm_v128_load(s + c - 1), r = wasm_v128_load(s + c + 1);
      v128_t m3 = wasm_i16x8_mul(m, three);
      v128_t ev = wasm_u16x8_shr(wasm_i16x8_add(wasm_i16x8_add(m3, l), r8), 4);
      v128_t od = wasm_u16x8_shr(wasm_i16x8_add(wasm_i16x8_add(m3, r), r7), 4);
      v128_t lo = wasm_i16x8_shuffle(ev, od, 0, 8, 1, 9, 2, 10, 3, 11), hi = wasm_i16x8_shuffle(ev, od, 4, 12, 5, 13, 6, 14, 7, 15);
      wasm_v128_store(dst + 2 * c, wasm_u8x16_narrow_i16x8(lo, hi));
    }
    return;
  }
  // h2v1: triangle filter along the row
  a = k->plane + (u32)y * (u32)k->stride;
  i16 *s = sum + 8;
  for (int c = 0; c < dw; c += 8) wasm_v128_store(s + c, wasm_u16x8_load8x8(a + c));
  s[-1] = s[0];
  s[dw] = s[dw - 1];
  const v128_t three = wasm_i16x8_splat(3), r1 = wasm_i16x8_splat(1), r2 = wasm_i16x8_splat(2);
  for (int c = 0; c < dw; c += 8) {
    v128_t m = wasm_v128_load(s + c), l = wasm_v128_load(s + c - 1), r = wasm_v128_load(s + c + 1);
    v128_t m3 = wasm_i16x8_mul(m, three);
    v128_t ev = wasm_u16x8_shr(wasm_i16x8_add(wasm_i16x8_add(m3, l), r1), 2);
    v128_t od = wasm_u16x8_shr(wasm_i16x8_add(wasm_i16x8_add(m3, r), r2), 2);
    v128_t lo = wasm_i16x8_shuffle(ev, od, 0, 8, 1, 9, 2, 10, 3, 11), hi = wasm_i16x8_shuffle(ev, od, 4, 12, 5, 13, 6, 14, 7, 15);
    wasm_v128_store(dst + 2 * c, wasm_u8x16_narrow_i16x8(lo, hi));
  }
}

static inline void store_rgb16(u8 *p, v128_t R, v128_t G, v128_t B) {
  wasm_v128_store(p, wasm_i8x16_shuffle(wasm_i8x16_shuffle(R, G, 0, 16, 0, 1, 17, 0, 2, 18, 0, 3, 19, 0, 4, 20, 0, 5), B, 0, 1, 16, 3, 4, 17, 6, 7, 18, 9, 10, 19, 12, 13, 20, 15));
  wasm_v128_store(p + 16, wasm_i8x16_shuffle(wasm_i8x16_shuffle(R, G, 21, 0, 6, 22, 0, 7, 23, 0, 8, 24, 0, 9, 25, 0, 10, 26), B, 0, 21, 2, 3, 22, 5, 6, 23, 8, 9, 24, 11, 12, 25, 14, 15));
  wasm_v128_store(p + 32, wasm_i8x16_shuffle(wasm_i8x16_shuffle(R, G, 0, 11, 27, 0, 12, 28, 0, 13, 29, 0, 14, 30, 0, 15, 31, 0), B, 26, 1, 2, 27, 4, 5, 28, 7, 8, 29, 10, 11, 30, 13, 14, 31));
}

// jdcolor.c's ycc_rgb_convert: R = y + ((FIX(1.402) cr' + 1/2) >> 16), G = y + ((-FIX(0.34414) cb' + 1/2 -
// FIX(0.71414) cr') >> 16), B = y + ((FIX(1.772) cb' + 1/2) >> 16), cb' = cb - 128, cr' = cr - 128, FIX(x) =
// round(x 2^16). Each product sum is one i32x4.dot_i16x8 of 16-bit pairs: 91881 cr' = 22970 (4 cr') + 1 (cr'),
// -22554 cb' - 46802 cr' = -22554 (cb') - 23401 (2 cr'), 116130 cb' = 29032 (4 cb') + 1 (2 cb'); exact in 32 bits.
static inline v128_t term(v128_t a, v128_t b, v128_t k, int hi) {
  v128_t pairs = hi ? wasm_i16x8_shuffle(a, b, 4, 12, 5, 13, 6, 14, 7, 15) : wasm_i16x8_shuffle(a, b, 0, 8, 1, 9, 2, 10, 3, 11);
  return wasm_i32x4_shr(wasm_i32x4_add(wasm_i32x4_dot_i16x8(pairs, k), wasm_i32x4_splat(32768)), 16);
}

static inline v128_t channel8(v128_t y16, v128_t a, v128_t b, v128_t k) {
  v128_t lo = wasm_i32x4_add(wasm_u32x4_extend_low_u16x8(y16), term(a, b, k, 0));
  v128_t hi = wasm_i32x4_add(wasm_u32x4_extend_high_u16x8(y16), term(a, b, k, 1));
  return wasm_i16x8_narrow_i32x4(lo, hi);
}

static void convert_row(const u8 *Y, const u8 *Cb, const u8 *Cr, u8 *out) {
  const v128_t c128 = wasm_i16x8_splat(128);
  const v128_t kr = wasm_i32x4_splat((1 << 16) | 22970), kg = wasm_i32x4_splat((i32)(((u32)(u16)(i16)-23401 << 16) | (u16)(i16)-22554)),
               kb = wasm_i32x4_splat((1 << 16) | 29032);
  for (int x = 0; x < width; x += 16) {
    v128_t y = wasm_v128_load(Y + x), cb = wasm_v128_load(Cb + x), cr = wasm_v128_load(Cr + x);
    v128_t R[2], G[2], B[2];
    for (int h = 0; h < 2; h++) {
      v128_t y16 = h ? wasm_u16x8_extend_high_u8x16(y) : wasm_u16x8_extend_low_u8x16(y);
      v128_t b = wasm_i16x8_sub(h ? wasm_u16x8_extend_high_u8x16(cb) : wasm_u16x8_extend_low_u8x16(cb), c128);
      v128_t r = wasm_i16x8_sub(h ? wasm_u16x8_extend_high_u8x16(cr) : wasm_u16x8_extend_low_u8x16(cr), c128);
      v128_t r2 = wasm_i16x8_shl(r, 1), r4 = wasm_i16x8_shl(r, 2), b2 = wasm_i16x8_shl(b, 1), b4 = wasm_i16x8_shl(b, 2);
      R[h] = channel8(y16, r4, r, kr);
      G[h] = channel8(y16, b, r2, kg);
      B[h] = channel8(y16, b4, b2, kb);
    }
    store_rgb16(out + 3 * x, wasm_u8x16_narrow_i16x8(R[0], R[1]), wasm_u8x16_narrow_i16x8(G[0], G[1]), wasm_u8x16_narrow_i16x8(B[0], B[1]));
  }
}

static int emit(void) {
  u32 rowbytes = (u32)width * (u32)ncomp;
  out_pixels = arena_alloc(rowbytes * (u32)height);
  if (!out_pixels) return E_MEMORY;
  if (ncomp == 1) {
    const Comp *k = &comps[0];
    for (int y = 0; y < height; y++) {
      const u8 *a = k->plane + (u32)y * (u32)k->stride;
      u8 *o = out_pixels + (u32)y * rowbytes;
      for (int x = 0; x < width; x += 16) wasm_v128_store(o + x, wasm_v128_load(a + x));
    }
    return OK;
  }
  u32 w16 = ((u32)width + 15u) & ~15u;
  u8 *cb = arena_alloc(w16 + 32), *cr = arena_alloc(w16 + 32);
  u8 *tail = arena_alloc(3 * 16);
  i16 *sum = arena_alloc(2 * ((u32)comps[1].dw + 32));
  if (!cb || !cr || !tail || !sum) return E_MEMORY;
  for (int y = 0; y < height; y++) {
    upsample_row(&comps[1], y, cb, sum);
    upsample_row(&comps[2], y, cr, sum);
    const u8 *Y = comps[0].plane + (u32)y * (u32)comps[0].stride;
    // rows are written in order, so the 48-byte stores past a row's end land on the next row, rewritten after;
    // the last row's spill goes into the output's slack
    convert_row(Y, cb, cr, out_pixels + (u32)y * rowbytes);
  }
  return OK;
}

// ---- API ----
EXPORT(heap_base) unsigned heap_base(void) { return (unsigned)&__heap_base; }

// Resets the arena and returns room for a file of `len` bytes.
EXPORT(jpeg_input) u8 *jpeg_input(u32 len) {
  arena_top = (u32)(uintptr_t)&__heap_base;
  return arena_alloc(len);
}

EXPORT(jpeg_decode) int jpeg_decode(const u8 *data, u32 len) {
  src = data;
  pos = 0;
  end = len;
  ncomp = 0;
  restart_interval = 0;
  saw_adobe = saw_icc = 0;
  out_pixels = 0;
  for (int i = 0; i < 4; i++) dc_tab[i].defined = ac_tab[i].defined = qt[i].defined = 0;
  if (len < 4 || src[0] != 0xFF || src[1] != 0xD8) return E_CORRUPT;
  pos = 2;
  int have_frame = 0;
  for (;;) {
    if (pos >= end || src[pos] != 0xFF) return E_CORRUPT; // libjpeg would skip bytes with a warning
    int m = marker_at();
    if (m < 0) return E_CORRUPT;
    if (m == 0x01 || (m >= 0xD0 && m <= 0xD7)) return E_UNSUPPORTED; // stray TEM / RSTn
    if (m == 0xD8 || m == 0xD9) return E_CORRUPT;
    if (pos + 2 > end) return E_CORRUPT;
    u32 len2 = u16be(pos);
    if (len2 < 2 || pos + len2 > end) return E_CORRUPT;
    u32 p = pos;
    pos += len2;
    int r = OK;
    if (m == 0xC0 || m == 0xC1) {
      if (have_frame) return E_CORRUPT;
      r = parse_sof(p, len2);
      have_frame = 1;
    } else if (m >= 0xC2 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC) {
      return E_UNSUPPORTED; // progressive, lossless, hierarchical, arithmetic
    } else if (m == 0xC4) {
      r = parse_dht(p, len2);
    } else if (m == 0xCC) {
      return E_UNSUPPORTED; // arithmetic conditioning
    } else if (m == 0xDB) {
      r = parse_dqt(p, len2);
    } else if (m == 0xDD) {
      if (len2 != 4) return E_CORRUPT;
      restart_interval = (int)u16be(p + 2);
    } else if (m == 0xDA) {
      if (!have_frame) return E_CORRUPT;
      r = parse_sos(p, len2);
      if (r) return r;
      if (saw_adobe || saw_icc) return E_UNSUPPORTED;
      r = decode_scan();
      if (r) return r;
      return emit();
    } else if (m == 0xE0) {
      // JFIF: libjpeg warns when the major version is not 1
      if (len2 >= 16 && src[p + 2] == 'J' && src[p + 3] == 'F' && src[p + 4] == 'I' && src[p + 5] == 'F' && src[p + 6] == 0 && src[p + 7] != 1) return E_CORRUPT;
    } else if (m == 0xEE) {
      saw_adobe = 1; // Adobe colour transform: libjpeg's rules differ, sharp decides
    } else if (m == 0xE2) {
      // ICC_PROFILE chunk: sharp converts to sRGB with it
      if (len2 >= 14 && src[p + 2] == 'I' && src[p + 3] == 'C' && src[p + 4] == 'C' && src[p + 5] == '_') saw_icc = 1;
    } else if (m == 0xDC) {
      return E_UNSUPPORTED; // DNL
    } else if (!(m >= 0xE0 && m <= 0xEF) && m != 0xFE) {
      return E_CORRUPT; // libjpeg stops at markers it does not know (DHP, EXP, JPGn, reserved)
    }
    // other APPn and COM: skipped
    if (r) return r;
  }
}

EXPORT(jpeg_width) int jpeg_width(void) { return width; }
EXPORT(jpeg_height) int jpeg_height(void) { return height; }
EXPORT(jpeg_channels) int jpeg_channels(void) { return ncomp; }
EXPORT(jpeg_pixels) u8 *jpeg_pixels(void) { return out_pixels; }
