/**
 * The JPEG/PNG header parser must say what sharp's metadata() says (width, height, channels, depth), or nothing:
 * the sharp decoder picks its output colourspace from it. PNGs of every colour type / bit depth / tRNS layout are
 * written byte by byte (helpers' makePng: sharp cannot write grey or RGB tRNS, 1/2/4-bit grey or 16-bit
 * grey+alpha), JPEGs with sharp.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { parseJpegHeader, parsePngHeader } from '../../../src/io/decoders/image-header.js';
import { HAVE_REAL, REAL, chunk, makePng, removeTempDirs, tempDir, type PngSpec } from '../helpers.js';

afterAll(removeTempDirs);

const PNGS: Array<[string, PngSpec]> = [
  ['grey 1-bit', { colorType: 0, bitDepth: 1 }],
  ['grey 2-bit', { colorType: 0, bitDepth: 2 }],
  ['grey 4-bit', { colorType: 0, bitDepth: 4 }],
  ['grey 8-bit', { colorType: 0, bitDepth: 8 }],
  ['grey 16-bit', { colorType: 0, bitDepth: 16 }],
  ['grey 8-bit + tRNS', { colorType: 0, bitDepth: 8, trns: Uint8Array.of(0, 7) }],
  ['grey 16-bit + tRNS', { colorType: 0, bitDepth: 16, trns: Uint8Array.of(1, 7) }],
  ['grey+alpha 8-bit', { colorType: 4, bitDepth: 8 }],
  ['grey+alpha 16-bit', { colorType: 4, bitDepth: 16 }],
  ['RGB 8-bit', { colorType: 2, bitDepth: 8 }],
  ['RGB 16-bit', { colorType: 2, bitDepth: 16 }],
  ['RGB 8-bit + tRNS', { colorType: 2, bitDepth: 8, trns: Uint8Array.of(0, 1, 0, 2, 0, 3) }],
  ['RGBA 8-bit', { colorType: 6, bitDepth: 8 }],
  ['RGBA 16-bit', { colorType: 6, bitDepth: 16 }],
  ['palette 1-bit', { colorType: 3, bitDepth: 1, palette: 2 }],
  ['palette 4-bit', { colorType: 3, bitDepth: 4, palette: 16 }],
  ['palette 8-bit', { colorType: 3, bitDepth: 8, palette: 200 }],
  ['palette 8-bit + tRNS', { colorType: 3, bitDepth: 8, palette: 200, trns: Uint8Array.of(0, 128, 255) }],
  ['RGB after a 300 KB text chunk', { colorType: 2, bitDepth: 8, extra: [chunk('tEXt', Buffer.concat([Buffer.from('Comment\0'), Buffer.alloc(300_000, 0x41)]))] }],
];

/** [width, height, channels, depth, cmyk] as metadata() says them (cmyk: true for space 'cmyk', else undefined). */
async function metadataOf(input: Buffer | string): Promise<[number?, number?, number?, string?, true?]> {
  const m = await sharp(input).metadata();
  return [m.width, m.height, m.channels, m.depth, m.space === 'cmyk' ? true : undefined];
}

describe('parsePngHeader agrees with sharp metadata()', () => {
  it.each(PNGS)('%s', async (_name, spec) => {
    const png = makePng(23, 9, spec);
    const h = parsePngHeader(png);
    expect(h).toBeDefined();
    expect([h!.width, h!.height, h!.channels, h!.depth, h!.cmyk]).toEqual(await metadataOf(png));
  });

  it('answers from the first bytes only when IDAT starts within them (a tRNS could follow)', () => {
    const png = makePng(23, 9, PNGS.at(-1)![1]);
    expect(parsePngHeader(png.subarray(0, 256 * 1024))).toBeUndefined();
    const plain = makePng(23, 9, { colorType: 2, bitDepth: 8 });
    const idat = plain.indexOf('IDAT') - 4;
    expect(parsePngHeader(plain.subarray(0, idat + 8))).toEqual({ width: 23, height: 9, channels: 3, depth: 'uchar' });
    expect(parsePngHeader(plain.subarray(0, idat + 7))).toBeUndefined();
  });

  it('refuses what it cannot vouch for: bad signature, bad IHDR, tRNS out of place, palette missing', () => {
    const rgb = makePng(5, 5, { colorType: 2, bitDepth: 8 });
    expect(parsePngHeader(rgb.subarray(0, 30))).toBeUndefined();
    const badSig = Buffer.from(rgb);
    badSig[1] = 0;
    expect(parsePngHeader(badSig)).toBeUndefined();
    const badDepth = Buffer.from(rgb);
    badDepth[24] = 4; // RGB 4-bit does not exist
    expect(parsePngHeader(badDepth)).toBeUndefined();
    expect(parsePngHeader(makePng(5, 5, { colorType: 6, bitDepth: 8, trns: Uint8Array.of(0, 1, 0, 2, 0, 3) }))).toBeUndefined();
    expect(parsePngHeader(makePng(5, 5, { colorType: 2, bitDepth: 8, trns: Uint8Array.of(0, 1) }))).toBeUndefined();
    expect(parsePngHeader(makePng(5, 5, { colorType: 3, bitDepth: 8, palette: 4, trns: Uint8Array.of(1, 2, 3, 4, 5) }))).toBeUndefined();
    expect(parsePngHeader(makePng(5, 5, { colorType: 3, bitDepth: 8 }))).toBeUndefined();
  });
});

