import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { openRaster } from '../../../src/io/read-raster.js';
import { UCM_CLASSES, UCM_PER_CLASS, ucm } from '../../../src/synth/layouts/ucm.js';
import { hashTree, listFiles, readU8, removeTempDirs, tempDir } from '../helpers.js';

afterAll(removeTempDirs);

/** The 21 class names of the real dataset, in the order of torchgeo's UCMerced and CMID's ids. */
const REAL_CLASSES = [
  'agricultural', 'airplane', 'baseballdiamond', 'beach', 'buildings', 'chaparral', 'denseresidential', 'forest', 'freeway',
  'golfcourse', 'harbor', 'intersection', 'mediumresidential', 'mobilehomepark', 'overpass', 'parkinglot', 'river', 'runway',
  'sparseresidential', 'storagetanks', 'tenniscourt',
];

const S = 256;

/** Mean colour (3 values) of an HWC image. */
function meanColour(img: Uint8Array): number[] {
  const m = [0, 0, 0];
  for (let i = 0; i < img.length; i += 3) for (let k = 0; k < 3; k++) m[k]! += img[i + k]!;
  return m.map((v) => v / (img.length / 3));
}

/**
 * Structure only, blind to the mean colour: a rotation-invariant gradient-orientation histogram, edge density,
 * intensity quantiles and coarse variance, all relative to the image's own mean and spread.
 */
function structure(img: Uint8Array): number[] {
  const g = new Float32Array(S * S);
  for (let i = 0; i < S * S; i++) g[i] = (img[3 * i]! + img[3 * i + 1]! + img[3 * i + 2]!) / 3;
  let mean = 0;
  for (const v of g) mean += v;
  mean /= g.length;
  let sd = 0;
  for (const v of g) sd += (v - mean) ** 2;
  sd = Math.sqrt(sd / g.length) + 1e-6;
  const hist = new Array<number>(8).fill(0);
  let mag = 0;
  let strong = 0;
  for (let y = 1; y < S - 1; y++) for (let x = 1; x < S - 1; x++) {
    const i = y * S + x;
    const gx = g[i + 1]! - g[i - 1]!;
    const gy = g[i + S]! - g[i - S]!;
    const m = Math.hypot(gx, gy) / sd;
    mag += m;
    if (m > 1) strong++;
    let a = Math.atan2(gy, gx);
    if (a < 0) a += Math.PI;
    hist[Math.min(7, Math.floor((a / Math.PI) * 8))]! += m;
  }
  const tot = hist.reduce((a, b) => a + b, 0) + 1e-9;
  const h = hist.map((v) => v / tot).sort((a, b) => b - a);
  const sorted = Float32Array.from(g).sort();
  const q = [0.05, 0.25, 0.5, 0.75, 0.95].map((p) => (sorted[Math.floor(p * (sorted.length - 1))]! - mean) / sd);
  let bv = 0;
  for (let by = 0; by < 16; by++) for (let bx = 0; bx < 16; bx++) {
    let s = 0;
    for (let y = 0; y < 16; y++) for (let x = 0; x < 16; x++) s += g[(by * 16 + y) * S + bx * 16 + x]!;
    bv += (s / 256 - mean) ** 2;
  }
  return [...h, mag / (S * S), strong / (S * S), ...q, Math.sqrt(bv / 256) / sd];
}

/** Leave-one-out accuracy of a nearest-centroid classifier on z-scored features. */
function looNearestCentroid(feats: number[][], labels: number[]): number {
  const d = feats[0]!.length;
  const mu = new Array<number>(d).fill(0);
  const sd = new Array<number>(d).fill(0);
  for (const f of feats) f.forEach((v, k) => (mu[k]! += v / feats.length));
  for (const f of feats) f.forEach((v, k) => (sd[k]! += (v - mu[k]!) ** 2 / feats.length));
  const z = feats.map((f) => f.map((v, k) => (v - mu[k]!) / (Math.sqrt(sd[k]!) + 1e-9)));
  let ok = 0;
  for (let i = 0; i < z.length; i++) {
    const sums = new Map<number, { s: number[]; n: number }>();
    z.forEach((f, j) => {
      if (j === i) return;
      const c = sums.get(labels[j]!) ?? { s: new Array<number>(d).fill(0), n: 0 };
      f.forEach((v, k) => (c.s[k]! += v));
      c.n++;
      sums.set(labels[j]!, c);
    });
    let best = -1;
    let bestD = Infinity;
    for (const [c, { s, n }] of sums) {
      const dd = s.reduce((a, v, k) => a + (v / n - z[i]![k]!) ** 2, 0);
      if (dd < bestD) { bestD = dd; best = c; }
    }
    if (best === labels[i]) ok++;
  }
  return ok / z.length;
}

describe('synth ucm (tiny): UC Merced layout', () => {
  let dir: string;
  let again: string;
  const per = UCM_PER_CLASS.tiny;
  beforeAll(async () => {
    dir = await tempDir();
    again = await tempDir();
    await ucm({ out: dir, size: 'tiny', seed: 0 });
    await ucm({ out: again, size: 'tiny', seed: 0 });
  });

  it('Images/<class>/<class>NN.tif for the 21 real class names (alphabetical = CMID ids), and synth.json', async () => {
    expect([...UCM_CLASSES]).toEqual(REAL_CLASSES);
    expect(REAL_CLASSES.indexOf('mediumresidential')).toBe(12);
    expect(REAL_CLASSES.indexOf('sparseresidential')).toBe(18);
    const expected = REAL_CLASSES.flatMap((c) => Array.from({ length: per }, (_, i) => `Images/${c}/${c}${String(i).padStart(2, '0')}.tif`));
    expect(await listFiles(dir)).toEqual([...expected, 'synth.json'].sort());
  });

  it('same seed, byte-identical files (sha256 of every file)', async () => {
    expect(await hashTree(again)).toEqual(await hashTree(dir));
  });

  it('readRaster: 256 x 256, 3 bands, uint8, plain uncompressed TIFF', async () => {
    for (const c of ['agricultural', 'harbor', 'tenniscourt']) {
      const r = await openRaster(join(dir, `Images/${c}/${c}00.tif`));
      try {
        expect([r.format, r.width, r.height, r.bands, r.dtype, r.compression]).toEqual(['tiff', 256, 256, 3, 'uint8', 'none']);
        expect(r.geo).toBeUndefined();
      } finally {
        await r.close();
      }
    }
  });

  it('classes are not separable by mean colour (nearest centroid near chance) but are by structure', async () => {
    const imgs: Array<{ cls: number; img: Uint8Array }> = [];
    for (const [c, name] of REAL_CLASSES.entries()) {
      for (let i = 0; i < per; i++) imgs.push({ cls: c, img: (await readU8(join(dir, `Images/${name}/${name}${String(i).padStart(2, '0')}.tif`))).data });
    }
    const labels = imgs.map((x) => x.cls);
    const colourAcc = looNearestCentroid(imgs.map((x) => meanColour(x.img)), labels);
    const structureAcc = looNearestCentroid(imgs.map((x) => structure(x.img)), labels);
    const chance = 1 / REAL_CLASSES.length; // 0.048
    expect(colourAcc).toBeLessThan(chance + 0.1);
    expect(structureAcc).toBeGreaterThan(0.45);
    expect(structureAcc).toBeGreaterThan(colourAcc + 0.3);
  });
});
