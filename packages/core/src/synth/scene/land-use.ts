/**
 * Land-use scenes, one recipe per UC Merced class. A recipe plans a Scene from an Rng; what tells the classes
 * apart is their composition (what objects, how many, how arranged), not a colour: the same materials appear
 * across classes, and the layouts add a per-image colour grade on top (see layouts/ucm.ts).
 * Recipes work at any GSD (sizes are in metres), so MillionAID reuses them at 0.3-2 m.
 */
import type { Rng } from '../../rng/rng.js';
import { boxPoly, orientedRect, type Vec } from './geometry.js';
import { addBuilding, rooftopUnits } from './buildings.js';
import { addArea, addField, addGround, addRiver, addWater, blob, meander, parcels } from './ground.js';
import { MAT, SEM } from './materials.js';
import { addCar, addPlane, addShip, addTruck } from './objects.js';
import { addBaseballDiamond, addPier, addStorageTank, addTennisCourt } from './facilities.js';
import { addRoad, straightPath } from './roads.js';
import { LAYER, Occupancy, type Scene } from './scene.js';
import { addStand, randomTree } from './trees.js';
import { addCommercial, addNeighbourhood, addParkingLot, Frame } from './urban.js';

export type Recipe = (scene: Scene, rng: Rng) => void;

const centre = (s: Scene): Vec => [s.width / 2, s.height / 2];
const pick = <T>(rng: Rng, items: readonly T[]): T => items[rng.int(0, items.length)]!;

/** Scattered trees over the canvas, kept off what `occ` holds. */
function scatterTrees(scene: Scene, rng: Rng, count: number, occ: Occupancy, conifer = 0.2): void {
  for (let i = 0; i < count; i++) {
    const x = rng.uniform(0, scene.width);
    const y = rng.uniform(0, scene.height);
    const r = scene.px(2.5);
    if (occ.free(orientedRect(x, y, 2 * r, 2 * r, 0))) randomTree(scene, rng, x, y, { conifer });
  }
}

function agricultural(scene: Scene, rng: Rng): void {
  addGround(scene, MAT.soil, SEM.bare);
  const angle = rng.uniform(0, Math.PI);
  const size = scene.px(rng.uniform(25, 70));
  for (const p of parcels(rng, 0, 0, scene.width, scene.height, [size * 0.6, size * 1.4], angle)) addField(scene, rng, p, angle + (rng.next() < 0.7 ? 0 : Math.PI / 2));
  if (rng.next() < 0.4) addRoad(scene, straightPath(scene.width, scene.height, rng.uniform(0, scene.width), rng.uniform(0, scene.height), angle), { width: scene.px(3.5), mat: MAT.gravel, marking: 'none' });
}

function airplane(scene: Scene, rng: Rng): void {
  addGround(scene, MAT.concrete, SEM.road);
  const [cx, cy] = centre(scene);
  const angle = rng.uniform(0, 2 * Math.PI);
  if (rng.next() < 0.6) {
    const side = rng.uniform(0.3, 0.45) * scene.width * (rng.next() < 0.5 ? -1 : 1);
    addArea(scene, orientedRect(cx - Math.sin(angle) * side * 2, cy + Math.cos(angle) * side * 2, scene.width * 3, scene.px(40), angle), MAT.grass, SEM.lowveg, { kind: 'grass', layer: LAYER.field });
  }
  addRoad(scene, straightPath(scene.width, scene.height, cx, cy, angle), { width: scene.px(0.3), mat: MAT.yellow_paint, marking: 'none', kind: 'taxiline', layer: LAYER.marking });
  const n = rng.next() < 0.3 ? 2 : 1;
  for (let i = 0; i < n; i++) {
    const t = n === 1 ? 0 : (i - 0.5) * scene.px(45);
    addPlane(scene, rng, cx + Math.cos(angle) * t + rng.uniform(-8, 8), cy + Math.sin(angle) * t + rng.uniform(-8, 8), angle + (rng.next() < 0.5 ? 0 : Math.PI) + rng.uniform(-0.1, 0.1), rng.uniform(28, 45));
  }
}

