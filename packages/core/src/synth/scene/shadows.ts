/**
 * Cast shadows for one sun position. Shadows point away from the sun (azimuth + 180 degrees) and have length
 * height / tan(elevation). A pixel is shadowed by a caster when it lies in the caster's shadow shape and its own
 * surface is lower than the caster (so a tall building shades a low roof, never the reverse). Shadows only
 * change `lit`, never the class: ISPRS and DOTA label the surface under a shadow by what it is.
 */
import type { Canvas, Caster } from './canvas.js';
import type { Conditions } from './conditions.js';
import { convexHull, ellipsePoly, rasterPolygon, translate, type Poly, type Vec } from './geometry.js';

/** Unit vector (image x east, y south) pointing away from the sun, and shadow pixels per metre of height. */
export function shadowVector(cond: Conditions, gsd: number): { dx: number; dy: number; perMetre: number } {
  const az = (cond.sunAzimuth * Math.PI) / 180;
  const el = (Math.max(5, cond.sunElevation) * Math.PI) / 180;
  return { dx: -Math.sin(az), dy: Math.cos(az), perMetre: 1 / Math.tan(el) / gsd };
}

/** Unit vector towards the sun in (east, south, up) coordinates. */
export function sunVector(cond: Conditions): [number, number, number] {
  const az = (cond.sunAzimuth * Math.PI) / 180;
  const el = (cond.sunElevation * Math.PI) / 180;
  return [Math.sin(az) * Math.cos(el), -Math.cos(az) * Math.cos(el), Math.sin(el)];
}

/**
 * Light on a tilted surface relative to flat ground, as a shading factor: the surface normal (east, south, up)
 * dotted with the sun, divided by the sun's height; faces turned away keep the diffuse part only.
 */
export function facetShade(normal: readonly [number, number, number], cond: Conditions): number {
  const s = sunVector(cond);
  const n = Math.hypot(normal[0], normal[1], normal[2]) || 1;
  const d = (normal[0] * s[0] + normal[1] * s[1] + normal[2] * s[2]) / n;
  const rel = Math.max(0, d) / Math.max(0.15, s[2]);
  return 0.32 + 0.68 * Math.min(rel, 1.7);
}

function shadowShapes(caster: Caster, dx: number, dy: number): Poly[] {
  const out: Poly[] = [];
  if (caster.mode === 'extrude') {
    for (const p of caster.parts) out.push(convexHull([...p, ...translate(p, dx, dy)]));
    for (const [cx, cy, r] of caster.discs ?? []) {
      const ring = translate(ellipsePoly(r, r, 16), cx, cy);
      out.push(convexHull([...ring, ...translate(ring, dx, dy)]));
    }
  } else {
    for (const p of caster.parts) out.push(translate(p, dx, dy));
    for (const [cx, cy, r] of caster.discs ?? []) {
      // a crown: a sphere of radius r whose centre is r below the top; the shadow is elongated a little
      const a: Vec = [cx + dx * 0.55, cy + dy * 0.55];
      const ring = translate(ellipsePoly(r, r, 16), a[0], a[1]);
      out.push(convexHull([...ring, ...translate(ring, dx * 0.45, dy * 0.45)]));
    }
  }
  return out;
}

/** Fills `c.lit` from `c.casters` for the sun of `cond`. */
export function castShadows(c: Canvas, cond: Conditions): void {
  const v = shadowVector(cond, c.gsd);
  const { width, height, obj, elev, lit } = c;
  for (const caster of c.casters) {
    const len = caster.height * v.perMetre;
    if (len < 0.3) continue;
    const top = caster.height - 0.05;
    for (const shape of shadowShapes(caster, v.dx * len, v.dy * len)) {
      rasterPolygon(width, height, shape, (x, y) => {
        const i = y * width + x;
        if (obj[i] !== caster.id && elev[i]! < top) lit[i] = 0;
      });
    }
  }
}
