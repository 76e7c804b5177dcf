/**
 * Countable objects built from parts in a local frame (x along the object's length, y across, origin at the
 * centre, pixels): vehicles, planes, ships, helicopters, and (in facilities.ts) tanks, courts and fields.
 *
 * The oriented bounding box of a detection label is the local bounding box of all parts, grown by half a pixel
 * and turned into place. Every painted pixel centre lies inside its part, every part inside that local box,
 * so the label polygon contains every pixel the object painted, whatever the angle.
 */
import type { Rng } from '../../rng/rng.js';
import { boxPoly, convexHull, ellipsePoly, place, type Poly, type Vec } from './geometry.js';
import { MAT, SEM } from './materials.js';
import { LAYER, type DotaClass, type Feature, type Scene } from './scene.js';

export interface Part {
  /** Polygon in local pixels. */
  poly: Poly;
  mat: number;
  /** Class of this part. Default: the object's class. */
  cls?: number;
  /** Shading: a constant, or a function of local (u, v) pixels. Default 1. */
  shade?: number | ((u: number, v: number) => number);
  /** Surface height (metres) of this part. Default: the object's height. */
  elev?: number;
}

export interface ObjectOptions {
  kind: string;
  cls: number;
  layer?: number;
  cx: number;
  cy: number;
  angle: number;
  parts: Part[];
  /** Height in metres, for the shadow and for what it shades. */
  height: number;
  shadow: 'extrude' | 'float' | 'none';
  dotaClass?: DotaClass;
  difficult?: boolean;
  /** Margin of the label box beyond the parts, pixels. Default 0.5. */
  margin?: number;
}

/** Local bounding box of the parts as a polygon, clockwise on screen, starting at the front (+x) end. */
function localBox(parts: readonly Part[], margin: number): Vec[] {
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (const p of parts) for (const [x, y] of p.poly) {
    x0 = Math.min(x0, x); y0 = Math.min(y0, y); x1 = Math.max(x1, x); y1 = Math.max(y1, y);
  }
  x0 -= margin; y0 -= margin; x1 += margin; y1 += margin;
  return [[x1, y0], [x1, y1], [x0, y1], [x0, y0]];
}

export function addObject(scene: Scene, o: ObjectOptions): Feature {
  const margin = o.margin ?? 0.5;
  const box = place(localBox(o.parts, margin), o.cx, o.cy, o.angle);
  const placed = o.parts.map((p) => place(p.poly, o.cx, o.cy, o.angle));
  const c = Math.cos(o.angle);
  const s = Math.sin(o.angle);
  return scene.add({
    kind: o.kind,
    layer: o.layer ?? LAYER.object,
    footprint: [box],
    obb: box,
    ...(o.dotaClass !== undefined ? { dotaClass: o.dotaClass } : {}),
    ...(o.difficult !== undefined ? { difficult: o.difficult } : {}),
    paint: (cv, _cond, id) => {
      o.parts.forEach((p, k) => {
        const sh = p.shade;
        const shade =
          typeof sh === 'function'
            ? (x: number, y: number): number => {
                const dx = x - o.cx;
                const dy = y - o.cy;
                return sh(dx * c + dy * s, -dx * s + dy * c);
              }
            : (sh ?? 1);
        cv.fillPoly(placed[k]!, { mat: p.mat, cls: p.cls ?? o.cls, id, elev: p.elev ?? o.height, shade });
      });
      if (o.shadow !== 'none') cv.casters.push({ id, parts: placed.map((p) => convexHull(p)), height: o.height, mode: o.shadow });
    },
  });
}

/** Shading across a rounded body of half-width hw: darker at the sides (a cylinder seen from above). */
export const cylinder = (hw: number, k = 0.35) => (_u: number, v: number): number => 1 - k * Math.min(1, (v / hw) ** 2);

const CAR_PAINTS = [MAT.car_white, MAT.car_white, MAT.car_silver, MAT.car_silver, MAT.car_black, MAT.car_black, MAT.car_red, MAT.car_blue, MAT.car_red, MAT.car_white];