function baseballdiamond(scene: Scene, rng: Rng): void {
  addGround(scene, MAT.grass);
  const occ = new Occupancy();
  const [cx, cy] = centre(scene);
  const f = addBaseballDiamond(scene, rng, cx + rng.uniform(-15, 15), cy + rng.uniform(-15, 15), rng.uniform(0, 2 * Math.PI));
  occ.take(f.obb!);
  scatterTrees(scene, rng, rng.int(3, 15), occ);
  if (rng.next() < 0.5) addRoad(scene, straightPath(scene.width, scene.height, rng.uniform(0, scene.width), rng.next() < 0.5 ? 8 : scene.height - 8, rng.uniform(-0.3, 0.3)), { width: scene.px(7) });
}

function beach(scene: Scene, rng: Rng): void {
  addGround(scene, MAT.sand, SEM.bare);
  const horizontal = rng.next() < 0.5;
  const shore = meander(rng, scene.width, scene.height, 8, scene.px(6), horizontal);
  const far = rng.next() < 0.5;
  const edge: Vec[] = horizontal ? (far ? [[scene.width + 20, scene.height + 20], [-20, scene.height + 20]] : [[scene.width + 20, -20], [-20, -20]]) : far ? [[scene.width + 20, scene.height + 20], [scene.width + 20, -20]] : [[-20, scene.height + 20], [-20, -20]];
  const sea = [...shore, ...edge];
  addArea(scene, sea, MAT.water, SEM.water, { kind: 'sea', layer: LAYER.water, rows: { period: scene.px(rng.uniform(4, 9)), angle: horizontal ? Math.PI / 2 : 0, depth: 0.08 } });
  // the wet band and the surf line along the shore
  addRoad(scene, shore, { width: scene.px(rng.uniform(2, 5)), mat: MAT.soil, marking: 'none', kind: 'wet-sand', layer: LAYER.field });
  addRoad(scene, shore.map(([x, y]) => [x + (horizontal ? 0 : far ? 3 : -3), y + (horizontal ? (far ? 3 : -3) : 0)] as const), { width: scene.px(rng.uniform(0.8, 2)), mat: MAT.paint, marking: 'none', kind: 'surf', layer: LAYER.marking });
}

function buildings(scene: Scene, rng: Rng): void {
  addGround(scene, MAT.concrete, SEM.road);
  const occ = new Occupancy();
  const frame = new Frame(scene, rng.uniform(0, scene.width), rng.uniform(0, scene.height), rng.uniform(0, Math.PI));
  const ext = frame.extent(20);
  const road = rng.uniform(50, 80);
  for (let v = Math.floor(ext.v0 / road) * road; v < ext.v1; v += road) {
    const path = [frame.at(ext.u0, v), frame.at(ext.u1, v)];
    addRoad(scene, path, { width: scene.px(9), marking: 'lanes', lanes: 2, sidewalk: scene.px(2) });
    occ.take(orientedRect((path[0]![0] + path[1]![0]) / 2, (path[0]![1] + path[1]![1]) / 2, Math.hypot(path[1]![0] - path[0]![0], path[1]![1] - path[0]![1]), scene.px(13), frame.angle));
    for (let u = ext.u0; u < ext.u1; u += rng.uniform(40, 70)) {
      addCommercial(scene, rng, frame, u, v + road / 2, road * 0.9, occ);
    }
  }
  scatterTrees(scene, rng, rng.int(0, 6), occ);
}

function chaparral(scene: Scene, rng: Rng): void {
  addGround(scene, rng.next() < 0.75 ? MAT.soil : MAT.sand, SEM.bare);
  const density = rng.uniform(0.3, 0.7);
  const n = Math.round(((scene.width * scene.height) / scene.px(3) ** 2) * density * 0.35);
  for (let i = 0; i < n; i++) {
    const x = rng.uniform(0, scene.width);
    const y = rng.uniform(0, scene.height);
    const r = scene.px(rng.uniform(0.8, 2.5));
    addArea(scene, blob(rng, x, y, r, r * rng.uniform(0.7, 1), rng.uniform(0, 3), 0.3, 10), MAT.shrub, SEM.lowveg, { kind: 'shrub', layer: LAYER.vehicle, shade: rng.uniform(0.75, 1.1) });
  }
  if (rng.next() < 0.4) addRoad(scene, meander(rng, scene.width, scene.height, 10, scene.px(5)), { width: scene.px(3), mat: MAT.gravel, marking: 'none' });
}

