import { afterEach, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend, assertTrainingBackend, CmidError, readConfig, probeWasmSimd } from '../../src/index.js';

describe('initBackend', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it('chooses wasm automatically here, and says why tensorflow and webgpu were passed over', async () => {
    delete process.env.CMID_BACKEND;
    const info = await initBackend();
    expect(info.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(info.reason).toMatch(/no tensorflow/);
    expect(info.reason).toMatch(/no webgpu/);
    expect(info.simd).toBe(true);
  });

  it('CMID_BACKEND=wasm selects wasm explicitly', async () => {
    process.env.CMID_BACKEND = 'wasm';
    const info = await initBackend();
    expect(info.name).toBe('wasm');
    expect(info.reason).toMatch(/^asked for/);
  });

  it('an uninstalled backend is an error naming the package, never a silent fallback', async () => {
    await expect(initBackend({ backend: 'tensorflow' })).rejects.toThrow(/@tensorflow\/tfjs-node@4\.22\.0/);
    await expect(initBackend({ backend: 'webgpu' })).rejects.toThrow(/tfjs-backend-webgpu/);
    const err = await initBackend({ backend: 'tensorflow' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CmidError);
    expect((err as CmidError).kind).toBe('backend');
    expect(tf.getBackend()).toBe('wasm'); // the failed request did not switch anything
  });

  it('rejects an unknown CMID_BACKEND with the valid choices', () => {
    expect(() => readConfig({ CMID_BACKEND: 'cuda' })).toThrow(/tensorflow, webgpu, wasm, cpu/);
    expect(() => readConfig({ CMID_THREADS: '0' })).toThrow(/positive integer/);
  });

  it('cpu only when asked, with a warning in the reason; training guard refuses an implicit cpu', async () => {
    const info = await initBackend({ backend: 'cpu' });
    expect(info.name).toBe('cpu');
    expect(info.reason).toMatch(/1000x slower/);
    expect(() => assertTrainingBackend()).not.toThrow(); // explicit choice is honoured
    await initBackend({ backend: 'wasm' });
    await tf.setBackend('cpu'); // someone switched tfjs to cpu behind initBackend's back
    // initBackend chose wasm but the active backend is cpu: the guard must refuse
    expect(() => assertTrainingBackend()).toThrow(/initBackend/);
    await initBackend({ backend: 'wasm' });
  });

  it('detects wasm SIMD', () => {
    expect(probeWasmSimd()).toBe(true);
  });
});
