import { mkdtemp, readdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { ensureSynthetic } from '../../src/synth/index.js';

it('ensureSynthetic generates once, concurrently safe, and reuses the copy', async () => {
  const cacheDir = await mkdtemp(join(tmpdir(), 'cmid-cache-'));
  const [a, b] = await Promise.all([ensureSynthetic('ucm', { size: 'tiny', cacheDir }), ensureSynthetic('ucm', { size: 'tiny', cacheDir })]);
  expect(a).toBe(b);
  const classes = await readdir(join(a, 'Images'));
  expect(classes.length).toBe(21);
  expect((await readdir(join(cacheDir, 'synth'))).filter((n) => n.includes('.tmp-'))).toEqual([]);
  const before = (await stat(join(a, '.complete'))).mtimeMs;
  expect(await ensureSynthetic('ucm', { size: 'tiny', cacheDir })).toBe(a);
  expect((await stat(join(a, '.complete'))).mtimeMs).toBe(before); // reused, not regenerated
});
