/**
 * A confusion matrix as a PNG a person can read, drawn with train/plot-png.ts's canvas and 5x7 bitmap font and
 * encoded by sharp (no canvas dependency), written atomically like the loss plots:
 * - rows = true class, columns = predicted class; each cell shaded by its share of the row (recall per cell,
 *   white 0 -> dark blue 1, like matplotlib's Blues), so a small class is as visible as a large one;
 * - the count (or the row percentage) written in the cell when it fits, white on dark cells;
 * - a row with no test sample is grey (its shares are undefined), not white;
 * - class names on both axes, the column names rotated to read bottom-up, names longer than `maxLabel` cut;
 * - a title, a line with OA / AA / kappa / image count (OA left out when the title already says "OA"), and a
 *   colour bar from 0 to 100 %.
 */
import { writeFileAtomic } from '../checkpoint/atomic-write.js';
import { CmidError } from '../runtime/errors.js';
import { Canvas, textWidth, type Rgb } from '../train/plot-png.js';
import { scoresFromConfusion } from './classification.js';

export interface ConfusionPngOptions {
  /** First line. Default: "confusion matrix". */
  title?: string;
  /** Cell side in pixels. Default: 28 (18 above 30 classes). */
  cell?: number;
  /** What to write in a non-zero cell: the count, the row percentage (rounded), or nothing. Default: 'count'. */
  values?: 'count' | 'percent' | 'none';
  /** Longer class names are cut to this many characters (the last one a "."). Default: 20. */
  maxLabel?: number;
}

/** Where things were drawn, for callers and tests. */
export interface ConfusionLayout {
  width: number;
  height: number;
  cell: number;
  /** Pixel column of the matrix's left edge and row of its top edge; cell (r, c) starts at left + c*cell, top + r*cell. */
  left: number;
  top: number;
  /** The colour bar (inclusive), value 1 at the top row, 0 at the bottom row. */
  colorbar: { left: number; right: number; top: number; bottom: number };
}

const GLYPH_H = 7;
const BLACK: Rgb = [0, 0, 0];
const GREY_TEXT: Rgb = [90, 90, 90];
const NO_SAMPLES: Rgb = [215, 215, 215];
const PAD = 8;

/** White -> steel blue -> dark blue for t in [0, 1]. */
function shade(t: number): Rgb {
  const lerp = (a: number, b: number, u: number) => Math.round(a + (b - a) * u);
  if (t <= 0.5) return [lerp(255, 70, t * 2), lerp(255, 130, t * 2), lerp(255, 180, t * 2)];
  return [lerp(70, 8, (t - 0.5) * 2), lerp(130, 40, (t - 0.5) * 2), lerp(180, 100, (t - 0.5) * 2)];
}

/** Text rotated 90 degrees counter-clockwise (read bottom-up, glyph tops to the left): columns x..x+6, rows y up to y - textWidth + 1. */
function textUp(cv: Canvas, s: string, x: number, y: number, c: Rgb): void {
  const w = textWidth(s);
  if (w <= 0) return;
  const tmp = new Canvas(w, GLYPH_H);
  tmp.text(s, 0, 0, BLACK);
  for (let gy = 0; gy < GLYPH_H; gy++) {
    for (let gx = 0; gx < w; gx++) if (tmp.rgb[(gy * w + gx) * 3] === 0) cv.set(x + gy, y - gx, c);
  }
}

const fmt = (x: number, d: number) => (Number.isNaN(x) ? '-' : x.toFixed(d));

