/**
 * Scenes for oriented object detection (DOTA v1.0 categories): an airport apron, a harbour, sports grounds,
 * an industrial tank farm, a river with bridges, a suburb with a roundabout. Objects stand at any angle
 * (tanks and roundabouts are round, their boxes axis-aligned). Every object is placed with an occupancy test,
 * so objects of the same scene never overlap; trees may still hang over cars, which the labeller sees as
 * partial occlusion.
 */
import type { Rng } from '../../rng/rng.js';
import { boxPoly, orientedRect, type Vec } from './geometry.js';
import { addBuilding, rooftopUnits } from './buildings.js';
import { addArea, addGround, addRiver, meander } from './ground.js';
import { MAT, SEM } from './materials.js';
import { addCar, addHelicopter, addPlane, addShip, addTruck } from './objects.js';
import {
  addBaseballDiamond, addBasketballCourt, addBridge, addGroundTrackField, addPier, addRoundabout, addSoccerField,
  addStorageTank, addSwimmingPool, addTennisCourt,
} from './facilities.js';
import { addRoad, straightPath } from './roads.js';
import { LAYER, Occupancy, insideImage, type Feature, type Scene } from './scene.js';
import { randomTree } from './trees.js';
import { addNeighbourhood, addParkingLot, Frame } from './urban.js';

export const DETECTION_THEMES = ['airport', 'harbor', 'sports', 'industrial', 'river', 'suburb'] as const;
export type DetectionTheme = (typeof DETECTION_THEMES)[number];

/** Tries up to `tries` random placements; `make(x, y, angle)` adds the object or returns undefined. */
function scatter(scene: Scene, rng: Rng, occ: Occupancy, count: number, tries: number, make: (x: number, y: number, a: number) => Feature | undefined, margin = 2): number {
  let placed = 0;
  for (let t = 0; t < tries && placed < count; t++) {
    const x = rng.uniform(0, scene.width);
    const y = rng.uniform(0, scene.height);
    const a = rng.uniform(-Math.PI, Math.PI);
    const f = make(x, y, a);
    if (f === undefined) continue;
    if (!insideImage(f.obb!, scene.width, scene.height, 1) || !occ.claim(f.obb!, scene.px(margin))) {
      scene.remove(f.id);
      continue;
    }
    placed++;
  }
  return placed;
}

function trees(scene: Scene, rng: Rng, occ: Occupancy, n: number): void {
  for (let i = 0; i < n; i++) {
    const x = rng.uniform(0, scene.width);
    const y = rng.uniform(0, scene.height);
    const r = scene.px(3);
    if (occ.free(orientedRect(x, y, 2 * r, 2 * r, 0), scene.px(1))) randomTree(scene, rng, x, y);
  }
}

function airport(scene: Scene, rng: Rng, occ: Occupancy): void {
  addGround(scene, MAT.grass);
  const a = rng.uniform(0, Math.PI);
  const [cx, cy] = [scene.width / 2, scene.height / 2];
  addArea(scene, orientedRect(cx, cy, scene.width * 3, scene.height * rng.uniform(0.6, 0.9), a), MAT.concrete, SEM.road, { kind: 'apron', layer: LAYER.pavement });
  if (rng.next() < 0.5) {
    const off = scene.height * 0.55;
    addRoad(scene, straightPath(scene.width, scene.height, cx - Math.sin(a) * off, cy + Math.cos(a) * off, a), { width: scene.px(45), mat: MAT.asphalt, marking: 'centre' });
  }
  for (let k = -3; k <= 3; k++) {
    const off = k * scene.px(rng.uniform(45, 60));
    addRoad(scene, straightPath(scene.width, scene.height, cx - Math.sin(a) * off, cy + Math.cos(a) * off, a + Math.PI / 2), { width: scene.px(0.3), mat: MAT.yellow_paint, marking: 'none', kind: 'stand-line', layer: LAYER.marking });
  }
  const gate = rng.next() < 0.5;
  scatter(scene, rng, occ, rng.int(2, 7), 60, (x, y, ang) => addPlane(scene, rng, x, y, gate ? a + Math.PI / 2 + (rng.next() < 0.5 ? 0 : Math.PI) : ang), 3);
  scatter(scene, rng, occ, rng.int(0, 3), 20, (x, y, ang) => addHelicopter(scene, rng, x, y, ang));
  scatter(scene, rng, occ, rng.int(1, 6), 40, (x, y, ang) => addTruck(scene, rng, x, y, ang));
  scatter(scene, rng, occ, rng.int(2, 12), 60, (x, y, ang) => addCar(scene, rng, x, y, ang), 1);
}

