/**
 * Built-up areas: a street grid in world metres (so a small canvas shows a piece of it, as an ISPRS crop
 * does), houses set back along the streets with driveways, yards with trees and pools, cars on the kerb and
 * in driveways; commercial blocks with flat roofs and parking lots. Used by the UCM residential and
 * buildings scenes, the ISPRS tiles and the CDD pairs.
 */
import type { Rng } from '../../rng/rng.js';
import { orientedRect, type Poly, type Vec } from './geometry.js';
import { addBuilding, houseRoofMaterial, rooftopUnits } from './buildings.js';
import { addArea } from './ground.js';
import { MAT, SEM } from './materials.js';
import { addCar, addTruck } from './objects.js';
import { addSwimmingPool } from './facilities.js';
import { addRoad } from './roads.js';
import { LAYER, Occupancy, type Feature, type Scene } from './scene.js';
import { randomTree } from './trees.js';

export type Density = 'dense' | 'medium' | 'sparse';

/** A rotated frame: (u, v) metres from an origin, to canvas pixels. */
export class Frame {
  constructor(
    readonly scene: Scene,
    readonly ox: number,
    readonly oy: number,
    readonly angle: number,
  ) {}
  /** Pixel position of (u, v) metres. */
  at(u: number, v: number): Vec {
    const c = Math.cos(this.angle);
    const s = Math.sin(this.angle);
    const pu = this.scene.px(u);
    const pv = this.scene.px(v);
    return [this.ox + pu * c - pv * s, this.oy + pu * s + pv * c];
  }
  /** The (u, v) metre range that covers the canvas, with `pad` metres around it. */
  extent(pad = 0): { u0: number; u1: number; v0: number; v1: number } {
    const r = (Math.hypot(this.scene.width, this.scene.height) / 2) * this.scene.gsd + pad;
    const cu = (((this.scene.width / 2 - this.ox) * Math.cos(this.angle) + (this.scene.height / 2 - this.oy) * Math.sin(this.angle)) * this.scene.gsd);
    const cv = ((-(this.scene.width / 2 - this.ox) * Math.sin(this.angle) + (this.scene.height / 2 - this.oy) * Math.cos(this.angle)) * this.scene.gsd);
    return { u0: cu - r, u1: cu + r, v0: cv - r, v1: cv + r };
  }
  /** An oriented rectangle centred at (u, v) metres, size in metres, turned by `extra` radians. */
  rect(u: number, v: number, length: number, width: number, extra = 0): Vec[] {
    const [x, y] = this.at(u, v);
    return orientedRect(x, y, this.scene.px(length), this.scene.px(width), this.angle + extra);
  }
}

const DENSITY = {
  dense: { block: [48, 60], lot: [9, 13], gap: [1, 3], setback: [3, 5], house: [8, 12], depth: [9, 13], tree: 0.25, pool: 0.02 },
  medium: { block: [55, 80], lot: [18, 26], gap: [6, 12], setback: [5, 9], house: [9, 14], depth: [9, 13], tree: 0.7, pool: 0.12 },
  sparse: { block: [90, 130], lot: [35, 55], gap: [15, 30], setback: [10, 20], house: [12, 18], depth: [10, 15], tree: 1.2, pool: 0.2 },
} as const;

export interface NeighbourhoodOptions {
  density: Density;
  /** Street grid direction, radians. Default random. */
  angle?: number;
  /** Probability that a lot holds a flat-roofed block instead of a house. Default 0.1. */
  flatRoofs?: number;
  /** Cars per 100 m of street side. Default 3. */
  cars?: number;
  occ?: Occupancy;
}

export interface Neighbourhood {
  occ: Occupancy;
  frame: Frame;
  buildings: Feature[];
  roads: Feature[];
}

