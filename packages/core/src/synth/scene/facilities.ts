/**
 * Facilities with standard dimensions, each one DOTA v1.0 category: storage tanks, tennis and basketball
 * courts, soccer fields, ground track fields, baseball diamonds, swimming pools, roundabouts, bridges and
 * harbour piers. Sizes come from the sports' rule books (tennis 23.77 x 10.97 m, soccer about 105 x 68 m, a
 * 400 m track with 36.5 m bend radius, 27.43 m baseball base paths), scaled to the scene's GSD.
 */
import type { Rng } from '../../rng/rng.js';
import { boxPoly, ellipsePoly, place, translate, type Poly, type Vec } from './geometry.js';
import { MAT, SEM } from './materials.js';
import { addObject, type Part } from './objects.js';
import { LAYER, type Feature, type Scene } from './scene.js';

/** A white line of width lw from a to b (local pixels) as a part. */
function line(a: Vec, b: Vec, lw: number, mat: number = MAT.paint): Part {
  const len = Math.hypot(b[0] - a[0], b[1] - a[1]);
  return { poly: place(boxPoly(-len / 2, -lw / 2, len / 2, lw / 2), (a[0] + b[0]) / 2, (a[1] + b[1]) / 2, Math.atan2(b[1] - a[1], b[0] - a[0])), mat };
}

/** Outline of a box as four line parts. */
function outline(x0: number, y0: number, x1: number, y1: number, lw: number): Part[] {
  return [line([x0, y0], [x1, y0], lw), line([x1, y0], [x1, y1], lw), line([x1, y1], [x0, y1], lw), line([x0, y1], [x0, y0], lw)];
}

/** A ring (annulus) of radii r0 < r1 as a polygon with a slit, so the even-odd fill leaves the hole. */
function ring(cx: number, cy: number, r0: number, r1: number, n = 40): Poly {
  const outer: Vec[] = [];
  const inner: Vec[] = [];
  for (let i = 0; i <= n; i++) {
    const t = (2 * Math.PI * i) / n;
    outer.push([cx + r1 * Math.cos(t), cy + r1 * Math.sin(t)]);
    inner.push([cx + r0 * Math.cos(t), cy + r0 * Math.sin(t)]);
  }
  return [...outer, ...inner.reverse()];
}

/** A storage tank (DOTA storage-tank): a white cylinder, fixed dome or floating roof; label box axis-aligned. */
export function addStorageTank(scene: Scene, rng: Rng, cx: number, cy: number, radiusM = rng.uniform(6, 30)): Feature {
  const r = scene.px(radiusM);
  const floating = rng.next() < 0.4;
  const parts: Part[] = [{ poly: ellipsePoly(r, r, 40), mat: MAT.tank_white, shade: (u, v) => 1.05 - 0.2 * ((u * u + v * v) / (r * r)) }];
  if (floating) {
    parts.push({ poly: ellipsePoly(r * 0.88, r * 0.88, 40), mat: MAT.roof_grey, shade: 1 });
    parts.push({ poly: ellipsePoly(r * 0.1, r * 0.1, 12), mat: MAT.tank_white, shade: 0.9 });
  } else {
    parts.push({ poly: ellipsePoly(r * 0.12, r * 0.12, 12), mat: MAT.roof_metal, shade: 0.9 });
  }
  return addObject(scene, { kind: 'storage-tank', cls: SEM.tank, cx, cy, angle: 0, parts, height: radiusM * rng.uniform(0.6, 1.1), shadow: 'extrude', dotaClass: 'storage-tank' });
}

