import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { readRaster } from '../../../src/io/read-raster.js';
import { decodeJpegWasm, JPEG_EXPORTS, jpegWasmPath } from '../../../src/io/decoders/wasm/jpeg-wasm.js';
import { Rng } from '../../../src/rng/rng.js';
import { generate } from '../../../src/synth/index.js';
import { HAVE_REAL, REAL, removeTempDirs, tempDir } from '../helpers.js';

afterAll(removeTempDirs);

const FIXTURES = fileURLToPath(new URL('./jpeg-fixtures/', import.meta.url));
const haveClang = spawnSync('sh', ['-c', 'command -v clang-19 && (command -v wasm-ld-19 || command -v wasm-ld)'], { stdio: 'ignore' }).status === 0;

/** What libjpeg-turbo gives through sharp, as our reader asks for it (failOn: 'warning'), or undefined on an error. */
async function sharpDecode(buf: Buffer): Promise<{ data: Buffer; width: number; height: number; channels: number } | undefined> {
  try {
    const meta = await sharp(buf).metadata();
    const out = await sharp(buf, { failOn: 'warning' })
      .toColourspace(meta.channels === 1 ? 'b-w' : 'srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    return { data: out.data, width: out.info.width, height: out.info.height, channels: out.info.channels };
  } catch {
    return undefined;
  }
}

/** Decodes with the module and expects sharp's bytes exactly; returns false when the module declined. */
async function expectSameAsSharp(buf: Buffer, name: string): Promise<boolean> {
  const ours = decodeJpegWasm(buf, 1);
  if (typeof ours === 'string') return false;
  const ref = await sharpDecode(buf);
  expect(ref, `${name}: the module decoded a file sharp rejects`).toBeDefined();
  expect([ours.width, ours.height, ours.channels], name).toEqual([ref!.width, ref!.height, ref!.channels]);
  const d = Buffer.compare(Buffer.from(ours.data.buffer, ours.data.byteOffset, ours.data.length), ref!.data);
  if (d !== 0) {
    let n = 0;
    for (let i = 0; i < ours.data.length; i++) if (ours.data[i] !== ref!.data[i]) n++;
    expect.fail(`${name}: ${n} of ${ours.data.length} samples differ from libjpeg-turbo (sharp)`);
  }
  return true;
}

describe('jpeg.wasm', () => {
  it('the committed binary exports what jpeg-wasm.ts expects and imports nothing', () => {
    const mod = new WebAssembly.Module(new Uint8Array(readFileSync(jpegWasmPath())));
    const exported = WebAssembly.Module.exports(mod).map((e) => e.name);
    for (const n of JPEG_EXPORTS) expect(exported).toContain(n);
    expect(WebAssembly.Module.imports(mod)).toEqual([]);
  });

  const committed = new WebAssembly.Module(new Uint8Array(readFileSync(jpegWasmPath())));
  const producers = Buffer.from(WebAssembly.Module.customSections(committed, 'producers')[0] ?? new ArrayBuffer(0)).toString('latin1');
  const clangVersion = haveClang ? /version (\S+ \S+)/.exec(spawnSync('clang-19', ['--version'], { encoding: 'utf8' }).stdout)?.[1] : undefined;
  const sameClang = clangVersion !== undefined && producers.includes(clangVersion);
  it.skipIf(!sameClang)(
    `is what build-jpeg.sh makes from jpeg.c today${sameClang ? '' : ' (SKIPPED: clang-19 absent or not the version that built the committed binary)'}`,
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'cmid-jpeg-'));
      try {
        const script = fileURLToPath(new URL('../../../src/io/decoders/wasm/build-jpeg.sh', import.meta.url));
        const r = spawnSync('sh', [script, join(dir, 'jpeg.wasm')], { encoding: 'utf8' });
        expect(r.status, r.stderr).toBe(0);
        expect(Buffer.compare(readFileSync(join(dir, 'jpeg.wasm')), readFileSync(jpegWasmPath())), 'jpeg.wasm is stale: run build-jpeg.sh').toBe(0);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});

describe('wasm JPEG decoder: the bytes of libjpeg-turbo (sharp, PIL) or a refusal', () => {
  it('cjpeg fixtures: 4:2:2, 4:2:0, 4:4:4, grey, restart markers, 16-bit tables, tiny and q100 images decode exactly', async () => {
    const accepted = [
      's422.jpg', 's420-restart-row.jpg', 's444-restart-3blocks.jpg', 's422-restart-2blocks.jpg', 'grey.jpg', 'grey-restart.jpg',
      's444-3x5.jpg', 's420-q100.jpg', 'q2-16bit-quant.jpg',
    ];
    for (const f of accepted) expect(await expectSameAsSharp(readFileSync(join(FIXTURES, f)), f), `${f} was declined`).toBe(true);
  });

  it('progressive, arithmetic, RGB-coded and 4:4:0 files are declined (sharp decodes them)', async () => {
    for (const f of ['progressive.jpg', 'arithmetic.jpg', 'rgb.jpg', 's440.jpg']) {
      expect(decodeJpegWasm(readFileSync(join(FIXTURES, f)), 1), f).toBe('unsupported');
      expect(await sharpDecode(readFileSync(join(FIXTURES, f))), f).toBeDefined();
    }
  });

  it('sharp-written JPEGs at odd sizes and qualities decode exactly; chroma 1-2 samples wide and ICC/Adobe files are declined', async () => {
    const base = await sharp(readFileSync(join(FIXTURES, 's420-q100.jpg'))).raw().toBuffer({ resolveWithObject: true });
    const raw = { raw: { width: base.info.width, height: base.info.height, channels: 3 as const } };
    let n = 0;
    for (const [w, h] of [[224, 224], [97, 61], [17, 9], [7, 5], [5, 33]] as const) {
      for (const q of [30, 90, 100]) {
        for (const sub of ['4:2:0', '4:4:4'] as const) {
          const buf = await sharp(base.data, raw).resize(w, h, { fit: 'fill' }).jpeg({ quality: q, chromaSubsampling: sub }).toBuffer();
          expect(await expectSameAsSharp(buf, `${w}x${h} q${q} ${sub}`), `${w}x${h} q${q} ${sub} declined`).toBe(true);
          n++;
        }
        const grey = await sharp(base.data, raw).resize(w, h, { fit: 'fill' }).toColourspace('b-w').jpeg({ quality: q }).toBuffer();
        expect(decodeJpegWasm(grey, 1)).toMatchObject({ channels: 1 });
        expect(await expectSameAsSharp(grey, `${w}x${h} q${q} grey`)).toBe(true);
      }
    }
    expect(n).toBe(30);
    // 4:2:0 at 3 or 4 px wide: libjpeg replicates chroma there instead of interpolating
    const narrow = await sharp(base.data, raw).resize(3, 40, { fit: 'fill' }).jpeg({ chromaSubsampling: '4:2:0' }).toBuffer();
    expect(decodeJpegWasm(narrow, 1)).toBe('unsupported');
    const icc = await sharp(base.data, raw).resize(40, 30).withIccProfile('p3').jpeg().toBuffer();
    expect(decodeJpegWasm(icc, 1)).toBe('unsupported');
    const adobe = Buffer.from(readFileSync(join(FIXTURES, 's422.jpg')));
    // an APP14 "Adobe" segment right after SOI
    const app14 = Buffer.from([0xff, 0xee, 0x00, 0x0e, 0x41, 0x64, 0x6f, 0x62, 0x65, 0x00, 0x64, 0x00, 0x00, 0x00, 0x00, 0x01]);
    expect(decodeJpegWasm(Buffer.concat([adobe.subarray(0, 2), app14, adobe.subarray(2)]), 1)).toBe('unsupported');
  });

  it.skipIf(!HAVE_REAL)('real scene JPEGs decode exactly; the truncated one is refused as corrupt', async () => {
    expect(await expectSameAsSharp(readFileSync(join(REAL, 'scenes/airport.jpg')), 'airport.jpg')).toBe(true);
    expect(await expectSameAsSharp(readFileSync(join(REAL, 'scenes/jpeg_3channel_uint8.jpeg')), 'jpeg_3channel_uint8.jpeg')).toBe(true);
    expect(decodeJpegWasm(readFileSync(join(REAL, 'scenes/broken-truncated-airport.jpg')), 1)).toBe('corrupt');
  });

  it('the synthetic MillionAID corpus (tiny) decodes exactly', async () => {
    const dir = await tempDir('cmid-jpeg-synth-');
    await generate('millionaid', { out: dir, size: 'tiny', seed: 3 });
    const files: string[] = [];
    const walk = (d: string): void => {
      for (const f of readdirSync(d)) {
        const p = join(d, f);
        if (statSync(p).isDirectory()) walk(p);
        else if (p.endsWith('.jpg')) files.push(p);
      }
    };
    walk(dir);
    expect(files.length).toBeGreaterThan(10);
    for (const f of files) expect(await expectSameAsSharp(readFileSync(f), f), `${f} declined`).toBe(true);
  });

  it('damaged files: whatever the module accepts, libjpeg accepts without a warning and decodes to the same bytes', async () => {
    // Random byte changes, bit flips, truncations and a stray byte before EOI, on three kinds of file. The module may
    // decline a file libjpeg would decode (sharp then does it); it must never accept one libjpeg warns about.
    const seeds = [readFileSync(join(FIXTURES, 's420-restart-row.jpg')), readFileSync(join(FIXTURES, 's444-restart-3blocks.jpg')), readFileSync(join(FIXTURES, 'grey.jpg'))];
    const rng = new Rng(11);
    let accepted = 0;
    let refused = 0;
    for (let t = 0; t < 600; t++) {
      const b = Buffer.from(seeds[t % seeds.length]!);
      const kind = t % 4;
      if (kind === 0) for (let i = 0; i < 2; i++) b[Math.floor(rng.next() * b.length)] = Math.floor(rng.next() * 256);
      else if (kind === 1) b[Math.floor(rng.next() * b.length)]! ^= 1 << Math.floor(rng.next() * 8);
      const buf = kind === 2 ? b.subarray(0, 1 + Math.floor(rng.next() * (b.length - 1))) : kind === 3 ? Buffer.concat([b.subarray(0, b.length - 2), Buffer.from([0x12, 0xff, 0xd9])]) : b;
      if (await expectSameAsSharp(buf, `damaged #${t}`)) accepted++;
      else refused++;
    }
    expect(accepted).toBeGreaterThan(50); // harmless changes (an APP byte, the last padding bits) still decode here
    expect(refused).toBeGreaterThan(100);
  }, 60_000);
});

describe('openRaster uses the wasm decoder for whole JPEG reads', () => {
  it('same arrays as the sharp path (CMID_JPEG_DECODER=sharp), windows and band subsets included; a bad setting is an error', async () => {
    const dir = await tempDir();
    const base = await sharp(readFileSync(join(FIXTURES, 's420-q100.jpg'))).raw().toBuffer({ resolveWithObject: true });
    const path = join(dir, 'x.jpg');
    await sharp(base.data, { raw: { width: 224, height: 224, channels: 3 } }).resize(150, 90).jpeg({ quality: 88 }).toFile(path);
    const reads = async () => [
      await readRaster(path),
      await readRaster(path, { bands: [2, 0] }),
      await readRaster(path, { window: { x: 3, y: 5, width: 40, height: 20 } }),
    ];
    const before = process.env['CMID_JPEG_DECODER'];
    try {
      const wasm = await reads();
      process.env['CMID_JPEG_DECODER'] = 'sharp';
      const viaSharp = await reads();
      for (let i = 0; i < wasm.length; i++) {
        expect([wasm[i]!.width, wasm[i]!.height, wasm[i]!.bands]).toEqual([viaSharp[i]!.width, viaSharp[i]!.height, viaSharp[i]!.bands]);
        const bytes = (d: ArrayBufferView): Buffer => Buffer.from(d.buffer, d.byteOffset, d.byteLength);
        expect(Buffer.compare(bytes(wasm[i]!.data), bytes(viaSharp[i]!.data)), `read ${i}`).toBe(0);
      }
      process.env['CMID_JPEG_DECODER'] = 'libjpeg';
      await expect(readRaster(path)).rejects.toThrow(/CMID_JPEG_DECODER=libjpeg: expected 'wasm' \(the default\) or 'sharp'/);
    } finally {
      if (before === undefined) delete process.env['CMID_JPEG_DECODER'];
      else process.env['CMID_JPEG_DECODER'] = before;
    }
  });

  it.skipIf(!HAVE_REAL)('a truncated JPEG still fails with the reader\'s message naming the file', async () => {
    const p = join(REAL, 'scenes/broken-truncated-airport.jpg');
    await expect(readRaster(p)).rejects.toThrow(/broken-truncated-airport\.jpg: decoding failed .*truncated or corrupt/);
  });
});