/** Streets, houses, driveways, yards, trees and cars covering the whole canvas. */
export function addNeighbourhood(scene: Scene, rng: Rng, o: NeighbourhoodOptions): Neighbourhood {
  const d = DENSITY[o.density];
  const occ = o.occ ?? new Occupancy();
  const angle = o.angle ?? rng.uniform(0, Math.PI);
  const frame = new Frame(scene, rng.uniform(0, scene.width), rng.uniform(0, scene.height), angle);
  const ext = frame.extent(40);
  const blockU = rng.uniform(d.block[0], d.block[1]) * 1.6;
  const blockV = rng.uniform(d.block[0], d.block[1]);
  const roadW = rng.uniform(5.5, 8);
  const sidewalk = o.density === 'sparse' ? 0 : rng.uniform(1.5, 2.5);
  const roads: Feature[] = [];
  const buildings: Feature[] = [];
  const streetsV: number[] = [];
  const streetsU: number[] = [];
  for (let v = Math.floor(ext.v0 / blockV) * blockV; v <= ext.v1; v += blockV) streetsV.push(v);
  for (let u = Math.floor(ext.u0 / blockU) * blockU; u <= ext.u1; u += blockU) streetsU.push(u);
  const roadPx = scene.px(roadW);
  for (const v of streetsV) {
    const path = [frame.at(ext.u0, v), frame.at(ext.u1, v)];
    roads.push(addRoad(scene, path, { width: roadPx, sidewalk: scene.px(sidewalk), marking: 'centre' }));
    occ.take(orientedRect((path[0]![0] + path[1]![0]) / 2, (path[0]![1] + path[1]![1]) / 2, Math.hypot(path[1]![0] - path[0]![0], path[1]![1] - path[0]![1]), roadPx + 2 * scene.px(sidewalk), angle));
  }
  if (o.density !== 'sparse' || rng.next() < 0.5) {
    for (const u of streetsU) {
      const path = [frame.at(u, ext.v0), frame.at(u, ext.v1)];
      roads.push(addRoad(scene, path, { width: roadPx, sidewalk: scene.px(sidewalk), marking: 'centre' }));
      occ.take(orientedRect((path[0]![0] + path[1]![0]) / 2, (path[0]![1] + path[1]![1]) / 2, Math.hypot(path[1]![0] - path[0]![0], path[1]![1] - path[0]![1]), roadPx + 2 * scene.px(sidewalk), angle + Math.PI / 2));
    }
  }
  const carsPer100 = o.cars ?? 3;
  const half = roadW / 2 + sidewalk;
  const inCanvas = ([x, y]: Vec, m = 0): boolean => x > -m && y > -m && x < scene.width + m && y < scene.height + m;
  const margin = scene.px(30);
  const parked = new Occupancy(); // the kerb lies on the road, which `occ` holds: parked cars only avoid each other
  // houses on both sides of every v-street, between the u-streets
  for (const v of streetsV) {
    for (const side of [1, -1] as const) {
      let u = ext.u0;
      while (u < ext.u1) {
        const lot = rng.uniform(d.lot[0], d.lot[1]);
        const hw = Math.min(lot - rng.uniform(d.gap[0], d.gap[1]), rng.uniform(d.house[0], d.house[1]));
        const hd = rng.uniform(d.depth[0], d.depth[1]);
        const setback = rng.uniform(d.setback[0], d.setback[1]);
        const cu = u + lot / 2;
        const cvv = v + side * (half + setback + hd / 2);
        u += lot;
        const centre = frame.at(cu, cvv);
        if (!inCanvas(centre, margin)) continue;
        if (Math.abs(cvv - v) + hd / 2 > blockV / 2 - 1) continue;
        const flat = rng.next() < (o.flatRoofs ?? 0.1);
        const footprint = frame.rect(cu, cvv, hw, hd);
        if (!occ.claim(footprint, scene.px(1))) continue;
        const roof = flat ? 'flat' : rng.next() < 0.7 ? 'gable' : 'hip';
        const mat = flat ? (rng.next() < 0.6 ? MAT.roof_flat : MAT.roof_grey) : houseRoofMaterial(rng);
        const wing = !flat && rng.next() < 0.25 ? { length: scene.px(hd * 0.5), width: scene.px(hw * 0.4), side: (side === 1 ? 1 : -1) as 1 | -1 } : undefined;
        if (wing !== undefined) {
          const probe = frame.rect(cu + hw / 2 - hw * 0.2, cvv + side * (hd / 2 + hd * 0.25), hw * 0.4, hd * 0.5);
          if (!occ.claim(probe, scene.px(0.5))) continue;
        }
        buildings.push(
          addBuilding(scene, {
            cx: centre[0],
            cy: centre[1],
            length: scene.px(hw),
            width: scene.px(hd),
            angle,
            height: flat ? rng.uniform(6, 14) : rng.uniform(6, 10),
            roof,
            mat,
            ...(wing !== undefined ? { wing } : {}),
            ...(flat ? { units: rooftopUnits(rng, scene.px(hw), scene.px(hd), scene.px(1)) } : {}),
          }),
        );
        // driveway from the kerb to the house, a car on it sometimes
        const dwW = rng.uniform(2.8, 3.5);
        const dwU = cu + (rng.next() < 0.5 ? -1 : 1) * (hw / 2 + dwW / 2 + 0.3);
        const dwLen = setback;
        const dwV = v + side * (half + dwLen / 2);
        const drive = frame.rect(dwU, dwV, dwW, dwLen);
        if (o.density !== 'dense' && occ.claim(drive, 0)) {
          addArea(scene, drive, MAT.paving, SEM.road, { kind: 'driveway', layer: LAYER.pavement });
          if (rng.next() < 0.5) {
            const [x, y] = frame.at(dwU, dwV);
            addCar(scene, rng, x, y, angle + Math.PI / 2 + (rng.next() < 0.5 ? 0 : Math.PI));
          }
        }
        // the yard behind: trees and sometimes a pool
        const yardV = v + side * (half + setback + hd + 4);
        const nTrees = Math.round(d.tree * 2 * rng.next() + d.tree * 0.5);
        for (let t = 0; t < nTrees; t++) {
          const [x, y] = frame.at(cu + rng.uniform(-lot / 2, lot / 2), yardV + side * rng.uniform(0, 8));
          const probe = orientedRect(x, y, scene.px(3), scene.px(3), 0);
          if (occ.claim(probe)) randomTree(scene, rng, x, y);
        }
        if (rng.next() < d.pool) {
          const [x, y] = frame.at(cu, yardV + side * 3);
          const probe = orientedRect(x, y, scene.px(14), scene.px(8), angle);
          if (occ.claim(probe, scene.px(1))) addSwimmingPool(scene, rng, x, y, angle, rng.uniform(7, 12));
        }
      }
      // parked cars along the kerb
      for (let u2 = ext.u0; u2 < ext.u1; u2 += 100 / Math.max(0.01, carsPer100) * rng.uniform(0.3, 1.7)) {
        const [x, y] = frame.at(u2, v + side * (roadW / 2 - 1.2));
        if (!inCanvas([x, y], scene.px(5))) continue;
        const probe = orientedRect(x, y, scene.px(5), scene.px(2.2), angle);
        const streetCross = streetsU.some((su) => Math.abs(su - u2) < roadW);
        if (!streetCross && parked.claim(probe, scene.px(0.3))) addCar(scene, rng, x, y, angle + (side > 0 ? 0 : Math.PI));
      }
    }
  }
  return { occ, frame, buildings, roads };
}

