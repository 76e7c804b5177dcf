/**
 * Decode + augment throughput (issue "Imagery IO, augmentation, and an embedded synthetic remote-sensing
 * benchmark"): images/s of our data pipeline against torchvision/PIL (Debian python3-torch 1.13 + torchvision 0.14,
 * benchmarks/reference/torch_data_pipeline.py), in the same run, on the same images and the same cores.
 *
 * Images: the synthetic MillionAID corpus, generate('millionaid', { size: 'small' }) into a temp folder (400 RGB
 * JPEGs of 128-512 px, quality 90), deleted afterwards. Pipelines, with the same parameters on both sides:
 *   - cmid:   decode -> CMID's parallelTransform (global resize to 224, two RandomResizedCrop views, colour jitter,
 *             blur, noise, solarize, grayscale, normalise, two block masks with mean-filled copies, cell grids);
 *   - simple: decode -> RandomResizedCrop(224, scale 0.08-1, bilinear, PIL antialias) + horizontal flip p 0.5 +
 *             ImageNet normalisation.
 * Decode: ours is openRaster().readNative() (our wasm JPEG decoder, libjpeg-turbo's bytes; sharp for what it declines),
 * torchvision's is PIL (ImageFolder's loader).
 * Modes:
 *   - single: one sample at a time in this thread (sharp with concurrency 1), batches of --batch collated here;
 *             torch: DataLoader(num_workers=0), torch.set_num_threads(1);
 *   - loader: our DataLoader with --workers worker threads (the map below, imported by each worker) and batches
 *             collated here; torch: DataLoader(num_workers=--workers, persistent_workers=True).
 * Each measurement is a run of a warm-up (single: two batches; loader: one epoch, which includes starting the
 * workers) + --epochs timed epochs; ours and torch's runs alternate for --rounds rounds (the machine is shared), and
 * the reported rate is the median over all timed epochs. Then each stage alone on one thread (decode; augment on
 * pre-decoded images), to show where the time goes.
 * Writes benchmarks/results/data-wasm-u8-<machine>-<date>.json and renders the README block bench:data (with the
 * GeoTIFF window-read results of io.bench.ts, when present).
 *
 * Usage: pnpm --filter core bench:data [-- --batch 32 --workers 2 --epochs 2 --rounds 2 --seed 0]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMainThread } from 'node:worker_threads';
import { openRaster } from '../src/io/read-raster.js';
import { decodeJpegWasm } from '../src/io/decoders/wasm/jpeg-wasm.js';
import { DataLoader } from '../src/data/loader.js';
import { ImageFolder } from '../src/data/image-folder.js';
import type { SampleContext, SampleMapFactory } from '../src/data/sample-map.js';
import { IMAGENET_MEAN, IMAGENET_STD, normalizeImage, parallelTransform, resizeImage, sampleResizedCropBox, type Image } from '../src/transforms/index.js';
import { formatTable, machineInfo, machineTag, markdownTable, renderReadmeSection, repoRoot, writeBenchResult } from '../src/testing/bench.js';
import { PYTHON, torchAvailable } from '../src/testing/torch-oracle.js';

export type Pipeline = 'cmid' | 'simple';

/** Images in the stage-by-stage breakdown (the first ones of the folder, both sides). */
const BREAKDOWN_IMAGES = 200;

/** One augmented sample: typed arrays only (transferred, not copied, out of loader workers). */
export type BenchItem = Record<string, Float32Array | Uint8Array>;

/** Decodes an 8-bit image to uint8 HWC with our reader (the wasm JPEG decoder, sharp for what it declines). */
async function decodeU8(path: string): Promise<Image<Uint8Array>> {
  const r = await openRaster(path);
  try {
    const d = await r.readNative();
    if (!(d.data instanceof Uint8Array)) throw new Error(`${path}: expected 8-bit samples, got ${d.dtype}`);
    return { data: d.data, height: d.height, width: d.width, channels: d.bands };
  } finally {
    await r.close();
  }
}