function harbor(scene: Scene, rng: Rng, occ: Occupancy): void {
  addGround(scene, MAT.water, SEM.water);
  const a = rng.uniform(0, 2 * Math.PI);
  const c = Math.cos(a);
  const s = Math.sin(a);
  const [cx, cy] = [scene.width / 2, scene.height / 2];
  const landDepth = rng.uniform(0.25, 0.4) * Math.min(scene.width, scene.height);
  const shore = -Math.max(scene.width, scene.height) / 2 + landDepth; // along +a is water
  const quay = orientedRect(cx + c * (shore - scene.width), cy + s * (shore - scene.width), scene.width * 2, scene.width * 4, a);
  addArea(scene, quay, MAT.concrete, SEM.road, { kind: 'quay', layer: LAYER.pavement });
  occ.take(quay);
  // piers from the shore, ships moored beside them
  const spacing = scene.px(rng.uniform(45, 80));
  for (let t = -scene.width; t < scene.width; t += spacing) {
    const px = cx + c * shore - s * t;
    const py = cy + s * shore + c * t;
    const f = addPier(scene, rng, px, py, a, { lengthM: rng.uniform(30, 80), widthM: rng.uniform(4, 8) });
    if (!insideImage(f.obb!, scene.width, scene.height, 1) || !occ.claim(f.obb!, scene.px(2))) scene.remove(f.id);
  }
  scatter(scene, rng, occ, rng.int(3, 10), 80, (x, y, ang) => {
    const along = (x - cx) * c + (y - cy) * s;
    if (along < shore + scene.px(6)) return undefined; // on land
    return addShip(scene, rng, x, y, rng.next() < 0.6 ? a + Math.PI / 2 + (rng.next() < 0.5 ? 0 : Math.PI) : ang);
  }, 3);
  scatter(scene, rng, occ, rng.int(0, 4), 30, (x, y, ang) => {
    const along = (x - cx) * c + (y - cy) * s;
    return along > shore - scene.px(10) ? undefined : addTruck(scene, rng, x, y, ang);
  });
  scatter(scene, rng, occ, rng.int(0, 3), 20, (x, y) => {
    const along = (x - cx) * c + (y - cy) * s;
    return along > shore - scene.px(25) ? undefined : addStorageTank(scene, rng, x, y, rng.uniform(5, 12));
  });
}

function sports(scene: Scene, rng: Rng, occ: Occupancy): void {
  addGround(scene, MAT.lawn);
  const a = rng.uniform(0, Math.PI);
  const makers: Array<(x: number, y: number, ang: number) => Feature> = [
    (x, y) => addTennisCourt(scene, rng, x, y, a),
    (x, y) => addBasketballCourt(scene, rng, x, y, a),
    (x, y) => addSoccerField(scene, rng, x, y, a),
    (x, y) => addGroundTrackField(scene, rng, x, y, a),
    (x, y, ang) => addBaseballDiamond(scene, rng, x, y, ang),
    (x, y, ang) => addSwimmingPool(scene, rng, x, y, ang, rng.uniform(15, 50)),
  ];
  const order = rng.shuffle([0, 1, 2, 3, 4, 5]);
  for (const k of order) scatter(scene, rng, occ, k <= 1 ? rng.int(1, 4) : 1, 25, makers[k]!, 4);
  const frame = new Frame(scene, rng.uniform(0, scene.width), rng.uniform(0, scene.height), a);
  if (insideImage(frame.rect(0, 0, 40, 25), scene.width, scene.height, 4)) addParkingLot(scene, rng, frame, 0, 0, 40, 25, rng.uniform(0.3, 0.8), occ);
  trees(scene, rng, occ, rng.int(5, 30));
}

function industrial(scene: Scene, rng: Rng, occ: Occupancy): void {
  addGround(scene, rng.next() < 0.5 ? MAT.gravel : MAT.soil, SEM.bare);
  const r = rng.uniform(6, 22);
  const pitch = 2 * r + rng.uniform(5, 15);
  const frame = new Frame(scene, rng.uniform(0, scene.width), rng.uniform(0, scene.height), rng.uniform(0, Math.PI));
  const n = rng.int(2, 5);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    const [x, y] = frame.at(i * pitch, j * pitch);
    const f = addStorageTank(scene, rng, x, y, r * rng.uniform(0.85, 1.1));
    if (!insideImage(f.obb!, scene.width, scene.height, 1) || !occ.claim(f.obb!, scene.px(2))) scene.remove(f.id);
  }
  for (let k = 0; k < 3; k++) {
    const [x, y] = [rng.uniform(0, scene.width), rng.uniform(0, scene.height)];
    const L = scene.px(rng.uniform(30, 70));
    const W = scene.px(rng.uniform(20, 40));
    const poly = orientedRect(x, y, L, W, frame.angle);
    if (occ.claim(poly, scene.px(3))) addBuilding(scene, { cx: x, cy: y, length: L, width: W, angle: frame.angle, height: rng.uniform(8, 15), roof: 'flat', mat: MAT.roof_metal, units: rooftopUnits(rng, L, W, scene.px(2)) });
  }
  scatter(scene, rng, occ, rng.int(2, 8), 50, (x, y) => addTruck(scene, rng, x, y, frame.angle + (rng.next() < 0.5 ? 0 : Math.PI / 2)));
  scatter(scene, rng, occ, rng.int(2, 10), 50, (x, y, ang) => addCar(scene, rng, x, y, ang), 1);
}