/**
 * A parking lot: asphalt, stall lines, cars in rows (some stalls empty). `fill` is the occupancy 0..1. With
 * `occ`, nothing is added unless the lot's ground is free, and the lot is then claimed.
 */
export function addParkingLot(scene: Scene, rng: Rng, frame: Frame, u: number, v: number, lengthM: number, widthM: number, fill: number, occ?: Occupancy): Feature | undefined {
  const lot = frame.rect(u, v, lengthM, widthM);
  if (occ !== undefined && !occ.claim(lot, scene.px(1))) return undefined;
  const f = addArea(scene, lot, MAT.asphalt, SEM.road, { kind: 'parking', layer: LAYER.pavement, shade: rng.uniform(0.9, 1.05) });
  const stallW = 2.6;
  const stallL = 5;
  const aisle = 6.5;
  const lw = Math.max(1, scene.px(0.12));
  const rowPitch = 2 * stallL + aisle;
  for (let rv = -widthM / 2 + 1; rv + 2 * stallL <= widthM / 2 - 1; rv += rowPitch) {
    for (const [rowV, dir] of [[rv + stallL / 2, 1], [rv + stallL * 1.5, -1]] as const) {
      for (let su = -lengthM / 2 + 1 + stallW / 2; su + stallW / 2 <= lengthM / 2 - 1; su += stallW) {
        const [lx, ly] = frame.at(su - stallW / 2, rowV);
        addArea(scene, orientedRect(lx, ly, lw, scene.px(stallL), frame.angle), MAT.paint, SEM.road, { kind: 'marking', layer: LAYER.marking });
        if (rng.next() < fill) {
          const [x, y] = frame.at(su, rowV);
          addCar(scene, rng, x + rng.uniform(-0.5, 0.5), y, frame.angle + (dir > 0 ? Math.PI / 2 : -Math.PI / 2) + rng.uniform(-0.05, 0.05));
        }
      }
    }
  }
  return f;
}

