/**
 * A read-only view of the zip container that torch.save writes (default since torch 1.6).
 *
 * Checkpoints are hundreds of MB, so nothing reads the whole file: the end-of-central-directory record is found in
 * the last 64 KiB, the central directory is read once, and each entry is read by offset with positional reads on
 * an fs handle. torch stores entries uncompressed (method 0, data aligned to 64 bytes through local-header extra
 * padding); deflated entries (method 8, e.g. a checkpoint re-zipped by another tool) are inflated with node:zlib.
 * Zip64 (archives or entries past 4 GiB, which torch's miniz writer emits for big checkpoints) is handled.
 * CRCs are not checked (node 20 has no zlib.crc32; hashing a 1 GB checkpoint in JS costs seconds); sizes and
 * bounds are.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { inflateRawSync } from 'node:zlib';
import { checkpointError } from '../tensor.js';

export interface ZipEntry {
  readonly name: string;
  /** 0 = stored, 8 = deflated. */
  readonly method: number;
  readonly compressedSize: number;
  readonly size: number;
  readonly localHeaderOffset: number;
}

const EOCD_SIG = 0x06054b50;
const ZIP64_LOCATOR_SIG = 0x07064b50;
const ZIP64_EOCD_SIG = 0x06064b50;
const CDIR_SIG = 0x02014b50;
const LOCAL_SIG = 0x04034b50;
/** Largest single read; node caps one read at 2 GiB. */
const READ_CHUNK = 1 << 28;

function u64(view: DataView, at: number): number {
  const v = view.getBigUint64(at, true);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError('zip64 field beyond 2^53');
  return Number(v);
}

export class ZipContainer {
  private constructor(
    /** The path, as given, for messages. */
    readonly file: string,
    private readonly handle: FileHandle,
    readonly fileSize: number,
    readonly entries: ReadonlyMap<string, ZipEntry>,
  ) {}

  /** Opens `file` and reads its central directory. Throws CmidError 'checkpoint' if it is not a complete zip. */
  static async open(file: string): Promise<ZipContainer> {
    const handle = await open(file, 'r');
    try {
      const size = (await handle.stat()).size;
      const entries = await readCentralDirectory(file, handle, size);
      return new ZipContainer(file, handle, size, entries);
    } catch (e) {
      await handle.close();
      throw e;
    }
  }

