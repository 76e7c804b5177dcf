/**
 * The confusion-matrix PNG (src/metrics/confusion-png.ts), decoded back with sharp: size, shading by row share
 * (a full diagonal cell dark, an empty cell white, a class without test samples grey), the numbers written in the
 * cells, the colour bar, the labels and title drawn, the atomic write, and the messages for bad input.
 */
import sharp from 'sharp';
import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CmidError, renderConfusion, writeConfusionPng, type ConfusionLayout } from '../../src/index.js';

// rows = true: forest 9 1 0 / harbor 0 10 0 / river 2 0 8 / beach: no test sample
const CONF = [9, 1, 0, 0, 0, 10, 0, 0, 2, 0, 8, 0, 0, 0, 0, 0];
const CLASSES = ['forest', 'harbor', 'river', 'beach'];

interface Decoded {
  data: Buffer;
  width: number;
  height: number;
  channels: number;
}
let dir = '';
let png: Decoded;
let layout: ConfusionLayout;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cmid-conf-'));
  layout = await writeConfusionPng(join(dir, 'c.png'), CONF, CLASSES, { title: 'test set' });
  const { data, info } = await sharp(join(dir, 'c.png')).raw().toBuffer({ resolveWithObject: true });
  png = { data, width: info.width, height: info.height, channels: info.channels };
});

const px = (x: number, y: number): number[] => Array.from(png.data.subarray((y * png.width + x) * png.channels, (y * png.width + x) * png.channels + 3));
const sum = (p: number[]) => p[0]! + p[1]! + p[2]!;
/** A pixel of cell (row, col) away from the centre, where no digit is drawn. */
const cellCorner = (r: number, c: number) => px(layout.left + c * layout.cell + 2, layout.top + r * layout.cell + 2);
/** Every pixel of a rectangle. */
function region(x0: number, y0: number, x1: number, y1: number): number[][] {
  const out: number[][] = [];
  for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) out.push(px(x, y));
  return out;
}
const cellPixels = (r: number, c: number) =>
  region(layout.left + c * layout.cell, layout.top + r * layout.cell, layout.left + (c + 1) * layout.cell - 2, layout.top + (r + 1) * layout.cell - 2);

describe('writeConfusionPng, 4 classes (one without test samples), 28 px cells', () => {
  it('writes an RGB PNG of the layout size, atomically (no temp file left)', async () => {
    const meta = await sharp(join(dir, 'c.png')).metadata();
    expect(meta.format).toBe('png');
    expect([png.width, png.height]).toEqual([layout.width, layout.height]);
    expect(layout.cell).toBe(28);
    expect(layout.left + 4 * layout.cell).toBeLessThan(layout.colorbar.left);
    expect(await readdir(dir)).toEqual(['c.png']);
  });
  it('shades by row share: a full diagonal cell is dark, a zero cell white, a class with no sample grey', () => {
    const full = cellCorner(1, 1); // harbor 10 / 10
    const most = cellCorner(0, 0); // forest 9 / 10
    const some = cellCorner(2, 0); // river -> forest 2 / 10
    const zero = cellCorner(0, 2);
    expect(zero).toEqual([255, 255, 255]);
    expect(sum(full)).toBeLessThan(sum(zero) - 500);
    expect(full[2]!).toBeGreaterThan(full[0]!); // blue
    expect(sum(full)).toBeLessThanOrEqual(sum(most));
    expect(sum(most)).toBeLessThan(sum(some));
    expect(sum(some)).toBeLessThan(sum(zero));
    const grey = cellCorner(3, 3);
    expect(grey[0]).toBe(grey[1]);
    expect(grey[1]).toBe(grey[2]);
    expect(grey[0]!).toBeLessThan(250);
  });
  it('writes the counts: white digits on dark cells, black on light ones, nothing in zero cells', () => {
    expect(cellPixels(1, 1).some((p) => sum(p) === 765)).toBe(true);
    expect(cellPixels(2, 0).some((p) => sum(p) === 0)).toBe(true);
    expect(cellPixels(0, 2).every((p) => sum(p) === 765)).toBe(true);
  });
  it('draws a colour bar from dark (100 %) at the top to white (0 %) at the bottom', () => {
    const b = layout.colorbar;
    const topPx = px(b.left + 2, b.top), bottomPx = px(b.left + 2, b.bottom);
    expect(sum(topPx)).toBeLessThan(200);
    expect(bottomPx).toEqual([255, 255, 255]);
  });
  it('draws the title, the row names left of the matrix and the rotated column names above it', () => {
    const dark = (pixels: number[][]) => pixels.filter((p) => sum(p) < 100).length;
    expect(dark(region(0, 0, layout.width - 1, 20))).toBeGreaterThan(20); // title
    for (let r = 0; r < 4; r++) expect(dark(region(0, layout.top + r * layout.cell, layout.left - 2, layout.top + (r + 1) * layout.cell - 1)), `row ${r}`).toBeGreaterThan(10);
    // column names run upwards from just above the matrix; "harbor" (6 glyphs) is 35 px long and 7 px wide
    for (let c = 0; c < 4; c++) {
      const x0 = layout.left + c * layout.cell;
      const pixels = region(x0, layout.top - 45, x0 + layout.cell - 2, layout.top - 1);
      expect(dark(pixels), `column ${c}`).toBeGreaterThan(10);
    }
  });
});

