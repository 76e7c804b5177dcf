/** Progress: driven by an injected clock and stream, on a TTY (redraw in place) and off one (plain lines). */
import { describe, expect, it } from 'vitest';
import { Progress, formatDuration, formatValue } from '../../src/train/progress.js';

function sink(isTTY: boolean, columns?: number): { out: string[]; stream: { write(s: string): void; isTTY: boolean; columns?: number } } {
  const out: string[] = [];
  return { out, stream: { write: (s: string) => void out.push(s), isTTY, ...(columns === undefined ? {} : { columns }) } };
}

describe('Progress on a TTY', () => {
  it('redraws one line with \\r at most every 100 ms; shows percent, bar, rate, ETA and fields', () => {
    let t = 0;
    const { out, stream } = sink(true);
    const bar = new Progress({ total: 100, label: 'epoch 1', stream, now: () => t, barWidth: 10 });
    for (let i = 0; i < 50; i++) {
      t += 20; // 50 it/s
      bar.tick(1, { loss: 0.123456, lr: 1e-4 });
    }
    // 50 ticks over 1 s with a 100 ms throttle: the first tick and then every 5th
    expect(out).toHaveLength(10);
    expect(out.every((s) => s.startsWith('\r') && s.endsWith('\x1b[K') && !s.includes('\n'))).toBe(true);
    expect(out[out.length - 1]).toBe('\repoch 1  46% |#####-----| 46/100 50.0 it/s ETA 0:01 loss=0.1235 lr=1.00e-4\x1b[K');
    t += 20;
    bar.update(100);
    bar.done({ loss: 0.1 });
    expect(out[out.length - 2]).toBe('\repoch 1 100% |##########| 100/100 98.0 it/s in 0:01 loss=0.1 lr=1.00e-4\x1b[K');
    expect(out[out.length - 1]).toBe('\n');
  });

  it('log() writes a line above the bar and redraws it; long lines are cut to the terminal width', () => {
    let t = 0;
    const { out, stream } = sink(true, 30);
    const bar = new Progress({ total: 10, stream, now: () => t });
    t = 1000;
    bar.tick(1, { a_long_field_name: 'some long value' });
    bar.log('checkpoint saved');
    expect(out[0]!.length).toBe(1 + 29 + 3); // \r + 29 columns + ESC[K
    expect(out[1]).toBe('\r\x1b[Kcheckpoint saved\n');
    expect(out[2]).toBe(out[0]);
  });
});

describe('Progress off a TTY', () => {
  it('prints a plain line every lineEveryMs and a final line, never \\r', () => {
    let t = 0;
    const { out, stream } = sink(false);
    const bar = new Progress({ total: 1000, stream, now: () => t, lineEveryMs: 5000, unit: 'img' });
    for (let i = 0; i < 1000; i++) {
      t += 25; // 40 img/s, 25 s in all
      bar.tick();
    }
    bar.done();
    expect(out).toEqual([
      ' 20% 200/1000 40.0 img/s ETA 0:20\n',
      ' 40% 400/1000 40.0 img/s ETA 0:15\n',
      ' 60% 600/1000 40.0 img/s ETA 0:10\n',
      ' 80% 800/1000 40.0 img/s ETA 0:05\n',
      '100% 1000/1000 40.0 img/s ETA 0:00\n',
      '100% 1000/1000 40.0 img/s in 0:25\n',
    ]);
  });

  it('the rate follows a slowdown within the window; without a total there is no percent or ETA', () => {
    let t = 0;
    const { stream } = sink(false);
    const bar = new Progress({ stream, now: () => t, rateWindowMs: 2000, lineEveryMs: 1e9 });
    for (let i = 0; i < 100; i++) {
      t += 10; // 100 it/s for 1 s
      bar.tick();
    }
    expect(bar.rate()).toBeCloseTo(100, 5);
    for (let i = 0; i < 100; i++) {
      t += 100; // then 10 it/s for 10 s
      bar.tick();
    }
    expect(bar.rate()!).toBeGreaterThan(9.5);
    expect(bar.rate()!).toBeLessThan(10.6); // the overall mean would be 18.2
    expect(bar.eta()).toBeUndefined();
    expect(bar.format()).toMatch(/^200 10\.\d it\/s$/);
  });
});

describe('formatting', () => {
  it('durations and values', () => {
    expect([formatDuration(5), formatDuration(65), formatDuration(3725), formatDuration(NaN)]).toEqual(['0:05', '1:05', '1:02:05', '?']);
    expect([formatValue(3), formatValue(0.000123), formatValue(123456.7), formatValue(2.345678), formatValue(NaN), formatValue('x')])
      .toEqual(['3', '1.23e-4', '1.23e+5', '2.346', 'NaN', 'x']);
  });
});
