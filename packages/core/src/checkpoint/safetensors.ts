/**
 * safetensors read and write (https://github.com/huggingface/safetensors, format section of its README):
 * 8-byte little-endian header length N, N bytes of JSON `{ "__metadata__": {str: str}, name: { dtype, shape,
 * data_offsets: [begin, end] } }` (offsets relative to the byte after the header), then the raw little-endian data.
 *
 * The writer follows the reference implementation: tensors are laid out by element size, largest first, then by
 * name (so every tensor starts aligned to its element size), the header lists them in that order after
 * `__metadata__`, and the JSON is padded with spaces to a multiple of 8 bytes. Files are written atomically.
 */
import { open } from 'node:fs/promises';
import { writeFileAtomic } from './atomic-write.js';
import { DTYPE_BYTES, checkpointError, numel, typedView, type CheckpointDtype, type CheckpointTensor, type StateDict } from './tensor.js';

const TO_ST: Readonly<Record<CheckpointDtype, string>> = {
  float32: 'F32',
  float16: 'F16',
  bfloat16: 'BF16',
  float64: 'F64',
  int64: 'I64',
  int32: 'I32',
  int16: 'I16',
  int8: 'I8',
  uint8: 'U8',
  bool: 'BOOL',
};
const FROM_ST: Readonly<Record<string, CheckpointDtype>> = Object.fromEntries(Object.entries(TO_ST).map(([k, v]) => [v, k as CheckpointDtype]));
/** The reference refuses headers above 100 MB. */
const MAX_HEADER = 100_000_000;

export interface Safetensors {
  readonly file: string;
  readonly tensors: StateDict;
  /** The `__metadata__` map (string to string), empty if absent. */
  readonly metadata: Record<string, string>;
}

interface HeaderEntry {
  name: string;
  dtype: CheckpointDtype;
  shape: number[];
  begin: number;
  end: number;
}

function parseHeader(file: string, json: Uint8Array, dataLength: number): { entries: HeaderEntry[]; metadata: Record<string, string> } {
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(json));
  } catch (e) {
    throw checkpointError(file, `safetensors header is not valid UTF-8 JSON (${(e as Error).message}).`, e);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw checkpointError(file, 'safetensors header is not a JSON object.');
  const metadata: Record<string, string> = {};
  const entries: HeaderEntry[] = [];
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof raw !== 'object' || raw === null) throw checkpointError(file, 'safetensors __metadata__ is not an object of strings.');
      for (const [k, v] of Object.entries(raw)) {
        if (typeof v !== 'string') throw checkpointError(file, `safetensors __metadata__["${k}"] is a ${typeof v}; the format allows strings only.`);
        metadata[k] = v;
      }
      continue;
    }
    const info = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const dtype = typeof info?.dtype === 'string' ? FROM_ST[info.dtype] : undefined;
    if (dtype === undefined) {
      throw checkpointError(file, `safetensors tensor "${name}" has dtype ${JSON.stringify(info?.dtype)}; supported: ${Object.values(TO_ST).join(', ')}.`);
    }
    const shape = info.shape;
    const offs = info.data_offsets;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0) || !Array.isArray(offs) || offs.length !== 2 || !offs.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw checkpointError(file, `safetensors tensor "${name}" has a malformed shape or data_offsets.`);
    }
    const [begin, end] = offs as [number, number];
    const bytes = numel(shape) * DTYPE_BYTES[dtype];
    if (end < begin || end - begin !== bytes) {
      throw checkpointError(file, `safetensors tensor "${name}" [${shape.join(', ')}] ${info.dtype} needs ${bytes} bytes but data_offsets span ${end - begin}.`);
    }
    if (end > dataLength) {
      throw checkpointError(file, `safetensors tensor "${name}" ends at data byte ${end} but the file has ${dataLength} data bytes; it is truncated.`);
    }
    entries.push({ name, dtype, shape: shape as number[], begin, end });
  }
  return { entries, metadata };
}

function headerLength(file: string, first8: Uint8Array, fileSize: number): number {
  if (fileSize < 8) throw checkpointError(file, `not a safetensors file (${fileSize} bytes; needs an 8-byte header length).`);
  const n = new DataView(first8.buffer, first8.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(Math.min(MAX_HEADER, fileSize - 8))) {
    throw checkpointError(file, `not a safetensors file, or truncated: header length ${n} exceeds the ${fileSize - 8} bytes after it (limit ${MAX_HEADER}).`);
  }
  return Number(n);
}

