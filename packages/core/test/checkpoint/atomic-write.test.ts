import { afterAll, describe, expect, it } from 'vitest';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openAtomic, writeFileAtomic } from '../../src/checkpoint/atomic-write.js';

const dirs: string[] = [];
afterAll(async () => { await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))); });

describe('writeFileAtomic', () => {
  it('replaces the file in one step and leaves no temp file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cmid-atomic-'));
    dirs.push(dir);
    const path = join(dir, 'ckpt.bin');
    await writeFile(path, 'old');
    await writeFileAtomic(path, [Uint8Array.from([1, 2]), Uint8Array.from([3])]);
    expect(Array.from(await readFile(path))).toEqual([1, 2, 3]);
    await writeFileAtomic(path, 'text');
    expect(await readFile(path, 'utf8')).toBe('text');
    expect(await readdir(dir)).toEqual(['ckpt.bin']);
  });

  it('abort keeps the old file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cmid-atomic-'));
    dirs.push(dir);
    const path = join(dir, 'a.txt');
    await writeFile(path, 'old');
    const f = await openAtomic(path);
    await f.handle.write(Buffer.from('half'), 0, 4, 0);
    await f.abort();
    expect(await readFile(path, 'utf8')).toBe('old');
    expect(await readdir(dir)).toEqual(['a.txt']);
  });
});
