import { describe, expect, it } from 'vitest';
import { locationGrid, Rng, sampleResizedCropBox } from '@cmid/core';
import { positionMatch } from '../src/position-match.js';

/** Brute force of cmid.md §5.3 written differently: distances into a matrix, argmin per row, stable sort. */
function reference(a: Float32Array, b: Float32Array, k: number) {
  const n = a.length / 2;
  const rows = Array.from({ length: n }, (_, i) => Array.from({ length: b.length / 2 }, (_, j) => Math.sqrt((a[2 * i]! - b[2 * j]!) ** 2 + (a[2 * i + 1]! - b[2 * j + 1]!) ** 2)));
  const nn = rows.map((r) => r.indexOf(Math.min(...r)));
  const d = rows.map((r) => Math.min(...r));
  const ranked = d.map((v, i) => [v, i] as const).sort((x, y) => x[0] - y[0] || x[1] - y[1]).slice(0, k).map(([, i]) => i).sort((x, y) => x - y);
  return { input: ranked, candidate: ranked.map((i) => nn[i]) };
}

describe('positionMatch', () => {
  it('pairs each kept student cell with its nearest teacher cell, keeping the closest in cell order', () => {
    // 2 x 2 grids; candidate shifted by (0.1, 5): cells 0 and 2 have an exact-ish partner
    const a = Float32Array.of(0, 0, 0, 10, 10, 0, 10, 10);
    const b = Float32Array.of(0.1, 5, 0.1, 15, 10.1, 5, 10.1, 15);
    const m = positionMatch(a, b, 2);
    // distances: cell0 -> b0 5.0; cell1 -> b0 or b1 (both 5.0, lower index b0); cell2 -> b2 5.0; cell3 -> b2 5.0
    // all d equal -> ties by lower index: cells 0, 1
    expect(Array.from(m.input)).toEqual([0, 1]);
    expect(Array.from(m.candidate)).toEqual([0, 0]);
    const m2 = positionMatch(Float32Array.of(0, 0, 9, 9), Float32Array.of(8, 8, 50, 50), 1);
    expect(Array.from(m2.input)).toEqual([1]);
    expect(Array.from(m2.candidate)).toEqual([0]);
  });

  it('agrees with a brute-force implementation on random CMID crop pairs', () => {
    const rng = new Rng(3);
    for (let t = 0; t < 200; t++) {
      const boxA = sampleResizedCropBox(rng, 224, 224, { scale: [0.3, 1], ratio: [3 / 4, 4 / 3] });
      const boxB = sampleResizedCropBox(rng, 224, 224, { scale: [0.3, 1], ratio: [3 / 4, 4 / 3] });
      const offsets = t % 2 === 0 ? 'fraction' : 'pixel';
      const a = locationGrid(boxA, rng.next() < 0.5, { offsets });
      const b = locationGrid(boxB, rng.next() < 0.5, { offsets });
      const m = positionMatch(a, b, 20);
      const r = reference(a, b, 20);
      expect(Array.from(m.input)).toEqual(r.input);
      expect(Array.from(m.candidate)).toEqual(r.candidate);
      for (let i = 1; i < 20; i++) expect(m.input[i]!).toBeGreaterThan(m.input[i - 1]!);
    }
  });

  it('identical views match every cell to itself', () => {
    const g = locationGrid({ top: 10, left: 20, height: 100, width: 120, hStart: 0.1, wStart: 0.2, fallback: false }, false);
    const m = positionMatch(g, g, 20);
    expect(Array.from(m.input)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(Array.from(m.candidate)).toEqual(Array.from(m.input));
  });

  it('rejects more matches than cells', () => {
    expect(() => positionMatch(new Float32Array(8), new Float32Array(8), 5)).toThrow(/numMatches 5 must be in 1..4/);
  });
});
