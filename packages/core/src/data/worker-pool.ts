/**
 * The worker threads behind the data loader: start, dispatch, collect, and the typed-array transfer rule.
 *
 * Starting a worker is the awkward part. The worker entry (loader-worker.ts/.js next to this file) and the
 * user's sample map module are loaded by the worker's own module loader, which knows nothing of TypeScript.
 * Built JS needs nothing. When either module is TypeScript (tests under vitest, scripts under tsx), the worker is
 * started from a small bootstrap that registers tsx's ESM hooks (tsx/esm/api register()) in the worker before
 * importing the entry. On Node 20, neither the parent's `--import tsx` nor `execArgv: ['--import', ...]` reaches
 * worker threads (both fail with ERR_UNKNOWN_FILE_EXTENSION, checked on Node 20.20), hence the bootstrap.
 * The parent's execArgv (e.g. `--conditions @cmid/source`) is passed on, so workspace imports resolve the same.
 */
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CmidError } from '../runtime/errors.js';
import type { SampleMapRef } from './sample-map.js';
import { moduleUrl } from './sample-map.js';

const TS_URL = /\.(c|m)?tsx?$/;

/** The URL of the worker entry beside this module (.ts in the sources, .js when built). */
function entryUrl(): string {
  const self = import.meta.url;
  const ext = TS_URL.exec(new URL(self).pathname)?.[0] ?? '.js';
  return new URL(`./loader-worker${ext === '.js' ? '.js' : '.ts'}`, self).href;
}

let tsxApiCache: string | undefined;

/** file: URL of tsx's ESM register API (the "import" entry of tsx/esm/api), or a CmidError saying how to get it. */
function tsxApiUrl(why: string): string {
  if (tsxApiCache !== undefined) return tsxApiCache;
  let pkgPath: string;
  try {
    pkgPath = createRequire(import.meta.url).resolve('tsx/package.json');
  } catch {
    try {
      pkgPath = createRequire(join(process.cwd(), 'noop.js')).resolve('tsx/package.json');
    } catch (e) {
      throw new CmidError(
        'config',
        `data loader: ${why}, so worker threads need tsx to load it, and tsx was not found. Install it (pnpm add -D tsx), ` +
          'point the loader at built .js files, or pass workers: 0.',
        { cause: e },
      );
    }
  }
  const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as { exports?: Record<string, unknown> };
  const entry = pkg.exports?.['./esm/api'] as { import?: { default?: string } | string } | undefined;
  const rel = typeof entry?.import === 'string' ? entry.import : entry?.import?.default ?? './dist/esm/api/index.mjs';
  tsxApiCache = pathToFileURL(join(dirname(pkgPath), rel)).href;
  return tsxApiCache;
}

/**
 * The parent's execArgv minus what only makes sense for the main script: --input-type (which would make the
 * worker refuse its file entry) and -e/-p with their code.
 */
export function workerExecArgv(argv: readonly string[] = process.execArgv): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith('--input-type')) {
      if (a === '--input-type') i++;
    } else if (a === '-e' || a === '--eval' || a === '-p' || a === '--print') {
      i++;
    } else if (!a.startsWith('--eval=') && !a.startsWith('--print=')) {
      out.push(a);
    }
  }
  return out;
}

/** What a worker receives at start. */
export interface WorkerInit {
  mapUrl: string;
  mapExport: string;
  options: unknown;
  seed: number;
}

export type ToWorker = { type: 'task'; id: number; index: number; epoch: number; sample: unknown };
export type FromWorker =
  | { type: 'ready' }
  | { type: 'init-error'; message: string; stack?: string }
  | { type: 'result'; id: number; item: unknown; transferredBytes: number }
  | { type: 'error'; id: number; message: string; stack?: string; file?: string };

/**
 * Prepares `item` for postMessage: collects the ArrayBuffers of its typed arrays (searching plain objects and
 * arrays, 6 levels deep) for the transfer list. A view that covers only part of its buffer (a Node Buffer from
 * the shared pool, a subarray) is first replaced by a copy that owns its memory, so transferring never detaches
 * memory that something else uses. Returns the transfer list and its total bytes.
 */
export function prepareTransfer(item: unknown): { transfer: ArrayBuffer[]; bytes: number } {
  const seen = new Set<ArrayBuffer>();
  const visit = (v: unknown, depth: number): unknown => {
    if (v === null || typeof v !== 'object' || depth > 6) return v;
    if (v instanceof ArrayBuffer) {
      seen.add(v);
      return v;
    }
    if (ArrayBuffer.isView(v)) {
      const buf = v.buffer;
      if (!(buf instanceof ArrayBuffer)) return v; // SharedArrayBuffer: shared, not copied
      let view = v;
      if (v.byteOffset !== 0 || v.byteLength !== buf.byteLength) {
        const own = buf.slice(v.byteOffset, v.byteOffset + v.byteLength);
        if (v instanceof DataView) view = new DataView(own);
        else {
          const Ctor = (Buffer.isBuffer(v) ? Uint8Array : v.constructor) as new (b: ArrayBuffer) => ArrayBufferView;
          view = new Ctor(own);
        }
      }
      seen.add(view.buffer as ArrayBuffer);
      return view;
    }
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) v[i] = visit(v[i], depth + 1);
      return v;
    }
    const proto = Object.getPrototypeOf(v) as unknown;
    if (proto !== Object.prototype && proto !== null) return v;
    const o = v as Record<string, unknown>;
    for (const k of Object.keys(o)) o[k] = visit(o[k], depth + 1);
    return v;
  };
  visit(item, 0);
  const transfer = [...seen];
  return { transfer, bytes: transfer.reduce((s, b) => s + b.byteLength, 0) };
}