/** Renders the matrix [C * C] (row = true class) to RGB bytes (row-major, 3 per pixel) and returns the layout. */
export function renderConfusion(confusion: ArrayLike<number>, classes: readonly string[], o: ConfusionPngOptions = {}): { rgb: Uint8Array } & ConfusionLayout {
  const C = classes.length;
  if (C === 0) throw new CmidError('input', 'renderConfusion: no class names; pass one name per row of the matrix.');
  if (confusion.length !== C * C) {
    throw new CmidError('input', `renderConfusion: the matrix has ${confusion.length} entries but ${C} class names need ${C * C} (C x C, row = true class).`);
  }
  const s = scoresFromConfusion(confusion, C); // also rejects negative / non-finite entries and an all-zero matrix
  const cell = o.cell ?? (C > 30 ? 18 : 28);
  if (!Number.isInteger(cell) || cell < 4) throw new CmidError('input', `renderConfusion: cell = ${cell} px; use an integer >= 4.`);
  const maxLabel = Math.max(2, o.maxLabel ?? 20);
  const names = classes.map((c) => (c.length > maxLabel ? `${c.slice(0, maxLabel - 1)}.` : c));
  const title = o.title ?? 'confusion matrix';
  const oa = /\bOA\b/i.test(title) ? '' : `OA ${fmt(s.oa, 2)} %   `;
  const subtitle = `${oa}AA ${fmt(s.aa, 2)} %   kappa ${fmt(s.kappa, 4)}   ${s.n} images`;
  const rowLabelW = Math.max(...names.map(textWidth));
  const colLabelH = Math.max(...names.map(textWidth));
  // left: "true" written upwards, then the row names; top: title, subtitle, "predicted", then the column names
  const left = PAD + GLYPH_H + 6 + rowLabelW + 6;
  const top = PAD + 3 * (GLYPH_H + 5) + colLabelH + 6;
  const barLeft = left + C * cell + 10;
  const barW = 10;
  const minWidth = barLeft + barW + 4 + textWidth('100%') + PAD;
  const width = Math.max(minWidth, 2 * PAD + textWidth(title), 2 * PAD + textWidth(subtitle));
  const height = top + C * cell + PAD;
  const cv = new Canvas(width, height);
  cv.text(title, PAD, PAD, BLACK);
  cv.text(subtitle, PAD, PAD + GLYPH_H + 5, GREY_TEXT);
  const pred = 'predicted';
  cv.text(pred, Math.max(left, left + ((C * cell - textWidth(pred)) >> 1)), PAD + 2 * (GLYPH_H + 5), GREY_TEXT);
  textUp(cv, 'true', PAD, Math.min(height - PAD, top + ((C * cell + textWidth('true')) >> 1)), GREY_TEXT);
  const textIn = (str: string, x0: number, y0: number, c: Rgb) => {
    const tw = textWidth(str);
    if (tw <= cell - 4 && GLYPH_H <= cell - 4) cv.text(str, x0 + Math.floor((cell - 1 - tw) / 2), y0 + Math.floor((cell - 1 - GLYPH_H) / 2), c);
  };
  for (let r = 0; r < C; r++) {
    const row = s.support[r]!;
    for (let c = 0; c < C; c++) {
      const v = confusion[r * C + c]!;
      const x0 = left + c * cell, y0 = top + r * cell;
      if (row === 0) {
        cv.rect(x0, y0, x0 + cell - 2, y0 + cell - 2, NO_SAMPLES);
        continue;
      }
      const t = v / row;
      cv.rect(x0, y0, x0 + cell - 2, y0 + cell - 2, shade(t));
      if (v > 0 && o.values !== 'none') {
        const p = Math.round(100 * t);
        const str = o.values === 'percent' ? (p === 0 ? '<1' : String(p)) : Number.isInteger(v) ? String(v) : v.toFixed(1);
        textIn(str, x0, y0, t > 0.45 ? [255, 255, 255] : BLACK);
      }
    }
    cv.text(names[r]!, left - 6 - textWidth(names[r]!), top + r * cell + Math.floor((cell - 1 - GLYPH_H) / 2), BLACK);
  }
  for (let c = 0; c < C; c++) textUp(cv, names[c]!, left + c * cell + Math.floor((cell - 1 - GLYPH_H) / 2), top - 6, BLACK);
  // colour bar: 1 at the top
  const barTop = top, barBottom = top + C * cell - 2;
  for (let y = barTop; y <= barBottom; y++) cv.rect(barLeft, y, barLeft + barW - 1, y, shade((barBottom - y) / Math.max(1, barBottom - barTop)));
  cv.text('100%', barLeft + barW + 4, barTop, GREY_TEXT);
  cv.text('0%', barLeft + barW + 4, barBottom - GLYPH_H + 1, GREY_TEXT);
  return { rgb: cv.rgb, width, height, cell, left, top, colorbar: { left: barLeft, right: barLeft + barW - 1, top: barTop, bottom: barBottom } };
}

/**
 * Renders the matrix and writes it as a PNG (atomically); returns the layout.
 *
 * @example
 * const s = classificationScores(labels, probabilities, classes.length);
 * await writeConfusionPng('runs/ucm/confusion.png', s.confusion, classes, { title: `UCM test: OA ${s.oa.toFixed(2)} %` });
 */
export async function writeConfusionPng(path: string, confusion: ArrayLike<number>, classes: readonly string[], o: ConfusionPngOptions = {}): Promise<ConfusionLayout> {
  const { rgb, ...layout } = renderConfusion(confusion, classes, o);
  const sharp = (await import('sharp')).default;
  await writeFileAtomic(path, await sharp(rgb, { raw: { width: layout.width, height: layout.height, channels: 3 } }).png().toBuffer());
  return layout;
}
