/**
 * The data loader: a seeded shuffle per epoch, batching (with drop_last), a per-sample map (decode + augment),
 * and prefetch of that map in worker threads while the caller trains on the current batch.
 *
 * Reproducibility is by construction, not by scheduling:
 * - the order of epoch e is epochOrder(n, {seed, epoch: e}), a pure function;
 * - sample i of epoch e is mapped with its own Rng, sampleRng(seed, e, i);
 * - batches are assembled in order, whichever worker finishes first.
 * So batch b of epoch e is the same with 0, 1 or 8 workers, and a run resumed at (e, b) sees exactly the
 * batches the uninterrupted run would have seen from there on (torch's DataLoader needs a sampler state and
 * worker seeds for that; here there is nothing to save but (epoch, batch)).
 *
 * Anchor: torch.utils.data.DataLoader (batch_size, shuffle, drop_last, num_workers, prefetch_factor).
 */
import { CmidError } from '../runtime/errors.js';
import { epochOrder, importFactory, sampleRng, type SampleMap, type SampleMapRef } from './sample-map.js';
import { WorkerPool } from './worker-pool.js';

export interface DataLoaderOptions<S, T> {
  /** The dataset as a list of small, structured-cloneable records (paths, windows, labels); they go to workers. */
  samples: readonly S[];
  /**
   * Decode + augment, run per sample: a SampleMapRef (module + export + JSON options), required for workers,
   * or a plain function (workers: 0 only).
   */
  map: SampleMapRef | SampleMap<S, T>;
  batchSize: number;
  /** Seeds the shuffle and every per-sample Rng. */
  seed: number;
  /** Default: true. */
  shuffle?: boolean;
  /** Drop the last batch when it is smaller than batchSize. Default: false. */
  dropLast?: boolean;
  /** Worker threads for the map; 0 runs it in this thread. Default: 0. */
  workers?: number;
  /** Batches mapped ahead of the one being consumed. Default: 2 with workers, 0 without. */
  prefetch?: number;
  /** How a sample is named in error messages. Default: its `path` field, else its JSON (cut to 120 chars). */
  describe?: (sample: S, index: number) => string;
}

/** One batch; items are in the order of `indices`. */
export interface Batch<T> {
  epoch: number;
  /** Batch index within the epoch. */
  index: number;
  /** Indices of the samples in the loader's sample list. */
  indices: number[];
  items: T[];
}

/** Where to (re)start: batch `batch` of epoch `epoch`. */
export interface LoaderPosition {
  epoch: number;
  batch: number;
}

function defaultDescribe(sample: unknown, index: number): string {
  const path = (sample as { path?: unknown } | null)?.path;
  if (typeof path === 'string') return `sample ${index} (${path})`;
  let s: string;
  try {
    s = JSON.stringify(sample) ?? String(sample);
  } catch {
    s = String(sample);
  }
  return `sample ${index} (${s.length > 120 ? `${s.slice(0, 117)}...` : s})`;
}

type Runner = (index: number, epoch: number, sample: unknown, describe: () => string) => Promise<unknown>;

/**
 * @example
 * const loader = new DataLoader({ samples: folder.samples, map: { module: new URL('./decode-augment.js', import.meta.url),
 *   export: 'decodeAugment', options: { size: 224 } }, batchSize: 64, seed: 0, workers: 2, dropLast: true });
 * for await (const batch of loader.batches({ from: { epoch: 3, batch: 120 }, epochs: 97 })) {
 *   trainStep(stackHwc(batch.items.map((x) => x.image)));
 *   if (checkpointDue) save({ ...state, loader: loader.after(batch) }); // resume from here later
 * }
 * await loader.close();
 */
export class DataLoader<S, T> {
  readonly batchSize: number;
  readonly seed: number;
  readonly shuffle: boolean;
  readonly dropLast: boolean;
  readonly workers: number;
  readonly prefetch: number;
  private readonly samples: readonly S[];
  private readonly map: SampleMapRef | SampleMap<S, T>;
  private readonly describe: (sample: S, index: number) => string;
  private runner: Promise<Runner> | undefined;
  private pool: WorkerPool | undefined;
  private orderCache: { epoch: number; order: Uint32Array } | undefined;
  private closed = false;

