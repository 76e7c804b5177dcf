/**
 * Entry of a data loader worker thread (started by worker-pool.ts; never imported by user code).
 * Imports the sample map named in workerData, builds it once, then runs tasks as they come: each result is
 * posted back with its typed arrays in the transfer list. Tasks overlap at their awaits (async decoders), and
 * every task has its own Rng, so the interleaving does not change any result.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { importFactory, sampleRng, type SampleMap } from './sample-map.js';
import { prepareTransfer, type FromWorker, type ToWorker, type WorkerInit } from './worker-pool.js';

const init = workerData as WorkerInit;
const port = parentPort!;

const send = (m: FromWorker, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer);

async function start(): Promise<SampleMap<unknown, unknown>> {
  const factory = await importFactory<unknown, unknown>({ module: init.mapUrl, export: init.mapExport });
  return factory(init.options);
}

const mapReady = start();
mapReady.then(
  () => send({ type: 'ready' }),
  (e: unknown) => send({ type: 'init-error', message: (e as Error).message ?? String(e), stack: (e as Error).stack }),
);

port.on('message', (m: ToWorker) => {
  if (m.type !== 'task') return;
  void (async () => {
    try {
      const map = await mapReady;
      const item = await map(m.sample, { index: m.index, epoch: m.epoch, rng: sampleRng(init.seed, m.epoch, m.index) });
      const { transfer, bytes } = prepareTransfer(item);
      try {
        send({ type: 'result', id: m.id, item, transferredBytes: bytes }, transfer);
      } catch {
        send({ type: 'result', id: m.id, item, transferredBytes: 0 }); // e.g. an untransferable buffer: copy instead
      }
    } catch (e) {
      const err = e as Error & { file?: unknown };
      const msg: FromWorker = { type: 'error', id: m.id, message: err?.message ?? String(e) };
      if (err?.stack !== undefined) msg.stack = err.stack;
      if (typeof err?.file === 'string') msg.file = err.file;
      send(msg);
    }
  })();
});
