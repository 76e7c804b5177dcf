/**
 * Reads a PyTorch checkpoint (.pth / .pt / .ckpt written by torch.save, zip format, torch >= 1.6) into plain data:
 * dicts become Maps, tensors become contiguous typed arrays (see tensor.ts). Nothing in the file is executed;
 * only the globals below are recognised, and any other one stops the load with the rule that refused it.
 *
 * Layout read: `<archive>/data.pkl` (the pickled object; storages as persistent ids
 * `('storage', torch.FloatStorage, '<key>', '<location>', numel)`), `<archive>/data/<key>` (raw little-endian
 * storage bytes), `<archive>/byteorder` (torch >= 2.1; absent means little). The legacy non-zip format (torch < 1.6
 * or `_use_new_zipfile_serialization=False`) is detected and refused with the re-save command.
 */
import { open } from 'node:fs/promises';
import { CmidError } from '../../runtime/errors.js';
import { checkpointError } from '../tensor.js';
import { PickleError, describe, unpickle, type PickleHooks, type PyGlobal, type PyValue } from './pickle-vm.js';
import { STORAGE_DTYPES, materialise, newPendingTensor, type PendingTensor, type StorageRef } from './storages.js';
import { ZipContainer } from './zip-container.js';

export interface ReadPthOptions {
  /**
   * Extra globals (as "module.name", or "module.*") to keep as opaque records `{ $global, args, state }` instead
   * of refusing them, e.g. `['argparse.Namespace']` for training checkpoints that pickle their CLI arguments.
   * The record is inert data: nothing is imported or called. Default: none.
   */
  opaqueGlobals?: readonly string[];
}

/** A global kept as data because the caller listed it in `opaqueGlobals`. */
export interface OpaqueObject {
  readonly $global: string;
  readonly args: readonly PyValue[];
  state?: PyValue;
}

export interface Checkpoint {
  /** The path as given. */
  readonly file: string;
  /** The unpickled object: usually a Map (a state dict, or a dict holding one). */
  readonly root: PyValue;
  /** Archive folder inside the zip (torch uses the file's stem or "archive"). */
  readonly archive: string;
  /** Number of tensors materialised. */
  readonly tensorCount: number;
}

/**
 * The globals a torch state dict or training checkpoint needs, and why:
 * tensor rebuilders and storage types (every tensor), OrderedDict (state_dict() returns one), torch.Size (shapes
 * in some rebuild paths), set/frozenset and _codecs.encode / bytes (how protocol 2 pickles sets and bytes in
 * metadata), torch.device and dtype names (optimizer and AMP metadata).
 */
const TENSOR_REBUILD = new Set(['torch._utils._rebuild_tensor_v2', 'torch._utils._rebuild_tensor']);
const PARAMETER_REBUILD = new Set(['torch._utils._rebuild_parameter', 'torch._utils._rebuild_parameter_with_state']);
const TORCH_DTYPE_NAMES = ['float32', 'float', 'float16', 'half', 'bfloat16', 'float64', 'double', 'int64', 'long', 'int32', 'int', 'int16', 'int8', 'uint8', 'bool'];
const CALLABLE = new Set([
  ...TENSOR_REBUILD,
  ...PARAMETER_REBUILD,
  'collections.OrderedDict',
  'torch.Size',
  'builtins.set',
  'builtins.frozenset',
  'builtins.bytes',
  'builtins.bytearray',
  '_codecs.encode',
  'torch.device',
]);
const VALUE_GLOBALS = new Set([...Object.keys(STORAGE_DTYPES).map((s) => `torch.${s}`), ...TORCH_DTYPE_NAMES.map((d) => `torch.${d}`)]);
/** Modules for which opaqueGlobals is not suggested in the refusal message. */
const DANGEROUS_MODULES = /^(os|posix|nt|subprocess|builtins|sys|shutil|socket|importlib|runpy|pty|code|ctypes|pickle|marshal|webbrowser|io|tempfile|torch\.(jit|ops|_C|hub|package|storage))$/;

const LEGACY_MAGIC = [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];

function isOpaque(full: string, patterns: readonly string[]): boolean {
  return patterns.some((p) => p === full || (p.endsWith('.*') && full.startsWith(p.slice(0, -1))));
}

function intArg(v: PyValue): number | undefined {
  return typeof v === 'number' && Number.isInteger(v) ? v : undefined;
}

function intTuple(v: PyValue): number[] | undefined {
  if (!Array.isArray(v)) return undefined;
  const out: number[] = [];
  for (const x of v) {
    const i = intArg(x);
    if (i === undefined || i < 0) return undefined;
    out.push(i);
  }
  return out;
}