const residential = (density: 'dense' | 'medium' | 'sparse'): Recipe => (scene, rng) => {
  addGround(scene, MAT.lawn);
  const n = addNeighbourhood(scene, rng, { density, cars: density === 'dense' ? 6 : 3 });
  scatterTrees(scene, rng, density === 'dense' ? rng.int(0, 4) : density === 'medium' ? rng.int(3, 10) : rng.int(6, 20), n.occ);
};

function forest(scene: Scene, rng: Rng): void {
  addGround(scene, MAT.shrub);
  const area = boxPoly(-10, -10, scene.width + 10, scene.height + 10);
  addStand(scene, rng, area, rng.uniform(0.9, 1.4), { conifer: rng.uniform(0, 1) });
  if (rng.next() < 0.25) addRoad(scene, meander(rng, scene.width, scene.height, 10, scene.px(4)), { width: scene.px(3), mat: MAT.gravel, marking: 'none', layer: LAYER.tree + 1 });
}

function freeway(scene: Scene, rng: Rng): void {
  addGround(scene, rng.next() < 0.5 ? MAT.grass : MAT.shrub);
  const [cx, cy] = centre(scene);
  const angle = rng.uniform(0, Math.PI);
  const lanes = rng.int(2, 4);
  const lane = 3.6;
  const cw = lanes * lane + 1;
  const median = rng.uniform(2, 10);
  const occ = new Occupancy();
  for (const side of [-1, 1]) {
    const off = side * scene.px(median / 2 + cw / 2);
    const path = straightPath(scene.width, scene.height, cx - Math.sin(angle) * off, cy + Math.cos(angle) * off, angle);
    addRoad(scene, path, { width: scene.px(cw), marking: 'lanes', lanes, mat: rng.next() < 0.8 ? MAT.asphalt : MAT.concrete });
    for (let k = 0; k < lanes; k++) {
      const lo = off + side * scene.px(-cw / 2 + 0.5 + lane * (k + 0.5));
      for (let t = -scene.width; t < scene.width; t += scene.px(rng.uniform(12, 60))) {
        const x = cx - Math.sin(angle) * lo + Math.cos(angle) * t;
        const y = cy + Math.cos(angle) * lo + Math.sin(angle) * t;
        if (x < -10 || y < -10 || x > scene.width + 10 || y > scene.height + 10) continue;
        const probe = orientedRect(x, y, scene.px(17), scene.px(2.6), angle);
        if (!occ.claim(probe, scene.px(1))) continue;
        if (rng.next() < 0.12) addTruck(scene, rng, x, y, angle + (side < 0 ? 0 : Math.PI));
        else addCar(scene, rng, x, y, angle + (side < 0 ? 0 : Math.PI));
      }
    }
  }
  if (median > 4) addArea(scene, orientedRect(cx, cy, scene.width * 3, scene.px(median - 1), angle), MAT.grass, SEM.lowveg, { kind: 'median', layer: LAYER.pavement });
}

