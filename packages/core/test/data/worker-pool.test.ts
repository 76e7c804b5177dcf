/** The transfer rule (typed arrays are moved, never copied, and never detach memory others use) and execArgv. */
import { describe, expect, it } from 'vitest';
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';
import { prepareTransfer, workerExecArgv } from '../../src/data/worker-pool.js';

describe('prepareTransfer', () => {
  it('moves whole-buffer typed arrays: after postMessage the sender side is detached and the receiver has the data', () => {
    const image = new Float32Array([1, 2, 3, 4]);
    const mask = new Uint8Array([9, 8]);
    const item = { image: { data: image, height: 2, width: 2, channels: 1 }, extras: [mask], label: 3 };
    const { transfer, bytes } = prepareTransfer(item);
    expect(bytes).toBe(16 + 2);
    const { port1, port2 } = new MessageChannel();
    port1.postMessage(item, transfer);
    expect(image.byteLength).toBe(0); // transferred, not copied
    expect(mask.byteLength).toBe(0);
    const got = receiveMessageOnPort(port2)!.message as typeof item;
    expect(Array.from(got.image.data)).toEqual([1, 2, 3, 4]);
    expect(got.extras[0]).toEqual(new Uint8Array([9, 8]));
    port1.close();
  });

  it('a view into a larger buffer (a subarray, a pooled Buffer) is swapped for its own copy; the shared buffer survives', () => {
    const big = new Float32Array(100).map((_, i) => i);
    const pooled = Buffer.from('tiny'); // from Node's shared 8 KiB pool
    expect(pooled.buffer.byteLength).toBeGreaterThan(pooled.byteLength);
    const item = { part: big.subarray(10, 14), text: pooled };
    const { transfer, bytes } = prepareTransfer(item);
    expect(bytes).toBe(16 + 4);
    expect(item.part).not.toBe(big.subarray(10, 14));
    expect(Array.from(item.part)).toEqual([10, 11, 12, 13]);
    expect(item.text).toBeInstanceOf(Uint8Array);
    const { port1, port2 } = new MessageChannel();
    port1.postMessage(item, transfer);
    expect(big.length).toBe(100); // not detached
    expect(pooled.toString()).toBe('tiny');
    expect(Array.from((receiveMessageOnPort(port2)!.message as typeof item).part)).toEqual([10, 11, 12, 13]);
    port1.close();
  });

  it('leaves class instances alone and counts a buffer shared by two views once', () => {
    const buf = new ArrayBuffer(8);
    const item = { a: new Uint8Array(buf), b: new Uint8Array(buf), when: new Date(0) };
    expect(prepareTransfer(item).transfer).toEqual([buf]);
  });
});

describe('workerExecArgv', () => {
  it('keeps loader and condition flags, drops --input-type and -e/-p with their code', () => {
    expect(workerExecArgv(['--conditions', '@cmid/source', '--input-type=module', '-e', 'code()', '--import', 'x.mjs', '--print=1', '--input-type', 'module']))
      .toEqual(['--conditions', '@cmid/source', '--import', 'x.mjs']);
  });
});
