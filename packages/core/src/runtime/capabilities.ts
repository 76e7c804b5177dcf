/**
 * What this process can load: the native TensorFlow binding (tfjs-node / tfjs-node-gpu), a WebGPU adapter
 * (the `webgpu` package + tfjs-backend-webgpu), wasm SIMD. Each probe is lazy and cached, and reports why
 * a capability is absent, so initBackend() can explain its choice.
 *
 * The optional packages are never dependencies of @cmid/core: tfjs-node's install downloads libtensorflow and
 * fails where only the npm registry is reachable. A user who has them installed gets them.
 */
import { createRequire } from 'node:module';

export interface Probe {
  available: boolean;
  /** Why it is (not) available, in words a user can act on. */
  detail: string;
}

const require = createRequire(import.meta.url);
const cache = new Map<string, Promise<Probe>>();

function cached(key: string, f: () => Promise<Probe>): Promise<Probe> {
  let p = cache.get(key);
  if (p === undefined) {
    p = f();
    cache.set(key, p);
  }
  return p;
}

/** Resolve a package from the user's project first, then from @cmid/core's own location. */
export function resolveOptional(name: string): string | undefined {
  for (const base of [process.cwd() + '/', import.meta.url]) {
    try {
      return createRequire(base).resolve(name);
    } catch {
      /* try the next base */
    }
  }
  return undefined;
}

/** tfjs-node-gpu or tfjs-node whose native binding actually loads. */
export function probeTensorflow(): Promise<Probe> {
  return cached('tensorflow', async () => {
    const tried: string[] = [];
    for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
      const path = resolveOptional(pkg);
      if (path === undefined) {
        tried.push(`${pkg} not installed`);
        continue;
      }
      try {
        require(path);
        return { available: true, detail: `${pkg} loaded` };
      } catch (e) {
        tried.push(`${pkg} installed but its binding failed to load (${firstLine(e)}); reinstall it where its install script can download libtensorflow`);
      }
    }
    return { available: false, detail: tried.join('; ') };
  });
}

/** A WebGPU adapter through the `webgpu` package (Dawn), and tfjs-backend-webgpu to use it. */
export function probeWebgpu(): Promise<Probe> {
  return cached('webgpu', async () => {
    const dawn = resolveOptional('webgpu');
    const backend = resolveOptional('@tensorflow/tfjs-backend-webgpu');
    if (dawn === undefined || backend === undefined) {
      return {
        available: false,
        detail: `needs the packages webgpu and @tensorflow/tfjs-backend-webgpu@4.22.0 (${dawn === undefined ? 'webgpu missing' : 'tfjs-backend-webgpu missing'})`,
      };
    }
    try {
      const mod = require(dawn) as { create: (o: string[]) => GPU; globals: Record<string, unknown> };
      const gpu = mod.create([]);
      const adapter = await gpu.requestAdapter();
      if (adapter === null) return { available: false, detail: 'webgpu loaded but found no GPU adapter' };
      const g = globalThis as Record<string, unknown>;
      Object.assign(g, mod.globals);
      if (g.navigator === undefined || (g.navigator as { gpu?: unknown }).gpu === undefined) {
        Object.defineProperty(g, 'navigator', { value: { gpu }, configurable: true, writable: true });
      }
      return { available: true, detail: 'WebGPU adapter found' };
    } catch (e) {
      return { available: false, detail: `webgpu failed to start (${firstLine(e)})` };
    }
  });
}

/** wasm SIMD, which the tfjs wasm backend uses automatically when present (it is in Node 20). */
export function probeWasmSimd(): boolean {
  // The smallest module that uses a v128 instruction: validate() is false where SIMD is unsupported.
  const bytes = new Uint8Array([
    0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11,
  ]);
  return WebAssembly.validate(bytes);
}

function firstLine(e: unknown): string {
  return String((e as Error)?.message ?? e).split('\n')[0] ?? '';
}

// Minimal structural type so this file needs no DOM lib.
interface GPU {
  requestAdapter(): Promise<unknown>;
}