/** The sample map of both modes (exported so loader workers can import it). */
export const benchSample = (({ pipeline }: { pipeline: Pipeline }) =>
  async (sample: { path: string }, { rng }: SampleContext): Promise<BenchItem> => {
    const src = await decodeU8(sample.path);
    if (pipeline === 'cmid') {
      const s = parallelTransform(src, rng);
      const locations = new Float32Array(s.locations[0].length * 2);
      locations.set(s.locations[0]);
      locations.set(s.locations[1], s.locations[0].length);
      return { img: s.img.data, mimImg: s.mimImg.data, mask: s.mask, view: s.view.data, viewMimImg: s.viewMimImg.data, viewMask: s.viewMask, locations };
    }
    const box = sampleResizedCropBox(rng, src.height, src.width, { scale: [0.08, 1], ratio: [3 / 4, 4 / 3] });
    const flip = rng.next() < 0.5;
    const crop = resizeImage(src, 224, 224, { interpolation: 'bilinear', antialias: true, box, flipHorizontal: flip });
    return { img: normalizeImage(crop, IMAGENET_MEAN, IMAGENET_STD).data };
  }) satisfies SampleMapFactory<{ path: string }, BenchItem, { pipeline: Pipeline }>;

/** Stacks every key of the items into one batch array (what torch's default_collate does). */
function collate(items: readonly BenchItem[]): number {
  let bytes = 0;
  for (const key of Object.keys(items[0]!)) {
    const first = items[0]![key]!;
    const out = new (first.constructor as new (n: number) => Float32Array | Uint8Array)(first.length * items.length);
    items.forEach((it, i) => out.set(it[key]!, i * first.length));
    bytes += out.byteLength;
  }
  return bytes;
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

interface Opts {
  batch: number;
  workers: number;
  epochs: number;
  rounds: number;
  seed: number;
}

/** Ours, one sample at a time in this thread: epoch times in seconds (a warm-up of two batches first). */
async function oursSingle(samples: readonly { path: string }[], pipeline: Pipeline, o: Opts): Promise<number[]> {
  const sharp = (await import('sharp')).default;
  const before = sharp.concurrency();
  sharp.concurrency(1);
  const { sampleRng, epochOrder } = await import('../src/data/sample-map.js');
  const map = benchSample({ pipeline });
  const times: number[] = [];
  try {
    for (let e = 0; e < 1 + o.epochs; e++) {
      const order = epochOrder(samples.length, { seed: o.seed, epoch: e });
      const t0 = performance.now();
      let batch: BenchItem[] = [];
      const n = e === 0 ? Math.min(order.length, 2 * o.batch) : order.length; // warm-up: two batches
      for (let k = 0; k < n; k++) {
        const i = order[k]!;
        batch.push(await map(samples[i]!, { index: i, epoch: e, rng: sampleRng(o.seed, e, i) }));
        if (batch.length === o.batch || k === n - 1) {
          collate(batch);
          batch = [];
        }
      }
      times.push((performance.now() - t0) / 1000);
    }
  } finally {
    sharp.concurrency(before);
  }
  return times;
}

export interface Breakdown {
  /** openRaster().readNative(): the library's reader (file sniff, sharp metadata, sharp decode). */
  decodeReaderImgS: number;
  /** sharp(bytes).raw(): sharp alone, one call per image, the file already in memory. */
  decodeSharpImgS: number;
  /** decodeJpegWasm(bytes): our wasm decoder alone, the file already in memory. */
  decodeWasmImgS: number;
  cmidAugmentImgS: number;
  simpleAugmentImgS: number;
}

/** Ours, one thread: decode alone (two ways) and each augmentation alone on pre-decoded images (after 20 warm-up images); medians of `reps` passes. */
async function oursBreakdown(samples: readonly { path: string }[], o: Opts, reps: number): Promise<Breakdown> {
  const sharp = (await import('sharp')).default;
  const { readFile } = await import('node:fs/promises');
  const { sampleRng } = await import('../src/data/sample-map.js');
  const before = sharp.concurrency();
  sharp.concurrency(1);
  const rate = async <T>(items: readonly T[], fn: (x: T, i: number) => unknown): Promise<number> => {
    for (let i = 0; i < Math.min(20, items.length); i++) await fn(items[i]!, i);
    const ts: number[] = [];
    for (let r = 0; r < reps; r++) {
      const t0 = performance.now();
      for (let i = 0; i < items.length; i++) await fn(items[i]!, i);
      ts.push((performance.now() - t0) / 1000);
    }
    return items.length / median(ts);
  };
  try {
    const decodeReaderImgS = await rate(samples, (s) => decodeU8(s.path));
    // the decoders alone: from the file bytes already in memory
    const files = await Promise.all(samples.map(async (s) => ({ path: s.path, bytes: await readFile(s.path) })));
    const decodeSharpImgS = await rate(files, (f) => sharp(f.bytes).raw().toBuffer({ resolveWithObject: true }));
    const decodeWasmImgS = await rate(files, (f) => {
      const r = decodeJpegWasm(f.bytes, 0);
      if (typeof r === 'string') throw new Error(`${f.path}: the wasm decoder declined it (${r})`);
      return r;
    });
    const images: Image<Uint8Array>[] = [];
    for (const s of samples) images.push(await decodeU8(s.path));
    const cmid = (x: Image<Uint8Array>, i: number) => parallelTransform(x, sampleRng(o.seed, 0, i));
    const simple = (x: Image<Uint8Array>, i: number) => {
      const rng = sampleRng(o.seed, 0, i);
      const box = sampleResizedCropBox(rng, x.height, x.width, { scale: [0.08, 1], ratio: [3 / 4, 4 / 3] });
      return normalizeImage(resizeImage(x, 224, 224, { interpolation: 'bilinear', antialias: true, box, flipHorizontal: rng.next() < 0.5 }), IMAGENET_MEAN, IMAGENET_STD);
    };
    return { decodeReaderImgS, decodeSharpImgS, decodeWasmImgS, cmidAugmentImgS: await rate(images, cmid), simpleAugmentImgS: await rate(images, simple) };
  } finally {
    sharp.concurrency(before);
  }
}

interface TorchBreakdown {
  decode_img_s: number;
  cmid_augment_img_s: number;
  simple_augment_img_s: number;
}

function torchBreakdown(root: string, o: Opts, reps: number, limit: number): TorchBreakdown {
  const script = join(repoRoot(), 'benchmarks', 'reference', 'torch_data_pipeline.py');
  const out = execFileSync(PYTHON, [script, root, 'breakdown', String(reps), String(o.seed), String(limit)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 20 });
  return JSON.parse(out.trim().split('\n').pop()!) as TorchBreakdown;
}

/** Ours through the DataLoader with worker threads: epoch times (warm-up epoch, with worker start, first). */
async function oursLoader(samples: readonly { path: string }[], pipeline: Pipeline, o: Opts): Promise<number[]> {
  const loader = new DataLoader<{ path: string }, BenchItem>({
    samples,
    map: { module: import.meta.url, export: 'benchSample', options: { pipeline } },
    batchSize: o.batch,
    seed: o.seed,
    workers: o.workers,
  });
  const times: number[] = [];
  let t0 = performance.now();
  let seen = 0;
  try {
    for await (const b of loader.batches({ epochs: 1 + o.epochs })) {
      collate(b.items);
      seen += b.items.length;
      if (b.index === loader.length - 1) {
        times.push((performance.now() - t0) / 1000);
        t0 = performance.now();
      }
    }
  } finally {
    await loader.close();
  }
  if (seen !== samples.length * (1 + o.epochs)) throw new Error(`loader yielded ${seen} samples, expected ${samples.length * (1 + o.epochs)}`);
  return times;
}

interface TorchRun {
  epoch_s: number[];
  warmup_s: number | null;
  images_per_s: number;
  peak_rss_mib: number;
}

function torchRun(root: string, pipeline: Pipeline, workers: number, o: Opts): TorchRun {
  const script = join(repoRoot(), 'benchmarks', 'reference', 'torch_data_pipeline.py');
  const out = execFileSync(PYTHON, [script, root, pipeline, String(workers), String(o.batch), String(1 + o.epochs), String(o.seed)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 1 << 20,
  });
  return JSON.parse(out.trim().split('\n').pop()!) as TorchRun;
}

export interface DataRow {
  pipeline: Pipeline;
  mode: 'single' | 'loader';
  workers: number;
  oursImgS: number;
  torchImgS: number;
  ratio: number;
  oursEpochS: number[];
  torchEpochS: number[];
}

export interface BreakdownRow {
  stage: string;
  ours: string;
  oursImgS: number;
  torchImgS: number;
}

function breakdownRows(b: Breakdown, t: TorchBreakdown | undefined): BreakdownRow[] {
  const n = Number.NaN;
  return [
    { stage: 'decode JPEG', ours: 'openRaster().readNative(): our reader, from the path', oursImgS: b.decodeReaderImgS, torchImgS: t?.decode_img_s ?? n },
    { stage: 'decode JPEG', ours: 'decodeJpegWasm(bytes): our wasm decoder alone, file in memory', oursImgS: b.decodeWasmImgS, torchImgS: t?.decode_img_s ?? n },
    { stage: 'decode JPEG', ours: 'sharp(bytes).raw(): libvips alone, file in memory', oursImgS: b.decodeSharpImgS, torchImgS: t?.decode_img_s ?? n },
    { stage: 'CMID parallelTransform, pre-decoded', ours: 'parallelTransform', oursImgS: b.cmidAugmentImgS, torchImgS: t?.cmid_augment_img_s ?? n },
    { stage: 'RandomResizedCrop + flip + normalise, pre-decoded', ours: 'resizeImage + normalizeImage', oursImgS: b.simpleAugmentImgS, torchImgS: t?.simple_augment_img_s ?? n },
  ];
}

/** The newest result file of `bench` (by modification time), or undefined. */
function newestResult(bench: string): { file: string; data: Record<string, unknown> } | undefined {
  const dir = join(repoRoot(), 'benchmarks', 'results');
  let best: { file: string; mtime: number } | undefined;
  for (const f of readdirSync(dir)) {
    if (!f.startsWith(`${bench}-`) || !f.endsWith('.json')) continue;
    const mtime = statSync(join(dir, f)).mtimeMs;
    if (best === undefined || mtime > best.mtime) best = { file: f, mtime };
  }
  if (best === undefined) return undefined;
  return { file: `benchmarks/results/${best.file}`, data: JSON.parse(readFileSync(join(dir, best.file), 'utf8')) as Record<string, unknown> };
}

const f = (v: number, d = 1): string => (Number.isFinite(v) ? v.toFixed(d) : '-');

/**
 * Renders the README block bench:data from the newest data-* and io-* result files (io.bench.ts calls it too).
 */
export function renderDataSection(): void {
  const parts: string[] = [];
  const data = newestResult('data');
  if (data !== undefined) {
    const d = data.data as { rows: DataRow[]; images: number; meanSide: number; batch: number; workers: number; machineTag: string; date: string; note: string };
    const header = ['pipeline', 'mode', 'ours img/s (range)', 'torchvision/PIL img/s (range)', 'ours / torchvision'];
    const range = (epochS: number[]): string => {
      if (epochS.length === 0) return '';
      const rates = epochS.map((t) => d.images / t);
      return ` (${f(Math.min(...rates), 0)}-${f(Math.max(...rates), 0)})`;
    };
    const rows = d.rows.map((r) => [
      r.pipeline === 'cmid' ? 'CMID parallelTransform' : 'RandomResizedCrop + flip + normalise',
      r.mode === 'single' ? '1 thread' : `loader, ${r.workers} workers`,
      `${f(r.oursImgS)}${range(r.oursEpochS)}`, `${f(r.torchImgS)}${range(r.torchEpochS)}`, `${f(r.ratio, 2)}x`,
    ]);
    const bd = (data.data as { breakdown?: BreakdownRow[] }).breakdown ?? [];
    const bdTable = markdownTable(
      ['stage (1 thread)', 'ours', 'ours img/s', 'PIL / torchvision img/s', 'ours / torchvision'],
      bd.map((b) => [b.stage, b.ours, f(b.oursImgS), f(b.torchImgS), `${f(b.oursImgS / b.torchImgS, 2)}x`]),
    );
    parts.push(
      markdownTable(header, rows) +
        (bd.length > 0 ? `\n\nWhere the time goes, one stage at a time on one thread (first ${(data.data as { breakdownImages?: number }).breakdownImages ?? '?'} images):\n\n${bdTable}` : '') +
        `\n\nDecode + augment of ${d.images} synthetic MillionAID JPEGs (mean side ${d.meanSide.toFixed(0)} px) to 224 px, batches of ${d.batch}, by \`pnpm --filter core bench:data\` on ${d.machineTag} (${d.date}). ` +
        'Ours: our reader (our wasm JPEG decoder, byte-identical to libjpeg-turbo) + our augmentations (uint8 resampling in wasm SIMD); reference: PIL decode + torchvision 0.14 transforms (`benchmarks/reference/torch_data_pipeline.py`), same parameters, same images, same run; ' +
        `medians (and ranges) of the timed epochs of alternating runs. ${d.note} Source: \`${data.file}\`.`,
    );
  }
  const io = newestResult('io');
  if (io !== undefined) {
    const d = io.data as { rows: Array<Record<string, number | string>>; fixture: Record<string, unknown>; machineTag: string; date: string; note: string };
    const header = ['reader', 'pass', 'windows/s', 'MB/s (decoded)', 'RSS after open -> peak, MiB'];
    const rows = d.rows.map((r) => [String(r.reader), String(r.pass), f(r.windowsPerS as number), f(r.mbPerS as number, 0), `${f(r.rssAfterOpenMiB as number, 0)} -> ${f(r.peakRssMiB as number, 0)}`]);
    const fx = d.fixture as { width: number; height: number; bands: number; tile: number; fileMiB: number; maker: string };
    parts.push(
      markdownTable(header, rows) +
        `\n\n512x512 windows (all ${fx.bands} bands; uint16 as stored, float32 where marked) from a ${fx.width}x${fx.height} ${fx.bands}-band uint16 GeoTIFF (${fx.tile} px deflate tiles, predictor 2, ${fx.fileMiB.toFixed(0)} MiB on disk, ` +
        `${((fx.width * fx.height * fx.bands * 2) / 2 ** 20).toFixed(0)} MiB uncompressed, written by ${fx.maker}), by \`pnpm --filter core bench:io\` on ${d.machineTag} (${d.date}); ` +
        `each reader in its own process, peak RSS is that process's. ${d.note} Source: \`${io.file}\`.`,
    );
  }
  if (parts.length === 0) return;
  if (!renderReadmeSection('bench:data', parts.join('\n\n'))) console.warn('README markers <!-- bench:data:start/end --> not found; table not rendered.');
}

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}

