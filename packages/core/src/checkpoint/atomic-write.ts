/**
 * Atomic file writes: write to a temp file in the same folder, fsync, then rename over the target. A reader
 * (or a crash) never sees a half-written checkpoint or raster; rename is atomic only within one file system,
 * which is why the temp file sits beside the target and not in os.tmpdir().
 */
import { randomBytes } from 'node:crypto';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export interface AtomicFile {
  /** The open temp file; write with handle.write(buffer, 0, length, position). */
  readonly handle: FileHandle;
  /** Path of the temp file (removed on abort). */
  readonly tempPath: string;
  /** fsync, close and rename the temp file onto the target. */
  commit(): Promise<void>;
  /** Close and delete the temp file; the target is left as it was. */
  abort(): Promise<void>;
}

/** Opens a temp file beside `path` for writing; call commit() to move it into place or abort() to drop it. */
export async function openAtomic(path: string): Promise<AtomicFile> {
  const tempPath = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const handle = await open(tempPath, 'wx');
  let done = false;
  return {
    handle,
    tempPath,
    async commit() {
      if (done) return;
      done = true;
      try {
        await handle.sync();
        await handle.close();
        await rename(tempPath, path);
      } catch (e) {
        await handle.close().catch(() => undefined);
        await rm(tempPath, { force: true });
        throw e;
      }
    },
    async abort() {
      if (done) return;
      done = true;
      await handle.close().catch(() => undefined);
      await rm(tempPath, { force: true });
    },
  };
}

/**
 * Writes `data` to `path` atomically (temp file in the same folder, then rename).
 * Several chunks may be given; they are written one after the other.
 *
 * @example
 * await writeFileAtomic('runs/ckpt/last.safetensors', bytes); // either the old file or the whole new one
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array | readonly Uint8Array[]): Promise<void> {
  const chunks = typeof data === 'string' ? [Buffer.from(data, 'utf8')] : data instanceof Uint8Array ? [data] : data;
  const file = await openAtomic(path);
  try {
    let position = 0;
    for (const chunk of chunks) {
      let written = 0;
      while (written < chunk.byteLength) {
        const { bytesWritten } = await file.handle.write(chunk, written, chunk.byteLength - written, position + written);
        written += bytesWritten;
      }
      position += chunk.byteLength;
    }
  } catch (e) {
    await file.abort();
    throw e;
  }
  await file.commit();
}