/** A tennis court (DOTA tennis-court) with its coloured run-off area and white lines. */
export function addTennisCourt(scene: Scene, rng: Rng, cx: number, cy: number, angle: number): Feature {
  const m = (v: number): number => scene.px(v);
  const surface = [MAT.court_green, MAT.court_blue, MAT.clay, MAT.court_green][rng.int(0, 4)]!;
  const inner = surface === MAT.clay ? MAT.clay : surface === MAT.court_blue ? MAT.court_blue : MAT.court_green;
  const lw = Math.max(1, m(0.08));
  const L = m(23.77) / 2;
  const W = m(10.97) / 2;
  const S = m(8.23) / 2;
  const sv = m(6.4);
  const parts: Part[] = [
    { poly: boxPoly(-m(18) , -m(9), m(18), m(9)), mat: surface, shade: 0.92 },
    { poly: boxPoly(-L, -W, L, W), mat: inner, shade: 1.05 },
    ...outline(-L, -W, L, W, lw),
    line([-L, -S], [L, -S], lw),
    line([-L, S], [L, S], lw),
    line([-sv, -S], [-sv, S], lw),
    line([sv, -S], [sv, S], lw),
    line([-sv, 0], [sv, 0], lw),
    line([0, -W - m(0.9)], [0, W + m(0.9)], lw, MAT.car_black),
  ];
  return addObject(scene, { kind: 'tennis-court', cls: SEM.road, layer: LAYER.facility, cx, cy, angle, parts, height: 0, shadow: 'none', dotaClass: 'tennis-court' });
}

/** A basketball court (DOTA basketball-court): 28 x 15 m with keys and the centre circle. */
export function addBasketballCourt(scene: Scene, rng: Rng, cx: number, cy: number, angle: number): Feature {
  const m = (v: number): number => scene.px(v);
  const surface = [MAT.court_blue, MAT.court_green, MAT.clay, MAT.tartan][rng.int(0, 4)]!;
  const lw = Math.max(1, m(0.05));
  const L = m(14);
  const W = m(7.5);
  const key = (sgn: number): Part[] => outline(sgn > 0 ? L - m(5.8) : -L, -m(2.45), sgn > 0 ? L : -L + m(5.8), m(2.45), lw);
  const parts: Part[] = [
    { poly: boxPoly(-L - m(1), -W - m(1), L + m(1), W + m(1)), mat: surface, shade: 0.95 },
    ...outline(-L, -W, L, W, lw),
    line([0, -W], [0, W], lw),
    ...key(1),
    ...key(-1),
    { poly: ring(0, 0, m(1.8) - lw, m(1.8), 24), mat: MAT.paint },
  ];
  return addObject(scene, { kind: 'basketball-court', cls: SEM.road, layer: LAYER.facility, cx, cy, angle, parts, height: 0, shadow: 'none', dotaClass: 'basketball-court' });
}

/** A soccer field (DOTA soccer-ball-field): mown stripes, touch lines, boxes, centre circle. */
export function addSoccerField(scene: Scene, rng: Rng, cx: number, cy: number, angle: number, scale = rng.uniform(0.85, 1)): Feature {
  const m = (v: number): number => scene.px(v * scale);
  const lw = Math.max(1, scene.px(0.12));
  const L = m(105) / 2;
  const W = m(68) / 2;
  const stripe = m(5.5);
  const parts: Part[] = [
    { poly: boxPoly(-L - m(3), -W - m(3), L + m(3), W + m(3)), mat: MAT.turf, shade: (u) => (Math.floor((u + L) / stripe) % 2 === 0 ? 1.06 : 0.94) },
    ...outline(-L, -W, L, W, lw),
    line([0, -W], [0, W], lw),
    { poly: ring(0, 0, m(9.15) - lw, m(9.15), 36), mat: MAT.paint },
    ...outline(-L, -m(20.15), -L + m(16.5), m(20.15), lw),
    ...outline(L - m(16.5), -m(20.15), L, m(20.15), lw),
    ...outline(-L, -m(9.15), -L + m(5.5), m(9.15), lw),
    ...outline(L - m(5.5), -m(9.15), L, m(9.15), lw),
  ];
  return addObject(scene, { kind: 'soccer-ball-field', cls: SEM.lowveg, layer: LAYER.facility, cx, cy, angle, parts, height: 0, shadow: 'none', dotaClass: 'soccer-ball-field' });
}

/** Stadium outline: two straights of length `straight` joined by half circles of radius r (local, centred). */
function stadium(straight: number, r: number, n = 18): Vec[] {
  const pts: Vec[] = [];
  for (let i = 0; i <= n; i++) {
    const t = -Math.PI / 2 + (Math.PI * i) / n;
    pts.push([straight / 2 + r * Math.cos(t), r * Math.sin(t)]);
  }
  for (let i = 0; i <= n; i++) {
    const t = Math.PI / 2 + (Math.PI * i) / n;
    pts.push([-straight / 2 + r * Math.cos(t), r * Math.sin(t)]);
  }
  return pts;
}

