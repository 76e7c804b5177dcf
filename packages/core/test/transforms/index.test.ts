import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as barrel from '../../src/transforms/index.js';

describe('transforms/index.ts', () => {
  it('re-exports every runtime export of every module in src/transforms, and every module has a test file', async () => {
    const dir = fileURLToPath(new URL('../../src/transforms/', import.meta.url));
    const testDir = fileURLToPath(new URL('./', import.meta.url));
    const tests = new Set(readdirSync(testDir));
    const modules = readdirSync(dir).filter((f) => f.endsWith('.ts') && f !== 'index.ts');
    expect(modules.length).toBeGreaterThan(20);
    for (const f of modules) {
      const name = f.replace(/\.ts$/, '');
      const mod = (await import(/* @vite-ignore */ new URL(`../../src/transforms/${name}.ts`, import.meta.url).href)) as Record<string, unknown>;
      for (const name of Object.keys(mod)) expect(barrel, `${f} exports ${name}`).toHaveProperty(name, mod[name]);
      expect(tests.has(f.replace(/\.ts$/, '.test.ts')), `test/transforms/${f.replace(/\.ts$/, '.test.ts')}`).toBe(true);
    }
  });
});
