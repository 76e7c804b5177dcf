import sharp from 'sharp';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { classificationScores, formatClassificationReport, renderConfusion, writeConfusionPng } from '../../src/index.js';

describe('classificationScores', () => {
  // 3 classes; true: 0 0 0 1 1 2 ; predicted: 0 0 1 1 2 2
  const labels = [0, 0, 0, 1, 1, 2];
  const preds = [0, 0, 1, 1, 2, 2];
  it('gives OA, per-class recall, precision, F1, AA and kappa as computed by hand', () => {
    const s = classificationScores(labels, preds, 3);
    expect(Array.from(s.confusion)).toEqual([2, 1, 0, 0, 1, 1, 0, 0, 1]);
    expect(s.oa).toBeCloseTo((4 / 6) * 100, 10);
    expect(s.perClassAccuracy[0]).toBeCloseTo(200 / 3, 10);
    expect(s.perClassAccuracy[1]).toBeCloseTo(50, 10);
    expect(s.precision[2]).toBeCloseTo(50, 10);
    expect(s.aa).toBeCloseTo((200 / 3 + 50 + 100) / 3, 10);
    // kappa: po = 4/6; pe = (3*2 + 2*2 + 1*2) / 36 = 12/36
    expect(s.kappa).toBeCloseTo((4 / 6 - 1 / 3) / (1 - 1 / 3), 10);
    expect(s.f1[1]).toBeCloseTo(50, 10);
  });
  it('takes [n, C] scores and gives top-k; a class absent from the test set has NaN recall and is left out of AA', () => {
    const scores = [0.5, 0.3, 0.1, 0.05, 0.05, /**/ 0.1, 0.2, 0.3, 0.4, 0.0];
    const s = classificationScores([0, 4], scores, 5);
    expect(s.topK[1]).toBe(50);
    expect(s.topK[5]).toBe(100);
    expect(Number.isNaN(s.perClassAccuracy[2]!)).toBe(true);
    expect(s.aa).toBeCloseTo(50, 10);
    expect(formatClassificationReport(s, ['a', 'b', 'c', 'd', 'e'])).toMatch(/OA 50\.00 %/);
  });
  it('names bad input', () => {
    expect(() => classificationScores([0, 1], [0], 2)).toThrow(/2 labels but 1 scores/);
    expect(() => classificationScores([0, 3], [0, 1], 3)).toThrow(/label 3 of sample 1/);
  });
});

describe('confusion PNG', () => {
  it('writes a PNG whose diagonal cells are darker than empty cells', async () => {
    const conf = [9, 1, 0, 0, 10, 0, 2, 0, 8];
    const classes = ['forest', 'harbor', 'river'];
    const r = renderConfusion(conf, classes, { title: 'test' });
    const px = (x: number, y: number) => r.rgb.slice((y * r.width + x) * 3, (y * r.width + x) * 3 + 3);
    const centre = (row: number, col: number) => px(r.left + col * r.cell + 2, r.top + row * r.cell + 2);
    const dark = centre(1, 1), empty = centre(0, 2);
    expect(dark[0]! + dark[1]! + dark[2]!).toBeLessThan(empty[0]! + empty[1]! + empty[2]! - 300);
    expect(Array.from(empty)).toEqual([255, 255, 255]);
    const file = join(await mkdtemp(join(tmpdir(), 'cmid-conf-')), 'c.png');
    await writeConfusionPng(file, conf, classes);
    const meta = await sharp(file).metadata();
    expect(meta.format).toBe('png');
    expect(meta.width).toBe(r.width);
  });
});
