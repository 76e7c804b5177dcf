/** plotLines: the PNG is decoded and the series' colours are checked where the data puts them. */
import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import sharp from 'sharp';
import { PLOT_COLORS, niceTicks, plotLines, renderPlot, type Rgb } from '../../src/train/plot-png.js';
import { removeTempDirs, tempDir } from '../io/helpers.js';

afterAll(removeTempDirs);

async function decode(path: string): Promise<{ px: (x: number, y: number) => Rgb; width: number; height: number }> {
  const { data, info } = await sharp(path).raw().toBuffer({ resolveWithObject: true });
  expect(info.channels).toBe(3);
  return { width: info.width, height: info.height, px: (x, y) => [data[(y * info.width + x) * 3]!, data[(y * info.width + x) * 3 + 1]!, data[(y * info.width + x) * 3 + 2]!] };
}

const steps = Array.from({ length: 101 }, (_, i) => i * 10);
const train = steps.map((s) => 2 * Math.exp(-s / 300) + 0.1);
const val = steps.map((s) => 2.2 * Math.exp(-s / 400) + 0.3);

describe('plotLines', () => {
  it('640x400, two series: each data point is drawn in its series colour at layout.toPixel; legend swatches carry the colours', async () => {
    const path = join(await tempDir('cmid-plot-'), 'loss.png');
    const layout = await plotLines(path, [{ name: 'train', x: steps, y: train }, { name: 'val', x: steps, y: val }], { title: 'loss', xLabel: 'step' });
    const img = await decode(path);
    expect([img.width, img.height]).toEqual([640, 400]);
    expect(layout.xRange).toEqual([0, 1000]);
    expect(layout.yRange[0]).toBeLessThanOrEqual(0.1 + 2 * Math.exp(-1000 / 300));
    let checked = 0;
    for (const [k, ys] of [train, val].entries()) {
      for (let i = 0; i < steps.length; i += 10) {
        const [x, y] = layout.toPixel(steps[i]!, ys[i]!)!;
        // the other series may be drawn over this one where they cross; skip those points
        const other = layout.toPixel(steps[i]!, [val, train][k]![i]!)!;
        if (Math.abs(other[1] - y) <= 2) continue;
        expect(img.px(x, y)).toEqual(PLOT_COLORS[k]);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(15);
    // the first point is at the left edge of the plot, the last at the right
    expect(layout.toPixel(0, train[0]!)![0]).toBe(layout.plot.left);
    expect(layout.toPixel(1000, train[100]!)![0]).toBe(layout.plot.right);
    // curves fall: the pixel row grows with the step
    expect(layout.toPixel(1000, train[100]!)![1]).toBeGreaterThan(layout.toPixel(0, train[0]!)![1]);
    expect(layout.legend.map((l) => l.name)).toEqual(['train', 'val']);
    for (const l of layout.legend) expect(img.px(l.x, l.y)).toEqual(l.color);
    // background is white away from the lines, the axes are black
    const { plot } = layout;
    expect(img.px(plot.right - 3, plot.top + 3)).toEqual([255, 255, 255]);
    expect(img.px(plot.left - 1, (plot.top + plot.bottom) >> 1)).toEqual([0, 0, 0]);
    expect(img.px((plot.left + plot.right) >> 1, plot.bottom + 1)).toEqual([0, 0, 0]);
  });

  it('a point far from any line is not coloured: between the curves at step 500', async () => {
    const { rgb, layout } = renderPlot([{ name: 'a', y: [0, 0, 0] }, { name: 'b', y: [10, 10, 10], color: [200, 0, 0] }]);
    const [x, y] = layout.toPixel(1, 5)!;
    const at = (px: number, py: number): number[] => Array.from(rgb.subarray((py * layout.width + px) * 3, (py * layout.width + px) * 3 + 3));
    expect(at(x, y)).not.toEqual([200, 0, 0]);
    expect(at(...layout.toPixel(1, 10)!)).toEqual([200, 0, 0]);
    expect(at(...layout.toPixel(2, 0)!)).toEqual([...PLOT_COLORS[0]!]);
  });

  it('NaN breaks the line; logY maps decades evenly', async () => {
    const { rgb, layout } = renderPlot([{ name: 'lr', y: [1, 0.1, NaN, 0.001, 0.0001] }], { logY: true, lineWidth: 1 });
    const at = (p: [number, number]): number[] => Array.from(rgb.subarray((p[1] * layout.width + p[0]) * 3, (p[1] * layout.width + p[0]) * 3 + 3));
    const p0 = layout.toPixel(0, 1)!;
    const p1 = layout.toPixel(1, 0.1)!;
    const p3 = layout.toPixel(3, 0.001)!;
    const p4 = layout.toPixel(4, 0.0001)!;
    // 4 decades over the plot height: each decade the same number of pixels (+-1 for rounding)
    expect(layout.yRange).toEqual([0.0001, 1]);
    const decade = (layout.plot.bottom - layout.plot.top) / 4;
    for (const d of [p1[1] - p0[1], p4[1] - p3[1]]) expect(Math.abs(d - decade)).toBeLessThanOrEqual(1);
    expect(at(p0)).toEqual([...PLOT_COLORS[0]!]);
    expect(at(p3)).toEqual([...PLOT_COLORS[0]!]);
    // no segment from x=1 to x=3 (the NaN at x=2): the midpoint of that segment is blank
    const mid: [number, number] = [(p1[0] + p3[0]) >> 1, (p1[1] + p3[1]) >> 1];
    expect(at(mid)).not.toEqual([...PLOT_COLORS[0]!]);
    expect(layout.toPixel(0, -1)).toBeUndefined();
  });

  it('200 000 points (a long run, logged every step) render without overflowing the stack', () => {
    const y = Array.from({ length: 200_000 }, (_, i) => 1 / (1 + i / 1000));
    const { layout } = renderPlot([{ name: 'loss', y }]);
    expect(layout.xRange).toEqual([0, 200_000]);
  });

  it('niceTicks rounds to 1/2/5 steps; errors name the problem', () => {
    expect(niceTicks(0.13, 2.31)).toEqual({ ticks: [0, 0.5, 1, 1.5, 2, 2.5], lo: 0, hi: 2.5, step: 0.5 });
    expect(niceTicks(5, 5).ticks.length).toBeGreaterThan(1);
    expect(() => renderPlot([])).toThrow(/no series/);
    expect(() => renderPlot([{ name: 'a', x: [1, 2], y: [1] }])).toThrow(/"a" has 2 x values but 1 y values/);
    expect(() => renderPlot([{ name: 'a', y: [NaN] }])).toThrow(/no finite values/);
  });
});
