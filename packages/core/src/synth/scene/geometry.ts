/**
 * Plane geometry for the painters, in pixel units of the canvas: x to the right (east), y down (south).
 *
 * The one rasterisation rule used everywhere: a pixel (col, row) belongs to a shape when its centre
 * (col + 0.5, row + 0.5) lies inside (scanline fill, half-open on crossings). Labels are derived from the same
 * shapes, so a label polygon that contains a shape contains every pixel the shape painted.
 */

/** A point [x, y] in pixels. */
export type Vec = readonly [number, number];
/** A simple polygon as its vertices in order (either orientation; closed implicitly). */
export type Poly = readonly Vec[];

export function rotate([x, y]: Vec, angle: number): Vec {
  const c = Math.cos(angle);
  const s = Math.sin(angle);
  return [x * c - y * s, x * s + y * c];
}

/** Local shape (origin at the object's centre, +x along its length) placed at (cx, cy), turned by `angle`. */
export function place(local: Poly, cx: number, cy: number, angle: number): Vec[] {
  const c = Math.cos(angle);
  const s = Math.sin(angle);
  return local.map(([x, y]) => [cx + x * c - y * s, cy + x * s + y * c] as const);
}

/** Corners of a rectangle of `length` (along `angle`) by `width`, centred on (cx, cy), clockwise on screen. */
export function orientedRect(cx: number, cy: number, length: number, width: number, angle: number): Vec[] {
  const l = length / 2;
  const w = width / 2;
  return place([[-l, -w], [l, -w], [l, w], [-l, w]], cx, cy, angle);
}

/** Axis-aligned local box [x0, y0, x1, y1] as a polygon (clockwise on screen). */
export function boxPoly(x0: number, y0: number, x1: number, y1: number): Vec[] {
  return [[x0, y0], [x1, y0], [x1, y1], [x0, y1]];
}

/** Regular n-gon approximating an ellipse with semi-axes (rx, ry), centred on the origin. */
export function ellipsePoly(rx: number, ry: number, n = 20): Vec[] {
  const out: Vec[] = [];
  for (let i = 0; i < n; i++) {
    const t = (2 * Math.PI * i) / n;
    out.push([rx * Math.cos(t), ry * Math.sin(t)]);
  }
  return out;
}

export function translate(poly: Poly, dx: number, dy: number): Vec[] {
  return poly.map(([x, y]) => [x + dx, y + dy] as const);
}

/** Signed area (positive when clockwise on screen, i.e. counter-clockwise in a y-up frame). */
export function signedArea(poly: Poly): number {
  let a = 0;
  for (let i = 0; i < poly.length; i++) {
    const [x0, y0] = poly[i]!;
    const [x1, y1] = poly[(i + 1) % poly.length]!;
    a += x0 * y1 - x1 * y0;
  }
  return a / 2;
}

export function bounds(poly: Poly): { x0: number; y0: number; x1: number; y1: number } {
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (const [x, y] of poly) {
    if (x < x0) x0 = x;
    if (y < y0) y0 = y;
    if (x > x1) x1 = x;
    if (y > y1) y1 = y;
  }
  return { x0, y0, x1, y1 };
}

/** Even-odd point-in-polygon test, with the same half-open crossing rule as rasterPolygon. */
export function pointInPolygon(x: number, y: number, poly: Poly): boolean {
  let inside = false;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const [xi, yi] = poly[i]!;
    const [xj, yj] = poly[j]!;
    if ((yi <= y && y < yj) || (yj <= y && y < yi)) {
      const xc = xi + ((y - yi) * (xj - xi)) / (yj - yi);
      if (x < xc) inside = !inside;
    }
  }
  return inside;
}

