/**
 * DataLoader: order, batching, worker vs in-process equality, resume, errors, and workers started from built JS
 * (plain node) and under tsx (outside vitest).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';
import { DataLoader, stackHwc, type Batch } from '../../src/data/loader.js';
import { CmidError } from '../../src/runtime/errors.js';
import type { ToyItem, ToySample } from './fixtures/toy-map.js';
import { removeTempDirs, tempDir } from '../io/helpers.js';

afterAll(removeTempDirs);

const CORE = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
const TOY = new URL('./fixtures/toy-map.ts', import.meta.url);
const samples: ToySample[] = Array.from({ length: 23 }, (_, i) => ({ id: i, path: `/data/tile_${i}.tif` }));
const toy = (options: object = {}) => ({ module: TOY, export: 'toyDecodeAugment', options });

/** One line per batch: epoch, batch, indices and a hash of every item's pixels and augmentation draws. */
function digest(b: Batch<ToyItem>): string {
  const h = createHash('sha256');
  for (const it of b.items) {
    h.update(new Uint8Array(it.image.data.buffer, it.image.data.byteOffset, it.image.data.byteLength));
    h.update(`${it.id}:${it.flip}:${it.crop.join(',')};`);
  }
  return `${b.epoch}/${b.index} [${b.indices.join(',')}] ${h.digest('hex').slice(0, 16)}`;
}

async function collect(loader: DataLoader<ToySample, ToyItem>, it: AsyncIterable<Batch<ToyItem>>): Promise<string[]> {
  const out: string[] = [];
  for await (const b of it) out.push(digest(b));
  return out;
}

describe('DataLoader batching (n=23)', () => {
  it('batch=5: 5 batches [5,5,5,5,3]; dropLast: 4 batches of 5; every sample once per epoch', async () => {
    const full = new DataLoader<ToySample, ToyItem>({ samples, map: toy(), batchSize: 5, seed: 3 });
    const sizes: number[] = [];
    const seen: number[] = [];
    for await (const b of full.epoch(0)) {
      sizes.push(b.items.length);
      seen.push(...b.indices);
      expect(b.items.map((x) => x.id)).toEqual(b.indices); // items follow indices
    }
    expect(sizes).toEqual([5, 5, 5, 5, 3]);
    expect([...seen].sort((a, b) => a - b)).toEqual(samples.map((s) => s.id));
    expect(seen).toEqual(Array.from(full.order(0)));
    const drop = new DataLoader<ToySample, ToyItem>({ samples, map: toy(), batchSize: 5, seed: 3, dropLast: true });
    expect(drop.length).toBe(4);
    const dropped = await collect(drop, drop.epoch(0));
    expect(dropped).toEqual((await collect(full, full.epoch(0))).slice(0, 4));
  });

  it('shuffle: false keeps the sample order; another seed gives another order', async () => {
    const plain = new DataLoader<ToySample, ToyItem>({ samples, map: toy(), batchSize: 23, seed: 3, shuffle: false });
    for await (const b of plain.epoch(5)) expect(b.indices).toEqual(samples.map((s) => s.id));
    const a = new DataLoader<ToySample, ToyItem>({ samples, map: toy(), batchSize: 23, seed: 3 });
    const b = new DataLoader<ToySample, ToyItem>({ samples, map: toy(), batchSize: 23, seed: 4 });
    expect(a.batchIndices(0, 0)).not.toEqual(b.batchIndices(0, 0));
    expect(a.batchIndices(0, 0)).not.toEqual(a.batchIndices(1, 0));
  });

  it('stackHwc makes NHWC and refuses mixed sizes', async () => {
    const l = new DataLoader<ToySample, ToyItem>({ samples, map: toy(), batchSize: 4, seed: 0 });
    const value = (await l.epoch(0).next()).value as Batch<ToyItem>;
    const x = stackHwc(value.items.map((i) => i.image));
    expect(x.shape).toEqual([4, 24, 24, 3]);
    expect(x.data.subarray(24 * 24 * 3, 2 * 24 * 24 * 3)).toEqual(value.items[1]!.image.data);
    const odd = { data: new Float32Array(12), height: 2, width: 2, channels: 3 };
    expect(() => stackHwc([value.items[0]!.image, odd])).toThrow(/image 1 is 2x2x3/);
  });
});

