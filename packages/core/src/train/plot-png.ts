/**
 * Loss curves to PNG without a canvas: we rasterise into an RGB buffer (axes, grid, ticks with labels in a
 * built-in 5x7 bitmap font, one coloured polyline per series, a legend in the right margin) and let sharp
 * encode it. Non-finite values break a line. logY plots log10(y) and ignores y <= 0.
 * Lines are plain Bresenham lines lineWidth pixels thick, so a point's pixel is exactly layout.toPixel(x, y).
 */
import { writeFileAtomic } from '../checkpoint/atomic-write.js';
import { CmidError } from '../runtime/errors.js';

export type Rgb = readonly [number, number, number];

export interface PlotSeries {
  name: string;
  y: readonly number[];
  /** Default: 0, 1, 2, ... */
  x?: readonly number[];
  /** Default: the next colour of PLOT_COLORS. */
  color?: Rgb;
}

export interface PlotOptions {
  /** Default: 640. */
  width?: number;
  /** Default: 400. */
  height?: number;
  title?: string;
  xLabel?: string;
  yLabel?: string;
  /** Log-scale y axis. Default: false. */
  logY?: boolean;
  /** Default: 2. */
  lineWidth?: number;
}

/** matplotlib's tab10, the default series colours in order. */
export const PLOT_COLORS: readonly Rgb[] = [
  [31, 119, 180], [255, 127, 14], [44, 160, 44], [214, 39, 40], [148, 103, 189],
  [140, 86, 75], [227, 119, 194], [127, 127, 127], [188, 189, 34], [23, 190, 207],
];

/** Where things were drawn, for callers and tests. */
export interface PlotLayout {
  width: number;
  height: number;
  /** The plot area in pixels (inclusive). */
  plot: { left: number; top: number; right: number; bottom: number };
  xRange: [number, number];
  /** In data units (not log10) even with logY. */
  yRange: [number, number];
  /** Data -> pixel (column, row); undefined for a y that logY cannot show. */
  toPixel(x: number, y: number): [number, number] | undefined;
  /** Legend swatches: the centre pixel of each series' colour sample. */
  legend: Array<{ name: string; color: Rgb; x: number; y: number }>;
}

// 5x7 glyphs, 7 rows of 5 bits (bit 4 = left column), two hex digits a row. Lower case is drawn as upper case.
const FONT: Record<string, string> = {
  '0': '0e11131519110e', '1': '040c040404040e', '2': '0e11010204081f', '3': '1f02040201110e', '4': '02060a121f0202',
  '5': '1f101e0101110e', '6': '0608101e11110e', '7': '1f010204080808', '8': '0e11110e11110e', '9': '0e11110f01020c',
  A: '0e1111111f1111', B: '1e11111e11111e', C: '0e11101010110e', D: '1c12111111121c', E: '1f10101e10101f',
  F: '1f10101e101010', G: '0e11101711110f', H: '1111111f111111', I: '0e04040404040e', J: '0702020202120c',
  K: '11121418141211', L: '1010101010101f', M: '111b1515111111', N: '11111915131111', O: '0e11111111110e',
  P: '1e11111e101010', Q: '0e11111115120d', R: '1e11111e141211', S: '0f10100e01011e', T: '1f040404040404',
  U: '1111111111110e', V: '11111111110a04', W: '1111111515150a', X: '11110a040a1111', Y: '1111110a040404',
  Z: '1f01020408101f', '.': '00000000000c0c', '-': '0000001f000000', '+': '0004041f040400', ':': '000c0c000c0c00',
  '/': '00010204081000', _: '0000000000001f', '(': '02040808080402', ')': '08040202020408', '=': '00001f001f0000',
  ',': '000000000c0408', '%': '18190204081303', ' ': '00000000000000', '?': '0e110102040004',
};
const GLYPH_W = 6; // 5 + 1 spacing

export function textWidth(s: string): number {
  return s.length * GLYPH_W - 1;
}

