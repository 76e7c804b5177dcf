/**
 * Landscapes at decametre resolution (Sentinel-2, 10 m): field parcels, forest stands, a town with its street
 * grid, lakes and rivers, main roads. At this scale objects are areas with textured materials (a forest is
 * one polygon of canopy material, a town one of "urban" fabric with bright roofs), not individual crowns.
 * The climate follows the latitude: arid land is sparse and sandy, boreal land is forest and lakes.
 */
import type { Rng } from '../../rng/rng.js';
import { orientedRect, pointInPolygon, type Vec } from './geometry.js';
import { addArea, addField, addGround, addRiver, addWater, blob, meander, parcels } from './ground.js';
import { MAT, SEM } from './materials.js';
import { addRoad } from './roads.js';
import { LAYER, type Scene } from './scene.js';

export type Climate = 'temperate' | 'arid' | 'tropical' | 'boreal';

export function climateFor(latitude: number, rng: Rng): Climate {
  const a = Math.abs(latitude);
  if (a > 55) return rng.next() < 0.7 ? 'boreal' : 'temperate';
  if (a < 15) return rng.next() < 0.6 ? 'tropical' : 'arid';
  if (a < 35) return rng.next() < 0.5 ? 'arid' : 'temperate';
  return rng.next() < 0.85 ? 'temperate' : 'boreal';
}

/** A Sentinel-2-scale landscape around a town (SeCo samples near populated places). */
export function landscape(scene: Scene, rng: Rng, climate: Climate): void {
  const W = scene.width;
  const H = scene.height;
  addGround(scene, climate === 'arid' ? MAT.soil : climate === 'boreal' ? MAT.conifer : MAT.grass, climate === 'boreal' ? SEM.tree : climate === 'arid' ? SEM.bare : SEM.lowveg);
  const angle = rng.uniform(0, Math.PI);
  // fields
  const fieldShare = climate === 'boreal' ? 0.3 : climate === 'arid' ? 0.35 : 0.8;
  const size = scene.px(rng.uniform(150, 450));
  for (const p of parcels(rng, -20, -20, W + 20, H + 20, [size * 0.5, size * 1.5], angle)) {
    if (rng.next() > fieldShare) continue;
    if (climate === 'arid' && rng.next() < 0.5) addArea(scene, p, MAT.sand, SEM.bare, { kind: 'barren' });
    else addField(scene, rng, p, angle);
  }
  // forest stands
  const stands = climate === 'arid' ? rng.int(0, 2) : rng.int(1, 6);
  for (let k = 0; k < stands; k++) {
    const r = scene.px(rng.uniform(150, 600));
    const poly = blob(rng, rng.uniform(0, W), rng.uniform(0, H), r, r * rng.uniform(0.4, 1), rng.uniform(0, 3), 0.35, 24);
    const mat = climate === 'boreal' || rng.next() < 0.3 ? MAT.conifer : MAT.deciduous;
    addArea(scene, poly, mat, SEM.tree, { kind: 'forest', layer: LAYER.field + 0.5 });
  }
  // water
  if (rng.next() < (climate === 'arid' ? 0.2 : 0.5)) {
    const path = meander(rng, W, H, 3, scene.px(rng.uniform(100, 400)));
    addRiver(scene, rng, path, scene.px(rng.uniform(25, 120)), { mat: rng.next() < 0.5 ? MAT.water : MAT.water_turbid, wiggle: 0.3 });
  }
  const lakes = climate === 'boreal' ? rng.int(1, 5) : rng.next() < 0.3 ? 1 : 0;
  for (let k = 0; k < lakes; k++) {
    const r = scene.px(rng.uniform(80, 400));
    addWater(scene, blob(rng, rng.uniform(0, W), rng.uniform(0, H), r, r * rng.uniform(0.4, 1), rng.uniform(0, 3), 0.3));
  }
  // the town: urban fabric, a street grid, roof clusters, a park
  const town = scene.px(rng.uniform(150, 700));
  const [tx, ty] = [rng.uniform(0.25, 0.75) * W, rng.uniform(0.25, 0.75) * H];
  const outline = blob(rng, tx, ty, town, town * rng.uniform(0.6, 1), angle, 0.3, 28);
  addArea(scene, outline, MAT.urban, SEM.building, { kind: 'town', layer: LAYER.pavement });
  const step = scene.px(rng.uniform(80, 160));
  const c = Math.cos(angle);
  const s = Math.sin(angle);
  for (let t = -town; t <= town; t += step) {
    for (const [dx, dy] of [[c, s], [-s, c]] as const) {
      const ox = tx - dy * t;
      const oy = ty + dx * t;
      // the grid line cut into blocks, keeping the blocks inside the town
      for (let u = -town; u < town; u += step) {
        const a: Vec = [ox + dx * u, oy + dy * u];
        const b: Vec = [ox + dx * (u + step), oy + dy * (u + step)];
        if (!pointInPolygon((a[0] + b[0]) / 2, (a[1] + b[1]) / 2, outline)) continue;
        addRoad(scene, [a, b], { width: Math.max(1, scene.px(12)), marking: 'none', layer: LAYER.road });
      }
    }
  }
  const roofs = Math.round((town * town) / 40);
  for (let k = 0; k < roofs; k++) {
    const [x, y] = [tx + rng.uniform(-town, town), ty + rng.uniform(-town, town)];
    if (!pointInPolygon(x, y, outline)) continue;
    const mat = [MAT.roof_red, MAT.roof_flat, MAT.roof_metal, MAT.roof_grey][rng.int(0, 4)]!;
    const L = scene.px(rng.uniform(15, 60));
    addArea(scene, orientedRect(x, y, L, L * rng.uniform(0.4, 1), angle), mat, SEM.building, { kind: 'roofs', layer: LAYER.building });
  }
  // main roads through the scene
  const roads = rng.int(1, 3);
  for (let k = 0; k < roads; k++) {
    const a = angle + rng.uniform(-0.6, 0.6) + (k % 2) * Math.PI / 2;
    const far = Math.hypot(W, H);
    addRoad(scene, [[tx - Math.cos(a) * far, ty - Math.sin(a) * far], [tx + Math.cos(a) * far, ty + Math.sin(a) * far]], { width: Math.max(1, scene.px(rng.uniform(15, 30))), marking: 'none', layer: LAYER.road + 0.2 });
  }
}