describe('renderConfusion options and input checks', () => {
  it('percent mode writes the rounded row share; none writes nothing', () => {
    const none = renderConfusion(CONF, CLASSES, { values: 'none' });
    const pct = renderConfusion(CONF, CLASSES, { values: 'percent' });
    const inCell = (r: { rgb: Uint8Array; width: number; left: number; top: number; cell: number }, row: number, col: number) => {
      let white = 0;
      for (let y = r.top + row * r.cell; y < r.top + (row + 1) * r.cell - 1; y++) {
        for (let x = r.left + col * r.cell; x < r.left + (col + 1) * r.cell - 1; x++) {
          const i = (y * r.width + x) * 3;
          if (r.rgb[i] === 255 && r.rgb[i + 1] === 255 && r.rgb[i + 2] === 255) white++;
        }
      }
      return white;
    };
    expect(inCell(none, 1, 1)).toBe(0);
    // "100" has more lit pixels than "10"
    const count = renderConfusion(CONF, CLASSES);
    expect(inCell(pct, 1, 1)).toBeGreaterThan(inCell(count, 1, 1));
  });
  it('puts OA in the second line unless the title has it, and makes room for a long title', () => {
    const a = renderConfusion(CONF, CLASSES, { title: 'x'.repeat(200) });
    expect(a.width).toBeGreaterThanOrEqual(200 * 6 - 1 + 16);
    const plain = renderConfusion(CONF, CLASSES);
    const withOa = renderConfusion(CONF, CLASSES, { title: 'confusion matrix OA 90.00 %' });
    // the subtitle row loses "OA 90.00 %   " (13 glyphs): fewer dark pixels on that line
    const lit = (r: typeof plain) => {
      let n = 0;
      for (let y = 20; y < 27; y++) for (let x = 0; x < r.width; x++) if (r.rgb[(y * r.width + x) * 3]! < 200) n++;
      return n;
    };
    expect(lit(withOa)).toBeLessThan(lit(plain));
  });
  it('cuts long names and shrinks cells above 30 classes', () => {
    const C = 31;
    const m = new Int32Array(C * C);
    for (let c = 0; c < C; c++) m[c * C + c] = 1;
    const names = Array.from({ length: C }, (_, i) => `class_with_a_long_name_${i}`);
    const r = renderConfusion(m, names, { maxLabel: 8 });
    expect(r.cell).toBe(18);
    // left margin: "true" (7 px) + 8 glyphs of row name
    expect(r.left).toBeLessThanOrEqual(8 + 7 + 6 + (8 * 6 - 1) + 6);
  });
  it('names bad input', () => {
    expect(() => renderConfusion([1, 2, 3], ['a', 'b'])).toThrow(CmidError);
    expect(() => renderConfusion([1, 2, 3], ['a', 'b'])).toThrow(/3 entries but 2 class names need 4/);
    expect(() => renderConfusion([0, 0, 0, 0], ['a', 'b'])).toThrow(/all zeros/);
    expect(() => renderConfusion([1], [])).toThrow(/no class names/);
    expect(() => renderConfusion([1, 0, 0, 1], ['a', 'b'], { cell: 2 })).toThrow(/cell = 2 px/);
  });
});