function river(scene: Scene, rng: Rng, occ: Occupancy): void {
  addGround(scene, rng.next() < 0.5 ? MAT.grass : MAT.crop, SEM.lowveg);
  const horizontal = rng.next() < 0.5;
  const path = meander(rng, scene.width, scene.height, 10, scene.px(rng.uniform(5, 30)), horizontal);
  const width = scene.px(rng.uniform(30, 80));
  const riv = addRiver(scene, rng, path, width, { mat: MAT.water_turbid, wiggle: 0.1 });
  const wet = new Occupancy(); // keeps trees out of the water; ships and bridges use `occ`
  for (const q of riv.footprint) wet.take(q);
  const nb = rng.int(1, 3);
  for (let b = 0; b < nb; b++) {
    const i = rng.int(3, path.length - 3);
    const [x0, y0] = path[i - 1]!;
    const [x1, y1] = path[i + 1]!;
    const along = Math.atan2(y1 - y0, x1 - x0);
    const [bx, by] = path[i]!;
    const span = width * 1.5;
    const f = addBridge(scene, rng, bx, by, along + Math.PI / 2, span);
    if (!insideImage(f.obb!, scene.width, scene.height, 1) || !occ.claim(f.obb!, scene.px(5))) {
      scene.remove(f.id);
      continue;
    }
    const ux = Math.cos(along + Math.PI / 2);
    const uy = Math.sin(along + Math.PI / 2);
    const far = Math.hypot(scene.width, scene.height);
    for (const sgn of [-1, 1]) {
      const start: Vec = [bx + ux * sgn * span * 0.45, by + uy * sgn * span * 0.45];
      const end: Vec = [bx + ux * sgn * far, by + uy * sgn * far];
      addRoad(scene, [start, end], { width: scene.px(rng.uniform(7, 12)), marking: 'centre' });
      wet.take(orientedRect((start[0] + end[0]) / 2, (start[1] + end[1]) / 2, far, scene.px(14), along + Math.PI / 2));
    }
  }
  scatter(scene, rng, occ, rng.int(0, 4), 40, (x, y) => {
    let best = Infinity;
    let ang = 0;
    for (let i = 0; i + 1 < path.length; i++) {
      const d = Math.hypot(path[i]![0] - x, path[i]![1] - y);
      if (d < best) {
        best = d;
        ang = Math.atan2(path[i + 1]![1] - path[i]![1], path[i + 1]![0] - path[i]![0]);
      }
    }
    return best < width * 0.25 ? addShip(scene, rng, x, y, ang + (rng.next() < 0.5 ? 0 : Math.PI), rng.uniform(10, 30)) : undefined;
  });
  const n = rng.int(5, 40);
  for (let k = 0; k < n; k++) {
    const x = rng.uniform(0, scene.width);
    const y = rng.uniform(0, scene.height);
    const probe = orientedRect(x, y, scene.px(6), scene.px(6), 0);
    if (wet.free(probe, scene.px(2)) && occ.free(probe, scene.px(1))) randomTree(scene, rng, x, y);
  }
}

function suburb(scene: Scene, rng: Rng, occ: Occupancy): void {
  addGround(scene, MAT.lawn);
  // a roundabout first, so the houses keep clear of it
  const R = rng.uniform(15, 28);
  const [x, y] = [rng.uniform(scene.px(R + 5), scene.width - scene.px(R + 5)), rng.uniform(scene.px(R + 5), scene.height - scene.px(R + 5))];
  const f = addRoundabout(scene, rng, x, y, R);
  if (insideImage(f.obb!, scene.width, scene.height, 1)) {
    occ.take(f.obb!);
    const a0 = rng.uniform(0, Math.PI / 2);
    for (let k = 0; k < 4; k++) {
      const t = a0 + (k * Math.PI) / 2;
      const far = Math.hypot(scene.width, scene.height);
      const road = [[x + Math.cos(t) * scene.px(R * 0.9), y + Math.sin(t) * scene.px(R * 0.9)], [x + Math.cos(t) * far, y + Math.sin(t) * far]] as Vec[];
      addRoad(scene, road, { width: scene.px(7), marking: 'centre' });
      occ.take(orientedRect(x + (Math.cos(t) * far) / 2, y + (Math.sin(t) * far) / 2, far, scene.px(10), t));
    }
  } else {
    scene.remove(f.id);
  }
  addNeighbourhood(scene, rng, { density: rng.next() < 0.5 ? 'medium' : 'sparse', occ, cars: 4 });
}

const THEMES: Record<DetectionTheme, (scene: Scene, rng: Rng, occ: Occupancy) => void> = { airport, harbor, sports, industrial, river, suburb };

/**
 * Plans a detection scene of the given theme, then drops every labelled object whose box is not wholly inside
 * the image (so no label polygon leaves the image).
 */
export function detectionScene(scene: Scene, rng: Rng, theme: DetectionTheme): Scene {
  THEMES[theme](scene, rng, new Occupancy());
  for (const f of [...scene.features]) {
    if (f.dotaClass !== undefined && !insideImage(f.obb!, scene.width, scene.height, 1)) scene.remove(f.id);
  }
  return scene;
}

/** The image box as a polygon (for tests and figures). */
export const imageBox = (scene: Scene): Vec[] => boxPoly(0, 0, scene.width, scene.height);