function golfcourse(scene: Scene, rng: Rng): void {
  addGround(scene, MAT.grass);
  const occ = new Occupancy();
  const [cx, cy] = centre(scene);
  const angle = rng.uniform(0, Math.PI);
  const fairway = blob(rng, cx, cy, scene.width * rng.uniform(0.45, 0.8), scene.px(rng.uniform(14, 22)), angle, 0.15, 36);
  addArea(scene, fairway, MAT.lawn, SEM.lowveg, { kind: 'fairway', rows: { period: scene.px(5), angle: angle + Math.PI / 2, depth: 0.07 } });
  const gx = cx + Math.cos(angle) * scene.width * 0.3;
  const gy = cy + Math.sin(angle) * scene.width * 0.3;
  addArea(scene, blob(rng, gx, gy, scene.px(9), scene.px(7), rng.uniform(0, 3), 0.1), MAT.turf, SEM.lowveg, { kind: 'green', layer: LAYER.pavement, shade: 1.08 });
  const nBunkers = rng.int(1, 4);
  for (let i = 0; i < nBunkers; i++) {
    const bx = gx + scene.px(rng.uniform(-14, 14));
    const by = gy + scene.px(rng.uniform(-14, 14));
    addArea(scene, blob(rng, bx, by, scene.px(rng.uniform(2.5, 5)), scene.px(rng.uniform(1.5, 3)), rng.uniform(0, 3), 0.3), MAT.sand, SEM.bare, { kind: 'bunker', layer: LAYER.marking });
  }
  if (rng.next() < 0.4) addWater(scene, blob(rng, rng.uniform(0, scene.width), rng.uniform(0, scene.height), scene.px(rng.uniform(8, 18)), scene.px(rng.uniform(6, 12)), rng.uniform(0, 3)), MAT.water, 'pond');
  occ.take(orientedRect(cx, cy, scene.width * 1.2, scene.px(30), angle));
  scatterTrees(scene, rng, rng.int(10, 40), occ, 0.4);
}

function harbor(scene: Scene, rng: Rng): void {
  addGround(scene, MAT.water, SEM.water);
  const occ = new Occupancy();
  const angle = rng.uniform(0, 2 * Math.PI);
  const c = Math.cos(angle);
  const s = Math.sin(angle);
  const [cx, cy] = centre(scene);
  // quay along one side, piers reaching into the basin, boats moored on both sides
  const quayOff = -scene.width * 0.45;
  addArea(scene, orientedRect(cx + c * quayOff, cy + s * quayOff, scene.px(20), scene.width * 3, angle), MAT.concrete, SEM.road, { kind: 'quay', layer: LAYER.pavement });
  const pierLen = rng.uniform(0.55, 0.85) * scene.width * scene.gsd;
  const pierW = rng.uniform(2.5, 4);
  const boatL = rng.uniform(7, 12);
  const spacing = pierW + 2 * boatL + rng.uniform(4, 8);
  for (let t = -scene.width; t < scene.width; t += scene.px(spacing)) {
    const px = cx + c * (quayOff + scene.px(9)) - s * t;
    const py = cy + s * (quayOff + scene.px(9)) + c * t;
    if (px < -scene.width * 0.5 || py < -scene.height * 0.5 || px > scene.width * 1.5 || py > scene.height * 1.5) continue;
    addPier(scene, rng, px, py, angle, { lengthM: pierLen, widthM: pierW, head: false });
    for (let k = 4; k < pierLen - 2; k += rng.uniform(4, 6)) {
      for (const side of [-1, 1]) {
        if (rng.next() < 0.3) continue;
        const bl = boatL * rng.uniform(0.7, 1);
        const off = side * scene.px(pierW / 2 + 0.6 + bl / 2);
        const bx = px + c * scene.px(k) - s * off;
        const by = py + s * scene.px(k) + c * off;
        const probe = orientedRect(bx, by, scene.px(bl), scene.px(bl * 0.3), angle + Math.PI / 2);
        if (occ.claim(probe, scene.px(0.3))) addShip(scene, rng, bx, by, angle + (side > 0 ? Math.PI / 2 : -Math.PI / 2), bl);
      }
    }
  }
}

