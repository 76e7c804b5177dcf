/**
 * Buildings: rectangular or L-shaped footprints with gable, hip or flat roofs. Roof facets are shaded from the
 * sun (the side facing the sun is brighter), flat roofs get a parapet and rooftop units, and the building casts
 * an extruded shadow of length height / tan(sun elevation). Class: building; height: the eaves/parapet height.
 */
import type { Rng } from '../../rng/rng.js';
import { orientedRect, type Poly } from './geometry.js';
import { MAT, SEM } from './materials.js';
import { LAYER, type Feature, type Scene } from './scene.js';
import { facetShade } from './shadows.js';

export type RoofKind = 'flat' | 'gable' | 'hip';

export interface BuildingOptions {
  cx: number;
  cy: number;
  /** Footprint size in pixels (length along `angle`). */
  length: number;
  width: number;
  angle: number;
  /** Height in metres. */
  height: number;
  roof: RoofKind;
  mat: number;
  /** Optional second wing (L shape): size in pixels, placed at one end, across the main body. */
  wing?: { length: number; width: number; side: 1 | -1 };
  /** Rooftop units on flat roofs: [u, v, length, width] in local pixels. */
  units?: ReadonlyArray<readonly [number, number, number, number]>;
}

const ROOF_SLOPE = (32 * Math.PI) / 180;

/** Shading function of a pitched roof over the local box [-L/2, L/2] x [-W/2, W/2]. */
function roofShade(kind: RoofKind, L: number, W: number, angle: number, cx: number, cy: number, shadeOf: (n: [number, number, number]) => number): (x: number, y: number) => number {
  const c = Math.cos(angle);
  const s = Math.sin(angle);
  const sin = Math.sin(ROOF_SLOPE);
  const cos = Math.cos(ROOF_SLOPE);
  // facet normals in world (east, south, up): across the ridge (+v / -v) and at the ends (+u / -u)
  const nv = (sign: number): [number, number, number] => [-s * sign * sin, c * sign * sin, cos];
  const nu = (sign: number): [number, number, number] => [c * sign * sin, s * sign * sin, cos];
  const sv = [shadeOf(nv(1)), shadeOf(nv(-1))];
  const su = [shadeOf(nu(1)), shadeOf(nu(-1))];
  return (x, y) => {
    const dx = x - cx;
    const dy = y - cy;
    const u = dx * c + dy * s;
    const v = -dx * s + dy * c;
    const ridgeGap = Math.abs(v) < 0.6 ? 1.08 : 1;
    if (kind === 'hip' && L / 2 - Math.abs(u) < W / 2 - Math.abs(v)) return su[u >= 0 ? 0 : 1]! * ridgeGap;
    return sv[v >= 0 ? 0 : 1]! * ridgeGap;
  };
}

/** Adds a building; its footprint pieces are the main body and the optional wing. */
export function addBuilding(scene: Scene, o: BuildingOptions): Feature {
  const main = orientedRect(o.cx, o.cy, o.length, o.width, o.angle);
  const parts: Poly[] = [main];
  let wingBox: { cx: number; cy: number } | undefined;
  if (o.wing !== undefined) {
    const c = Math.cos(o.angle);
    const s = Math.sin(o.angle);
    const u = o.length / 2 - o.wing.width / 2;
    const v = o.wing.side * (o.width / 2 + o.wing.length / 2 - 0.5);
    wingBox = { cx: o.cx + u * c - v * s, cy: o.cy + u * s + v * c };
    parts.push(orientedRect(wingBox.cx, wingBox.cy, o.wing.length, o.wing.width, o.angle + Math.PI / 2));
  }
  return scene.add({
    kind: 'building',
    layer: LAYER.building,
    footprint: parts,
    paint: (c, cond, id) => {
      const elev = o.height;
      const shadeOf = (n: [number, number, number]): number => facetShade(n, cond);
      if (o.roof === 'flat') {
        for (const p of parts) c.fillPoly(p, { mat: o.mat, cls: SEM.building, id, elev, shade: 1 });
        // parapet: a slightly brighter rim, then the rooftop units with their own small shadows
        const rim = Math.max(1, scene.px(0.35));
        c.modulate(orientedRect(o.cx, o.cy, o.length, o.width, o.angle), 1.12);
        c.modulate(orientedRect(o.cx, o.cy, o.length - 2 * rim, o.width - 2 * rim, o.angle), 1 / 1.12);
        const cs = Math.cos(o.angle);
        const sn = Math.sin(o.angle);
        for (const [u, v, l, w] of o.units ?? []) {
          const ux = o.cx + u * cs - v * sn;
          const uy = o.cy + u * sn + v * cs;
          c.recolour(orientedRect(ux, uy, l, w, o.angle), id, MAT.roof_metal, 1.05);
          c.recolour(orientedRect(ux - sn * (w / 2 + 0.7), uy + cs * (w / 2 + 0.7), l, 1.4, o.angle), id, o.mat, 0.6);
        }
      } else {
        c.fillPoly(main, { mat: o.mat, cls: SEM.building, id, elev, shade: roofShade(o.roof, o.length, o.width, o.angle, o.cx, o.cy, shadeOf) });
        if (o.wing !== undefined && wingBox !== undefined) {
          const a = o.angle + Math.PI / 2;
          c.fillPoly(parts[1]!, { mat: o.mat, cls: SEM.building, id, elev, shade: roofShade(o.roof, o.wing.length, o.wing.width, a, wingBox.cx, wingBox.cy, shadeOf) });
        }
      }
      c.casters.push({ id, parts, height: o.height, mode: 'extrude' });
    },
  });
}

/** Random roof material for a house (tiles dominate, as in central Europe). */
export function houseRoofMaterial(rng: Rng): number {
  const r = rng.next();
  return r < 0.5 ? MAT.roof_red : r < 0.7 ? MAT.roof_brown : r < 0.88 ? MAT.roof_grey : MAT.roof_dark;
}

/** Random rooftop units for a flat roof of length x width pixels. */
export function rooftopUnits(rng: Rng, length: number, width: number, unitPx: number): Array<[number, number, number, number]> {
  const out: Array<[number, number, number, number]> = [];
  const n = rng.int(0, Math.max(1, Math.floor((length * width) / (unitPx * unitPx * 40))) + 1);
  for (let i = 0; i < n; i++) {
    const l = unitPx * rng.uniform(1, 3);
    const w = unitPx * rng.uniform(0.8, 2);
    if (l > length * 0.6 || w > width * 0.6) continue;
    out.push([rng.uniform(-length / 2 + l, length / 2 - l), rng.uniform(-width / 2 + w, width / 2 - w), l, w]);
  }
  return out;
}
