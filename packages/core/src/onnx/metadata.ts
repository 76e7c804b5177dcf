/**
 * Reads the `metadata_props` of an ONNX model (ModelProto field 14, repeated StringStringEntryProto {key = 1,
 * value = 2}) without decoding the graph: onnxruntime-node does not expose them, and an exported model carries
 * what a predictor needs (class names, normalisation, input size) there. Only the top-level fields are walked;
 * the graph (field 7) is skipped by its length prefix, so this is cheap even for a large model.
 */
import { CmidError } from '../runtime/errors.js';

function varint(b: Uint8Array, pos: { i: number }): number {
  let result = 0;
  let mul = 1;
  for (;;) {
    if (pos.i >= b.length) throw new Error('truncated varint');
    const byte = b[pos.i++]!;
    result += (byte & 0x7f) * mul;
    if ((byte & 0x80) === 0) return result;
    mul *= 128;
  }
}

function skip(b: Uint8Array, pos: { i: number }, wire: number): void {
  if (wire === 0) varint(b, pos);
  else if (wire === 1) pos.i += 8;
  else if (wire === 2) {
    const n = varint(b, pos); // read first: `pos.i += varint(...)` would add to the old position
    pos.i += n;
  }
  else if (wire === 5) pos.i += 4;
  else throw new Error(`unsupported wire type ${wire}`);
}

const utf8 = new TextDecoder();

/** metadata_props of the ONNX model in `bytes` as a plain record (empty when there are none). */
export function readOnnxMetadata(bytes: Uint8Array, source = 'ONNX model'): Record<string, string> {
  const out: Record<string, string> = {};
  const pos = { i: 0 };
  try {
    while (pos.i < bytes.length) {
      const tag = varint(bytes, pos);
      const field = Math.floor(tag / 8), wire = tag & 7;
      if (field === 14 && wire === 2) {
        const len = varint(bytes, pos);
        const end = pos.i + len;
        let key = '', value = '';
        while (pos.i < end) {
          const t = varint(bytes, pos);
          const f = Math.floor(t / 8), w = t & 7;
          if ((f === 1 || f === 2) && w === 2) {
            const n = varint(bytes, pos);
            const s = utf8.decode(bytes.subarray(pos.i, pos.i + n));
            pos.i += n;
            if (f === 1) key = s;
            else value = s;
          } else skip(bytes, pos, w);
        }
        out[key] = value;
      } else skip(bytes, pos, wire);
    }
  } catch (e) {
    throw new CmidError('input', `${source}: not a readable ONNX model (${(e as Error).message}); re-export it.`, { file: source });
  }
  if (pos.i > bytes.length) throw new CmidError('input', `${source}: truncated ONNX model; re-export it.`, { file: source });
  return out;
}
