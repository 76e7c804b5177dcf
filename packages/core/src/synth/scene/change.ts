/**
 * Change pairs: a place before (A) and after (B). B is A's feature list with real changes applied (buildings
 * built or demolished, a new road), painted under another season and sun. The real changes are exactly the
 * features that are in one list and not the other, so the change mask is their visible pixels, and the
 * seasonal difference (vegetation, snow, shadows, exposure) is everywhere else.
 */
import type { Rng } from '../../rng/rng.js';
import type { Canvas } from './canvas.js';
import { orientedRect, type Vec } from './geometry.js';
import { addBuilding, houseRoofMaterial, rooftopUnits } from './buildings.js';
import { addField, addGround, parcels } from './ground.js';
import { MAT, SEM } from './materials.js';
import { addRoad } from './roads.js';
import { LAYER, Occupancy, type Feature, type Scene } from './scene.js';
import { addStand } from './trees.js';
import { addNeighbourhood } from './urban.js';

export interface ChangePlan {
  before: Scene;
  after: Scene;
  /** Features only in `after`. */
  added: Feature[];
  /** Features only in `before`. */
  removed: Feature[];
}

export type ChangeKind = 'new-building' | 'removed-building' | 'new-road';

interface Base {
  occ: Occupancy;
  buildings: Feature[];
  angle: number;
}

/** Rural land: fields, a farmstead, a tree belt, a track. */
function rural(scene: Scene, rng: Rng): Base {
  addGround(scene, MAT.grass);
  const occ = new Occupancy();
  const angle = rng.uniform(0, Math.PI);
  const size = scene.px(rng.uniform(40, 90));
  for (const p of parcels(rng, 0, 0, scene.width, scene.height, [size * 0.6, size * 1.4], angle)) addField(scene, rng, p, angle);
  const buildings: Feature[] = [];
  const [cx, cy] = [rng.uniform(0.2, 0.8) * scene.width, rng.uniform(0.2, 0.8) * scene.height];
  const nb = rng.int(0, 4);
  for (let k = 0; k < nb; k++) {
    const x = cx + scene.px(rng.uniform(-25, 25));
    const y = cy + scene.px(rng.uniform(-25, 25));
    const L = scene.px(rng.uniform(10, 30));
    const W = scene.px(rng.uniform(8, 14));
    const poly = orientedRect(x, y, L, W, angle);
    if (!occ.claim(poly, scene.px(3))) continue;
    buildings.push(addBuilding(scene, { cx: x, cy: y, length: L, width: W, angle, height: rng.uniform(5, 9), roof: rng.next() < 0.6 ? 'gable' : 'flat', mat: rng.next() < 0.5 ? MAT.roof_metal : houseRoofMaterial(rng) }));
  }
  if (rng.next() < 0.6) {
    const belt = orientedRect(rng.uniform(0, scene.width), rng.uniform(0, scene.height), scene.width * 1.5, scene.px(rng.uniform(10, 25)), angle + (rng.next() < 0.5 ? 0 : Math.PI / 2));
    addStand(scene, rng, belt, 0.9, { occ });
  }
  return { occ, buildings, angle };
}

function suburban(scene: Scene, rng: Rng): Base {
  addGround(scene, MAT.lawn);
  const n = addNeighbourhood(scene, rng, { density: rng.next() < 0.5 ? 'medium' : 'sparse', cars: 2 });
  return { occ: n.occ, buildings: n.buildings, angle: n.frame.angle };
}

/**
 * Plans a before/after pair on `scene` (which must be empty): the base place, then up to `maxChanges`
 * changes, each a new building on free ground, a demolished building, or a new road.
 */
export function planChange(scene: Scene, rng: Rng, maxChanges = 4): ChangePlan {
  const base = rng.next() < 0.5 ? rural(scene, rng) : suburban(scene, rng);
  const after = scene.clone();
  const added: Feature[] = [];
  const removed: Feature[] = [];
  const n = rng.next() < 0.1 ? 0 : rng.int(1, maxChanges + 1);
  for (let k = 0; k < n; k++) {
    const kind: ChangeKind = ['new-building', 'new-building', 'removed-building', 'new-road'][rng.int(0, 4)] as ChangeKind;
    if (kind === 'removed-building') {
      const left = base.buildings.filter((b) => !removed.includes(b));
      if (left.length === 0) continue;
      const b = left[rng.int(0, left.length)]!;
      after.remove(b.id);
      removed.push(b);
    } else if (kind === 'new-building') {
      for (let t = 0; t < 30; t++) {
        const x = rng.uniform(0.1, 0.9) * scene.width;
        const y = rng.uniform(0.1, 0.9) * scene.height;
        const L = scene.px(rng.uniform(10, 28));
        const W = scene.px(rng.uniform(8, 16));
        const a = base.angle + (rng.next() < 0.8 ? 0 : Math.PI / 2);
        const poly = orientedRect(x, y, L, W, a);
        if (!base.occ.claim(poly, scene.px(3))) continue;
        const flat = rng.next() < 0.4;
        added.push(addBuilding(after, { cx: x, cy: y, length: L, width: W, angle: a, height: rng.uniform(5, 12), roof: flat ? 'flat' : 'gable', mat: flat ? MAT.roof_flat : houseRoofMaterial(rng), ...(flat ? { units: rooftopUnits(rng, L, W, scene.px(1.2)) } : {}) }));
        break;
      }
    } else {
      const a = base.angle + (rng.next() < 0.5 ? 0 : Math.PI / 2) + rng.uniform(-0.2, 0.2);
      const [x, y] = [rng.uniform(0.2, 0.8) * scene.width, rng.uniform(0.2, 0.8) * scene.height];
      const far = Math.hypot(scene.width, scene.height);
      const path: Vec[] = [[x - Math.cos(a) * far, y - Math.sin(a) * far], [x + Math.cos(a) * far, y + Math.sin(a) * far]];
      const width = scene.px(rng.uniform(5, 9));
      // roads go over fields and lawns, not through buildings: give up when the corridor is taken. The new
      // road is painted below existing roads, so a crossing keeps the old surface and is not a change.
      const corridor = orientedRect(x, y, 2 * far, width + scene.px(2), a);
      if (!base.occ.free(corridor)) continue;
      base.occ.take(corridor);
      added.push(addRoad(after, path, { width, mat: rng.next() < 0.7 ? MAT.asphalt : MAT.gravel, marking: 'centre', layer: LAYER.road - 0.5 }));
    }
  }
  return { before: scene, after, added, removed };
}

/** The change mask (1 = changed) of a pair painted into `a` and `b`: the visible pixels of the changed features. */
export function changeMask(plan: ChangePlan, a: Canvas, b: Canvas): Uint8Array {
  const removed = new Set(plan.removed.map((f) => f.id));
  const added = new Set(plan.added.map((f) => f.id));
  const out = new Uint8Array(a.obj.length);
  for (let i = 0; i < out.length; i++) if (removed.has(a.obj[i]!) || added.has(b.obj[i]!)) out[i] = 1;
  return out;
}

/** The generic class map differs between the dates only inside the change mask (for tests). */
export function classDiff(a: Canvas, b: Canvas): Uint8Array {
  const out = new Uint8Array(a.cls.length);
  for (let i = 0; i < out.length; i++) if (a.cls[i] !== b.cls[i] || (a.cls[i] === SEM.building && a.obj[i] !== b.obj[i])) out[i] = 1;
  return out;
}