/** A 400 m running track around a grass infield (DOTA ground-track-field). */
export function addGroundTrackField(scene: Scene, rng: Rng, cx: number, cy: number, angle: number): Feature {
  const m = (v: number): number => scene.px(v);
  const straight = m(84.39);
  const rIn = m(36.5);
  const lanes = rng.next() < 0.5 ? 6 : 8;
  const rOut = rIn + m(1.22 * lanes);
  const lw = Math.max(1, m(0.05));
  const parts: Part[] = [
    { poly: stadium(straight, rOut + m(1)), mat: MAT.paving, shade: 1 },
    { poly: stadium(straight, rOut), mat: MAT.tartan, shade: 1 },
    { poly: stadium(straight, rIn), mat: MAT.turf, shade: (u) => (Math.floor(u / m(6)) % 2 === 0 ? 1.05 : 0.95) },
  ];
  if (lw <= m(0.6)) {
    for (let k = lanes - 1; k >= 1; k--) {
      const r = rIn + m(1.22 * k);
      parts.push({ poly: stadium(straight, r + lw / 2), mat: MAT.paint }, { poly: stadium(straight, r - lw / 2), mat: MAT.tartan });
    }
    parts.push({ poly: stadium(straight, rIn), mat: MAT.turf, shade: (u) => (Math.floor(u / m(6)) % 2 === 0 ? 1.05 : 0.95) });
    parts.push(...outline(-m(50), -m(32), m(50), m(32), lw), line([0, -m(32)], [0, m(32)], lw));
  }
  return addObject(scene, { kind: 'ground-track-field', cls: SEM.lowveg, layer: LAYER.facility, cx, cy, angle, parts, height: 0, shadow: 'none', dotaClass: 'ground-track-field' });
}

/** A baseball field (DOTA baseball-diamond): the grass fan, the dirt infield arc, the diamond and the bases. */
export function addBaseballDiamond(scene: Scene, rng: Rng, cx: number, cy: number, angle: number): Feature {
  const m = (v: number): number => scene.px(v);
  const R = m(rng.uniform(70, 100));
  const fan = (radius: number, n = 16): Vec[] => {
    const pts: Vec[] = [[0, 0]];
    for (let i = 0; i <= n; i++) {
      const t = -Math.PI / 4 + (Math.PI / 2) * (i / n);
      pts.push([radius * Math.cos(t), radius * Math.sin(t)]);
    }
    return pts;
  };
  const b = m(27.43);
  const d = b / Math.SQRT2;
  const lw = Math.max(1, m(0.1));
  const base = (x: number, y: number): Part => ({ poly: boxPoly(x - m(0.4), y - m(0.4), x + m(0.4), y + m(0.4)), mat: MAT.paint });
  const parts: Part[] = [
    { poly: fan(R), mat: MAT.turf, shade: (u, v) => (Math.floor(Math.hypot(u, v) / m(5)) % 2 === 0 ? 1.04 : 0.96) },
    { poly: fan(m(29)), mat: MAT.clay },
    { poly: [[m(2.5), 0], [d, -d + m(2.5)], [2 * d - m(2.5), 0], [d, d - m(2.5)]], mat: MAT.turf },
    { poly: ellipsePoly(m(2.7), m(2.7), 14).map(([x, y]) => [x + d, y] as const), mat: MAT.clay },
    line([0, 0], [R * Math.SQRT1_2, -R * Math.SQRT1_2], lw),
    line([0, 0], [R * Math.SQRT1_2, R * Math.SQRT1_2], lw),
    base(d, -d), base(2 * d, 0), base(d, d), base(0, 0),
  ];
  // centre the object on its label box: the fan spans x in [0, R] and y in [-R/sqrt2, R/sqrt2]
  const shifted = parts.map((p) => ({ ...p, poly: translate(p.poly, -R / 2, 0) }));
  const shiftShade = (p: Part): Part => (typeof p.shade === 'function' ? { ...p, shade: ((f) => (u: number, v: number) => f(u + R / 2, v))(p.shade) } : p);
  return addObject(scene, { kind: 'baseball-diamond', cls: SEM.lowveg, layer: LAYER.facility, cx, cy, angle, parts: shifted.map(shiftShade), height: 0, shadow: 'none', dotaClass: 'baseball-diamond' });
}