function intersection(scene: Scene, rng: Rng): void {
  addGround(scene, MAT.lawn);
  const occ = new Occupancy();
  const [cx, cy] = centre(scene);
  const a = rng.uniform(0, Math.PI);
  const b = a + Math.PI / 2 + rng.uniform(-0.35, 0.35);
  const w1 = rng.uniform(8, 14);
  const w2 = rng.uniform(7, 12);
  const ox = rng.uniform(-20, 20);
  const oy = rng.uniform(-20, 20);
  for (const [ang, w] of [[a, w1], [b, w2]] as const) {
    addRoad(scene, straightPath(scene.width, scene.height, cx + ox, cy + oy, ang), { width: scene.px(w), sidewalk: scene.px(2), marking: 'lanes', lanes: w > 10 ? 4 : 2 });
    occ.take(orientedRect(cx + ox, cy + oy, scene.width * 3, scene.px(w + 4), ang));
    for (const side of [-1, 1]) {
      for (let t = -scene.width; t < scene.width; t += scene.px(rng.uniform(7, 30))) {
        const off = side * scene.px(w / 4);
        const x = cx + ox + Math.cos(ang) * t - Math.sin(ang) * off;
        const y = cy + oy + Math.sin(ang) * t + Math.cos(ang) * off;
        if (Math.abs(t) < scene.px(w1 + w2) / 2 + scene.px(3)) continue;
        if (x < -10 || y < -10 || x > scene.width + 10 || y > scene.height + 10) continue;
        addCar(scene, rng, x, y, ang + (side > 0 ? 0 : Math.PI));
      }
    }
  }
  // corner lots: buildings or parking
  for (let k = 0; k < 4; k++) {
    const q = (k * Math.PI) / 2 + a + Math.PI / 4;
    const d = scene.px(rng.uniform(30, 45));
    const x = cx + ox + Math.cos(q) * d;
    const y = cy + oy + Math.sin(q) * d;
    const L = scene.px(rng.uniform(14, 30));
    const W = scene.px(rng.uniform(10, 20));
    const poly = orientedRect(x, y, L, W, a);
    if (!occ.claim(poly, scene.px(2))) continue;
    if (rng.next() < 0.7) addBuilding(scene, { cx: x, cy: y, length: L, width: W, angle: a, height: rng.uniform(5, 15), roof: rng.next() < 0.5 ? 'flat' : 'hip', mat: pick(rng, [MAT.roof_flat, MAT.roof_grey, MAT.roof_red]), units: rooftopUnits(rng, L, W, scene.px(1.2)) });
  }
  scatterTrees(scene, rng, rng.int(2, 10), occ);
}

function mobilehomepark(scene: Scene, rng: Rng): void {
  addGround(scene, rng.next() < 0.5 ? MAT.grass : MAT.soil, SEM.lowveg);
  const angle = rng.uniform(0, Math.PI);
  const frame = new Frame(scene, rng.uniform(0, scene.width), rng.uniform(0, scene.height), angle);
  const ext = frame.extent(20);
  const pitch = rng.uniform(30, 38);
  const occ = new Occupancy();
  for (let v = Math.floor(ext.v0 / pitch) * pitch; v < ext.v1; v += pitch) {
    addRoad(scene, [frame.at(ext.u0, v), frame.at(ext.u1, v)], { width: scene.px(5), marking: 'none' });
    for (const side of [-1, 1]) {
      for (let u = ext.u0; u < ext.u1; u += rng.uniform(6, 8)) {
        const L = rng.uniform(13, 20);
        const W = rng.uniform(3.6, 4.6);
        const cv = v + side * (3.5 + L / 2);
        const [x, y] = frame.at(u, cv);
        if (x < -40 || y < -40 || x > scene.width + 40 || y > scene.height + 40) continue;
        const poly = frame.rect(u, cv, W, L);
        if (!occ.claim(poly, scene.px(0.6))) continue;
        addBuilding(scene, { cx: x, cy: y, length: scene.px(L), width: scene.px(W), angle: angle + Math.PI / 2, height: 3.5, roof: 'flat', mat: pick(rng, [MAT.roof_metal, MAT.car_white, MAT.roof_metal, MAT.roof_grey]) });
        if (rng.next() < 0.35) {
          const [x2, y2] = frame.at(u + W / 2 + 1.6, v + side * 6);
          const probe = orientedRect(x2, y2, scene.px(2.2), scene.px(5), angle + Math.PI / 2);
          if (occ.claim(probe, scene.px(0.3))) addCar(scene, rng, x2, y2, angle + Math.PI / 2);
        }
      }
    }
  }
  scatterTrees(scene, rng, rng.int(0, 6), occ);
}