/** A car (DOTA small-vehicle; ISPRS car): body, windscreen, rear window. Size in metres from the scene GSD. */
export function addCar(scene: Scene, rng: Rng, cx: number, cy: number, angle: number, o: { difficult?: boolean; layer?: number } = {}): Feature {
  const L = scene.px(rng.uniform(4.0, 4.9));
  const W = scene.px(rng.uniform(1.7, 1.9));
  const mat = CAR_PAINTS[rng.int(0, CAR_PAINTS.length)]!;
  const l = L / 2;
  const w = W / 2;
  const k = w * 0.35;
  const body: Poly = [[l, -w + k], [l, w - k], [l - k, w], [-l + k, w], [-l, w - k], [-l, -w + k], [-l + k, -w], [l - k, -w]];
  const parts: Part[] = [
    { poly: body, mat, shade: cylinder(w, 0.3) },
    { poly: boxPoly(l * 0.12, -w * 0.8, l * 0.45, w * 0.8), mat: MAT.glass },
    { poly: boxPoly(-l * 0.78, -w * 0.75, -l * 0.58, w * 0.75), mat: MAT.glass },
  ];
  return addObject(scene, { kind: 'car', cls: SEM.car, layer: o.layer ?? LAYER.vehicle, cx, cy, angle, parts, height: 1.5, shadow: 'extrude', dotaClass: 'small-vehicle', difficult: o.difficult ?? W < 4 });
}

/** A truck or bus (DOTA large-vehicle): a cab and a long box. */
export function addTruck(scene: Scene, rng: Rng, cx: number, cy: number, angle: number): Feature {
  const L = scene.px(rng.uniform(8, 16));
  const W = scene.px(rng.uniform(2.4, 2.6));
  const cab = scene.px(2.2);
  const l = L / 2;
  const w = W / 2;
  const boxMat = [MAT.car_white, MAT.roof_metal, MAT.car_silver, MAT.car_blue, MAT.car_red][rng.int(0, 5)]!;
  const parts: Part[] = [
    { poly: boxPoly(l - cab, -w * 0.92, l, w * 0.92), mat: [MAT.car_white, MAT.car_red, MAT.car_blue][rng.int(0, 3)]!, shade: cylinder(w, 0.2) },
    { poly: boxPoly(l - cab + cab * 0.45, -w * 0.8, l - cab * 0.1, w * 0.8), mat: MAT.glass },
    { poly: boxPoly(-l, -w, l - cab - scene.px(0.3), w), mat: boxMat, shade: 1.02 },
  ];
  return addObject(scene, { kind: 'truck', cls: SEM.vehicle, layer: LAYER.vehicle, cx, cy, angle, parts, height: 3.6, shadow: 'extrude', dotaClass: 'large-vehicle' });
}

/** A jet airliner (DOTA plane): fuselage, swept wings with engines, tailplane. `lengthM` 25-75. */
export function addPlane(scene: Scene, rng: Rng, cx: number, cy: number, angle: number, lengthM = rng.uniform(28, 70)): Feature {
  const L = scene.px(lengthM);
  const span = L * rng.uniform(0.85, 1.05);
  const fw = L * 0.055; // fuselage half-width
  const l = L / 2;
  const sweep = L * rng.uniform(0.12, 0.2);
  const rootX = l * 0.18;
  const rootC = L * 0.22;
  const tipC = L * 0.06;
  const s2 = span / 2;
  const mat = rng.next() < 0.8 ? MAT.hull_white : MAT.car_silver;
  const fuselage: Poly = [[l, 0], [l - fw * 1.4, -fw], [-l + fw * 2, -fw * 0.8], [-l, -fw * 0.3], [-l, fw * 0.3], [-l + fw * 2, fw * 0.8], [l - fw * 1.4, fw]];
  const wing = (sgn: number): Poly => [[rootX, sgn * fw * 0.8], [rootX - sweep, sgn * s2], [rootX - sweep - tipC, sgn * s2], [rootX - rootC, sgn * fw * 0.8]];
  const tail = (sgn: number): Poly => [[-l + L * 0.14, sgn * fw * 0.6], [-l + L * 0.04, sgn * L * 0.17], [-l + L * 0.005, sgn * L * 0.17], [-l + L * 0.02, sgn * fw * 0.6]];
  const engine = (sgn: number, at: number): Poly => {
    const ex = rootX - sweep * at - rootC * 0.1;
    const ey = sgn * s2 * at;
    return boxPoly(ex - L * 0.02, ey - fw * 0.45, ex + L * 0.07, ey + fw * 0.45);
  };
  const parts: Part[] = [
    { poly: wing(1), mat, shade: 0.94 },
    { poly: wing(-1), mat, shade: 0.94 },
    { poly: tail(1), mat, shade: 0.95 },
    { poly: tail(-1), mat, shade: 0.95 },
    { poly: engine(1, 0.33), mat: MAT.roof_grey, elev: 3 },
    { poly: engine(-1, 0.33), mat: MAT.roof_grey, elev: 3 },
    { poly: fuselage, mat, shade: cylinder(fw, 0.35) },
  ];
  if (lengthM > 55) parts.push({ poly: engine(1, 0.62), mat: MAT.roof_grey, elev: 3 }, { poly: engine(-1, 0.62), mat: MAT.roof_grey, elev: 3 });
  return addObject(scene, { kind: 'plane', cls: SEM.plane, cx, cy, angle, parts, height: 5, shadow: 'float', dotaClass: 'plane' });
}