describe('DataLoader workers vs in-process', () => {
  it('2 workers with random completion delays give the same batches, bit for bit, as workers: 0 (2 epochs)', async () => {
    const inproc = new DataLoader<ToySample, ToyItem>({ samples, map: toy(), batchSize: 4, seed: 11 });
    const expected = await collect(inproc, inproc.batches({ epochs: 2 }));
    const pooled = new DataLoader<ToySample, ToyItem>({ samples, map: toy({ jitterMs: 8 }), batchSize: 4, seed: 11, workers: 2, prefetch: 3 });
    try {
      const flags: boolean[] = [];
      const got: string[] = [];
      for await (const b of pooled.batches({ epochs: 2 })) {
        got.push(digest(b));
        flags.push(...b.items.map((x) => x.worker));
      }
      expect(got).toEqual(expected);
      expect(expected).toHaveLength(12);
      expect(flags.every(Boolean)).toBe(true); // really made in worker threads
      // the pixels came back transferred: every item's float32 image, 24*24*3*4 bytes each
      expect(pooled.transferredBytes).toBe(2 * 23 * 24 * 24 * 3 * 4);
    } finally {
      await pooled.close();
    }
  });

  it('resume from (epoch 1, batch 2) sees exactly the rest of the uninterrupted run (workers: 2, 1 and 0)', async () => {
    const ref = new DataLoader<ToySample, ToyItem>({ samples, map: toy(), batchSize: 4, seed: 5 });
    const uninterrupted = await collect(ref, ref.batches({ epochs: 3 })); // 6 batches per epoch
    // interrupted run: stop after epoch 1 batch 1, keep the position a checkpoint would keep
    const first = new DataLoader<ToySample, ToyItem>({ samples, map: toy({ jitterMs: 4 }), batchSize: 4, seed: 5, workers: 2 });
    const before: string[] = [];
    let position = { epoch: 0, batch: 0 };
    try {
      for await (const b of first.batches({ epochs: 3 })) {
        before.push(digest(b));
        position = first.after(b);
        if (b.epoch === 1 && b.index === 1) break;
      }
    } finally {
      await first.close();
    }
    expect(position).toEqual({ epoch: 1, batch: 2 });
    const second = new DataLoader<ToySample, ToyItem>({ samples, map: toy({ jitterMs: 4 }), batchSize: 4, seed: 5, workers: 1 });
    try {
      const after = await collect(second, second.batches({ from: position, epochs: 3 - position.epoch }));
      expect([...before, ...after]).toEqual(uninterrupted);
    } finally {
      await second.close();
    }
    const third = new DataLoader<ToySample, ToyItem>({ samples, map: toy(), batchSize: 4, seed: 5 });
    expect(await collect(third, third.epoch(2, { fromBatch: 4 }))).toEqual(uninterrupted.slice(16));
    expect(ref.after({ epoch: 2, index: 5 })).toEqual({ epoch: 3, batch: 0 });
  });

  it('leaving a loop early and starting another epoch is unaffected by the abandoned prefetch', async () => {
    const ref = new DataLoader<ToySample, ToyItem>({ samples, map: toy(), batchSize: 3, seed: 9 });
    const want = await collect(ref, ref.epoch(4));
    const l = new DataLoader<ToySample, ToyItem>({ samples, map: toy({ jitterMs: 5 }), batchSize: 3, seed: 9, workers: 1, prefetch: 4 });
    try {
      for await (const b of l.epoch(3)) if (b.index === 0) break;
      expect(await collect(l, l.epoch(4))).toEqual(want);
    } finally {
      await l.close();
    }
  });
});

