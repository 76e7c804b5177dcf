import { describe, expect, it } from 'vitest';
import { Rng } from '../../../src/rng/rng.js';
import { SUMMER_NOON } from '../../../src/synth/scene/conditions.js';
import {
  addBaseballDiamond, addBasketballCourt, addBridge, addGroundTrackField, addPier, addRoundabout, addSoccerField,
  addStorageTank, addSwimmingPool, addTennisCourt,
} from '../../../src/synth/scene/facilities.js';
import { pointInPolygon, signedArea, type Vec } from '../../../src/synth/scene/geometry.js';
import { addCar, addHelicopter, addPlane, addShip, addTruck } from '../../../src/synth/scene/objects.js';
import { DOTA_CLASSES, Scene, type Feature } from '../../../src/synth/scene/scene.js';

type Maker = (s: Scene, rng: Rng, x: number, y: number, a: number) => Feature;

/** One maker per DOTA v1.0 class, at a GSD that makes the object 60-150 px long. */
const MAKERS: Record<(typeof DOTA_CLASSES)[number], { gsd: number; make: Maker }> = {
  plane: { gsd: 0.5, make: (s, r, x, y, a) => addPlane(s, r, x, y, a) },
  'baseball-diamond': { gsd: 1.0, make: (s, r, x, y, a) => addBaseballDiamond(s, r, x, y, a) },
  bridge: { gsd: 0.3, make: (s, r, x, y, a) => addBridge(s, r, x, y, a, 150) },
  'ground-track-field': { gsd: 1.5, make: (s, r, x, y, a) => addGroundTrackField(s, r, x, y, a) },
  'small-vehicle': { gsd: 0.05, make: (s, r, x, y, a) => addCar(s, r, x, y, a) },
  'large-vehicle': { gsd: 0.12, make: (s, r, x, y, a) => addTruck(s, r, x, y, a) },
  ship: { gsd: 1.0, make: (s, r, x, y, a) => addShip(s, r, x, y, a) },
  'tennis-court': { gsd: 0.4, make: (s, r, x, y, a) => addTennisCourt(s, r, x, y, a) },
  'basketball-court': { gsd: 0.3, make: (s, r, x, y, a) => addBasketballCourt(s, r, x, y, a) },
  'storage-tank': { gsd: 0.5, make: (s, r, x, y) => addStorageTank(s, r, x, y) },
  'soccer-ball-field': { gsd: 1.2, make: (s, r, x, y, a) => addSoccerField(s, r, x, y, a) },
  roundabout: { gsd: 0.5, make: (s, r, x, y) => addRoundabout(s, r, x, y) },
  harbor: { gsd: 1.6, make: (s, r, x, y, a) => addPier(s, r, x, y, a) },
  'swimming-pool': { gsd: 0.2, make: (s, r, x, y, a) => addSwimmingPool(s, r, x, y, a) },
  helicopter: { gsd: 0.1, make: (s, r, x, y, a) => addHelicopter(s, r, x, y, a) },
};

/** Distance from (x, y) to the line through a-b. */
const lineDist = (x: number, y: number, a: Vec, b: Vec): number =>
  Math.abs((b[0] - a[0]) * (a[1] - y) - (a[0] - x) * (b[1] - a[1])) / Math.hypot(b[0] - a[0], b[1] - a[1]);

describe('oriented boxes contain exactly what each object paints, at any angle', () => {
  const S = 256;
  it.each(Object.keys(MAKERS))('%s: 6 random angles, box contains every painted pixel centre and is tight within 2.5 px', (cls) => {
    const { gsd, make } = MAKERS[cls as keyof typeof MAKERS];
    const rng = new Rng(cls.length * 31);
    for (let k = 0; k < 6; k++) {
      const scene = new Scene(S, S, gsd, 7);

      const f = make(scene, rng, S / 2 + rng.uniform(-10, 10), S / 2 + rng.uniform(-10, 10), rng.uniform(-Math.PI, Math.PI));
      expect(f.dotaClass).toBe(cls);
      const box = f.obb!;
      expect(box).toHaveLength(4);
      expect(signedArea(box)).toBeGreaterThan(0); // clockwise on screen
      const c = scene.paint(SUMMER_NOON);
      const pix: Array<[number, number]> = [];
      for (let i = 0; i < c.obj.length; i++) if (c.obj[i] === f.id) pix.push([(i % S) + 0.5, Math.floor(i / S) + 0.5]);
      expect(pix.length).toBeGreaterThan(20);
      expect(pix.filter(([x, y]) => !pointInPolygon(x, y, box))).toEqual([]);
      // tight: every side of the box has painted pixel centres within 2.5 px of it (half a pixel of margin,
      // half a pixel of sampling, and pointed tips: a bow, a nose, a rotor blade)
      for (let e = 0; e < 4; e++) {
        let d = Infinity;
        for (const [x, y] of pix) d = Math.min(d, lineDist(x, y, box[e]!, box[(e + 1) % 4]!));
        expect(d).toBeLessThan(2.5);
      }
    }
  });
});
