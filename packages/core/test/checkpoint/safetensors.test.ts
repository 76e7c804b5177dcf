/**
 * safetensors round trip in TS (every dtype, metadata, layout rules of the reference writer), errors, and a
 * cross-check with Python's `safetensors` package when /usr/bin/python3 has it (the Debian image does not).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CmidError } from '../../src/runtime/errors.js';
import {
  decodeSafetensors,
  detectPrefix,
  float32ToBfloat16,
  readSafetensors,
  remapKeys,
  stripPrefix,
  toFloat32,
  writeSafetensors,
  type CheckpointTensor,
  type StateDict,
} from '../../src/checkpoint/index.js';

const dir = mkdtempSync(join(tmpdir(), 'cmid-st-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function sample(): StateDict {
  return new Map<string, CheckpointTensor>([
    ['z.f32', { dtype: 'float32', shape: [2, 3], data: Float32Array.of(1, -2.5, 3e-38, Infinity, NaN, -0) }],
    ['a.f16', { dtype: 'float16', shape: [3], data: Uint16Array.of(0x3c00, 0x8000, 0x7c00) }],
    ['bf16', { dtype: 'bfloat16', shape: [1, 2], data: float32ToBfloat16(Float32Array.of(1, -3.140625)) }],
    ['f64', { dtype: 'float64', shape: [2], data: Float64Array.of(Math.PI, -1e300) }],
    ['i64', { dtype: 'int64', shape: [3], data: BigInt64Array.of(-(2n ** 63n), 2n ** 53n + 1n, 7n) }],
    ['i32', { dtype: 'int32', shape: [2], data: Int32Array.of(-(2 ** 31), 5) }],
    ['i16', { dtype: 'int16', shape: [1], data: Int16Array.of(-300) }],
    ['i8', { dtype: 'int8', shape: [3], data: Int8Array.of(-128, 0, 127) }],
    ['u8', { dtype: 'uint8', shape: [2, 1], data: Uint8Array.of(0, 255) }],
    ['mask', { dtype: 'bool', shape: [3], data: Uint8Array.of(1, 0, 1) }],
    ['scalar', { dtype: 'float32', shape: [], data: Float32Array.of(42) }],
    ['empty', { dtype: 'float32', shape: [0, 4], data: new Float32Array(0) }],
  ]);
}

describe('safetensors', () => {
  it('round trip: f32 f16 bf16 f64 i64 i32 i16 i8 u8 bool, scalar [], empty [0,4], metadata', async () => {
    const file = join(dir, 'all.safetensors');
    const sd = sample();
    await writeSafetensors(file, sd, { format: 'pt', source: 'test' });
    const back = await readSafetensors(file);
    expect(back.metadata).toEqual({ format: 'pt', source: 'test' });
    expect(new Set(back.tensors.keys())).toEqual(new Set(sd.keys()));
    for (const [k, t] of sd) {
      const r = back.tensors.get(k)!;
      expect([r.dtype, r.shape]).toEqual([t.dtype, t.shape]);
      expect(Buffer.from(r.data.buffer, r.data.byteOffset, r.data.byteLength).equals(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength)), k).toBe(true);
    }
    expect([...toFloat32(back.tensors.get('bf16')!)]).toEqual([1, -3.140625]);
    expect([...toFloat32(back.tensors.get('a.f16')!)]).toEqual([1, -0, Infinity]);
    // the in-memory decoder agrees with the positional reader
    expect(decodeSafetensors(readFileSync(file)).tensors).toEqual(back.tensors);
  });

  it('layout as the reference writer: header padded to 8 with spaces, __metadata__ first, largest element size first then name', async () => {
    const file = join(dir, 'layout.safetensors');
    await writeSafetensors(file, sample(), { k: 'v' });
    const bytes = readFileSync(file);
    const n = Number(bytes.readBigUInt64LE(0));
    expect(n % 8).toBe(0);
    const json = bytes.subarray(8, 8 + n).toString('utf8');
    expect(json.trimEnd().length + (json.length - json.trimEnd().length)).toBe(n);
    const header = JSON.parse(json) as Record<string, { dtype: string; data_offsets: [number, number] }>;
    const names = Object.keys(header);
    expect(names[0]).toBe('__metadata__');
    expect(names.slice(1)).toEqual(['f64', 'i64', 'empty', 'i32', 'scalar', 'z.f32', 'a.f16', 'bf16', 'i16', 'i8', 'mask', 'u8']);
    const sizes: Record<string, number> = { F64: 8, I64: 8, F32: 4, I32: 4, F16: 2, BF16: 2, I16: 2, I8: 1, U8: 1, BOOL: 1 };
    let end = 0;
    for (const name of names.slice(1)) {
      const { dtype, data_offsets } = header[name]!;
      expect(data_offsets[0]).toBe(end); // no holes
      expect((8 + n + data_offsets[0]) % sizes[dtype]!).toBe(0); // aligned
      end = data_offsets[1];
    }
    expect(8 + n + end).toBe(bytes.length);
  });

  it('errors name the file: truncated data, zero bytes, bad header, unsupported dtype', async () => {
    const good = readFileSync(join(dir, 'all.safetensors'));
    const cases: [string, Uint8Array, RegExp][] = [
      ['cut.safetensors', good.subarray(0, good.length - 4), /ends at data byte \d+ .* truncated/],
      ['zero.safetensors', new Uint8Array(0), /not a safetensors file \(0 bytes/],
      ['huge.safetensors', Buffer.concat([Buffer.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]), Buffer.from('{}')]), /header length \d+ exceeds/],
      ['c64.safetensors', encodeRaw({ x: { dtype: 'C64', shape: [1], data_offsets: [0, 8] } }, 8), /dtype "C64"; supported: F32/],
    ];
    for (const [name, bytes, re] of cases) {
      const file = join(dir, name);
      writeFileSync(file, bytes);
      const e = await readSafetensors(file).catch((err: unknown) => err);
      expect(e, name).toBeInstanceOf(CmidError);
      expect((e as CmidError).file).toBe(file);
      expect((e as CmidError).message).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `));
      expect((e as CmidError).message, name).toMatch(re);
    }
  });

  const pyHasSafetensors = spawnSync('/usr/bin/python3', ['-c', 'import safetensors.torch'], { stdio: 'ignore' }).status === 0;
  it.skipIf(!pyHasSafetensors)('a TS-written file loads in Python safetensors.torch.load_file with the same values', async () => {
    const file = join(dir, 'py.safetensors');
    await writeSafetensors(file, sample(), { format: 'pt' });
    const py = spawnSync('/usr/bin/python3', ['-c', [
      'import json,sys,torch; from safetensors.torch import load_file',
      'd=load_file(sys.argv[1])',
      'print(json.dumps({k:[str(v.dtype).replace("torch.",""),list(v.shape),[repr(x) for x in v.flatten().tolist()]] for k,v in d.items()}))',
    ].join('\n'), file], { encoding: 'utf8' });
    expect(py.status, py.stderr).toBe(0);
    const got = JSON.parse(py.stdout) as Record<string, [string, number[], string[]]>;
    expect(got['i64']![2]).toEqual(['-9223372036854775808', '9007199254740993', '7']);
    expect(got['mask']).toEqual(['bool', [3], ['True', 'False', 'True']]);
    expect(got['bf16']![2]).toEqual(['1.0', '-3.140625']);
  });
});

function encodeRaw(header: object, dataBytes: number): Uint8Array {
  const json = Buffer.from(JSON.stringify(header));
  const head = Buffer.alloc(8);
  head.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([head, json, Buffer.alloc(dataBytes)]);
}

describe('remap', () => {
  const t: CheckpointTensor = { dtype: 'float32', shape: [1], data: Float32Array.of(0) };
  const sd: StateDict = new Map([
    ['module.backbone.conv1.weight', t],
    ['module.backbone.layer1.0.bn1.weight', t],
    ['module.head.fc.weight', t],
  ]);
  it('detectPrefix returns the first candidate all keys share, or one a share of keys has', () => {
    expect(detectPrefix(sd, ['backbone.', 'module.'])).toBe('module.');
    expect(detectPrefix(sd, ['module.backbone.'])).toBeUndefined();
    expect(detectPrefix(sd, ['module.backbone.'], { minShare: 0.6 })).toBe('module.backbone.');
  });
  it('stripPrefix keeps or drops the others; remapKeys applies the first matching rule and refuses collisions', () => {
    expect([...stripPrefix(sd, 'module.backbone.').keys()]).toEqual(['conv1.weight', 'layer1.0.bn1.weight', 'module.head.fc.weight']);
    expect([...stripPrefix(sd, 'module.backbone.', { dropOthers: true }).keys()]).toEqual(['conv1.weight', 'layer1.0.bn1.weight']);
    const r = remapKeys(sd, [
      { from: 'module.backbone.', to: '' },
      { from: /^module\.head\.fc\.(\w+)$/, to: 'fc.$1' },
    ]);
    expect([...r.keys()]).toEqual(['conv1.weight', 'layer1.0.bn1.weight', 'fc.weight']);
    expect(() => remapKeys(sd, [{ from: /^module\.(backbone|head)\..*$/, to: 'x' }])).toThrow(CmidError);
  });
});