async function main(): Promise<void> {
  const o: Opts = { batch: arg('batch', 32), workers: arg('workers', availableParallelism()), epochs: arg('epochs', 2), rounds: arg('rounds', 2), seed: arg('seed', 0) };
  const hasTorch = torchAvailable();
  if (!hasTorch) console.warn(`torch/torchvision not importable by ${PYTHON}: reporting ours alone.`);
  const load0 = loadavg();
  const root = mkdtempSync(join(tmpdir(), 'cmid-bench-data-'));
  try {
    const { generate } = await import('../src/synth/index.js');
    const tg = performance.now();
    await generate('millionaid', { out: root, size: 'small', seed: o.seed });
    const genS = (performance.now() - tg) / 1000;
    const folder = await ImageFolder.open(root, { warn: () => {} }); // root/test/*.jpg: one class, as torchvision's ImageFolder sees it
    const samples = folder.samples.map((s) => ({ path: s.path }));
    let side = 0;
    const sharp = (await import('sharp')).default;
    for (const s of samples) {
      const m = await sharp(s.path).metadata();
      side += Math.sqrt(m.width! * m.height!);
    }
    const meanSide = side / samples.length;
    console.log(`${samples.length} JPEGs (mean side ${meanSide.toFixed(0)} px) generated in ${genS.toFixed(1)} s; batch ${o.batch}, ${o.workers} workers, ${o.rounds} rounds x (1 warm-up + ${o.epochs}) epochs`);
    const rows: DataRow[] = [];
    for (const pipeline of ['cmid', 'simple'] as const) {
      for (const mode of ['single', 'loader'] as const) {
        const workers = mode === 'single' ? 0 : o.workers;
        const ours: number[] = [];
        const torch: number[] = [];
        for (let r = 0; r < o.rounds; r++) {
          const t = mode === 'single' ? await oursSingle(samples, pipeline, o) : await oursLoader(samples, pipeline, o);
          ours.push(...t.slice(1));
          if (hasTorch) torch.push(...torchRun(root, pipeline, workers, o).epoch_s);
        }
        const oursImgS = samples.length / median(ours);
        const torchImgS = hasTorch ? samples.length / median(torch) : Number.NaN;
        const row: DataRow = { pipeline, mode, workers, oursImgS, torchImgS, ratio: oursImgS / torchImgS, oursEpochS: ours, torchEpochS: torch };
        rows.push(row);
        console.log(`${pipeline} ${mode}: ours ${f(oursImgS)} img/s, torchvision ${f(torchImgS)} img/s, ${f(row.ratio, 2)}x`);
      }
    }
    const header = ['pipeline', 'mode', 'ours img/s', 'torchvision img/s', 'ours / torchvision'];
    console.log(formatTable(header, rows.map((r) => [r.pipeline, r.mode === 'single' ? '1 thread' : `loader ${r.workers}w`, r.oursImgS, r.torchImgS, `${f(r.ratio, 2)}x`])));
    // stage by stage: the first BREAKDOWN_IMAGES images, ours and torch's alternating for --rounds rounds of one pass
    const reps = 1;
    const sub = samples.slice(0, BREAKDOWN_IMAGES);
    const oursB: Breakdown[] = [];
    const torchB: TorchBreakdown[] = [];
    for (let r = 0; r < o.rounds; r++) {
      oursB.push(await oursBreakdown(sub, o, reps));
      if (hasTorch) torchB.push(torchBreakdown(root, o, reps, sub.length));
    }
    const med = <T>(xs: T[], k: keyof T): number => median(xs.map((x) => x[k] as number));
    const ours: Breakdown = {
      decodeReaderImgS: med(oursB, 'decodeReaderImgS'), decodeSharpImgS: med(oursB, 'decodeSharpImgS'), decodeWasmImgS: med(oursB, 'decodeWasmImgS'),
      cmidAugmentImgS: med(oursB, 'cmidAugmentImgS'), simpleAugmentImgS: med(oursB, 'simpleAugmentImgS'),
    };
    const tb: TorchBreakdown | undefined = hasTorch
      ? { decode_img_s: med(torchB, 'decode_img_s'), cmid_augment_img_s: med(torchB, 'cmid_augment_img_s'), simple_augment_img_s: med(torchB, 'simple_augment_img_s') }
      : undefined;
    const breakdown = breakdownRows(ours, tb);
    console.log('one thread, stage by stage:');
    console.log(formatTable(['stage', 'ours', 'ours img/s', 'torchvision/PIL img/s', 'ours / torchvision'], breakdown.map((b) => [b.stage, b.ours, b.oursImgS, b.torchImgS, `${f(b.oursImgS / b.torchImgS, 2)}x`])));
    const load1 = loadavg();
    const note =
      `Load average on the ${availableParallelism()} cores ${load0[0]!.toFixed(1)} at the start, ${load1[0]!.toFixed(1)} at the end (this bench's own processes count in it; ` +
      'anything above that was other work on the machine), so read the ratios rather than the absolute rates.';
    const file = writeBenchResult({ bench: 'data', backend: 'wasm', dtype: 'u8' }, {
      machine: machineInfo(),
      machineTag: machineTag(),
      date: new Date().toISOString().slice(0, 10),
      note,
      loadavg: { start: load0, end: load1 },
      dataset: "generate('millionaid', { size: 'small', seed })",
      images: samples.length,
      meanSide,
      batch: o.batch,
      workers: o.workers,
      epochs: o.epochs,
      rounds: o.rounds,
      seed: o.seed,
      reference: hasTorch ? 'PIL + torchvision 0.14 (benchmarks/reference/torch_data_pipeline.py)' : null,
      target: 'ours >= 2x torchvision (issue 4)',
      rows,
      breakdownImages: sub.length,
      breakdownPasses: reps * o.rounds,
      breakdown,
      breakdownRuns: { ours: oursB, torch: torchB },
    });
    console.log(`wrote ${file}`);
    renderDataSection();
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

const isEntry = isMainThread && process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isEntry) await main();