function overpass(scene: Scene, rng: Rng): void {
  addGround(scene, rng.next() < 0.6 ? MAT.grass : MAT.soil, SEM.lowveg);
  const [cx, cy] = centre(scene);
  const a = rng.uniform(0, Math.PI);
  const b = a + Math.PI / 2 + rng.uniform(-0.5, 0.5);
  const occ = new Occupancy();
  const lower = rng.uniform(12, 20);
  const upper = rng.uniform(10, 16);
  addRoad(scene, straightPath(scene.width, scene.height, cx, cy, a), { width: scene.px(lower), marking: 'lanes', lanes: 4 });
  addRoad(scene, straightPath(scene.width, scene.height, cx, cy, b), { width: scene.px(upper), marking: 'lanes', lanes: 2, elev: rng.uniform(6, 9), mat: MAT.concrete });
  occ.take(orientedRect(cx, cy, scene.width * 3, scene.px(upper + 2), b));
  // ramps
  if (rng.next() < 0.6) {
    for (const sgn of [-1, 1]) {
      const off = sgn * scene.px(lower / 2 + 10);
      const p0: Vec = [cx - Math.sin(a) * off + Math.cos(a) * scene.width, cy + Math.cos(a) * off + Math.sin(a) * scene.width];
      const p1: Vec = [cx - Math.sin(a) * off * 1.4, cy + Math.cos(a) * off * 1.4];
      addRoad(scene, [p0, p1, [cx - Math.sin(a) * off * 1.4 + Math.cos(b) * scene.px(25) * sgn, cy + Math.cos(a) * off * 1.4 + Math.sin(b) * scene.px(25) * sgn]], { width: scene.px(5), marking: 'none' });
    }
  }
  for (let t = -scene.width; t < scene.width; t += scene.px(rng.uniform(10, 40))) {
    const off = scene.px(rng.uniform(-lower / 2 + 1.5, lower / 2 - 1.5));
    const x = cx + Math.cos(a) * t - Math.sin(a) * off;
    const y = cy + Math.sin(a) * t + Math.cos(a) * off;
    if (x < 0 || y < 0 || x > scene.width || y > scene.height) continue;
    const probe = orientedRect(x, y, scene.px(5), scene.px(2.2), a);
    if (occ.claim(probe, scene.px(0.5))) addCar(scene, rng, x, y, a + (off > 0 ? 0 : Math.PI));
  }
  scatterTrees(scene, rng, rng.int(2, 12), occ);
}

function parkinglot(scene: Scene, rng: Rng): void {
  addGround(scene, MAT.lawn);
  const frame = new Frame(scene, scene.width / 2 + rng.uniform(-20, 20), scene.height / 2 + rng.uniform(-20, 20), rng.uniform(0, Math.PI));
  const occ = new Occupancy();
  const size = Math.min(scene.width * scene.gsd, 100);
  addParkingLot(scene, rng, frame, 0, 0, size * rng.uniform(1.1, 1.5), size * rng.uniform(0.8, 1.4), rng.uniform(0.5, 0.95), occ);
  scatterTrees(scene, rng, rng.int(0, 8), occ);
}

function river(scene: Scene, rng: Rng): void {
  addGround(scene, rng.next() < 0.5 ? MAT.grass : MAT.shrub);
  const path = meander(rng, scene.width, scene.height, 6, scene.px(rng.uniform(4, 14)));
  const width = scene.px(rng.uniform(18, 40));
  addRiver(scene, rng, path, width, { mat: rng.next() < 0.5 ? MAT.water : MAT.water_turbid });
  const occ = new Occupancy();
  for (let i = 0; i + 1 < path.length; i++) {
    const [x0, y0] = path[i]!;
    const [x1, y1] = path[i + 1]!;
    occ.take(orientedRect((x0 + x1) / 2, (y0 + y1) / 2, Math.hypot(x1 - x0, y1 - y0) + 2, width * 1.3, Math.atan2(y1 - y0, x1 - x0)));
  }
  scatterTrees(scene, rng, rng.int(15, 60), occ, 0.2);
}