/** Decodes a safetensors file held in memory. Tensors are copied into fresh, aligned arrays. */
export function decodeSafetensors(bytes: Uint8Array, file = '<buffer>'): Safetensors {
  const n = headerLength(file, bytes.subarray(0, 8), bytes.byteLength);
  const dataStart = 8 + n;
  const { entries, metadata } = parseHeader(file, bytes.subarray(8, dataStart), bytes.byteLength - dataStart);
  const tensors: StateDict = new Map();
  for (const e of entries) {
    // A fresh, aligned copy (Buffer#slice would return a view into Node's shared pool).
    const copy = new Uint8Array(e.end - e.begin);
    copy.set(bytes.subarray(dataStart + e.begin, dataStart + e.end));
    tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data: typedView(e.dtype, copy.buffer, 0, numel(e.shape)) });
  }
  return { file, tensors, metadata };
}

/**
 * Reads a .safetensors file with positional reads (the file is never loaded whole). Tensor order is the
 * header's order.
 *
 * @example
 * const { tensors, metadata } = await readSafetensors('resnet50.cmid_millionaid.safetensors');
 */
export async function readSafetensors(file: string): Promise<Safetensors> {
  let fh;
  try {
    fh = await open(file, 'r');
  } catch (e) {
    throw checkpointError(file, `cannot open (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}).`, e);
  }
  try {
    const size = (await fh.stat()).size;
    const first8 = new Uint8Array(8);
    await fh.read(first8, 0, Math.min(8, size), 0);
    const n = headerLength(file, first8, size);
    const json = new Uint8Array(n);
    await fh.read(json, 0, n, 8);
    const dataStart = 8 + n;
    const { entries, metadata } = parseHeader(file, json, size - dataStart);
    const tensors: StateDict = new Map();
    for (const e of entries) {
      const buf = new Uint8Array(e.end - e.begin);
      let done = 0;
      while (done < buf.byteLength) {
        const { bytesRead } = await fh.read(buf, done, Math.min(buf.byteLength - done, 1 << 28), dataStart + e.begin + done);
        if (bytesRead === 0) throw checkpointError(file, `safetensors tensor "${e.name}": unexpected end of file.`);
        done += bytesRead;
      }
      tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data: typedView(e.dtype, buf.buffer, 0, numel(e.shape)) });
    }
    return { file, tensors, metadata };
  } finally {
    await fh.close();
  }
}

/**
 * Encodes tensors as safetensors: returns the chunks (header, then each tensor's bytes) to write in order.
 * `metadata` values must be strings, as the format requires.
 */
export function encodeSafetensors(
  tensors: ReadonlyMap<string, CheckpointTensor> | Readonly<Record<string, CheckpointTensor>>,
  metadata?: Readonly<Record<string, string>>,
): Uint8Array[] {
  const list = (tensors instanceof Map ? [...tensors] : Object.entries(tensors)) as [string, CheckpointTensor][];
  for (const [name, t] of list) {
    if (name === '__metadata__') throw checkpointError('<safetensors>', 'a tensor cannot be named "__metadata__".');
    if (TO_ST[t.dtype] === undefined) throw checkpointError('<safetensors>', `tensor "${name}" has unsupported dtype ${t.dtype}.`);
    if (t.data.length !== numel(t.shape)) {
      throw checkpointError('<safetensors>', `tensor "${name}" has shape [${t.shape.join(', ')}] (${numel(t.shape)} elements) but ${t.data.length} values.`);
    }
  }
  list.sort(([an, a], [bn, b]) => DTYPE_BYTES[b.dtype] - DTYPE_BYTES[a.dtype] || (an < bn ? -1 : an > bn ? 1 : 0));
  const header: Record<string, unknown> = {};
  if (metadata !== undefined && Object.keys(metadata).length > 0) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw checkpointError('<safetensors>', `__metadata__["${k}"] is a ${typeof v}; safetensors metadata values are strings.`);
    }
    header.__metadata__ = metadata;
  }
  let offset = 0;
  const chunks: Uint8Array[] = [];
  for (const [name, t] of list) {
    const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    header[name] = { dtype: TO_ST[t.dtype], shape: [...t.shape], data_offsets: [offset, offset + bytes.byteLength] };
    offset += bytes.byteLength;
    chunks.push(bytes);
  }
  const jsonBytes = new TextEncoder().encode(JSON.stringify(header));
  const pad = (8 - (jsonBytes.byteLength % 8)) % 8;
  const head = new Uint8Array(8 + jsonBytes.byteLength + pad);
  new DataView(head.buffer).setBigUint64(0, BigInt(jsonBytes.byteLength + pad), true);
  head.set(jsonBytes, 8);
  head.fill(0x20, 8 + jsonBytes.byteLength);
  return [head, ...chunks];
}

/**
 * Writes tensors to `file` as safetensors, atomically (temp file beside it, then rename).
 *
 * @example
 * await writeSafetensors('backbone.safetensors', stateDict, { format: 'pt', source: 'cmid extract' });
 */
export async function writeSafetensors(
  file: string,
  tensors: ReadonlyMap<string, CheckpointTensor> | Readonly<Record<string, CheckpointTensor>>,
  metadata?: Readonly<Record<string, string>>,
): Promise<void> {
  await writeFileAtomic(file, encodeSafetensors(tensors, metadata));
}