describe('parseJpegHeader agrees with sharp metadata()', () => {
  const w = 45;
  const h = 29;
  const px = Uint8Array.from({ length: w * h * 3 }, (_, i) => (i * 7919) % 251);
  const rgb = () => sharp(px, { raw: { width: w, height: h, channels: 3 } });
  it.each([
    ['baseline 4:2:0', () => rgb().jpeg({ quality: 90 })],
    ['baseline 4:4:4', () => rgb().jpeg({ quality: 95, chromaSubsampling: '4:4:4' })],
    ['progressive', () => rgb().jpeg({ progressive: true })],
    ['grey', () => rgb().toColourspace('b-w').jpeg()],
    ['EXIF orientation 6 (not applied: file order)', () => rgb().withMetadata({ orientation: 6 }).jpeg()],
    ['Display P3 ICC profile', () => rgb().withIccProfile('p3').jpeg()],
    ['CMYK (4 components, Adobe marker)', () => rgb().toColourspace('cmyk').jpeg()],
    ['CMYK progressive, with a CMYK ICC profile', () => rgb().withIccProfile('cmyk').toColourspace('cmyk').jpeg({ progressive: true })],
  ] as const)('%s', async (_name, make) => {
    const jpg = await make().toBuffer();
    const parsed = parseJpegHeader(jpg);
    expect(parsed).toBeDefined();
    expect([parsed!.width, parsed!.height, parsed!.channels, parsed!.depth, parsed!.cmyk]).toEqual(await metadataOf(jpg));
    expect([parsed!.width, parsed!.height]).toEqual([w, h]);
  });

  it('CMYK says 4 channels and cmyk, as metadata() does (decoders/sharp.ts declares 3 RGB bands for it)', async () => {
    const cmyk = await rgb().toColourspace('cmyk').jpeg().toBuffer();
    expect(await metadataOf(cmyk)).toEqual([w, h, 4, 'uchar', true]);
    expect(parseJpegHeader(cmyk)).toEqual({ width: w, height: h, channels: 4, depth: 'uchar', cmyk: true });
    expect(parseJpegHeader(await rgb().jpeg().toBuffer())).not.toHaveProperty('cmyk');
  });

  it('refuses truncated headers, 12-bit and non-JPEG bytes', async () => {
    const jpg = await rgb().jpeg().toBuffer();
    const sof = jpg.indexOf(Buffer.from([0xff, 0xc0]));
    expect(parseJpegHeader(jpg.subarray(0, sof + 6))).toBeUndefined();
    expect(parseJpegHeader(jpg.subarray(0, sof + 4 + 15))).toEqual({ width: w, height: h, channels: 3, depth: 'uchar' });
    const twelveBit = Buffer.from(jpg);
    twelveBit[sof + 4] = 12;
    expect(parseJpegHeader(twelveBit)).toBeUndefined();
    expect(parseJpegHeader(Buffer.from('not a jpeg at all'))).toBeUndefined();
  });
});

describe.skipIf(!HAVE_REAL)('the parser agrees with sharp metadata() on the real JPEG/PNG samples', () => {
  it('every non-broken JPEG/PNG under shared/data/real', async () => {
    const files = (await readdir(REAL, { recursive: true })).filter((f) => /\.(jpe?g|png)$/i.test(f) && !f.split('/').pop()!.startsWith('broken-'));
    expect(files.length).toBeGreaterThanOrEqual(20);
    for (const f of files) {
      const bytes = await readFile(join(REAL, f));
      const parsed = /\.png$/i.test(f) ? parsePngHeader(bytes) : parseJpegHeader(bytes);
      expect(parsed, f).toBeDefined();
      expect([parsed!.width, parsed!.height, parsed!.channels, parsed!.depth, parsed!.cmyk], f).toEqual(await metadataOf(join(REAL, f)));
    }
  });
});

describe('the PNG writer used above makes files libvips decodes', () => {
  it('round trip of an 8-bit RGB PNG', async () => {
    const dir = await tempDir();
    const png = makePng(7, 3, { colorType: 2, bitDepth: 8 });
    await writeFile(join(dir, 'x.png'), png);
    const { info } = await sharp(join(dir, 'x.png')).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height, info.channels]).toEqual([7, 3, 3]);
  });

  it('given samples are written as given (16-bit grey+alpha, read back by libvips as grey16)', async () => {
    const samples = Uint16Array.from({ length: 5 * 2 * 2 }, (_, i) => (i * 3271) % 65536);
    const png = makePng(5, 2, { colorType: 4, bitDepth: 16, samples });
    const { data, info } = await sharp(png).toColourspace('grey16').raw({ depth: 'ushort' }).toBuffer({ resolveWithObject: true });
    expect(info.channels).toBe(2);
    expect(Array.from(new Uint16Array(data.buffer, data.byteOffset, data.length / 2))).toEqual(Array.from(samples));
  });
});