export class Canvas {
  readonly rgb: Uint8Array;
  constructor(readonly width: number, readonly height: number) {
    this.rgb = new Uint8Array(width * height * 3).fill(255);
  }
  set(x: number, y: number, c: Rgb): void {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    const i = (y * this.width + x) * 3;
    this.rgb[i] = c[0];
    this.rgb[i + 1] = c[1];
    this.rgb[i + 2] = c[2];
  }
  rect(x0: number, y0: number, x1: number, y1: number, c: Rgb): void {
    for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) this.set(x, y, c);
  }
  text(s: string, x: number, y: number, c: Rgb): void {
    for (const [k, ch] of [...s.toUpperCase()].entries()) {
      const g = FONT[ch] ?? FONT['?']!;
      for (let row = 0; row < 7; row++) {
        const bits = parseInt(g.slice(row * 2, row * 2 + 2), 16);
        for (let col = 0; col < 5; col++) if (bits & (16 >> col)) this.set(x + k * GLYPH_W + col, y + row, c);
      }
    }
  }
  /** Bresenham line stamped with a w x w square, clipped to `clip`. */
  line(x0: number, y0: number, x1: number, y1: number, c: Rgb, w: number, clip: PlotLayout['plot']): void {
    const lo = -Math.floor((w - 1) / 2);
    const stamp = (x: number, y: number): void => {
      for (let dy = lo; dy < lo + w; dy++) {
        for (let dx = lo; dx < lo + w; dx++) {
          const px = x + dx;
          const py = y + dy;
          if (px >= clip.left && px <= clip.right && py >= clip.top && py <= clip.bottom) this.set(px, py, c);
        }
      }
    };
    const dx = Math.abs(x1 - x0);
    const dy = -Math.abs(y1 - y0);
    const sx = x0 < x1 ? 1 : -1;
    const sy = y0 < y1 ? 1 : -1;
    let err = dx + dy;
    for (let n = 0; n < 1e6; n++) {
      stamp(x0, y0);
      if (x0 === x1 && y0 === y1) return;
      const e2 = 2 * err;
      if (e2 >= dy) {
        err += dy;
        x0 += sx;
      }
      if (e2 <= dx) {
        err += dx;
        y0 += sy;
      }
    }
  }
}