function runway(scene: Scene, rng: Rng): void {
  addGround(scene, MAT.grass);
  const [cx, cy] = centre(scene);
  const a = rng.uniform(0, Math.PI);
  const w = rng.uniform(40, 50);
  const off = scene.px(rng.uniform(-15, 15));
  const rx = cx - Math.sin(a) * off;
  const ry = cy + Math.cos(a) * off;
  addRoad(scene, straightPath(scene.width, scene.height, rx, ry, a), { width: scene.px(w), mat: MAT.concrete, marking: 'none' });
  // centre line dashes and edge lines
  const lw = Math.max(1, scene.px(0.9));
  for (let t = -scene.width * 1.5; t < scene.width * 1.5; t += scene.px(50)) addArea(scene, orientedRect(rx + Math.cos(a) * t, ry + Math.sin(a) * t, scene.px(30), lw, a), MAT.paint, SEM.road, { kind: 'marking', layer: LAYER.marking });
  for (const sgn of [-1, 1]) addArea(scene, orientedRect(rx - Math.sin(a) * sgn * scene.px(w / 2 - 1.5), ry + Math.cos(a) * sgn * scene.px(w / 2 - 1.5), scene.width * 3, lw, a), MAT.paint, SEM.road, { kind: 'marking', layer: LAYER.marking });
  if (rng.next() < 0.5) {
    const toff = scene.px(w / 2 + rng.uniform(40, 60)) * (rng.next() < 0.5 ? -1 : 1);
    addRoad(scene, straightPath(scene.width, scene.height, rx - Math.sin(a) * toff, ry + Math.cos(a) * toff, a), { width: scene.px(23), mat: MAT.asphalt, marking: 'none' });
  }
}

function storagetanks(scene: Scene, rng: Rng): void {
  addGround(scene, rng.next() < 0.5 ? MAT.gravel : MAT.concrete, SEM.road);
  const occ = new Occupancy();
  const r = rng.uniform(6, 16);
  const pitch = r * 2 + rng.uniform(6, 14);
  const a = rng.uniform(0, Math.PI);
  const frame = new Frame(scene, scene.width / 2, scene.height / 2, a);
  const ext = frame.extent(0);
  for (let v = Math.floor(ext.v0 / pitch) * pitch; v < ext.v1; v += pitch) {
    for (let u = Math.floor(ext.u0 / pitch) * pitch; u < ext.u1; u += pitch) {
      if (rng.next() < 0.25) continue;
      const [x, y] = frame.at(u + rng.uniform(-2, 2), v + rng.uniform(-2, 2));
      const rr = r * rng.uniform(0.8, 1.15);
      const probe = orientedRect(x, y, scene.px(2 * rr + 3), scene.px(2 * rr + 3), 0);
      if (x < -scene.px(rr) || y < -scene.px(rr) || x > scene.width + scene.px(rr) || y > scene.height + scene.px(rr)) continue;
      if (occ.claim(probe)) addStorageTank(scene, rng, x, y, rr);
    }
  }
}

function tenniscourt(scene: Scene, rng: Rng): void {
  addGround(scene, MAT.lawn);
  const occ = new Occupancy();
  const [cx, cy] = centre(scene);
  const a = rng.uniform(0, Math.PI);
  const n = rng.int(1, 4);
  const pitch = 18.5;
  for (let k = 0; k < n; k++) {
    const t = scene.px((k - (n - 1) / 2) * pitch);
    const x = cx - Math.sin(a) * t + rng.uniform(-5, 5);
    const y = cy + Math.cos(a) * t + rng.uniform(-5, 5);
    const f = addTennisCourt(scene, rng, x, y, a);
    occ.take(f.obb!);
  }
  if (rng.next() < 0.6) addRoad(scene, straightPath(scene.width, scene.height, cx - Math.sin(a) * scene.px(pitch * n * 0.5 + 10), cy + Math.cos(a) * scene.px(pitch * n * 0.5 + 10), a), { width: scene.px(3), mat: MAT.paving, marking: 'none' });
  scatterTrees(scene, rng, rng.int(4, 18), occ);
}

/** The 21 UC Merced classes in alphabetical order (= CMID class ids 0..20), each with its recipe. */
export const LAND_USE: Readonly<Record<string, Recipe>> = {
  agricultural,
  airplane,
  baseballdiamond,
  beach,
  buildings,
  chaparral,
  denseresidential: residential('dense'),
  forest,
  freeway,
  golfcourse,
  harbor,
  intersection,
  mediumresidential: residential('medium'),
  mobilehomepark,
  overpass,
  parkinglot,
  river,
  runway,
  sparseresidential: residential('sparse'),
  storagetanks,
  tenniscourt,
};
