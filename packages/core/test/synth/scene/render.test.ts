import { describe, expect, it } from 'vitest';
import { Rng } from '../../../src/rng/rng.js';
import { SUMMER_NOON, conditionsForDate, type Conditions } from '../../../src/synth/scene/conditions.js';
import { addArea, addGround } from '../../../src/synth/scene/ground.js';
import { BAND, MAT, SEM } from '../../../src/synth/scene/materials.js';
import { ALL_BANDS, render, toDisplay8, toDisplay8Matched } from '../../../src/synth/scene/render.js';
import { Scene } from '../../../src/synth/scene/scene.js';
import { addTree } from '../../../src/synth/scene/trees.js';
import { orientedRect } from '../../../src/synth/scene/geometry.js';
import { LAND_USE } from '../../../src/synth/scene/land-use.js';

const S = 96;

/** Left half lawn, right half a deciduous stand (as an area), a tree in the lawn. */
function vegetation(): Scene {
  const scene = new Scene(S, S, 0.5, 42);
  addGround(scene, MAT.lawn);
  addArea(scene, orientedRect(S * 0.75, S / 2, S / 2, S, 0), MAT.deciduous, SEM.tree);
  addTree(scene, { x: S / 4, y: S / 2, r: 8, height: 12 });
  return scene;
}

/** Mean of band b over the pixels where `mask` holds. */
function meanBand(v: Float32Array, nb: number, b: number, mask: (i: number) => boolean): number {
  let s = 0, n = 0;
  for (let i = 0; i < v.length / nb; i++) if (mask(i)) { s += v[i * nb + b]!; n++; }
  return s / n;
}

const ndvi = (v: Float32Array, mask: (i: number) => boolean): number => {
  const nir = meanBand(v, 13, BAND.B8, mask);
  const red = meanBand(v, 13, BAND.B4, mask);
  return (nir - red) / (nir + red);
};

describe('seasons change the look, never the labels', () => {
  const scene = vegetation();
  const summer = conditionsForDate(new Rng(1), 190, 50);
  const autumn = conditionsForDate(new Rng(1), 295, 50);
  const winter: Conditions = { ...conditionsForDate(new Rng(1), 15, 50), snow: 0 };
  const snowy: Conditions = { ...winter, snow: 1 };
  const paint = (c: Conditions) => {
    const canvas = scene.paint(c);
    return { canvas, v: render(canvas, c, { bands: ALL_BANDS, textureSeed: scene.textureSeed, blur: 0 }) };
  };
  const all = () => true;

  it('NDVI of vegetation is high in summer and low in winter', () => {
    expect(ndvi(paint(summer).v, all)).toBeGreaterThan(0.55);
    expect(ndvi(paint(winter).v, all)).toBeLessThan(ndvi(paint(summer).v, all) - 0.25);
  });

  it('deciduous canopies turn red-brown in autumn (red/green rises)', () => {
    const p = paint(summer);
    const isTree = (i: number) => p.canvas.cls[i] === SEM.tree;
    const rg = (v: Float32Array) => meanBand(v, 13, BAND.B4, isTree) / meanBand(v, 13, BAND.B3, isTree);
    expect(rg(paint(autumn).v)).toBeGreaterThan(1.3 * rg(p.v));
  });

  it('snow: bright in the visible, dark in the SWIR (NDSI > 0.4), lawn covered', () => {
    const { v } = paint(snowy);
    const vis = meanBand(v, 13, BAND.B3, all);
    const swir = meanBand(v, 13, BAND.B11, all);
    expect(vis).toBeGreaterThan(0.5);
    expect((vis - swir) / (vis + swir)).toBeGreaterThan(0.4);
  });

  it('class and instance maps are identical under every condition', () => {
    const ref = paint(summer).canvas;
    for (const c of [autumn, winter, snowy, { ...SUMMER_NOON, sunAzimuth: 40, sunElevation: 15 }]) {
      const other = paint(c).canvas;
      expect(Buffer.from(other.cls).equals(Buffer.from(ref.cls))).toBe(true);
      expect(Buffer.from(other.obj.buffer).equals(Buffer.from(ref.obj.buffer))).toBe(true);
    }
  });

  it('illumination: the shadowed lawn is darker than the lit lawn, brightness scales the image', () => {
    const { canvas, v } = paint(summer);
    const lawn = (i: number) => canvas.cls[i] === SEM.lowveg;
    const lit = meanBand(v, 13, BAND.B3, (i) => lawn(i) && canvas.lit[i] === 1);
    const dark = meanBand(v, 13, BAND.B3, (i) => lawn(i) && canvas.lit[i] === 0);
    expect(dark).toBeLessThan(0.7 * lit);
    const bright = render(canvas, { ...summer, brightness: summer.brightness * 1.2, haze: 0 }, { bands: ALL_BANDS, textureSeed: scene.textureSeed, blur: 0, noise: 0 });
    const base = render(canvas, { ...summer, haze: 0 }, { bands: ALL_BANDS, textureSeed: scene.textureSeed, blur: 0, noise: 0 });
    expect(meanBand(bright, 13, BAND.B3, all) / meanBand(base, 13, BAND.B3, all)).toBeCloseTo(1.2, 5);
  });
});

describe('display encodings', () => {
  it('toDisplay8Matched hits the asked per-band means within one grey level', () => {
    const rng = new Rng(9);
    for (const name of ['forest', 'beach', 'parkinglot']) {
      const scene = new Scene(128, 128, 0.3, 5);
      LAND_USE[name]!(scene, rng);
      const v = render(scene.paint(SUMMER_NOON), SUMMER_NOON, { bands: [3, 2, 1], textureSeed: 5 });
      const target = [140, 90, 60];
      const out = toDisplay8Matched(v, 3, target);
      for (let k = 0; k < 3; k++) {
        let s = 0;
        for (let i = k; i < out.length; i += 3) s += out[i]!;
        expect(Math.abs(s / (out.length / 3) - target[k]!)).toBeLessThan(1);
      }
    }
  });

  it('toDisplay8 is monotone and clips at 255', () => {
    const v = Float32Array.from([0, 0.01, 0.05, 0.1, 0.3, 0.45, 0.5, 2]);
    const d = toDisplay8(v, 2.2);
    for (let i = 1; i < d.length; i++) expect(d[i]!).toBeGreaterThanOrEqual(d[i - 1]!);
    expect(d[0]).toBe(0);
    expect(d[d.length - 1]).toBe(255);
  });
});