/** A ship or boat (DOTA ship): pointed hull, deck, superstructure aft; cargo ships carry containers. */
export function addShip(scene: Scene, rng: Rng, cx: number, cy: number, angle: number, lengthM = rng.uniform(12, 120)): Feature {
  const L = scene.px(lengthM);
  const W = L * rng.uniform(0.14, 0.22);
  const l = L / 2;
  const w = W / 2;
  const bow = W * 0.9;
  const hull: Poly = [[l, 0], [l - bow, -w], [-l + w * 0.3, -w], [-l, -w * 0.7], [-l, w * 0.7], [-l + w * 0.3, w], [l - bow, w]];
  const small = lengthM < 30;
  const hullMat = small ? MAT.hull_white : [MAT.hull_grey, MAT.rust, MAT.car_blue, MAT.car_red][rng.int(0, 4)]!;
  const deckMat = small ? (rng.next() < 0.5 ? MAT.deck_wood : MAT.hull_white) : MAT.hull_grey;
  const deck: Poly = [[l - bow * 0.8, -w * 0.1], [l - bow * 1.2, -w * 0.78], [-l + w * 0.5, -w * 0.78], [-l + w * 0.5, w * 0.78], [l - bow * 1.2, w * 0.78], [l - bow * 0.8, w * 0.1]];
  const parts: Part[] = [
    { poly: hull, mat: hullMat, shade: 0.95 },
    { poly: deck, mat: deckMat },
    { poly: boxPoly(-l + w * 0.6, -w * 0.65, -l + L * (small ? 0.45 : 0.2), w * 0.65), mat: MAT.hull_white, shade: 1.08 },
  ];
  if (!small && rng.next() < 0.6) {
    const rows = 3;
    for (let k = 0; k < 6; k++) {
      const x0 = -l + L * 0.25 + k * L * 0.1;
      if (x0 + L * 0.09 > l - bow * 1.3) break;
      for (let r = 0; r < rows; r++) {
        const y0 = -w * 0.7 + (r * 1.4 * w) / rows;
        parts.push({ poly: boxPoly(x0, y0, x0 + L * 0.09, y0 + (1.4 * w) / rows - 0.5), mat: MAT.container, shade: 0.9 + 0.2 * ((k + r) % 2) });
      }
    }
  }
  return addObject(scene, { kind: 'ship', cls: SEM.ship, cx, cy, angle, parts, height: Math.min(12, lengthM * 0.08), shadow: 'extrude', dotaClass: 'ship', difficult: W < 5 });
}

/** A helicopter (DOTA helicopter): body, tail boom, two crossed rotor blades. */
export function addHelicopter(scene: Scene, rng: Rng, cx: number, cy: number, angle: number): Feature {
  const L = scene.px(rng.uniform(10, 15));
  const W = L * 0.22;
  const rotor = L * 0.42;
  const blade = Math.max(1, L * 0.035);
  const bodyMat = [MAT.car_white, MAT.car_red, MAT.hull_grey, MAT.car_blue][rng.int(0, 4)]!;
  const ra = rng.uniform(0, Math.PI / 2);
  const bladePoly = (a: number): Poly => place(boxPoly(-rotor, -blade / 2, rotor, blade / 2), L * 0.08, 0, a);
  const parts: Part[] = [
    { poly: place(ellipsePoly(L * 0.22, W / 2, 16), L * 0.12, 0, 0), mat: bodyMat, shade: cylinder(W / 2, 0.3) },
    { poly: boxPoly(-L / 2, -W * 0.12, -L * 0.05, W * 0.12), mat: bodyMat },
    { poly: boxPoly(-L / 2, -W * 0.5, -L / 2 + W * 0.25, W * 0.5), mat: bodyMat },
    { poly: bladePoly(ra), mat: MAT.car_black, elev: 3.5 },
    { poly: bladePoly(ra + Math.PI / 2), mat: MAT.car_black, elev: 3.5 },
  ];
  return addObject(scene, { kind: 'helicopter', cls: SEM.vehicle, cx, cy, angle, parts, height: 3.5, shadow: 'float', dotaClass: 'helicopter' });
}
