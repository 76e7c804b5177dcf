/**
 * What the ISPRS 2D semantic labelling sets (Potsdam, Vaihingen) share: the six classes and their colour
 * code, the eroded ("noBoundary") reference, and the urban scene both are cut from.
 *
 * Colour code (RGB): impervious surfaces white, building blue, low vegetation cyan, tree green, car yellow,
 * clutter/background red; the eroded labels paint every pixel within 3 pixels (a disc) of another class black.
 * Ids 0..6 follow mmseg's converter: 0 boundary, 1 impervious, 2 building, 3 low vegetation, 4 tree, 5 car,
 * 6 clutter.
 */
import type { Rng } from '../../rng/rng.js';
import type { Canvas } from '../scene/canvas.js';
import { SEM } from '../scene/materials.js';
import { Occupancy, Scene } from '../scene/scene.js';
import { addGround } from '../scene/ground.js';
import { MAT } from '../scene/materials.js';
import { addClutter, addCommercial, addNeighbourhood, addParkingLot } from '../scene/urban.js';
import { randomTree } from '../scene/trees.js';
import { orientedRect } from '../scene/geometry.js';

export const ISPRS_CLASSES = ['boundary', 'impervious_surfaces', 'building', 'low_vegetation', 'tree', 'car', 'clutter'] as const;

/** Label colours by id (RGB); id 0 (black) appears only in the eroded labels. */
export const ISPRS_PALETTE: ReadonlyArray<readonly [number, number, number]> = [
  [0, 0, 0],
  [255, 255, 255],
  [0, 0, 255],
  [0, 255, 255],
  [0, 255, 0],
  [255, 255, 0],
  [255, 0, 0],
];

/** Radius of the boundary erosion, pixels (ISPRS: a circular disc of radius 3). */
export const ISPRS_EROSION_RADIUS = 3;

/** ISPRS id of each generic class (scene/materials.ts SEM). */
const SEM_TO_ISPRS: Record<number, number> = {
  [SEM.bare]: 6,
  [SEM.road]: 1,
  [SEM.building]: 2,
  [SEM.lowveg]: 3,
  [SEM.tree]: 4,
  [SEM.car]: 5,
  [SEM.water]: 6,
  [SEM.vehicle]: 5,
  [SEM.plane]: 6,
  [SEM.ship]: 6,
  [SEM.tank]: 2,
  [SEM.structure]: 6,
};

/** Ids 1..6 per pixel from a painted canvas. */
export function isprsIds(c: Canvas): Uint8Array {
  const out = new Uint8Array(c.cls.length);
  for (let i = 0; i < out.length; i++) out[i] = SEM_TO_ISPRS[c.cls[i]!] ?? 6;
  return out;
}

/** Ids -> RGB colour code (HWC uint8). */
export function colourise(ids: Uint8Array): Uint8Array {
  const out = new Uint8Array(ids.length * 3);
  for (let i = 0; i < ids.length; i++) {
    const [r, g, b] = ISPRS_PALETTE[ids[i]!]!;
    out[3 * i] = r;
    out[3 * i + 1] = g;
    out[3 * i + 2] = b;
  }
  return out;
}

/**
 * The eroded reference: every pixel that has a pixel of another class within `radius` (Euclidean distance of
 * pixel centres) becomes 0. Exact; the search is limited to pixels near a class edge (an integral image of
 * the edge mask finds them), since any other class within `radius` puts an edge inside that square.
 */
export function erodeBoundaries(ids: Uint8Array, width: number, height: number, radius = ISPRS_EROSION_RADIUS): Uint8Array {
  const offsets: Array<[number, number]> = [];
  for (let dy = -radius; dy <= radius; dy++) for (let dx = -radius; dx <= radius; dx++) if ((dx || dy) && dx * dx + dy * dy <= radius * radius) offsets.push([dx, dy]);
  const W1 = width + 1;
  const sat = new Uint32Array(W1 * (height + 1)); // summed-area table of the edge mask
  for (let y = 0; y < height; y++) {
    let row = 0;
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const v = ids[i]!;
      const e = (x > 0 && ids[i - 1] !== v) || (x + 1 < width && ids[i + 1] !== v) || (y > 0 && ids[i - width] !== v) || (y + 1 < height && ids[i + width] !== v) ? 1 : 0;
      row += e;
      sat[(y + 1) * W1 + x + 1] = sat[y * W1 + x + 1]! + row;
    }
  }
  const out = ids.slice();
  for (let y = 0; y < height; y++) {
    const y0 = Math.max(0, y - radius);
    const y1 = Math.min(height, y + radius + 1);
    for (let x = 0; x < width; x++) {
      const x0 = Math.max(0, x - radius);
      const x1 = Math.min(width, x + radius + 1);
      if (sat[y1 * W1 + x1]! - sat[y0 * W1 + x1]! - sat[y1 * W1 + x0]! + sat[y0 * W1 + x0]! === 0) continue;
      const i = y * width + x;
      const v = ids[i]!;
      for (const [dx, dy] of offsets) {
        const xx = x + dx;
        const yy = y + dy;
        if (xx < 0 || yy < 0 || xx >= width || yy >= height) continue;
        if (ids[yy * width + xx] !== v) {
          out[i] = 0;
          break;
        }
      }
    }
  }
  return out;
}

/**
 * An urban ISPRS-like scene: a residential street grid ('potsdam' denser, with flat-roofed blocks; 'vaihingen'
 * small houses and many trees), parking, and a little clutter (containers, bare soil, ponds).
 */
export function isprsScene(rng: Rng, width: number, height: number, gsd: number, style: 'potsdam' | 'vaihingen'): Scene {
  const scene = new Scene(width, height, gsd, rng.nextU32());
  addGround(scene, MAT.lawn);
  const occ = new Occupancy();
  const n = addNeighbourhood(scene, rng, {
    density: style === 'potsdam' ? (rng.next() < 0.6 ? 'dense' : 'medium') : rng.next() < 0.5 ? 'medium' : 'dense',
    flatRoofs: style === 'potsdam' ? 0.35 : 0.1,
    cars: style === 'potsdam' ? 8 : 4,
    occ,
  });
  const f = n.frame;
  const ext = f.extent(0);
  const cu = (ext.u0 + ext.u1) / 2;
  const cv = (ext.v0 + ext.v1) / 2;
  const span = (ext.u1 - ext.u0) / 2;
  if (rng.next() < 0.6) addParkingLot(scene, rng, f, cu + rng.uniform(-span, span) * 0.5, cv + rng.uniform(-span, span) * 0.5, rng.uniform(15, 40), rng.uniform(12, 30), rng.uniform(0.3, 0.9), occ);
  if (style === 'potsdam' && rng.next() < 0.5) addCommercial(scene, rng, f, cu + rng.uniform(-span, span) * 0.6, cv + rng.uniform(-span, span) * 0.6, rng.uniform(30, 60), occ);
  const clutter = rng.int(1, 4);
  for (let k = 0; k < clutter; k++) addClutter(scene, rng, f, cu + rng.uniform(-span, span) * 0.7, cv + rng.uniform(-span, span) * 0.7, occ);
  const trees = Math.round(((width * height * gsd * gsd) / 400) * (style === 'vaihingen' ? 1.5 : 0.6));
  for (let k = 0; k < trees; k++) {
    const x = rng.uniform(0, width);
    const y = rng.uniform(0, height);
    const r = scene.px(2.5);
    if (occ.free(orientedRect(x, y, 2 * r, 2 * r, 0))) randomTree(scene, rng, x, y, { conifer: 0.15 });
  }
  return scene;
}