describe('DataLoader errors', () => {
  it.each([0, 1])('a failing sample (workers: %i) rejects its batch with the sample index and the file', async (workers) => {
    const l = new DataLoader<ToySample, ToyItem>({ samples, map: toy({ failIds: [7] }), batchSize: 23, seed: 0, workers });
    try {
      const e = await l.epoch(0).next().catch((x: unknown) => x);
      expect(e).toBeInstanceOf(CmidError);
      expect((e as Error).message).toMatch(/sample 7 \(\/data\/tile_7\.tif\) failed/);
      expect((e as Error).message).toContain('/data/tile_7.tif: not a readable TIFF (toy failure)');
      expect((e as CmidError).file).toBe('/data/tile_7.tif');
    } finally {
      await l.close();
    }
  });

  it('config errors say the fix', async () => {
    expect(() => new DataLoader({ samples, map: () => 1, batchSize: 2, seed: 0, workers: 2 })).toThrow(/Move it to a module and export a SampleMapFactory/);
    expect(() => new DataLoader({ samples: [], map: toy(), batchSize: 2, seed: 0 })).toThrow(/samples is empty/);
    expect(() => new DataLoader<ToySample, ToyItem>({ samples, map: toy(), batchSize: 0, seed: 0 })).toThrow(/batchSize must be a positive integer/);
    expect(() => new DataLoader<ToySample, ToyItem>({ samples, map: toy(), batchSize: 30, seed: 0, dropLast: true })).toThrow(/leaves no batch/);
    const l = new DataLoader<ToySample, ToyItem>({ samples, map: toy(), batchSize: 5, seed: 0 });
    await expect(l.epoch(0, { fromBatch: 9 }).next()).rejects.toThrow(/batches per epoch are 0\.\.4/);
    const missing = new DataLoader({ samples, map: { module: new URL('./fixtures/nope.ts', import.meta.url), export: 'x' }, batchSize: 5, seed: 0, workers: 1 });
    await expect(missing.epoch(0).next()).rejects.toThrow(/cannot import sample map module .*nope\.ts/);
    await missing.close();
    const uncloneable = new DataLoader({ samples, map: toy({ f: () => 1 }), batchSize: 5, seed: 0, workers: 1 });
    await expect(uncloneable.epoch(0).next()).rejects.toThrow(/options of .*toy-map\.ts#toyDecodeAugment cannot be sent to a worker/);
  });
});

/** Transpiles the loader's sources and the toy map to plain JS under `out`, keeping the folder layout. */
async function buildJs(out: string): Promise<void> {
  const files = ['src/data/loader.ts', 'src/data/sample-map.ts', 'src/data/worker-pool.ts', 'src/data/loader-worker.ts', 'src/rng/rng.ts',
    'src/runtime/errors.ts', 'test/data/fixtures/toy-map.ts'];
  await writeFile(join(out, 'package.json'), '{"type":"module"}');
  for (const f of files) {
    const src = await readFile(join(CORE, f), 'utf8');
    const js = ts.transpileModule(src, { compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 } }).outputText;
    const dst = join(out, f.replace(/\.ts$/, '.js'));
    await mkdir(dirname(dst), { recursive: true });
    await writeFile(dst, js);
  }
}

const RUNNER = (loaderUrl: string, mapUrl: string): string => `
  const { DataLoader } = await import(${JSON.stringify(loaderUrl)});
  const { createHash } = await import('node:crypto');
  const samples = Array.from({ length: 23 }, (_, i) => ({ id: i, path: '/data/tile_' + i + '.tif' }));
  const l = new DataLoader({ samples, map: { module: ${JSON.stringify(mapUrl)}, export: 'toyDecodeAugment', options: { jitterMs: 3 } }, batchSize: 4, seed: 11, workers: 2 });
  const out = [];
  for await (const b of l.batches({ epochs: 2 })) {
    const h = createHash('sha256');
    for (const it of b.items) { h.update(new Uint8Array(it.image.data.buffer, it.image.data.byteOffset, it.image.data.byteLength)); h.update(it.id + ':' + it.flip + ':' + it.crop.join(',') + ';'); }
    out.push(b.epoch + '/' + b.index + ' [' + b.indices.join(',') + '] ' + h.digest('hex').slice(0, 16) + (b.items.every((x) => x.worker) ? '' : ' NOT-IN-WORKER'));
  }
  console.log(JSON.stringify(out)); // no close(): idle workers must not keep the process alive`;

describe('workers outside vitest', async () => {
  const inproc = new DataLoader<ToySample, ToyItem>({ samples, map: toy(), batchSize: 4, seed: 11 });
  const expected = await collect(inproc, inproc.batches({ epochs: 2 }));

  it('from built JS under plain node (no TypeScript loader anywhere)', async () => {
    const out = await tempDir('cmid-loader-js-');
    await buildJs(out);
    const code = RUNNER(pathToFileURL(join(out, 'src/data/loader.js')).href, pathToFileURL(join(out, 'test/data/fixtures/toy-map.js')).href);
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, NODE_OPTIONS: '' } });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0); // exited by itself (a timeout would give status null)
    expect(JSON.parse(r.stdout)).toEqual(expected);
  });

  it('from the TypeScript sources under tsx', async () => {
    const out = await tempDir('cmid-loader-tsx-');
    const script = join(out, 'run.mts');
    await writeFile(script, RUNNER(pathToFileURL(join(CORE, 'src/data/loader.ts')).href, TOY.href));
    const tsxCli = createRequire(import.meta.url).resolve('tsx/cli');
    const r = spawnSync(process.execPath, [tsxCli, script], { encoding: 'utf8', timeout: 60_000, cwd: CORE, env: { ...process.env, NODE_OPTIONS: '' } });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(expected);
    expect(relative(CORE, script)).not.toBe(''); // ran from outside the package folder
  });
});