/** A swimming pool (DOTA swimming-pool) with a concrete coping. */
export function addSwimmingPool(scene: Scene, rng: Rng, cx: number, cy: number, angle: number, lengthM = rng.uniform(8, 25)): Feature {
  const L = scene.px(lengthM) / 2;
  const W = scene.px(lengthM * rng.uniform(0.4, 0.6)) / 2;
  const e = Math.max(1, scene.px(0.8));
  const parts: Part[] = [
    { poly: boxPoly(-L - e, -W - e, L + e, W + e), mat: MAT.concrete, cls: SEM.road },
    { poly: boxPoly(-L, -W, L, W), mat: MAT.pool, shade: (u) => 0.9 + 0.2 * ((u + L) / (2 * L)) },
  ];
  return addObject(scene, { kind: 'swimming-pool', cls: SEM.water, layer: LAYER.facility, cx, cy, angle, parts, height: 0, shadow: 'none', dotaClass: 'swimming-pool' });
}

/** A roundabout (DOTA roundabout): asphalt ring around a planted island; label box axis-aligned. */
export function addRoundabout(scene: Scene, rng: Rng, cx: number, cy: number, radiusM = rng.uniform(14, 30)): Feature {
  const R = scene.px(radiusM);
  const lane = scene.px(rng.uniform(6, 9));
  const lw = Math.max(1, scene.px(0.15));
  const parts: Part[] = [
    { poly: ellipsePoly(R, R, 48), mat: MAT.asphalt, cls: SEM.road },
    { poly: ring(0, 0, R - lane - lw, R - lane, 48), mat: MAT.paving, cls: SEM.road },
    { poly: ellipsePoly(R - lane - lw, R - lane - lw, 40), mat: MAT.lawn, cls: SEM.lowveg },
  ];
  return addObject(scene, { kind: 'roundabout', cls: SEM.road, layer: LAYER.facility, cx, cy, angle: 0, parts, height: 0, shadow: 'none', dotaClass: 'roundabout' });
}

/** A road bridge over water (DOTA bridge): the deck spans `spanPx` along `angle`; it shades the water. */
export function addBridge(scene: Scene, rng: Rng, cx: number, cy: number, angle: number, spanPx: number): Feature {
  const W = scene.px(rng.uniform(8, 18)) / 2;
  const L = spanPx / 2;
  const lw = Math.max(1, scene.px(0.15));
  const parts: Part[] = [
    { poly: boxPoly(-L, -W, L, W), mat: MAT.concrete, cls: SEM.road, shade: 0.95 },
    { poly: boxPoly(-L, -W * 0.8, L, W * 0.8), mat: MAT.asphalt, cls: SEM.road },
  ];
  if (lw < W * 0.2) parts.push(line([-L, 0], [L, 0], lw));
  return addObject(scene, { kind: 'bridge', cls: SEM.structure, layer: LAYER.bridge, cx, cy, angle, parts, height: rng.uniform(6, 14), shadow: 'float', dotaClass: 'bridge' });
}

/** A harbour pier (DOTA harbor): a jetty from the shore at (cx, cy) pointing along `angle`, optionally a T head. */
export function addPier(scene: Scene, rng: Rng, cx: number, cy: number, angle: number, o: { lengthM?: number; widthM?: number; head?: boolean } = {}): Feature {
  const L = scene.px(o.lengthM ?? rng.uniform(40, 140));
  const W = scene.px(o.widthM ?? rng.uniform(4, 10));
  const head = (o.head ?? rng.next() < 0.6) ? scene.px(rng.uniform(20, 50)) : 0;
  const mat = rng.next() < 0.5 ? MAT.concrete : MAT.deck_wood;
  const parts: Part[] = [{ poly: boxPoly(0, -W / 2, L, W / 2), mat }];
  if (head > W) parts.push({ poly: boxPoly(L - W * 1.5, -head / 2, L, head / 2), mat });
  // centre the label box on the object origin
  const shifted = parts.map((p) => ({ ...p, poly: translate(p.poly, -L / 2, 0) }));
  const c = Math.cos(angle);
  const s = Math.sin(angle);
  return addObject(scene, { kind: 'harbor', cls: SEM.structure, layer: LAYER.bridge, cx: cx + (c * L) / 2, cy: cy + (s * L) / 2, angle, parts: shifted, height: 1.5, shadow: 'float', dotaClass: 'harbor' });
}