  async close(): Promise<void> {
    await this.handle.close();
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  /** The entry's bytes in a fresh, 8-byte-aligned buffer (offset 0), so typed views need no copy. */
  async read(name: string): Promise<Uint8Array> {
    const entry = this.entries.get(name);
    if (entry === undefined) throw checkpointError(this.file, `zip entry "${name}" is missing.`);
    const local = await readAt(this.handle, entry.localHeaderOffset, 30);
    const lv = new DataView(local.buffer, local.byteOffset, local.byteLength);
    if (local.byteLength < 30 || lv.getUint32(0, true) !== LOCAL_SIG) {
      throw checkpointError(this.file, `zip entry "${name}": no local header at offset ${entry.localHeaderOffset}; the file is truncated or corrupt.`);
    }
    const dataStart = entry.localHeaderOffset + 30 + lv.getUint16(26, true) + lv.getUint16(28, true);
    if (dataStart + entry.compressedSize > this.fileSize) {
      throw checkpointError(
        this.file,
        `zip entry "${name}" needs bytes ${dataStart}..${dataStart + entry.compressedSize} but the file has ${this.fileSize}; it is truncated.`,
      );
    }
    if (entry.method === 0) {
      if (entry.compressedSize !== entry.size) {
        throw checkpointError(this.file, `zip entry "${name}" is stored but its sizes differ (${entry.compressedSize} vs ${entry.size}).`);
      }
      return readAt(this.handle, dataStart, entry.size, true);
    }
    if (entry.method === 8) {
      const raw = await readAt(this.handle, dataStart, entry.compressedSize);
      let out: Buffer;
      try {
        out = inflateRawSync(raw);
      } catch (e) {
        throw checkpointError(this.file, `zip entry "${name}": deflate data is corrupt (${(e as Error).message}).`, e);
      }
      if (out.byteLength !== entry.size) {
        throw checkpointError(this.file, `zip entry "${name}" inflated to ${out.byteLength} bytes, the directory says ${entry.size}.`);
      }
      const aligned = new Uint8Array(out.byteLength);
      aligned.set(out);
      return aligned;
    }
    throw checkpointError(this.file, `zip entry "${name}" uses compression method ${entry.method}; only stored (0) and deflate (8) are read.`);
  }
}

/** Reads `length` bytes at `position`; with `exact`, fewer bytes is an error raised by the caller's checks. */
async function readAt(handle: FileHandle, position: number, length: number, fresh = false): Promise<Uint8Array> {
  const out = fresh ? new Uint8Array(new ArrayBuffer(length)) : Buffer.allocUnsafe(length);
  let done = 0;
  while (done < length) {
    const n = Math.min(READ_CHUNK, length - done);
    const { bytesRead } = await handle.read(out, done, n, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done === length ? out : out.subarray(0, done);
}

async function readCentralDirectory(file: string, handle: FileHandle, size: number): Promise<Map<string, ZipEntry>> {
  if (size < 22) throw checkpointError(file, `not a zip archive (${size} bytes; a torch .pth is a zip). The file is empty or truncated.`);
  const tailLen = Math.min(size, 22 + 0xffff);
  const tail = await readAt(handle, size - tailLen, tailLen);
  const tv = new DataView(tail.buffer, tail.byteOffset, tail.byteLength);
  let eocd = -1;
  for (let i = tailLen - 22; i >= 0; i--) {
    if (tv.getUint32(i, true) === EOCD_SIG && i + 22 + tv.getUint16(i + 20, true) === tailLen) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) {
    throw checkpointError(
      file,
      'not a complete zip archive: the end-of-central-directory record is missing (the file is truncated, or is not a torch zip checkpoint).',
    );
  }
  let count = tv.getUint16(eocd + 10, true);
  let cdSize = tv.getUint32(eocd + 12, true);
  let cdOffset = tv.getUint32(eocd + 16, true);
  const eocdPos = size - tailLen + eocd;
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    // Zip64: the locator sits right before the classic record and points at the zip64 record.
    if (eocdPos < 20) throw checkpointError(file, 'zip64 end-of-central-directory locator is missing; the file is truncated.');
    const loc = await readAt(handle, eocdPos - 20, 20);
    const lv = new DataView(loc.buffer, loc.byteOffset, 20);
    if (lv.getUint32(0, true) !== ZIP64_LOCATOR_SIG) throw checkpointError(file, 'zip64 end-of-central-directory locator is missing; the file is corrupt.');
    const recPos = u64(lv, 8);
    const rec = await readAt(handle, recPos, 56);
    const rv = new DataView(rec.buffer, rec.byteOffset, rec.byteLength);
    if (rec.byteLength < 56 || rv.getUint32(0, true) !== ZIP64_EOCD_SIG) {
      throw checkpointError(file, `zip64 end-of-central-directory record missing at offset ${recPos}; the file is corrupt.`);
    }
    count = u64(rv, 32);
    cdSize = u64(rv, 40);
    cdOffset = u64(rv, 48);
  }
  if (cdOffset + cdSize > size) {
    throw checkpointError(file, `zip central directory (bytes ${cdOffset}..${cdOffset + cdSize}) lies beyond the end of the file (${size} bytes); it is truncated.`);
  }
  const cd = await readAt(handle, cdOffset, cdSize);
  const cv = new DataView(cd.buffer, cd.byteOffset, cd.byteLength);
  const decoder = new TextDecoder('utf-8');
  const entries = new Map<string, ZipEntry>();
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cdSize || cv.getUint32(p, true) !== CDIR_SIG) {
      throw checkpointError(file, `zip central directory entry ${i} of ${count} is corrupt (at offset ${cdOffset + p}).`);
    }
    const method = cv.getUint16(p + 10, true);
    let compressedSize = cv.getUint32(p + 20, true);
    let uncompressed = cv.getUint32(p + 24, true);
    const nameLen = cv.getUint16(p + 28, true);
    const extraLen = cv.getUint16(p + 30, true);
    const commentLen = cv.getUint16(p + 32, true);
    let localHeaderOffset = cv.getUint32(p + 42, true);
    if (p + 46 + nameLen + extraLen + commentLen > cdSize) {
      throw checkpointError(file, `zip central directory entry ${i} of ${count} runs past the directory's end.`);
    }
    const name = decoder.decode(cd.subarray(p + 46, p + 46 + nameLen));
    // Zip64 extended information (header id 1): only the fields saturated in the fixed record are present, in order.
    let e = p + 46 + nameLen;
    const extraEnd = e + extraLen;
    while (e + 4 <= extraEnd) {
      const id = cv.getUint16(e, true);
      const len = cv.getUint16(e + 2, true);
      if (id === 1) {
        let q = e + 4;
        if (uncompressed === 0xffffffff) (uncompressed = u64(cv, q)), (q += 8);
        if (compressedSize === 0xffffffff) (compressedSize = u64(cv, q)), (q += 8);
        if (localHeaderOffset === 0xffffffff) localHeaderOffset = u64(cv, q);
      }
      e += 4 + len;
    }
    if (localHeaderOffset + 30 > size) {
      throw checkpointError(file, `zip entry "${name}" starts at offset ${localHeaderOffset}, beyond the end of the file (${size} bytes); it is truncated.`);
    }
    entries.set(name, { name, method, compressedSize, size: uncompressed, localHeaderOffset });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}
