/**
 * A confusion matrix as a PNG a person can read: rows = true class, columns = predicted class, each cell shaded by
 * its share of the row (white 0 -> dark blue 1), the count written in the cell when it is not zero, class names on
 * both axes (column names written vertically), and a title. Written atomically.
 */
import { writeFileAtomic } from '../checkpoint/atomic-write.js';
import { Canvas, textWidth, type Rgb } from '../train/plot-png.js';

export interface ConfusionPngOptions {
  title?: string;
  /** Cell side in pixels. Default: 28 (18 above 30 classes). */
  cell?: number;
}

const GLYPH_H = 7;

function shade(t: number): Rgb {
  // white -> steel blue -> dark blue
  const lerp = (a: number, b: number, u: number) => Math.round(a + (b - a) * u);
  if (t <= 0.5) return [lerp(255, 70, t * 2), lerp(255, 130, t * 2), lerp(255, 180, t * 2)];
  return [lerp(70, 8, (t - 0.5) * 2), lerp(130, 40, (t - 0.5) * 2), lerp(180, 100, (t - 0.5) * 2)];
}

/** Renders the matrix to RGB; returns the pixels and size (for tests and for writing). */
export function renderConfusion(confusion: ArrayLike<number>, classes: readonly string[], o: ConfusionPngOptions = {}): { rgb: Uint8Array; width: number; height: number; cell: number; left: number; top: number } {
  const C = classes.length;
  const cell = o.cell ?? (C > 30 ? 18 : 28);
  const names = classes.map((c) => (c.length > 20 ? `${c.slice(0, 19)}.` : c));
  const labelW = Math.max(...names.map(textWidth)) + 8;
  const left = labelW + 14, top = Math.max(...names.map((n) => n.length)) * (GLYPH_H + 1) + 30;
  const width = left + C * cell + 10, height = top + C * cell + 24;
  const cv = new Canvas(width, height);
  cv.text(o.title ?? 'confusion matrix', 6, 6, [0, 0, 0]);
  cv.text('true', 2, top - 12, [90, 90, 90]);
  cv.text('predicted', left, height - 12, [90, 90, 90]);
  for (let r = 0; r < C; r++) {
    let row = 0;
    for (let c = 0; c < C; c++) row += confusion[r * C + c]!;
    for (let c = 0; c < C; c++) {
      const v = confusion[r * C + c]!;
      const t = row > 0 ? v / row : 0;
      const x0 = left + c * cell, y0 = top + r * cell;
      cv.rect(x0, y0, x0 + cell - 2, y0 + cell - 2, shade(t));
      if (v > 0) {
        const s = String(v);
        if (textWidth(s) <= cell - 4) cv.text(s, x0 + Math.floor((cell - 1 - textWidth(s)) / 2), y0 + Math.floor((cell - 1 - GLYPH_H) / 2), t > 0.45 ? [255, 255, 255] : [0, 0, 0]);
      }
    }
    cv.text(names[r]!, left - 6 - textWidth(names[r]!), top + r * cell + Math.floor((cell - GLYPH_H) / 2), [0, 0, 0]);
  }
  // column names, vertical (one glyph per line, bottom-aligned above the matrix)
  for (let c = 0; c < C; c++) {
    const s = names[c]!;
    const x = left + c * cell + Math.floor((cell - 5) / 2);
    for (let k = 0; k < s.length; k++) cv.text(s[k]!, x, top - 6 - (s.length - k) * (GLYPH_H + 1), [0, 0, 0]);
  }
  return { rgb: cv.rgb, width, height, cell, left, top };
}

export async function writeConfusionPng(path: string, confusion: ArrayLike<number>, classes: readonly string[], o: ConfusionPngOptions = {}): Promise<void> {
  const r = renderConfusion(confusion, classes, o);
  const sharp = (await import('sharp')).default;
  await writeFileAtomic(path, await sharp(r.rgb, { raw: { width: r.width, height: r.height, channels: 3 } }).png().toBuffer());
}
