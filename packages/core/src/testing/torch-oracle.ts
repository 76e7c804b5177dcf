/**
 * PyTorch as a test oracle: run a short Python snippet with /usr/bin/python3 (Debian python3-torch) on arrays
 * from a test and read its arrays back. Arrays travel as raw little-endian float32 files plus a JSON manifest in
 * a temp dir, so nothing is parsed as text. Tests skip when torch is absent unless CMID_REQUIRE_TORCH=1.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const PYTHON = '/usr/bin/python3';

export interface OracleArray {
  data: Float32Array;
  shape: number[];
}

let available: boolean | undefined;

/** Whether `/usr/bin/python3 -c 'import torch'` works (checked once). */
export function torchAvailable(): boolean {
  if (available === undefined) {
    const r = spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore', timeout: 60_000 });
    available = r.status === 0;
  }
  return available;
}

/** Whether tests must fail rather than skip without torch (env CMID_REQUIRE_TORCH=1). */
export function torchRequired(): boolean {
  return process.env.CMID_REQUIRE_TORCH === '1';
}

const PRELUDE = `
import json, sys, numpy as np, torch
_d = sys.argv[1]
with open(_d + '/inputs.json') as _f: _m = json.load(_f)
inputs = {k: torch.from_numpy(np.fromfile(_d + '/in_' + k + '.f32', dtype='<f4').reshape(s)) for k, s in _m.items()}
outputs = {}
`;

const EPILOGUE = `
_o = {}
for _k, _v in outputs.items():
    _a = _v.detach().cpu().numpy() if isinstance(_v, torch.Tensor) else np.asarray(_v)
    _a = np.ascontiguousarray(_a, dtype='<f4')
    _a.tofile(_d + '/out_' + _k + '.f32')
    _o[_k] = list(_a.shape)
with open(_d + '/outputs.json', 'w') as _f: json.dump(_o, _f)
`;

/**
 * Runs `script` with `inputs` bound to a dict of float32 torch tensors (names must be identifiers); the script
 * fills the dict `outputs` with tensors or arrays, returned as float32.
 *
 * ```ts
 * const out = runTorch("outputs['y'] = inputs['x'] * 2", { x: { data: new Float32Array([1, 2]), shape: [2] } });
 * // out.y.data = Float32Array [2, 4], out.y.shape = [2]
 * ```
 */
export function runTorch(script: string, inputs: Record<string, OracleArray>): Record<string, OracleArray> {
  const dir = mkdtempSync(join(tmpdir(), 'cmid-torch-'));
  try {
    const manifest: Record<string, number[]> = {};
    for (const [name, a] of Object.entries(inputs)) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`runTorch: input name "${name}" is not an identifier.`);
      writeFileSync(join(dir, `in_${name}.f32`), Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength));
      manifest[name] = a.shape;
    }
    writeFileSync(join(dir, 'inputs.json'), JSON.stringify(manifest));
    try {
      execFileSync(PYTHON, ['-c', PRELUDE + script + '\n' + EPILOGUE, dir], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
    } catch (e) {
      const err = e as { stderr?: Buffer; message: string };
      throw new Error(`runTorch: ${PYTHON} failed: ${err.stderr?.toString().trim() || err.message}`);
    }
    const shapes = JSON.parse(readFileSync(join(dir, 'outputs.json'), 'utf8')) as Record<string, number[]>;
    const out: Record<string, OracleArray> = {};
    for (const [name, shape] of Object.entries(shapes)) {
      const buf = readFileSync(join(dir, `out_${name}.f32`));
      const data = new Float32Array(buf.byteLength / 4);
      new Uint8Array(data.buffer).set(buf);
      out[name] = { data, shape };
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