/** Convex hull (Andrew's monotone chain), clockwise on screen. */
export function convexHull(points: readonly Vec[]): Vec[] {
  const pts = [...points].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  if (pts.length < 3) return pts;
  const cross = (o: Vec, a: Vec, b: Vec): number => (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
  const lower: Vec[] = [];
  for (const p of pts) {
    while (lower.length >= 2 && cross(lower[lower.length - 2]!, lower[lower.length - 1]!, p) <= 0) lower.pop();
    lower.push(p);
  }
  const upper: Vec[] = [];
  for (let i = pts.length - 1; i >= 0; i--) {
    const p = pts[i]!;
    while (upper.length >= 2 && cross(upper[upper.length - 2]!, upper[upper.length - 1]!, p) <= 0) upper.pop();
    upper.push(p);
  }
  upper.pop();
  lower.pop();
  return lower.concat(upper);
}

/**
 * Calls visit(col, row) for every pixel of a width x height grid whose centre lies inside `poly` (even-odd).
 * Rows are visited top to bottom, columns left to right.
 */
export function rasterPolygon(width: number, height: number, poly: Poly, visit: (x: number, y: number) => void): void {
  const n = poly.length;
  if (n < 3) return;
  const b = bounds(poly);
  const r0 = Math.max(0, Math.ceil(b.y0 - 0.5));
  const r1 = Math.min(height - 1, Math.ceil(b.y1 - 0.5) - 1);
  const xs: number[] = [];
  for (let row = r0; row <= r1; row++) {
    const yc = row + 0.5;
    xs.length = 0;
    for (let i = 0, j = n - 1; i < n; j = i++) {
      const [xi, yi] = poly[i]!;
      const [xj, yj] = poly[j]!;
      if ((yi <= yc && yc < yj) || (yj <= yc && yc < yi)) xs.push(xi + ((yc - yi) * (xj - xi)) / (yj - yi));
    }
    xs.sort((a, b2) => a - b2);
    for (let k = 0; k + 1 < xs.length; k += 2) {
      // pixel centres c = col + 0.5 with xa <= c < xb  (pointInPolygon counts crossings strictly right of c)
      const c0 = Math.max(0, Math.ceil(xs[k]! - 0.5));
      const c1 = Math.min(width - 1, Math.ceil(xs[k + 1]! - 0.5) - 1);
      for (let col = c0; col <= c1; col++) visit(col, row);
    }
  }
}

/** Pixels whose centre lies within distance r of (cx, cy). */
export function rasterDisc(width: number, height: number, cx: number, cy: number, r: number, visit: (x: number, y: number) => void): void {
  const r2 = r * r;
  const r0 = Math.max(0, Math.floor(cy - r - 0.5));
  const r1 = Math.min(height - 1, Math.ceil(cy + r - 0.5));
  for (let row = r0; row <= r1; row++) {
    const dy = row + 0.5 - cy;
    const h2 = r2 - dy * dy;
    if (h2 < 0) continue;
    const h = Math.sqrt(h2);
    const c0 = Math.max(0, Math.ceil(cx - h - 0.5));
    const c1 = Math.min(width - 1, Math.floor(cx + h - 0.5));
    for (let col = c0; col <= c1; col++) visit(col, row);
  }
}

/** Quads (one per segment) of a polyline of the given width; joints are filled by the caller with discs. */
export function polylineQuads(path: readonly Vec[], width: number): Vec[][] {
  const out: Vec[][] = [];
  for (let i = 0; i + 1 < path.length; i++) {
    const [x0, y0] = path[i]!;
    const [x1, y1] = path[i + 1]!;
    const len = Math.hypot(x1 - x0, y1 - y0);
    if (len === 0) continue;
    out.push(orientedRect((x0 + x1) / 2, (y0 + y1) / 2, len, width, Math.atan2(y1 - y0, x1 - x0)));
  }
  return out;
}

/** Distance from (x, y) to the segment a-b. */
export function distToSegment(x: number, y: number, a: Vec, b: Vec): number {
  const dx = b[0] - a[0];
  const dy = b[1] - a[1];
  const l2 = dx * dx + dy * dy;
  const t = l2 === 0 ? 0 : Math.max(0, Math.min(1, ((x - a[0]) * dx + (y - a[1]) * dy) / l2));
  return Math.hypot(x - a[0] - t * dx, y - a[1] - t * dy);
}

/** True when two convex polygons overlap (separating axis theorem), after growing both by `margin` pixels. */
export function convexOverlap(a: Poly, b: Poly, margin = 0): boolean {
  for (const poly of [a, b]) {
    for (let i = 0; i < poly.length; i++) {
      const [x0, y0] = poly[i]!;
      const [x1, y1] = poly[(i + 1) % poly.length]!;
      const nx = y0 - y1;
      const ny = x1 - x0;
      const nl = Math.hypot(nx, ny) || 1;
      let amin = Infinity, amax = -Infinity, bmin = Infinity, bmax = -Infinity;
      for (const [x, y] of a) { const p = (x * nx + y * ny) / nl; amin = Math.min(amin, p); amax = Math.max(amax, p); }
      for (const [x, y] of b) { const p = (x * nx + y * ny) / nl; bmin = Math.min(bmin, p); bmax = Math.max(bmax, p); }
      if (amax + margin < bmin || bmax + margin < amin) return false;
    }
  }
  return true;
}
