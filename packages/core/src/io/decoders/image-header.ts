/**
 * Size, band count and sample depth of a JPEG or PNG from its first bytes, parsed here in JavaScript so that
 * opening an image costs no sharp metadata() call (a libvips call and a thread-pool round trip, as expensive as
 * the decode of a small image itself).
 *
 * The answer must be what sharp/libvips' metadata() would say (width, height, channels, depth), because the
 * decoder picks its output colourspace from it (decoders/sharp.ts); so this parser only answers for layouts whose
 * libvips result is certain and was checked against metadata() (test/io/decoders/image-header.test.ts), and
 * returns undefined for everything else (12-bit, lossless or arithmetic JPEG, 2-component JPEG, tRNS chunks out of
 * place, malformed or truncated headers, sides over 65535): those go through metadata() as before.
 *
 * What libvips reports (vips 8.18, mozjpeg, libpng 1.6):
 * - JPEG: the SOF frame's width x height (EXIF orientation is not applied: sharp's autoOrient is off), 1 band for
 *   one component, 3 for three, 4 for four (CMYK, or YCCK which libjpeg turns into CMYK: metadata() says space
 *   'cmyk', and so does `cmyk` here; decoders/sharp.ts then declares 3 RGB bands); 8-bit samples ('uchar').
 * - PNG: grey 1 band, grey+alpha 2, RGB 3, palette 3 (expanded to RGB, also for all-grey palettes), RGBA 4; a tRNS
 *   chunk adds an alpha band to grey, RGB and palette images; 1/2/4-bit samples expand to 'uchar', 16-bit stays
 *   'ushort'.
 */

/** What sharp's metadata() reports for the image: full-resolution size, bands, libvips band format. */
export interface ImageHeader {
  width: number;
  height: number;
  channels: number;
  depth: 'uchar' | 'ushort';
  /** True for a CMYK (or YCCK) JPEG, where metadata() says space 'cmyk'; absent otherwise. */
  cmyk?: true;
}

/** Largest side the parser answers for; larger images go through sharp's metadata() (libpng/libvips limits). */
const MAX_SIDE = 65535;

const u16 = (b: Uint8Array, i: number): number => (b[i]! << 8) | b[i + 1]!;
const u32 = (b: Uint8Array, i: number): number => ((b[i]! << 24) >>> 0) + ((b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!);

/** JPEG: the first SOF0/1/2 frame header (baseline, extended, progressive Huffman), skipping the segments before it. */
export function parseJpegHeader(b: Uint8Array): ImageHeader | undefined {
  if (b.length < 4 || b[0] !== 0xff || b[1] !== 0xd8) return undefined;
  let i = 2;
  for (;;) {
    if (i + 1 >= b.length || b[i] !== 0xff) return undefined; // truncated, or not at a marker: corrupt
    while (i + 1 < b.length && b[i + 1] === 0xff) i++; // fill bytes
    if (i + 1 >= b.length) return undefined;
    const m = b[i + 1]!;
    i += 2;
    if (m === 0x01 || (m >= 0xd0 && m <= 0xd7)) continue; // TEM, RSTn: no length
    if (m === 0xd8 || m === 0xd9 || m === 0xda || m === 0x00) return undefined; // SOI again, EOI or scan before any frame
    if (i + 2 > b.length) return undefined;
    const len = u16(b, i);
    if (len < 2) return undefined;
    if (m === 0xc0 || m === 0xc1 || m === 0xc2) {
      if (i + 8 > b.length || len < 8) return undefined;
      const precision = b[i + 2]!;
      const height = u16(b, i + 3);
      const width = u16(b, i + 5);
      const components = b[i + 7]!;
      if (precision !== 8 || width === 0 || height === 0 || (components !== 1 && components !== 3 && components !== 4)) return undefined;
      if (len !== 8 + 3 * components) return undefined;
      if (components === 4) return { width, height, channels: 4, depth: 'uchar', cmyk: true };
      return { width, height, channels: components, depth: 'uchar' };
    }
    if (m >= 0xc3 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) return undefined; // other frame types
    i += len;
  }
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
/** Valid bit depths per PNG colour type. */
const PNG_DEPTHS: Record<number, readonly number[]> = { 0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16] };
const PNG_BANDS: Record<number, number> = { 0: 1, 2: 3, 3: 3, 4: 2, 6: 4 };

const chunkType = (b: Uint8Array, i: number): string => String.fromCharCode(b[i]!, b[i + 1]!, b[i + 2]!, b[i + 3]!);

/** PNG: IHDR, plus the chunks up to the first IDAT (a tRNS chunk there adds an alpha band). */
export function parsePngHeader(b: Uint8Array): ImageHeader | undefined {
  if (b.length < 33 || PNG_SIGNATURE.some((v, i) => b[i] !== v)) return undefined;
  if (u32(b, 8) !== 13 || chunkType(b, 12) !== 'IHDR') return undefined;
  const width = u32(b, 16);
  const height = u32(b, 20);
  const bitDepth = b[24]!;
  const colorType = b[25]!;
  if (width === 0 || height === 0 || width > MAX_SIDE || height > MAX_SIDE) return undefined;
  if (!PNG_DEPTHS[colorType]?.includes(bitDepth) || b[26] !== 0 || b[27] !== 0 || b[28]! > 1) return undefined;
  let paletteEntries = 0;
  let trns = false;
  let i = 33;
  for (;;) {
    if (i + 8 > b.length) return undefined; // IDAT not reached within the bytes we have: alpha unknown
    const len = u32(b, i);
    const type = chunkType(b, i + 4);
    if (type === 'IDAT') break;
    if (len > 0x7fffffff || i + 12 + len > b.length) return undefined;
    if (type === 'PLTE') {
      if (len === 0 || len % 3 !== 0 || len > 768 || paletteEntries > 0 || trns) return undefined;
      paletteEntries = len / 3;
    } else if (type === 'tRNS') {
      // only well-formed tRNS chunks; libpng drops bad ones with a warning, which failOn: 'warning' would turn into an error
      const ok = colorType === 0 ? len === 2 : colorType === 2 ? len === 6 : colorType === 3 ? paletteEntries > 0 && len >= 1 && len <= paletteEntries : false;
      if (!ok || trns) return undefined;
      trns = true;
    } else if (type === 'IHDR' || type === 'IEND') {
      return undefined;
    }
    i += 12 + len;
  }
  if (colorType === 3 && paletteEntries === 0) return undefined;
  return { width, height, channels: PNG_BANDS[colorType]! + (trns ? 1 : 0), depth: bitDepth === 16 ? 'ushort' : 'uchar' };
}