/** About `count` round tick values (1, 2, 5 x 10^k) covering [lo, hi], and the widened range. */
export function niceTicks(lo: number, hi: number, count = 5): { ticks: number[]; lo: number; hi: number; step: number } {
  if (hi - lo <= 0) {
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const a = Math.floor(lo / step + 1e-9) * step;
  const b = Math.ceil(hi / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let v = a; v <= b + step * 1e-6; v += step) ticks.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return { ticks, lo: a, hi: b, step };
}

function tickLabel(v: number, step: number): string {
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential(Math.max(0, Math.min(3, Math.round(-Math.log10(step / a)))));
  const decimals = Math.max(0, Math.min(6, -Math.floor(Math.log10(step) + 1e-9)));
  return v.toFixed(decimals);
}

const BLACK: Rgb = [0, 0, 0];
const GRID: Rgb = [228, 228, 228];

/** Rasterises the plot: RGB bytes (row-major, 3 per pixel) and the layout. */
export function renderPlot(series: readonly PlotSeries[], options: PlotOptions = {}): { rgb: Uint8Array; layout: PlotLayout } {
  const width = options.width ?? 640;
  const height = options.height ?? 400;
  const lw = options.lineWidth ?? 2;
  if (series.length === 0) throw new CmidError('input', 'plotLines: no series to plot; pass at least one { name, y }.');
  const logY = options.logY ?? false;
  const ty = (y: number): number => (logY ? (y > 0 ? Math.log10(y) : NaN) : y);
  const pts = series.map((s) => {
    if (s.x !== undefined && s.x.length !== s.y.length) {
      throw new CmidError('input', `plotLines: series "${s.name}" has ${s.x.length} x values but ${s.y.length} y values; give one x per y.`);
    }
    return s.y.map((y, i) => [s.x?.[i] ?? i, ty(y)] as const).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  });
  let count = 0;
  const lim = { x0: Infinity, x1: -Infinity, y0: Infinity, y1: -Infinity }; // loops, not Math.min(...): 1e6 points overflow the stack
  for (const p of pts) {
    for (const [x, y] of p) {
      count++;
      if (x < lim.x0) lim.x0 = x;
      if (x > lim.x1) lim.x1 = x;
      if (y < lim.y0) lim.y0 = y;
      if (y > lim.y1) lim.y1 = y;
    }
  }
  if (count === 0) throw new CmidError('input', `plotLines: no finite${logY ? ' positive' : ''} values in any series; nothing to draw.`);
  const xs = niceTicks(lim.x0, lim.x1);
  const ys = logY
    ? (() => {
        const lo = Math.floor(lim.y0);
        const hi = Math.max(lo + 1, Math.ceil(lim.y1));
        return { ticks: Array.from({ length: hi - lo + 1 }, (_, i) => lo + i), lo, hi, step: 1 };
      })()
    : niceTicks(lim.y0, lim.y1);
  const yLabels = ys.ticks.map((v) => (logY ? `1E${v}` : tickLabel(v, ys.step)));
  const colors = series.map((s, i) => s.color ?? PLOT_COLORS[i % PLOT_COLORS.length]!);
  const legendW = 24 + Math.max(...series.map((s) => textWidth(s.name)));
  const plot = {
    left: 8 + Math.max(...yLabels.map(textWidth)) + 6,
    top: 10 + (options.title !== undefined ? 12 : 0) + (options.yLabel !== undefined ? 12 : 0),
    right: width - legendW - 16,
    bottom: height - (options.xLabel !== undefined ? 32 : 20),
  };
  if (plot.right - plot.left < 20 || plot.bottom - plot.top < 20) {
    throw new CmidError('input', `plotLines: ${width}x${height} is too small for the labels and legend; use a larger width/height.`);
  }
  const px = (x: number): number => plot.left + Math.round(((x - xs.lo) / (xs.hi - xs.lo)) * (plot.right - plot.left));
  const py = (y: number): number => plot.bottom - Math.round(((y - ys.lo) / (ys.hi - ys.lo)) * (plot.bottom - plot.top));
  const cv = new Canvas(width, height);
  // grid, axes, ticks
  for (const t of xs.ticks) cv.rect(px(t), plot.top, px(t), plot.bottom, GRID);
  for (const t of ys.ticks) cv.rect(plot.left, py(t), plot.right, py(t), GRID);
  cv.rect(plot.left - 1, plot.top, plot.left - 1, plot.bottom + 1, BLACK);
  cv.rect(plot.left - 1, plot.bottom + 1, plot.right, plot.bottom + 1, BLACK);
  xs.ticks.forEach((t) => {
    cv.rect(px(t), plot.bottom + 2, px(t), plot.bottom + 4, BLACK);
    const s = tickLabel(t, xs.step);
    cv.text(s, Math.min(width - textWidth(s), Math.max(0, px(t) - (textWidth(s) >> 1))), plot.bottom + 7, BLACK);
  });
  ys.ticks.forEach((t, i) => {
    cv.rect(plot.left - 4, py(t), plot.left - 2, py(t), BLACK);
    cv.text(yLabels[i]!, plot.left - 6 - textWidth(yLabels[i]!), py(t) - 3, BLACK);
  });
  if (options.title !== undefined) cv.text(options.title, Math.max(0, (width - textWidth(options.title)) >> 1), 4, BLACK);
  if (options.yLabel !== undefined) cv.text(options.yLabel, 4, options.title !== undefined ? 16 : 4, BLACK);
  if (options.xLabel !== undefined) cv.text(options.xLabel, Math.max(0, ((plot.left + plot.right) >> 1) - (textWidth(options.xLabel) >> 1)), height - 10, BLACK);
  // series
  series.forEach((s, k) => {
    let prev: [number, number] | undefined;
    s.y.forEach((yv, i) => {
      const x = s.x?.[i] ?? i;
      const y = ty(yv);
      if (!Number.isFinite(x) || !Number.isFinite(y)) {
        prev = undefined; // a gap
        return;
      }
      const p: [number, number] = [px(x), py(y)];
      cv.line(prev?.[0] ?? p[0], prev?.[1] ?? p[1], p[0], p[1], colors[k]!, lw, plot);
      prev = p;
    });
  });
  // legend in the right margin
  const legend = series.map((s, k) => {
    const y = plot.top + 4 + k * 12;
    const x0 = plot.right + 12;
    cv.rect(x0, y + 1, x0 + 13, y + 5, colors[k]!);
    cv.text(s.name, x0 + 18, y, BLACK);
    return { name: s.name, color: colors[k]!, x: x0 + 6, y: y + 3 };
  });
  const layout: PlotLayout = {
    width,
    height,
    plot,
    xRange: [xs.lo, xs.hi],
    yRange: logY ? [Number(`1e${ys.lo}`), Number(`1e${ys.hi}`)] : [ys.lo, ys.hi], // 10 ** -4 is 0.00009999999999999999
    toPixel: (x, y) => {
      const t = ty(y);
      return Number.isFinite(t) ? [px(x), py(t)] : undefined;
    },
    legend,
  };
  return { rgb: cv.rgb, layout };
}

/**
 * Renders series to a PNG file (written atomically) and returns the layout.
 *
 * @example
 * await plotLines('runs/cmid/loss.png', [{ name: 'train', x: steps, y: losses }, { name: 'val', x: vSteps, y: vLosses }],
 *   { title: 'CMID pretraining', xLabel: 'step', logY: true });
 */
export async function plotLines(path: string, series: readonly PlotSeries[], options: PlotOptions = {}): Promise<PlotLayout> {
  const { rgb, layout } = renderPlot(series, options);
  const sharp = (await import('sharp')).default;
  const png = await sharp(rgb, { raw: { width: layout.width, height: layout.height, channels: 3 } }).png().toBuffer();
  await writeFileAtomic(path, png);
  return layout;
}