  constructor(options: DataLoaderOptions<S, T>) {
    const { samples, batchSize, seed } = options;
    const workers = options.workers ?? 0;
    if (samples.length === 0) throw new CmidError('config', 'DataLoader: samples is empty; check the dataset folder or the sampler.');
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new CmidError('config', `DataLoader: batchSize must be a positive integer, got ${batchSize}.`);
    if (!Number.isInteger(workers) || workers < 0) throw new CmidError('config', `DataLoader: workers must be an integer >= 0, got ${workers}.`);
    if (!Number.isSafeInteger(seed)) throw new CmidError('config', `DataLoader: seed must be an integer, got ${seed}.`);
    if (typeof options.map === 'function' && workers > 0) {
      throw new CmidError(
        'config',
        `DataLoader: workers: ${workers} needs map as { module, export, options } so the worker can import it; a function ` +
          'cannot be sent to a thread. Move it to a module and export a SampleMapFactory, or pass workers: 0.',
      );
    }
    this.samples = samples;
    this.map = options.map;
    this.batchSize = batchSize;
    this.seed = seed;
    this.shuffle = options.shuffle ?? true;
    this.dropLast = options.dropLast ?? false;
    this.workers = workers;
    this.prefetch = options.prefetch ?? (workers > 0 ? 2 : 0);
    if (!Number.isInteger(this.prefetch) || this.prefetch < 0) throw new CmidError('config', `DataLoader: prefetch must be an integer >= 0, got ${this.prefetch}.`);
    this.describe = options.describe ?? defaultDescribe;
    if (this.dropLast && samples.length < batchSize) {
      throw new CmidError('config', `DataLoader: dropLast with ${samples.length} samples and batchSize ${batchSize} leaves no batch; lower batchSize.`);
    }
  }

  /** Number of samples. */
  get size(): number {
    return this.samples.length;
  }

