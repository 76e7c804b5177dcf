/**
 * Shared fixtures of the transforms tests: seeded synthetic images with texture, edges and flat regions (so
 * resampling, blur and colour ops are exercised), and the PyTorch-oracle gate (skip with a message, or fail when
 * CMID_REQUIRE_TORCH=1).
 */
import { spawnSync } from 'node:child_process';
import { it } from 'vitest';
import { Rng } from '../../src/rng/rng.js';
import type { Image } from '../../src/transforms/image.js';
import { PYTHON, torchRequired } from '../../src/testing/torch-oracle.js';

/** A uint8 H x W x C image: smooth gradients + a few flat rectangles + per-pixel noise; values span 0..255. */
export function synthImage(height: number, width: number, channels = 3, seed = 0): Image<Uint8Array> {
  const rng = new Rng(seed);
  const data = new Uint8Array(height * width * channels);
  const rects = Array.from({ length: 4 }, () => ({
    y0: rng.int(0, height), x0: rng.int(0, width), h: rng.int(1, Math.max(2, height >> 1)), w: rng.int(1, Math.max(2, width >> 1)),
    v: Array.from({ length: channels }, () => rng.int(0, 256)),
  }));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < channels; c++) {
        let v = 128 + 110 * Math.sin((x * (c + 1)) / 9 + y / 13 + c) * Math.cos(y / (7 + c));
        for (const r of rects) if (y >= r.y0 && y < r.y0 + r.h && x >= r.x0 && x < r.x0 + r.w) v = r.v[c]!;
        v += rng.uniform(-12, 12);
        data[(y * width + x) * channels + c] = Math.max(0, Math.min(255, Math.round(v)));
      }
    }
  }
  // a few saturated and gray pixels (edge cases of clamping and hue)
  for (let i = 0; i < Math.min(50, height * width); i++) {
    const p = rng.int(0, height * width) * channels;
    const g = rng.int(0, 2) * 255;
    for (let c = 0; c < channels; c++) data[p + c] = i % 2 === 0 ? g : data[p]!;
  }
  return { data, height, width, channels };
}

/** Float32 view of the values, for runTorch inputs. */
export function f32(data: ArrayLike<number>): Float32Array {
  return Float32Array.from(data);
}

let installed: boolean | undefined;

/**
 * Whether torch, torchvision and PIL are importable by /usr/bin/python3, checked with importlib's find_spec, which
 * does not import them (about 50 ms instead of the 2 s of testing's torchAvailable(), paid by every oracle file; a
 * present but broken install then fails in runTorch with Python's message, which is what we want to see).
 */
function oracleInstalled(): boolean {
  if (installed === undefined) {
    const probe = "import importlib.util as u, sys; sys.exit(0 if all(u.find_spec(m) for m in ('torch', 'torchvision', 'PIL', 'numpy')) else 1)";
    installed = spawnSync(PYTHON, ['-c', probe], { stdio: 'ignore', timeout: 60_000 }).status === 0;
  }
  return installed;
}

/** An `it` that needs the PyTorch oracle: skipped (with the reason in its name) when absent, failing when required. */
export function itOracle(name: string, fn: () => void | Promise<void>): void {
  const haveTorch = oracleInstalled();
  const skip = !haveTorch && !torchRequired();
  it.skipIf(skip)(`${name}${haveTorch ? '' : ' (SKIPPED: /usr/bin/python3 lacks torch/torchvision/PIL; set CMID_REQUIRE_TORCH=1 to fail instead)'}`, async () => {
    if (!haveTorch) throw new Error('CMID_REQUIRE_TORCH=1 but /usr/bin/python3 lacks torch/torchvision/PIL (apt-get install python3-torch python3-torchvision python3-pil)');
    await fn();
  });
}

/** Count of positions where a and b differ, and the largest absolute difference. */
export function diffStats(a: ArrayLike<number>, b: ArrayLike<number>): { mismatches: number; maxDiff: number } {
  if (a.length !== b.length) throw new Error(`diffStats: lengths ${a.length} and ${b.length} differ`);
  let mismatches = 0, maxDiff = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (d !== 0) mismatches++;
    if (d > maxDiff || Number.isNaN(d)) maxDiff = d;
  }
  return { mismatches, maxDiff };
}
