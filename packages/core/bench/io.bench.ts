/**
 * Large GeoTIFF windowed read (issue "Imagery IO, augmentation, and an embedded synthetic remote-sensing
 * benchmark": "a 10000x10000 uint16 4-band GeoTIFF is read window by window with bounded memory").
 *
 * 1. Fixture: a 10000 x 10000, 4-band uint16 GeoTIFF (256 px tiles, Deflate level 6 + horizontal predictor, EPSG:32633)
 *    written once by our writer (io/write-geotiff.ts) into a temp dir, deleted at the end. The writer takes the whole
 *    array (800 MB), so it runs in its own child process and its memory never counts against the readers'. Content:
 *    smooth per-band fields plus 6 bits of noise, so the tiles compress like imagery (about 2:1), not like zeros.
 * 2. Reads, each pass in its own process so that its peak RSS (process.resourceUsage().maxRSS) is its own:
 *    - ours: openRaster() + readNative() (uint16, all bands, HWC) over --random random 512 x 512 windows
 *      (randomWindows sampler) and over the full grid pass (gridWindows, 512 px, edge 'shift': every pixel);
 *      plus read() (float32, what the data loader's window map uses) over the random windows;
 *    - GDAL 3.6 via Python (benchmarks/reference/gdal_window_read.py) over the same windows, Dataset.ReadAsArray,
 *      block cache limited to --gdal-cache MiB (ours keeps no decoded-tile cache). A checksum of the samples read
 *      must agree between the readers.
 *    Both readers decode on one thread. Each pass runs --reps times in fresh processes, alternating readers (the float32
 *    pass once); rates are medians, peak RSS the largest.
 * Writes benchmarks/results/io-geotiffjs-u16-<machine>-<date>.json and renders the README block bench:data.
 *
 * Usage: pnpm --filter core bench:io [-- --random 200 --reps 3 --seed 0 --gdal-cache 64 --size 10000]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(import.meta.url);
const BANDS = 4;
const TILE = 256;
const WIN = 512;

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}

const rssMiB = (): number => process.resourceUsage().maxRSS / 1024;

// ---------------------------------------------------------------- children

/** Child: writes the fixture; prints {writeS, peakRssMiB}. */
async function childWrite(path: string, size: number): Promise<void> {
  const { writeGeoTiff } = await import('../src/io/write-geotiff.js');
  const t0 = performance.now();
  const n = size * size;
  const data = new Uint16Array(n * BANDS);
  const sx = new Float64Array(size), cy = new Float64Array(size);
  for (let i = 0; i < size; i++) {
    sx[i] = Math.sin(i / 97);
    cy[i] = Math.cos(i / 131);
  }
  let s = 0x9e3779b9 | 0;
  for (let y = 0; y < size; y++) {
    const c = cy[y]!;
    for (let x = 0; x < size; x++) {
      const v = sx[x]! * c;
      const o = (y * size + x) * BANDS;
      for (let b = 0; b < BANDS; b++) {
        s ^= s << 13;
        s ^= s >>> 17;
        s ^= s << 5;
        data[o + b] = 1200 + 400 * b + Math.round(700 * v * (1 + 0.2 * b)) + (s & 63);
      }
    }
  }
  const fillS = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  await writeGeoTiff(path, data, {
    width: size,
    height: size,
    bands: BANDS,
    tileSize: TILE,
    predictor: true,
    geo: { transform: [500000, 1, 0, 5000000, 0, -1], epsg: 32633, crsKind: 'projected' },
  });
  console.log(JSON.stringify({ fillS, writeS: (performance.now() - t1) / 1000, peakRssMiB: rssMiB() }));
}

/** Child: reads the windows in `windowsFile` with our reader; prints the pass's figures. */
async function childRead(path: string, windowsFile: string, kind: 'native' | 'float32'): Promise<void> {
  const { readFileSync } = await import('node:fs');
  const { openRaster } = await import('../src/io/read-raster.js');
  const windows = JSON.parse(readFileSync(windowsFile, 'utf8')) as [number, number, number, number][];
  const rssStart = rssMiB();
  const r = await openRaster(path);
  const rssOpen = rssMiB();
  let checksum = 0n;
  let bytes = 0;
  const t0 = performance.now();
  for (const [x, y, width, height] of windows) {
    const d = kind === 'native' ? await r.readNative({ window: { x, y, width, height } }) : await r.read({ window: { x, y, width, height } });
    let sum = 0;
    const a = d.data;
    for (let i = 0; i < a.length; i++) sum += a[i]!;
    checksum += BigInt(sum);
    bytes += a.length * 2; // decoded bytes in the file's own type (uint16), whatever the output type
  }
  const seconds = (performance.now() - t0) / 1000;
  await r.close();
  console.log(JSON.stringify({
    windows: windows.length,
    seconds,
    windowsPerS: windows.length / seconds,
    mbPerS: bytes / 1e6 / seconds,
    checksum: checksum.toString(),
    rssStartMiB: rssStart,
    rssAfterOpenMiB: rssOpen,
    peakRssMiB: rssMiB(),
  }));
}