  /** Batches per epoch. */
  get length(): number {
    const n = this.samples.length;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  /** Bytes of typed arrays transferred (not copied) from workers so far. */
  get transferredBytes(): number {
    return this.pool?.transferredBytes ?? 0;
  }

  /** The sample order of `epoch`. */
  order(epoch: number): Uint32Array {
    if (this.orderCache?.epoch !== epoch) {
      this.orderCache = { epoch, order: epochOrder(this.samples.length, { seed: this.seed, epoch, shuffle: this.shuffle }) };
    }
    return this.orderCache.order;
  }

  /** Sample indices of batch `batch` of `epoch`, without mapping anything. */
  batchIndices(epoch: number, batch: number): number[] {
    const order = this.order(epoch);
    const start = batch * this.batchSize;
    return Array.from(order.subarray(start, Math.min(start + this.batchSize, order.length)));
  }

  /** The position right after `batch`, for a checkpoint: the next batch, or batch 0 of the next epoch. */
  after(batch: { epoch: number; index: number }): LoaderPosition {
    return batch.index + 1 >= this.length ? { epoch: batch.epoch + 1, batch: 0 } : { epoch: batch.epoch, batch: batch.index + 1 };
  }

  /** The batches of one epoch, from batch `fromBatch` (default 0). */
  epoch(epoch: number, { fromBatch = 0 }: { fromBatch?: number } = {}): AsyncGenerator<Batch<T>, void, undefined> {
    return this.batches({ from: { epoch, batch: fromBatch }, epochs: 1 });
  }

  /**
   * Batches from `from` (default epoch 0, batch 0) on, across epoch boundaries (prefetch crosses them too),
   * for `epochs` epochs counted from from.epoch (default: without end; break out of the loop).
   */
  async *batches({ from = { epoch: 0, batch: 0 }, epochs }: { from?: LoaderPosition; epochs?: number } = {}): AsyncGenerator<Batch<T>, void, undefined> {
    const nb = this.length;
    if (!Number.isInteger(from.epoch) || from.epoch < 0 || !Number.isInteger(from.batch) || from.batch < 0 || from.batch > nb) {
      throw new CmidError('config', `DataLoader: cannot start at epoch ${from.epoch}, batch ${from.batch}; batches per epoch are 0..${nb - 1}.`);
    }
    if (this.closed) throw new CmidError('config', 'DataLoader: used after close(); make a new loader.');
    const run = await this.getRunner();
    const end = epochs === undefined ? Infinity : from.epoch + epochs;
    let nextEpoch = from.epoch;
    let nextBatch = from.batch;
    const queue: Array<{ epoch: number; index: number; indices: number[]; items: Promise<unknown>[] }> = [];
    const fill = (target: number): void => {
      while (queue.length < target) {
        if (nextBatch >= nb) {
          nextEpoch++;
          nextBatch = 0;
        }
        if (nextEpoch >= end) return;
        const indices = this.batchIndices(nextEpoch, nextBatch);
        const epoch = nextEpoch;
        const items = indices.map((i) => {
          const sample = this.samples[i]!;
          const p = run(i, epoch, sample, () => this.describe(sample, i));
          p.catch(() => undefined); // abandoned prefetch must not surface as an unhandled rejection
          return p;
        });
        queue.push({ epoch, index: nextBatch, indices, items });
        nextBatch++;
      }
    };
    while (true) {
      fill(this.prefetch + 1);
      const head = queue.shift();
      if (head === undefined) return;
      const items = (await Promise.all(head.items)) as T[];
      fill(this.prefetch); // keep the workers busy while the caller works on this batch
      yield { epoch: head.epoch, index: head.index, indices: head.indices, items };
    }
  }

  /** Terminates the workers. The loader cannot be used afterwards. */
  async close(): Promise<void> {
    this.closed = true;
    await this.pool?.close();
  }

  private getRunner(): Promise<Runner> {
    this.runner ??= this.makeRunner();
    return this.runner;
  }

  private async makeRunner(): Promise<Runner> {
    if (this.workers > 0) {
      const pool = new WorkerPool(this.workers, this.map as SampleMapRef, this.seed);
      this.pool = pool;
      try {
        await pool.ready();
      } catch (e) {
        await pool.close();
        this.runner = undefined;
        throw e;
      }
      return (index, epoch, sample, describe) => pool.run(index, epoch, sample, describe);
    }
    const map: SampleMap<S, T> =
      typeof this.map === 'function' ? this.map : await (await importFactory<S, T>(this.map))(this.map.options);
    const seed = this.seed;
    return async (index, epoch, sample, describe) => {
      try {
        return await map(sample as S, { index, epoch, rng: sampleRng(seed, epoch, index) });
      } catch (e) {
        const file = (e as { file?: unknown }).file;
        throw new CmidError('input', `data loader: ${describe()} failed: ${(e as Error).message}`, {
          cause: e,
          ...(typeof file === 'string' ? { file } : {}),
        });
      }
    };
  }
}

/**
 * Stacks HWC images of one size into an NHWC batch.
 *
 * @example
 * const x = stackHwc(batch.items.map((it) => it.image)); // x.shape [B, H, W, C], x.data Float32Array
 */
export function stackHwc(images: ReadonlyArray<{ data: ArrayLike<number>; height: number; width: number; channels: number }>): {
  data: Float32Array;
  shape: [number, number, number, number];
} {
  if (images.length === 0) throw new CmidError('input', 'stackHwc: no images.');
  const { height, width, channels } = images[0]!;
  const n = height * width * channels;
  const data = new Float32Array(images.length * n);
  images.forEach((im, b) => {
    if (im.height !== height || im.width !== width || im.channels !== channels || im.data.length !== n) {
      throw new CmidError(
        'input',
        `stackHwc: image ${b} is ${im.height}x${im.width}x${im.channels} (data ${im.data.length}) but image 0 is ${height}x${width}x${channels}; ` +
          'resize or crop to one size in the sample map.',
      );
    }
    data.set(im.data, b * n);
  });
  return { data, shape: [images.length, height, width, channels] };
}
