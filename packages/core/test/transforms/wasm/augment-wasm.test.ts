import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { gaussianBlur } from '../../../src/transforms/gaussian-blur.js';
import { resizeImage } from '../../../src/transforms/resize.js';
import { AUGMENT_EXPORTS, augmentWasmPath } from '../../../src/transforms/wasm/augment-wasm.js';
import { diffStats, synthImage } from '../helpers.js';

const haveClang = spawnSync('sh', ['-c', 'command -v clang-19 && (command -v wasm-ld-19 || command -v wasm-ld)'], { stdio: 'ignore' }).status === 0;

function band(img: { data: Uint8Array; height: number; width: number; channels: number }, c: number) {
  return { data: img.data.filter((_, i) => i % img.channels === c), height: img.height, width: img.width, channels: 1 };
}

describe('augment.wasm', () => {
  it('the committed binary exports what augment-wasm.ts expects and imports nothing', () => {
    const mod = new WebAssembly.Module(new Uint8Array(readFileSync(augmentWasmPath())));
    const exported = WebAssembly.Module.exports(mod).map((e) => e.name);
    for (const n of AUGMENT_EXPORTS) expect(exported).toContain(n);
    expect(WebAssembly.Module.imports(mod)).toEqual([]);
  });

  // Byte comparison only with the compiler that made the committed binary (its version is in the producers
  // section); another clang may legitimately emit different code.
  const committed = new WebAssembly.Module(new Uint8Array(readFileSync(augmentWasmPath())));
  const producers = Buffer.from(WebAssembly.Module.customSections(committed, 'producers')[0] ?? new ArrayBuffer(0)).toString('latin1');
  const clangVersion = haveClang ? /version (\S+ \S+)/.exec(spawnSync('clang-19', ['--version'], { encoding: 'utf8' }).stdout)?.[1] : undefined;
  const sameClang = clangVersion !== undefined && producers.includes(clangVersion);
  it.skipIf(!sameClang)(
    `is what build-augment.sh makes from augment.c today${sameClang ? '' : ' (SKIPPED: clang-19 absent or not the version that built the committed binary)'}`,
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'cmid-augment-')); // same file name below: wasm-ld records it in the name section
      try {
        const script = fileURLToPath(new URL('../../../src/transforms/wasm/build-augment.sh', import.meta.url));
        const r = spawnSync('sh', [script, join(dir, 'augment.wasm')], { encoding: 'utf8' });
        expect(r.status, r.stderr).toBe(0);
        expect(Buffer.compare(readFileSync(join(dir, 'augment.wasm')), readFileSync(augmentWasmPath())), 'augment.wasm is stale: run build-augment.sh').toBe(0);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  it('3-band enlarging bilinear (grouped 4-output path) and Pillow bilinear/bicubic, with boxes and flips, equal the 1-band path band by band', () => {
    for (const C of [3, 4]) {
      for (const [h, w, oh, ow] of [[9, 11, 30, 37], [40, 33, 64, 64], [60, 70, 61, 71], [224, 224, 224, 224]] as const) {
        const img = synthImage(h, w, C, h + w);
        for (const box of [undefined, { top: 1, left: 2, height: h - 3, width: w - 5 }]) {
          for (const flipHorizontal of [false, true]) {
            for (const [interpolation, antialias] of [['bilinear', false], ['bilinear', true], ['bicubic', true]] as const) {
              const o = { interpolation, antialias, box, flipHorizontal };
              const all = resizeImage(img, oh, ow, o);
              for (let c = 0; c < C; c++) {
                const alone = resizeImage(band(img, c), oh, ow, o);
                expect(diffStats(band(all, c).data, alone.data).mismatches, `C=${C} ${h}x${w}->${oh}x${ow} ${interpolation} aa=${antialias} box=${box !== undefined} flip=${flipHorizontal} band ${c}`).toBe(0);
              }
            }
          }
        }
      }
    }
  });

  it('SIMD 3/4-band paths equal the scalar 1-band path band by band, for tiny and odd sizes (no read/write past the buffers)', () => {
    for (const C of [2, 3, 4, 5]) {
      for (const [h, w, oh, ow] of [[1, 1, 3, 2], [5, 7, 9, 4], [17, 3, 6, 33]] as const) {
        const img = synthImage(h, w, C, h * 10 + C);
        for (const antialias of [true, false]) {
          const all = resizeImage(img, oh, ow, { interpolation: 'bicubic', antialias });
          for (let c = 0; c < C; c++) {
            const alone = resizeImage(band(img, c), oh, ow, { interpolation: 'bicubic', antialias });
            expect(diffStats(band(all, c).data, alone.data).mismatches, `C=${C} ${h}x${w}->${oh}x${ow} aa=${antialias} band ${c}`).toBe(0);
          }
        }
        const blurred = gaussianBlur(img, { kernelSize: 5, sigma: 1.3 });
        for (let c = 0; c < C; c++) {
          expect(diffStats(band(blurred, c).data, gaussianBlur(band(img, c), { kernelSize: 5, sigma: 1.3 }).data).mismatches).toBe(0);
        }
      }
    }
  });
});