interface Pending {
  resolve: (item: unknown) => void;
  reject: (e: unknown) => void;
  describe: () => string;
}

interface Slot {
  worker: Worker;
  ready: Promise<void>;
  inflight: number;
  dead: Error | undefined;
}

/** A fixed set of workers running one sample map; tasks go to the least-busy worker. */
export class WorkerPool {
  /** Bytes of typed arrays transferred from workers so far (not copied). */
  transferredBytes = 0;
  private readonly slots: Slot[] = [];
  private readonly pending = new Map<number, Pending & { slot: Slot }>();
  private nextId = 0;
  private closed = false;

  constructor(size: number, ref: SampleMapRef, seed: number) {
    const mapUrl = moduleUrl(ref);
    const entry = entryUrl();
    const init: WorkerInit = { mapUrl, mapExport: ref.export, options: ref.options, seed };
    const needTsx = TS_URL.test(new URL(entry).pathname) || TS_URL.test(new URL(mapUrl).pathname);
    const why = TS_URL.test(new URL(mapUrl).pathname) ? `the sample map ${mapUrl} is TypeScript` : '@cmid/core runs from its TypeScript sources';
    const bootstrap = needTsx
      ? `import(${JSON.stringify(tsxApiUrl(why))}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`
      : undefined;
    const execArgv = workerExecArgv();
    try {
      structuredClone(init);
    } catch (e) {
      throw new CmidError('config', `data loader: the options of ${mapUrl}#${ref.export} cannot be sent to a worker (${(e as Error).message}); pass plain JSON.`, {
        cause: e,
      });
    }
    for (let k = 0; k < size; k++) {
      const worker = bootstrap === undefined
        ? new Worker(new URL(entry), { workerData: init, name: `cmid-loader-${k}`, execArgv })
        : new Worker(bootstrap, { eval: true, workerData: init, name: `cmid-loader-${k}`, execArgv });
      const slot: Slot = { worker, ready: Promise.resolve(), inflight: 0, dead: undefined };
      let started: ((m: FromWorker) => void) | undefined;
      slot.ready = new Promise<void>((resolve, reject) => {
        started = (m) => {
          started = undefined;
          if (m.type === 'ready') resolve();
          else if (m.type === 'init-error') reject(new CmidError('config', `data loader worker ${k}: ${m.message}`));
          else reject(new CmidError('config', `data loader worker ${k}: unexpected first message "${m.type}".`));
        };
        worker.once('error', reject);
      });
      slot.ready.catch((e: unknown) => this.fail(slot, e as Error));
      worker.on('message', (m: FromWorker) => (started !== undefined ? started(m) : this.onMessage(slot, m)));
      // An idle worker must not keep the process alive (a script that forgets close() still exits), a busy or
      // starting one must. unref() only after the listeners: adding a 'message' listener refs the port again.
      void slot.ready.then(() => slot.inflight === 0 && worker.unref(), () => undefined);
      worker.on('error', (e) => this.fail(slot, e));
      worker.on('exit', (code) => {
        if (!this.closed) this.fail(slot, new CmidError('config', `data loader worker ${k} exited with code ${code} while running.`));
      });
      this.slots.push(slot);
    }
  }

  get size(): number {
    return this.slots.length;
  }

  /** Waits until every worker has imported the sample map and built it (rejects with the first start error). */
  async ready(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.ready));
  }

  run(index: number, epoch: number, sample: unknown, describe: () => string): Promise<unknown> {
    if (this.closed) return Promise.reject(new CmidError('config', 'data loader: used after close().'));
    let slot = this.slots[0]!;
    for (const s of this.slots) if (s.dead === undefined && (slot.dead !== undefined || s.inflight < slot.inflight)) slot = s;
    if (slot.dead !== undefined) return Promise.reject(slot.dead);
    const id = this.nextId++;
    const msg: ToWorker = { type: 'task', id, index, epoch, sample };
    const p = new Promise<unknown>((resolve, reject) => this.pending.set(id, { resolve, reject, describe, slot }));
    if (slot.inflight++ === 0) slot.worker.ref();
    slot.worker.postMessage(msg);
    return p;
  }

  private settle(slot: Slot, id: number): (Pending & { slot: Slot }) | undefined {
    const p = this.pending.get(id);
    if (p === undefined) return undefined;
    this.pending.delete(id);
    if (--slot.inflight === 0) slot.worker.unref();
    return p;
  }

  private onMessage(slot: Slot, m: FromWorker): void {
    if (m.type === 'result') {
      this.transferredBytes += m.transferredBytes;
      this.settle(slot, m.id)?.resolve(m.item);
    } else if (m.type === 'error') {
      const p = this.settle(slot, m.id);
      if (p === undefined) return;
      const opts: { file?: string } = m.file === undefined ? {} : { file: m.file };
      const err = new CmidError('input', `data loader: ${p.describe()} failed in a worker: ${m.message}`, opts);
      if (m.stack !== undefined) err.stack = `${err.name}: ${err.message}\n  worker stack: ${m.stack}`;
      p.reject(err);
    }
  }

  private fail(slot: Slot, e: Error): void {
    if (slot.dead !== undefined) return;
    slot.dead = e instanceof CmidError ? e : new CmidError('config', `data loader worker failed: ${e.message}`, { cause: e });
    for (const [id, p] of this.pending) {
      if (p.slot === slot) {
        this.settle(slot, id);
        p.reject(slot.dead);
      }
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const [id, p] of this.pending) {
      this.settle(p.slot, id);
      p.reject(new CmidError('config', 'data loader: closed while samples were in flight.'));
    }
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