// ---------------------------------------------------------------- main

interface PassResult {
  windows: number;
  seconds: number;
  windowsPerS: number;
  mbPerS: number;
  checksum: string;
  rssAfterOpenMiB: number;
  peakRssMiB: number;
}

function runTs(args: string[]): string {
  const out = execFileSync(process.execPath, [...process.execArgv, here, '--child', ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 1 << 20,
  });
  return out.trim().split('\n').pop()!;
}

async function main(): Promise<void> {
  const size = arg('size', 10000), nRandom = arg('random', 200), seed = arg('seed', 0), gdalCache = arg('gdal-cache', 64), reps = arg('reps', 3);
  const { gridWindows } = await import('../src/data/samplers/grid-windows.js');
  const { randomWindows } = await import('../src/data/samplers/random-windows.js');
  const { PYTHON } = await import('../src/testing/torch-oracle.js');
  const { formatTable, machineInfo, machineTag, repoRoot, writeBenchResult } = await import('../src/testing/bench.js');
  const gdalOk = spawnSync(PYTHON, ['-c', 'from osgeo import gdal'], { stdio: 'ignore', timeout: 60_000 }).status === 0;
  if (!gdalOk) console.warn(`'from osgeo import gdal' fails under ${PYTHON}: reporting our reader alone (apt-get install python3-gdal for the comparison).`);
  const load0 = loadavg();
  const dir = mkdtempSync(join(tmpdir(), 'cmid-bench-io-'));
  try {
    const path = join(dir, `scene-${size}.tif`);
    console.log(`writing ${size}x${size}x${BANDS} uint16 GeoTIFF (${TILE} px deflate tiles, predictor) with our writer...`);
    const write = JSON.parse(runTs(['write', path, String(size)])) as { fillS: number; writeS: number; peakRssMiB: number };
    const fileMiB = statSync(path).size / 2 ** 20;
    console.log(`  wrote ${fileMiB.toFixed(0)} MiB in ${write.writeS.toFixed(1)} s (writer process peak RSS ${write.peakRssMiB.toFixed(0)} MiB)`);
    const raster = { width: size, height: size };
    const passes = {
      random: randomWindows(raster, { size: WIN, length: nRandom, seed }),
      grid: gridWindows(raster, { size: WIN, edge: 'shift' }),
    };
    const files: Record<string, string> = {};
    for (const [name, ws] of Object.entries(passes)) {
      files[name] = join(dir, `${name}.json`);
      writeFileSync(files[name]!, JSON.stringify(ws.map((w) => [w.x, w.y, w.width, w.height])));
    }
    const results = new Map<string, { reader: string; pass: string; runs: PassResult[] }>();
    const checks: Record<string, Record<string, string>> = {};
    const add = (reader: string, pass: string, r: PassResult) => {
      const key = `${reader}|${pass}`;
      if (!results.has(key)) results.set(key, { reader, pass, runs: [] });
      results.get(key)!.runs.push(r);
      const prev = (checks[pass] ??= {})[reader];
      if (prev !== undefined && prev !== r.checksum) throw new Error(`${reader} ${pass}: checksum changed between runs (${prev} -> ${r.checksum})`);
      checks[pass]![reader] = r.checksum;
      console.log(`  ${reader} ${pass}: ${r.windowsPerS.toFixed(1)} windows/s, ${r.mbPerS.toFixed(0)} MB/s, peak RSS ${r.peakRssMiB.toFixed(0)} MiB`);
    };
    for (let rep = 0; rep < reps; rep++) {
      console.log(`round ${rep + 1}/${reps}`);
      for (const pass of ['random', 'grid'] as const) {
        add('ours, readNative (uint16)', pass, JSON.parse(runTs(['read', path, files[pass]!, 'native'])) as PassResult);
        if (pass === 'random' && rep === 0) add('ours, read (float32)', pass, JSON.parse(runTs(['read', path, files[pass]!, 'float32'])) as PassResult);
        if (gdalOk) {
          const script = join(repoRoot(), 'benchmarks', 'reference', 'gdal_window_read.py');
          const out = execFileSync(PYTHON, [script, path, files[pass]!, String(gdalCache)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
          const g = JSON.parse(out.trim().split('\n').pop()!) as Record<string, number>;
          add(`GDAL ${gdalVersion(PYTHON)} ReadAsArray (uint16)`, pass, {
            windows: g.windows!, seconds: g.seconds!, windowsPerS: g.windows_per_s!, mbPerS: g.mb_per_s!, checksum: String(g.checksum),
            rssAfterOpenMiB: g.rss_after_open_mib!, peakRssMiB: g.peak_rss_mib!,
          });
        }
      }
    }
    const median = (xs: number[]) => {
      const a = [...xs].sort((p, q) => p - q);
      const m = a.length >> 1;
      return a.length % 2 ? a[m]! : (a[m - 1]! + a[m]!) / 2;
    };
    const rows: Array<Record<string, number | string>> = [...results.values()].map(({ reader, pass, runs }) => ({
      reader,
      pass: `${pass} (${runs[0]!.windows} windows)`,
      runs: runs.length,
      windowsPerS: median(runs.map((r) => r.windowsPerS)),
      mbPerS: median(runs.map((r) => r.mbPerS)),
      peakRssMiB: Math.max(...runs.map((r) => r.peakRssMiB)),
      rssAfterOpenMiB: Math.max(...runs.map((r) => r.rssAfterOpenMiB)),
      secondsPerRun: runs.map((r) => r.seconds).join(', '),
    }));
    for (const [pass, byReader] of Object.entries(checks)) {
      if (new Set(Object.values(byReader)).size !== 1) throw new Error(`checksums of the ${pass} pass differ between readers: ${JSON.stringify(byReader)}`);
    }
    const f = (v: number, d = 1) => (Number.isFinite(v) ? v.toFixed(d) : '-');
    console.log(formatTable(['reader', 'pass', 'windows/s', 'MB/s', 'peak RSS MiB'], rows.map((r) => [String(r.reader), String(r.pass), f(r.windowsPerS as number), f(r.mbPerS as number, 0), f(r.peakRssMiB as number, 0)])));
    const load1 = loadavg();
    const uncompressedMiB = (size * size * BANDS * 2) / 2 ** 20;
    const note =
      `The machine (${availableParallelism()} cores) was shared with other work during the run (load average ${load0[0]!.toFixed(1)} at the start, ${load1[0]!.toFixed(1)} at the end). ` +
      `Each pass ran ${reps} times in fresh processes, alternating readers (float32 once): rates are medians, RSS the largest peak. The file sits in the OS page cache (just written), so this measures decoding, not the disk. ` +
      `GDAL's block cache was limited to ${gdalCache} MiB (ours keeps none); checksums of the samples read agree between readers.`;
    const file = writeBenchResult({ bench: 'io', backend: 'geotiffjs', dtype: 'u16' }, {
      machine: machineInfo(),
      machineTag: machineTag(),
      date: new Date().toISOString().slice(0, 10),
      note,
      loadavg: { start: load0, end: load1 },
      fixture: {
        width: size, height: size, bands: BANDS, dtype: 'uint16', tile: TILE, compression: 'deflate level 6 + predictor 2',
        fileMiB, uncompressedMiB, maker: 'our writeGeoTiff (whole array in memory, in its own process)',
        writeS: write.writeS, writerPeakRssMiB: write.peakRssMiB,
      },
      window: WIN,
      seed,
      reps,
      gdalCacheMiB: gdalOk ? gdalCache : null,
      reference: gdalOk ? `GDAL ${gdalVersion(PYTHON)} (osgeo.gdal, ${PYTHON}; benchmarks/reference/gdal_window_read.py)` : null,
      target: 'windowed reads with bounded memory: peak RSS far below the uncompressed raster (issue 4)',
      checksums: checks,
      rows,
    });
    console.log(`wrote ${file}`);
    const { renderDataSection } = await import('./data.bench.js');
    renderDataSection();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

let gdalVer: string | undefined;
function gdalVersion(python: string): string {
  gdalVer ??= execFileSync(python, ['-c', 'from osgeo import gdal; print(gdal.__version__)'], { encoding: 'utf8' }).trim();
  return gdalVer;
}

const isEntry = process.argv[1] !== undefined && resolve(process.argv[1]) === here;
if (isEntry) {
  const c = process.argv.indexOf('--child');
  if (c < 0) await main();
  else if (process.argv[c + 1] === 'write') await childWrite(process.argv[c + 2]!, Number(process.argv[c + 3]));
  else await childRead(process.argv[c + 2]!, process.argv[c + 3]!, process.argv[c + 4] as 'native' | 'float32');
}
