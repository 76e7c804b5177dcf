import { afterAll, describe, expect, it } from 'vitest';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CmidError } from '../../../src/runtime/errors.js';
import { openSource, sniffFormat } from '../../../src/io/decoders/index.js';
import { removeTempDirs, tempDir } from '../helpers.js';

afterAll(removeTempDirs);

describe('sniffFormat picks the decoder by magic bytes, not by extension', () => {
  it.each([
    [[0x49, 0x49, 42, 0], 'tiff'], [[0x4d, 0x4d, 0, 42], 'tiff'], [[0x49, 0x49, 43, 0], 'tiff'],
    [[0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'png'], [[0xff, 0xd8, 0xff, 0xe0], 'jpeg'],
    [[0x52, 0x49, 0x46, 0x46, 0, 0, 0, 0, 0x57, 0x45, 0x42, 0x50], 'webp'], [[0x47, 0x49, 0x46, 0x38], undefined],
  ] as const)('%o -> %s', (bytes, format) => {
    expect(sniffFormat(Uint8Array.from(bytes))).toBe(format);
  });

  it('a PNG named .tif still opens as PNG; a text file is refused with the list of formats', async () => {
    const dir = await tempDir();
    const sharp = (await import('sharp')).default;
    await sharp({ create: { width: 4, height: 3, channels: 3, background: { r: 1, g: 2, b: 3 } } }).png().toFile(join(dir, 'png.tif'));
    const src = await openSource(join(dir, 'png.tif'));
    expect(src.info.format).toBe('png');
    await src.close();
    await writeFile(join(dir, 'notes.tif'), 'hello');
    const err = await openSource(join(dir, 'notes.tif')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CmidError);
    expect((err as CmidError).message).toMatch(/unsupported image format .* Readable: TIFF/);
  });
});