/** A commercial block: one or two large flat-roofed buildings, parking in front, trucks at the back. */
export function addCommercial(scene: Scene, rng: Rng, frame: Frame, u: number, v: number, sizeM: number, occ: Occupancy): Feature[] {
  const out: Feature[] = [];
  const L = sizeM * rng.uniform(0.5, 0.8);
  const W = sizeM * rng.uniform(0.35, 0.55);
  const foot = frame.rect(u, v, L, W);
  if (!occ.claim(foot, scene.px(2))) return out;
  const [x, y] = frame.at(u, v);
  out.push(
    addBuilding(scene, {
      cx: x,
      cy: y,
      length: scene.px(L),
      width: scene.px(W),
      angle: frame.angle,
      height: rng.uniform(8, 25),
      roof: 'flat',
      mat: [MAT.roof_flat, MAT.roof_metal, MAT.roof_grey, MAT.roof_dark][rng.int(0, 4)]!,
      units: rooftopUnits(rng, scene.px(L), scene.px(W), scene.px(2)),
    }),
  );
  addParkingLot(scene, rng, frame, u, v + W / 2 + 14, L, 24, rng.uniform(0.3, 0.9), occ);
  const nTrucks = rng.int(0, 3);
  for (let k = 0; k < nTrucks; k++) {
    const [tx, ty] = frame.at(u - L / 2 + 8 + k * 6, v - W / 2 - 9);
    const tp = orientedRect(tx, ty, scene.px(4), scene.px(16), frame.angle);
    if (occ.claim(tp, scene.px(0.5))) addTruck(scene, rng, tx, ty, frame.angle + Math.PI / 2);
  }
  return out;
}

/** Some ISPRS "clutter": a pile of containers, a patch of bare soil or a small pond inside `area`. */
export function addClutter(scene: Scene, rng: Rng, frame: Frame, u: number, v: number, occ: Occupancy): Feature | undefined {
  const kind = rng.int(0, 3);
  const sz = rng.uniform(6, 18);
  const poly: Poly = frame.rect(u, v, sz, sz * rng.uniform(0.5, 1), rng.uniform(-0.3, 0.3));
  if (!occ.claim(poly, scene.px(1))) return undefined;
  if (kind === 0) return addArea(scene, poly, MAT.container, SEM.structure, { kind: 'clutter', layer: LAYER.object, elev: 2.5 });
  if (kind === 1) return addArea(scene, poly, MAT.soil, SEM.bare, { kind: 'clutter', layer: LAYER.pavement });
  return addArea(scene, poly, MAT.water_turbid, SEM.water, { kind: 'pond', layer: LAYER.water });
}
