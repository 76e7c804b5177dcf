/**
 * .pth reading against PyTorch: scripts/parity/checkpoints.py (Debian python3-torch) writes the checkpoints and
 * the raw bytes torch holds for every tensor; each tensor read here must match bit for bit. Skips when
 * /usr/bin/python3 cannot import torch, unless CMID_REQUIRE_TORCH=1.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CmidError } from '../../src/runtime/errors.js';
import {
  extractBackbone,
  findStateDict,
  readPth,
  stripCommonPrefixes,
  toFloat32,
  type CheckpointTensor,
  type StateDict,
} from '../../src/checkpoint/index.js';

const PYTHON = '/usr/bin/python3';
const SCRIPT = join(import.meta.dirname, '../../scripts/parity/checkpoints.py');
const hasTorch = spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
if (!hasTorch) {
  if (process.env.CMID_REQUIRE_TORCH === '1') throw new Error(`CMID_REQUIRE_TORCH=1 but ${PYTHON} cannot import torch (apt install python3-torch).`);
  console.warn(`checkpoint parity tests skipped: ${PYTHON} cannot import torch (apt install python3-torch, or set CMID_REQUIRE_TORCH=1 to fail).`);
}

interface Expected {
  tensors: Record<string, { dtype: string; shape: number[]; file: string }>;
  meta: Record<string, unknown>;
}

let dir = '';
let index: Record<string, Expected> & { _torch_reads: Record<string, unknown>; _zip64_python_reads: boolean };
const f = (name: string): string => join(dir, name);

function bytesOf(t: CheckpointTensor): Buffer {
  return Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}

function expectMatches(sd: StateDict, caseName: string): void {
  const exp = index[caseName]!;
  expect([...sd.keys()]).toEqual(Object.keys(exp.tensors));
  for (const [key, e] of Object.entries(exp.tensors)) {
    const t = sd.get(key)!;
    expect({ key, dtype: t.dtype, shape: t.shape }).toEqual({ key, dtype: e.dtype, shape: e.shape });
    const want = readFileSync(join(dir, 'expected', e.file));
    if (!bytesOf(t).equals(want)) expect.fail(`${caseName}/${key}: bytes differ from torch`);
  }
}

async function refusal(file: string): Promise<CmidError> {
  const e = await readPth(file).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(CmidError);
  expect((e as CmidError).kind).toBe('checkpoint');
  expect((e as CmidError).file).toBe(file);
  expect((e as CmidError).message.startsWith(`${file}: `)).toBe(true);
  return e as CmidError;
}

describe.skipIf(!hasTorch)('readPth vs torch 1.13 (scripts/parity/checkpoints.py)', () => {
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cmid-ckpt-'));
    const r = spawnSync(PYTHON, [SCRIPT, dir], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`checkpoints.py failed (${r.status}):\n${r.stderr}`);
    index = JSON.parse(readFileSync(join(dir, 'expected', 'index.json'), 'utf8'));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('dtypes.pth: f32 f16 bf16 f64 i64 i32 i16 i8 u8 bool, scalar, empty, transpose, step slice, offset, shared storage, stride 0, Parameter', async () => {
    const ckpt = await readPth(f('dtypes.pth'));
    const { stateDict, path } = findStateDict(ckpt);
    expect(path).toEqual([]);
    expectMatches(stateDict, 'dtypes');
    expect(stateDict.get('i64')!.data[2]).toBe(2n ** 53n + 1n);
    // contiguous views of one storage share memory, as in torch
    expect(stateDict.get('shared_a')!.data.buffer).toBe(stateDict.get('shared_b')!.data.buffer);
  });

  it('toFloat32 widens f16 (with +-0, subnormal, max, inf, nan) and bf16 exactly as tensor.float()', async () => {
    const { stateDict } = findStateDict(await readPth(f('dtypes.pth')));
    const exp = index['dtypes_as_f32']!;
    for (const [key, e] of Object.entries(exp.tensors)) {
      const got = toFloat32(stateDict.get(key)!);
      const want = readFileSync(join(dir, 'expected', e.file));
      expect(Buffer.from(got.buffer, got.byteOffset, got.byteLength).equals(want), key).toBe(true);
    }
  });

  it('nested.pth: {state_dict, epoch, optimizer, ...} with OrderedDict _metadata, bytes, set, tuple, big int', async () => {
    const ckpt = await readPth(f('nested.pth'));
    const { stateDict, path } = findStateDict(ckpt);
    expect(path).toEqual(['state_dict']);
    expectMatches(stateDict, 'nested');
    const root = ckpt.root as Map<string, unknown>;
    expect(root.get('epoch')).toBe(3);
    expect(root.get('arch')).toBe('resnet50');
    expect(root.get('best_acc')).toBe(0.75);
    expect(root.get('big')).toBe(2n ** 70n);
    expect(root.get('neg')).toBe(-5);
    expect(root.get('flag')).toBe(true);
    expect(root.get('nothing')).toBe(null);
    expect([...(root.get('blob') as Uint8Array)]).toEqual([0, 255, 97, 98]);
    expect(root.get('pair')).toEqual([1, 'two']);
    expect(root.get('tags')).toEqual(new Set(['a', 'b']));
    expect(root.get('lst')).toEqual([1, 2.5, 'x']);
    const opt = root.get('optimizer') as Map<string, unknown>;
    const group = (opt.get('param_groups') as Map<string, unknown>[])[0]!;
    expect([group.get('lr'), group.get('momentum'), group.get('weight_decay'), group.get('params')]).toEqual([0.1, 0.9, 1e-4, [0, 1, 2, 3]]);
    const state = opt.get('state') as Map<number, Map<string, CheckpointTensor>>;
    expectMatches(new Map([...state].map(([k, v]) => [String(k), v.get('momentum_buffer')!])), 'nested_momentum');
  });

  it('resnet18.pth (torchvision state_dict) and {state_dict: module.backbone.*} match torch bit for bit', async () => {
    const plain = findStateDict(await readPth(f('resnet18.pth')));
    expect(plain.path).toEqual([]);
    expectMatches(plain.stateDict, 'resnet18');
    const wrapped = findStateDict(await readPth(f('resnet18_prefixed.pth')));
    expect(wrapped.path).toEqual(['state_dict']);
    const { dict, stripped } = stripCommonPrefixes(wrapped.stateDict);
    expect(stripped).toEqual(['module.backbone.']);
    expectMatches(dict, 'resnet18');
  });

  it('extractBackbone(cmid_full.pth) keeps online_encoder.model.* stripped, as extract.py', async () => {
    const backbone = extractBackbone(await readPth(f('cmid_full.pth')));
    expectMatches(backbone, 'cmid_extracted');
    const teacher = extractBackbone(await readPth(f('cmid_full.pth')), { encoder: 'teacher' });
    expect([...teacher.keys()]).toEqual([...backbone.keys()]);
    await expect(Promise.resolve().then(async () => extractBackbone(await readPth(f('resnet18.pth'))))).rejects.toThrow(/already a bare state dict/);
  });

  it('deflated entries (re-zipped, torch.load reads it) and zip64 records give the same tensors', async () => {
    expect(index._torch_reads['deflated']).toBe(true);
    expectMatches(findStateDict(await readPth(f('deflated.pth'))).stateDict, 'dtypes');
    expect(index._zip64_python_reads).toBe(true);
    expectMatches(findStateDict(await readPth(f('zip64.pth'))).stateDict, 'dtypes');
  });

  it('refuses os.system / builtins.eval globals, names the file, and runs nothing', async () => {
    const e = await refusal(f('malicious.pth'));
    expect(e.message).toBe(`${f('malicious.pth')}: refused pickle global "posix.system"; only tensor-rebuild globals are allowed. Not a state_dict.`);
    const e2 = await refusal(f('malicious_eval.pth'));
    expect(e2.message).toContain('refused pickle global "builtins.eval"');
    // Even when the caller lists it, it is inert data: nothing imports or calls it.
    const kept = await readPth(f('malicious.pth'), { opaqueGlobals: ['posix.system'] });
    const payload = (kept.root as Map<string, unknown>).get('payload') as { $global: string; args: unknown[] };
    expect(payload.$global).toBe('posix.system');
    expect(String(payload.args[0])).toContain('PWNED');
    expect(existsSync(f('PWNED'))).toBe(false);
  });

  it('truncated (half), zero-byte, legacy, missing storage, short storage and unknown opcode name the file and the rule', async () => {
    const whole = readFileSync(f('resnet18.pth'));
    writeFileSync(f('half.pth'), whole.subarray(0, whole.length >> 1));
    expect((await refusal(f('half.pth'))).message).toMatch(/end-of-central-directory record is missing.*truncated/);
    writeFileSync(f('empty.pth'), '');
    expect((await refusal(f('empty.pth'))).message).toContain('empty file (0 bytes)');
    expect((await refusal(f('legacy.pth'))).message).toMatch(/legacy \(non-zip\).*torch\.save\(torch\.load\(/);
    expect((await refusal(f('missing_storage.pth'))).message).toMatch(/zip entry "dtypes\/data\/0" is missing/);
    expect((await refusal(f('short_storage.pth'))).message).toMatch(/storage "dtypes\/data\/0" holds \d+ float32 elements .* needs \d+/);
    expect((await refusal(f('bad_opcode.pth'))).message).toContain('unknown pickle opcode 0xff at byte 5');
    const missing = f('does-not-exist.pth');
    expect((await refusal(missing)).message).toContain('ENOENT');
  });
});
