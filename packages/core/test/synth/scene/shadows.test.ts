import { describe, expect, it } from 'vitest';
import { addBuilding } from '../../../src/synth/scene/buildings.js';
import { SUMMER_NOON, sunPosition, type Conditions } from '../../../src/synth/scene/conditions.js';
import { addGround } from '../../../src/synth/scene/ground.js';
import { MAT, SEM } from '../../../src/synth/scene/materials.js';
import { Scene } from '../../../src/synth/scene/scene.js';
import { shadowVector } from '../../../src/synth/scene/shadows.js';

const S = 200;
const GSD = 0.5;

/** One 10 x 10 m building, `height` m tall, in the middle of a lawn. */
function oneBuilding(height: number): Scene {
  const scene = new Scene(S, S, GSD, 1);
  addGround(scene, MAT.lawn);
  addBuilding(scene, { cx: S / 2, cy: S / 2, length: 20, width: 20, angle: 0, height, roof: 'flat', mat: MAT.roof_flat });
  return scene;
}

/** Centroid offset (pixels) and count of the shadowed pixels. */
function shadowOf(scene: Scene, cond: Conditions): { dx: number; dy: number; n: number; extent: number } {
  const c = scene.paint(cond);
  let sx = 0, sy = 0, n = 0, extent = 0;
  for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) {
    const i = y * S + x;
    if (c.lit[i] !== 0) continue;
    expect(c.cls[i]).not.toBe(SEM.building); // a building does not shade its own roof
    sx += x + 0.5 - S / 2;
    sy += y + 0.5 - S / 2;
    extent = Math.max(extent, Math.hypot(x + 0.5 - S / 2, y + 0.5 - S / 2));
    n++;
  }
  return { dx: sx / n, dy: sy / n, n, extent };
}

describe('cast shadows: away from the sun, length height / tan(elevation)', () => {
  it.each([
    [135, 45, -1, -1], // sun in the south-east: shadow to the north-west (up-left)
    [225, 45, 1, -1], // south-west: north-east
    [90, 30, -1, 0], // east: west
    [180, 60, 0, -1], // south: north (up)
  ])('sun azimuth %i elevation %i: shadow centroid direction (%i, %i)', (az, el, ex, ey) => {
    const r = shadowOf(oneBuilding(10), { ...SUMMER_NOON, sunAzimuth: az, sunElevation: el });
    expect(r.n).toBeGreaterThan(50);
    const len = Math.hypot(r.dx, r.dy);
    expect(r.dx / len).toBeCloseTo(ex / Math.hypot(ex, ey), 1);
    expect(r.dy / len).toBeCloseTo(ey / Math.hypot(ex, ey), 1);
  });

  it('a taller building and a lower sun give a longer shadow, as h / tan(el) / gsd', () => {
    const cond = { ...SUMMER_NOON, sunAzimuth: 180, sunElevation: 40 };
    const low = shadowOf(oneBuilding(5), cond);
    const high = shadowOf(oneBuilding(15), cond);
    const lowSun = shadowOf(oneBuilding(5), { ...cond, sunElevation: 20 });
    expect(high.n).toBeGreaterThan(2.5 * low.n);
    expect(lowSun.n).toBeGreaterThan(1.8 * low.n);
    // the far edge of the shadow: half the building (10 px) plus the shadow length
    const expected = 10 + shadowVector(cond, GSD).perMetre * 15;
    expect(high.extent).toBeGreaterThan(expected - 2);
    expect(high.extent).toBeLessThan(Math.hypot(expected, 10) + 2);
  });

  it('sunPosition: higher in summer than in winter at 50 N, in the south-east mid-morning', () => {
    const summer = sunPosition(172, 50, 10.5);
    const winter = sunPosition(355, 50, 10.5);
    expect(summer.elevation).toBeGreaterThan(50);
    expect(winter.elevation).toBeLessThan(16);
    expect(summer.azimuth).toBeGreaterThan(110);
    expect(summer.azimuth).toBeLessThan(180);
    expect(sunPosition(172, 50, 12).azimuth).toBeCloseTo(180, 5);
  });
});