async function readHead(file: string): Promise<{ size: number; head: Uint8Array }> {
  const fh = await open(file, 'r');
  try {
    const size = (await fh.stat()).size;
    const head = new Uint8Array(16);
    const { bytesRead } = await fh.read(head, 0, 16, 0);
    return { size, head: head.subarray(0, bytesRead) };
  } finally {
    await fh.close();
  }
}

/**
 * Reads a torch.save zip checkpoint.
 *
 * @example
 * const ckpt = await readPth('swin_b.pth');
 * const { stateDict, path } = findStateDict(ckpt.root); // path: [] for a bare state dict, ['model'] for a trainer checkpoint
 * stateDict.get('patch_embed.projection.weight') // { dtype: 'float32', shape: [128, 3, 4, 4], data: Float32Array(6144) }
 */
export async function readPth(file: string, options: ReadPthOptions = {}): Promise<Checkpoint> {
  let size: number;
  let head: Uint8Array;
  try {
    ({ size, head } = await readHead(file));
  } catch (e) {
    throw checkpointError(file, `cannot open (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}).`, e);
  }
  if (size === 0) throw checkpointError(file, 'empty file (0 bytes); the save or download was interrupted.');
  if (LEGACY_MAGIC.every((b, i) => head[i] === b)) {
    throw checkpointError(
      file,
      'legacy (non-zip) torch.save format, written by torch < 1.6 or with _use_new_zipfile_serialization=False; it is not read. ' +
        `Re-save it with a current torch: python -c "import torch; torch.save(torch.load('${file}', map_location='cpu'), 'resaved.pth')".`,
    );
  }
  if (head[0] === 0x80 && head[1] !== undefined && head[1] <= 5) {
    throw checkpointError(file, 'a plain pickle, not a torch.save zip checkpoint; re-save the object with torch.save().');
  }
  if (!(head[0] === 0x50 && head[1] === 0x4b)) {
    throw checkpointError(file, 'not a zip archive (no "PK" signature); a torch .pth file written by torch >= 1.6 is a zip.');
  }

  const zip = await ZipContainer.open(file);
  try {
    const pkls = [...zip.entries.keys()].filter((n) => /^([^/]+\/)?data\.pkl$/.test(n));
    if (pkls.length !== 1) {
      throw checkpointError(
        file,
        pkls.length === 0
          ? `zip archive has no "<archive>/data.pkl" entry, so it is not a torch.save checkpoint (entries: ${[...zip.entries.keys()].slice(0, 5).join(', ')}).`
          : `zip archive has ${pkls.length} data.pkl entries (${pkls.join(', ')}); expected one.`,
      );
    }
    const prefix = pkls[0]!.slice(0, -'data.pkl'.length);
    const torchscript = zip.has(`${prefix}constants.pkl`) || zip.has(`${prefix}code/`);
    if (zip.has(`${prefix}byteorder`)) {
      const order = new TextDecoder().decode(await zip.read(`${prefix}byteorder`)).trim();
      if (order !== 'little') throw checkpointError(file, `byteorder "${order}": only little-endian checkpoints are read. Re-save it on a little-endian machine.`);
    }
    const pickle = await zip.read(pkls[0]!);
    const pending: PendingTensor[] = [];
    const storages = new Map<string, StorageRef>();
    const opaque = options.opaqueGlobals ?? [];

    const refuse = (full: string): never => {
      const module = full.slice(0, full.lastIndexOf('.'));
      let msg = `refused pickle global "${full}"; only tensor-rebuild globals are allowed. Not a state_dict.`;
      if (torchscript) msg += ' This is a TorchScript archive (torch.jit.save); load it in Python and torch.save(model.state_dict(), f).';
      else if (!DANGEROUS_MODULES.test(module)) {
        msg += ` If you trust the file and "${full}" is only metadata, pass { opaqueGlobals: ['${full}'] } to keep it as inert data.`;
      }
      throw checkpointError(file, msg);
    };

    const hooks: PickleHooks = {
      findClass(module, name) {
        const full = `${module === '__builtin__' ? 'builtins' : module}.${name}`;
        if (CALLABLE.has(full) || VALUE_GLOBALS.has(full)) return { $global: full };
        if (isOpaque(full, opaque)) return { $global: full, opaque: true } as PyGlobal;
        return refuse(full);
      },
      call(fn, args, offset) {
        const g = (fn as PyGlobal | null)?.$global;
        if (fn === null || typeof fn !== 'object' || g === undefined) {
          throw new PickleError(`REDUCE at byte ${offset} calls a ${describe(fn)}, not an allowed global`, offset);
        }
        if ((fn as { opaque?: boolean }).opaque) return { $global: g, args } satisfies OpaqueObject;
        if (TENSOR_REBUILD.has(g)) {
          const [storage, off, shape, stride] = args;
          const offsetN = intArg(off);
          const shapeN = intTuple(shape);
          const strideN = intTuple(stride);
          if (!(typeof storage === 'object' && storage !== null && '$storage' in storage) || offsetN === undefined || !shapeN || !strideN || shapeN.length !== strideN.length) {
            throw new PickleError(`${g} at byte ${offset} got (${args.map(describe).join(', ')}), not (storage, offset, size, stride)`, offset);
          }
          const p = newPendingTensor(storage as StorageRef, offsetN, Object.freeze(shapeN), strideN);
          pending.push(p);
          return p.tensor;
        }
        if (PARAMETER_REBUILD.has(g)) return args[0];
        switch (g) {
          case 'collections.OrderedDict': {
            const d = new Map<PyValue, PyValue>();
            if (Array.isArray(args[0])) for (const kv of args[0]) if (Array.isArray(kv) && kv.length === 2) d.set(kv[0], kv[1]);
            return d;
          }
          case 'torch.Size':
            return Object.freeze([...((args[0] as PyValue[] | undefined) ?? [])]);
          case 'builtins.set':
          case 'builtins.frozenset':
            return new Set((args[0] as Iterable<PyValue> | undefined) ?? []);
          case 'builtins.bytes':
          case 'builtins.bytearray':
            if (args.length === 0) return new Uint8Array(0);
            break;
          case '_codecs.encode':
            if (typeof args[0] === 'string' && (args[1] === 'latin1' || args[1] === 'latin-1')) {
              return Uint8Array.from(args[0], (c) => c.charCodeAt(0) & 0xff);
            }
            break;
          case 'torch.device':
            return args.map(String).join(':');
        }
        throw new PickleError(`${g}(${args.map(describe).join(', ')}) at byte ${offset} is not supported`, offset);
      },
      build(obj, state, offset) {
        if (obj instanceof Map) return obj; // OrderedDict attributes (state_dict()._metadata: per-module versions) are dropped
        if (obj !== null && typeof obj === 'object' && '$global' in obj && 'args' in obj) {
          (obj as OpaqueObject).state = state;
          return obj;
        }
        throw new PickleError(`BUILD at byte ${offset} sets state on a ${describe(obj)}, which is not supported`, offset);
      },
      persistentLoad(pid, offset) {
        if (!Array.isArray(pid) || pid[0] !== 'storage' || pid.length < 5) {
          throw new PickleError(`persistent id at byte ${offset} is ${describe(pid)}, not ('storage', type, key, location, numel)`, offset);
        }
        const [, type, key, , n] = pid;
        const typeName = (type as PyGlobal | null)?.$global?.replace(/^torch\./, '');
        const dtype = typeName === undefined ? undefined : STORAGE_DTYPES[typeName];
        if (dtype === undefined || typeof key !== 'string' || intArg(n) === undefined) {
          throw new PickleError(`persistent id at byte ${offset} names storage type ${describe(type)}; known: ${Object.keys(STORAGE_DTYPES).join(', ')}`, offset);
        }
        let ref = storages.get(key);
        if (ref === undefined) {
          ref = { $storage: key, dtype, numel: n as number };
          storages.set(key, ref);
        } else if (ref.dtype !== dtype) {
          throw new PickleError(`storage ${key} is read as ${ref.dtype} and as ${dtype}`, offset);
        }
        return ref;
      },
    };

    let root: PyValue;
    try {
      root = unpickle(pickle, hooks);
    } catch (e) {
      if (e instanceof PickleError) throw checkpointError(file, `${pkls[0]}: ${e.message}.`, e);
      if (e instanceof CmidError) throw e;
      // A malformed pickle must not surface as a bare TypeError/RangeError.
      throw checkpointError(file, `${pkls[0]}: malformed pickle (${(e as Error).message}).`, e);
    }

    // Read each storage once, then fill every view of it.
    const byStorage = new Map<string, PendingTensor[]>();
    for (const p of pending) {
      const list = byStorage.get(p.storage.$storage);
      if (list) list.push(p);
      else byStorage.set(p.storage.$storage, [p]);
    }
    for (const [key, views] of byStorage) {
      const entry = `${prefix}data/${key}`;
      if (!zip.has(entry)) {
        throw checkpointError(file, `zip entry "${entry}" is missing, but ${views.length} tensor(s) use storage ${key} (e.g. shape [${views[0]!.tensor.shape.join(', ')}]).`);
      }
      const bytes = await zip.read(entry);
      for (const p of views) materialise(file, entry, p, bytes);
    }
    return { file, root, archive: prefix.replace(/\/$/, ''), tensorCount: pending.length };
  } finally {
    await zip.close();
  }
}

