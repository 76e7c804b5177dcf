/**
 * Roads: polylines of a given width with round joins, optional sidewalks, lane markings (dashed lane lines,
 * solid edge lines) painted onto the road's own pixels only, and elevated decks (overpasses) that cast a
 * shadow on what passes below.
 */
import { orientedRect, polylineQuads, type Vec } from './geometry.js';
import { MAT, SEM } from './materials.js';
import { LAYER, type Feature, type Scene } from './scene.js';

export interface RoadOptions {
  /** Carriageway width in pixels. */
  width: number;
  /** Surface material. Default asphalt. */
  mat?: number;
  /** Sidewalk width on each side, pixels (paving). Default none. */
  sidewalk?: number;
  /** Markings: none, a dashed centre line, or lane lines plus solid edges. Default 'centre' when wide enough. */
  marking?: 'none' | 'centre' | 'lanes';
  /** Number of lanes for 'lanes'. Default 2. */
  lanes?: number;
  /** Elevated deck height in metres (overpass). Default 0 (on the ground). */
  elev?: number;
  kind?: string;
  layer?: number;
}

/** Adds a road along `path` (pixels). */
export function addRoad(scene: Scene, path: readonly Vec[], o: RoadOptions): Feature {
  const mat = o.mat ?? MAT.asphalt;
  const sw = o.sidewalk ?? 0;
  const total = o.width + 2 * sw;
  const footprint = polylineQuads(path, total);
  const elev = o.elev ?? 0;
  const lw = scene.px(0.15);
  const marking = lw < 0.6 ? 'none' : (o.marking ?? (o.width > scene.px(5) ? 'centre' : 'none'));
  const lanes = o.lanes ?? 2;
  const dash = scene.px(3);
  const gap = scene.px(6);
  return scene.add({
    kind: o.kind ?? 'road',
    layer: o.layer ?? (elev > 0 ? LAYER.bridge : LAYER.road),
    footprint,
    paint: (c, _cond, id) => {
      const lineW = Math.max(1, lw);
      if (sw > 0) {
        const b = { mat: MAT.paving, cls: SEM.road, id, elev };
        for (let i = 0; i + 1 < path.length; i++) c.fillLine(path[i]!, path[i + 1]!, total, b);
      }
      const brush = { mat, cls: SEM.road, id, elev };
      for (let i = 0; i + 1 < path.length; i++) c.fillLine(path[i]!, path[i + 1]!, o.width, brush, i > 0 || path.length === 2);
      if (marking !== 'none') {
        const offsets: Array<{ off: number; dashed: boolean }> = [];
        if (marking === 'centre') offsets.push({ off: 0, dashed: true });
        else {
          for (let k = 1; k < lanes; k++) offsets.push({ off: -o.width / 2 + (k * o.width) / lanes, dashed: true });
          offsets.push({ off: -o.width / 2 + lineW * 1.5, dashed: false }, { off: o.width / 2 - lineW * 1.5, dashed: false });
        }
        let phase = 0;
        for (let i = 0; i + 1 < path.length; i++) {
          const [x0, y0] = path[i]!;
          const [x1, y1] = path[i + 1]!;
          const len = Math.hypot(x1 - x0, y1 - y0);
          if (len === 0) continue;
          const ang = Math.atan2(y1 - y0, x1 - x0);
          const ux = (x1 - x0) / len;
          const uy = (y1 - y0) / len;
          for (const { off, dashed } of offsets) {
            const ox = -uy * off;
            const oy = ux * off;
            if (!dashed) {
              c.recolour(orientedRect((x0 + x1) / 2 + ox, (y0 + y1) / 2 + oy, len, lineW, ang), id, MAT.paint);
              continue;
            }
            for (let t = -phase; t < len; t += dash + gap) {
              const a = Math.max(0, t);
              const b = Math.min(len, t + dash);
              if (b <= a) continue;
              const m = (a + b) / 2;
              c.recolour(orientedRect(x0 + ux * m + ox, y0 + uy * m + oy, b - a, lineW, ang), id, MAT.paint);
            }
          }
          phase = (phase + len) % (dash + gap);
        }
      }
      if (elev > 0) c.casters.push({ id, parts: footprint, height: elev, mode: 'float' });
    },
  });
}

/** A straight road through the whole canvas at `angle`, passing through (cx, cy). */
export function straightPath(width: number, height: number, cx: number, cy: number, angle: number): Vec[] {
  const L = Math.hypot(width, height);
  const dx = Math.cos(angle) * L;
  const dy = Math.sin(angle) * L;
  return [[cx - dx, cy - dy], [cx + dx, cy + dy]];
}
