/**
 * A pickle interpreter (protocols 2-5) for the subset of opcodes that torch.save emits for state dicts and
 * training checkpoints. It executes nothing: GLOBAL / STACK_GLOBAL ask `hooks.findClass`, which decides whether a
 * name is allowed at all (read-pth.ts holds the allow-list), and REDUCE / NEWOBJ / BUILD hand the class marker and
 * its arguments back to the hooks, which build plain data. A name the hooks refuse stops the load before anything
 * is built from it.
 *
 * Python values map to: None -> null, bool -> boolean, int -> number (bigint beyond 2^53), float -> number,
 * str -> string, bytes -> Uint8Array, list -> array, tuple -> frozen array, dict -> Map, set -> Set.
 * Opcode reference: CPython Lib/pickletools.py.
 */

/** A class or function named by GLOBAL, as allowed by the hooks. What it is, only the hooks know. */
export interface PyGlobal {
  readonly $global: string;
}

export type PyValue = unknown;

export interface PickleHooks {
  /** Resolves module.name or throws. `offset` is the GLOBAL opcode's byte offset. */
  findClass(module: string, name: string, offset: number): PyGlobal;
  /** REDUCE: `callable(*args)`. */
  call(callable: PyValue, args: readonly PyValue[], offset: number): PyValue;
  /** NEWOBJ: `cls.__new__(cls, *args)`. Defaults to `call`. */
  newObject?(cls: PyValue, args: readonly PyValue[], offset: number): PyValue;
  /** BUILD: `obj.__setstate__(state)`; returns the object to leave on the stack. */
  build(obj: PyValue, state: PyValue, offset: number): PyValue;
  /** BINPERSID / PERSID. */
  persistentLoad(pid: PyValue, offset: number): PyValue;
}

/** Thrown for malformed pickles; read-pth.ts turns it into a CmidError naming the file. */
export class PickleError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
    this.name = 'PickleError';
  }
}

const OPCODE_NAMES: Record<number, string> = {
  0x28: 'MARK', 0x2e: 'STOP', 0x30: 'POP', 0x31: 'POP_MARK', 0x32: 'DUP', 0x46: 'FLOAT', 0x49: 'INT', 0x4a: 'BININT',
  0x4b: 'BININT1', 0x4c: 'LONG', 0x4d: 'BININT2', 0x4e: 'NONE', 0x50: 'PERSID', 0x51: 'BINPERSID', 0x52: 'REDUCE',
  0x53: 'STRING', 0x54: 'BINSTRING', 0x55: 'SHORT_BINSTRING', 0x56: 'UNICODE', 0x58: 'BINUNICODE', 0x61: 'APPEND',
  0x62: 'BUILD', 0x63: 'GLOBAL', 0x64: 'DICT', 0x7d: 'EMPTY_DICT', 0x65: 'APPENDS', 0x67: 'GET', 0x68: 'BINGET',
  0x69: 'INST', 0x6a: 'LONG_BINGET', 0x6c: 'LIST', 0x5d: 'EMPTY_LIST', 0x6f: 'OBJ', 0x70: 'PUT', 0x71: 'BINPUT',
  0x72: 'LONG_BINPUT', 0x73: 'SETITEM', 0x74: 'TUPLE', 0x29: 'EMPTY_TUPLE', 0x75: 'SETITEMS', 0x47: 'BINFLOAT',
  0x80: 'PROTO', 0x81: 'NEWOBJ', 0x82: 'EXT1', 0x83: 'EXT2', 0x84: 'EXT4', 0x85: 'TUPLE1', 0x86: 'TUPLE2',
  0x87: 'TUPLE3', 0x88: 'NEWTRUE', 0x89: 'NEWFALSE', 0x8a: 'LONG1', 0x8b: 'LONG4', 0x42: 'BINBYTES',
  0x43: 'SHORT_BINBYTES', 0x8c: 'SHORT_BINUNICODE', 0x8d: 'BINUNICODE8', 0x8e: 'BINBYTES8', 0x8f: 'EMPTY_SET',
  0x90: 'ADDITEMS', 0x91: 'FROZENSET', 0x92: 'NEWOBJ_EX', 0x93: 'STACK_GLOBAL', 0x94: 'MEMOIZE', 0x95: 'FRAME',
  0x96: 'BYTEARRAY8', 0x97: 'NEXT_BUFFER', 0x98: 'READONLY_BUFFER',
};

const MARK = Symbol('MARK');
const utf8 = new TextDecoder('utf-8', { fatal: true });
const latin1 = new TextDecoder('latin1');

function tuple(items: PyValue[]): readonly PyValue[] {
  return Object.freeze(items);
}

/** Little-endian two's complement integer of `bytes`; a number when it is exactly representable. */
function decodeLong(bytes: Uint8Array): number | bigint {
  if (bytes.length === 0) return 0;
  let v = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]!);
  if (bytes[bytes.length - 1]! & 0x80) v -= 1n << BigInt(8 * bytes.length);
  return v >= -BigInt(Number.MAX_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

/** Runs the pickle in `bytes` and returns the object STOP leaves on the stack. */
export function unpickle(bytes: Uint8Array, hooks: PickleHooks): PyValue {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let stack: PyValue[] = [];
  const metastack: PyValue[][] = [];
  const memo = new Map<number, PyValue>();
  let pos = 0;
  let op = 0;
  let opAt = 0;

  const need = (n: number): number => {
    if (pos + n > bytes.length) {
      throw new PickleError(`pickle ends inside ${OPCODE_NAMES[op] ?? 'an opcode'} at byte ${opAt} (needs ${n} more bytes)`, opAt);
    }
    const at = pos;
    pos += n;
    return at;
  };
  const take = (n: number): Uint8Array => bytes.subarray(need(n), pos);
  /** A copy that owns its memory (Buffer#slice would be a view). */
  const takeCopy = (n: number): Uint8Array => Uint8Array.prototype.slice.call(take(n));
  const line = (): string => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) throw new PickleError(`pickle ends inside ${OPCODE_NAMES[op]} at byte ${opAt} (no newline)`, opAt);
    const s = latin1.decode(bytes.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const pop = (): PyValue => {
    if (stack.length === 0) throw new PickleError(`${OPCODE_NAMES[op]} at byte ${opAt} pops an empty stack`, opAt);
    return stack.pop();
  };
  const top = (): PyValue => {
    if (stack.length === 0) throw new PickleError(`${OPCODE_NAMES[op]} at byte ${opAt} reads an empty stack`, opAt);
    return stack[stack.length - 1];
  };
  const popMark = (): PyValue[] => {
    const items = stack;
    const prev = metastack.pop();
    if (prev === undefined) throw new PickleError(`${OPCODE_NAMES[op]} at byte ${opAt} has no MARK`, opAt);
    stack = prev;
    return items;
  };
  const str = (b: Uint8Array): string => {
    try {
      return utf8.decode(b);
    } catch {
      throw new PickleError(`invalid UTF-8 in ${OPCODE_NAMES[op]} at byte ${opAt}`, opAt);
    }
  };
  const memoGet = (i: number): PyValue => {
    if (!memo.has(i)) throw new PickleError(`${OPCODE_NAMES[op]} at byte ${opAt} reads memo ${i}, which was never stored`, opAt);
    return memo.get(i);
  };
  const asDict = (d: PyValue): Map<PyValue, PyValue> => {
    if (!(d instanceof Map)) throw new PickleError(`${OPCODE_NAMES[op]} at byte ${opAt} applies to a ${describe(d)}, not a dict`, opAt);
    return d;
  };
  const asList = (l: PyValue): PyValue[] => {
    if (!Array.isArray(l) || Object.isFrozen(l)) {
      throw new PickleError(`${OPCODE_NAMES[op]} at byte ${opAt} applies to a ${describe(l)}, not a list`, opAt);
    }
    return l;
  };
  const asArgs = (a: PyValue): readonly PyValue[] => {
    if (!Array.isArray(a)) throw new PickleError(`${OPCODE_NAMES[op]} at byte ${opAt}: arguments are a ${describe(a)}, not a tuple`, opAt);
    return a;
  };
  const asSet = (s: PyValue): Set<PyValue> => {
    if (!(s instanceof Set)) throw new PickleError(`${OPCODE_NAMES[op]} at byte ${opAt} applies to a ${describe(s)}, not a set`, opAt);
    return s;
  };
  const setItems = (d: Map<PyValue, PyValue>, items: PyValue[]): void => {
    if (items.length % 2 !== 0) throw new PickleError(`SETITEMS at byte ${opAt} has an odd number of items`, opAt);
    for (let i = 0; i < items.length; i += 2) d.set(items[i], items[i + 1]);
  };

  for (;;) {
    opAt = pos;
    if (pos >= bytes.length) throw new PickleError(`pickle ends at byte ${pos} without STOP`, pos);
    op = bytes[pos++]!;
    switch (op) {
      case 0x80: // PROTO
        need(1);
        if (bytes[pos - 1]! > 5) throw new PickleError(`pickle protocol ${bytes[pos - 1]} at byte ${opAt}; only 2-5 are read`, opAt);
        break;
      case 0x95: // FRAME: a length hint only
        need(8);
        break;
      case 0x2e: // STOP
        return pop();
      case 0x28: // MARK
        metastack.push(stack);
        stack = [];
        break;
      case 0x30: // POP
        if (stack.length === 0 && metastack.length > 0) popMark();
        else pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88:
        stack.push(true);
        break;
      case 0x89:
        stack.push(false);
        break;
      case 0x4a: // BININT
        stack.push(view.getInt32(need(4), true));
        break;
      case 0x4b: // BININT1
        stack.push(bytes[need(1)]!);
        break;
      case 0x4d: // BININT2
        stack.push(view.getUint16(need(2), true));
        break;
      case 0x8a: // LONG1
        stack.push(decodeLong(take(bytes[need(1)]!)));
        break;
      case 0x8b: {
        // LONG4
        const n = view.getInt32(need(4), true);
        if (n < 0) throw new PickleError(`LONG4 at byte ${opAt} has negative length`, opAt);
        stack.push(decodeLong(take(n)));
        break;
      }
      case 0x49: {
        // INT (text; "00"/"01" are False/True in protocol 0)
        const s = line();
        if (s === '00' || s === '01') stack.push(s === '01');
        else {
          const v = BigInt(s);
          stack.push(v >= -BigInt(Number.MAX_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);
        }
        break;
      }
      case 0x4c: {
        // LONG (text, trailing L)
        const v = BigInt(line().replace(/L$/, ''));
        stack.push(v >= -BigInt(Number.MAX_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);
        break;
      }
      case 0x47: // BINFLOAT (big-endian)
        stack.push(view.getFloat64(need(8), false));
        break;
      case 0x46: // FLOAT (text)
        stack.push(Number.parseFloat(line()));
        break;
      case 0x58: // BINUNICODE
        stack.push(str(take(view.getUint32(need(4), true))));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(str(take(bytes[need(1)]!)));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(str(take(Number(view.getBigUint64(need(8), true)))));
        break;
      case 0x54: // BINSTRING (python 2 str)
        stack.push(latin1.decode(take(view.getInt32(need(4), true))));
        break;
      case 0x55: // SHORT_BINSTRING
        stack.push(latin1.decode(take(bytes[need(1)]!)));
        break;
      case 0x42: // BINBYTES
        stack.push(takeCopy(view.getUint32(need(4), true)));
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(takeCopy(bytes[need(1)]!));
        break;
      case 0x8e: // BINBYTES8
      case 0x96: // BYTEARRAY8
        stack.push(takeCopy(Number(view.getBigUint64(need(8), true))));
        break;
      case 0x7d: // EMPTY_DICT
        stack.push(new Map());
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push(tuple([]));
        break;
      case 0x8f: // EMPTY_SET
        stack.push(new Set());
        break;
      case 0x64: {
        // DICT
        const items = popMark();
        const d = new Map<PyValue, PyValue>();
        setItems(d, items);
        stack.push(d);
        break;
      }
      case 0x6c: {
        // LIST (popMark swaps `stack`, so pop before reading it)
        const items = popMark();
        stack.push(items);
        break;
      }
      case 0x74: {
        // TUPLE
        const items = popMark();
        stack.push(tuple(items));
        break;
      }
      case 0x85:
        stack.push(tuple([pop()]));
        break;
      case 0x86: {
        const b = pop();
        stack.push(tuple([pop(), b]));
        break;
      }
      case 0x87: {
        const c = pop();
        const b = pop();
        stack.push(tuple([pop(), b, c]));
        break;
      }
      case 0x91: {
        // FROZENSET
        const items = popMark();
        stack.push(new Set(items));
        break;
      }
      case 0x90: {
        // ADDITEMS
        const items = popMark();
        const s = asSet(top());
        for (const x of items) s.add(x);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop();
        const k = pop();
        asDict(top()).set(k, v);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        setItems(asDict(top()), items);
        break;
      }
      case 0x61: {
        // APPEND
        const v = pop();
        asList(top()).push(v);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        const l = asList(top());
        for (const x of items) l.push(x);
        break;
      }
      case 0x67: // GET
        stack.push(memoGet(Number.parseInt(line(), 10)));
        break;
      case 0x68: // BINGET
        stack.push(memoGet(bytes[need(1)]!));
        break;
      case 0x6a: // LONG_BINGET
        stack.push(memoGet(view.getUint32(need(4), true)));
        break;
      case 0x70: // PUT
        memo.set(Number.parseInt(line(), 10), top());
        break;
      case 0x71: // BINPUT
        memo.set(bytes[need(1)]!, top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(view.getUint32(need(4), true), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x63: {
        // GLOBAL
        const module = line();
        const name = line();
        stack.push(hooks.findClass(module, name, opAt));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') {
          throw new PickleError(`STACK_GLOBAL at byte ${opAt} expects two strings`, opAt);
        }
        stack.push(hooks.findClass(module, name, opAt));
        break;
      }
      case 0x52: {
        // REDUCE
        const args = asArgs(pop());
        const fn = pop();
        stack.push(hooks.call(fn, args, opAt));
        break;
      }
      case 0x81: {
        // NEWOBJ
        const args = asArgs(pop());
        const cls = pop();
        stack.push((hooks.newObject ?? hooks.call).call(hooks, cls, args, opAt));
        break;
      }
      case 0x92: {
        // NEWOBJ_EX (keyword arguments must be empty)
        const kwargs = pop();
        const args = asArgs(pop());
        const cls = pop();
        if (!(kwargs instanceof Map) || kwargs.size > 0) {
          throw new PickleError(`NEWOBJ_EX at byte ${opAt} passes keyword arguments, which are not supported`, opAt);
        }
        stack.push((hooks.newObject ?? hooks.call).call(hooks, cls, args, opAt));
        break;
      }
      case 0x62: {
        // BUILD
        const state = pop();
        const obj = pop();
        stack.push(hooks.build(obj, state, opAt));
        break;
      }
      case 0x51: // BINPERSID
        stack.push(hooks.persistentLoad(pop(), opAt));
        break;
      case 0x50: // PERSID
        stack.push(hooks.persistentLoad(line(), opAt));
        break;
      default: {
        const name = OPCODE_NAMES[op];
        throw new PickleError(
          name === undefined
            ? `unknown pickle opcode 0x${op.toString(16).padStart(2, '0')} at byte ${opAt}`
            : `unsupported pickle opcode ${name} (0x${op.toString(16)}) at byte ${opAt}`,
          opAt,
        );
      }
    }
  }
}

/** A short type name of a value, for messages. */
export function describe(v: PyValue): string {
  if (v === null) return 'None';
  if (v === MARK) return 'MARK';
  if (Array.isArray(v)) return Object.isFrozen(v) ? 'tuple' : 'list';
  if (v instanceof Map) return 'dict';
  if (v instanceof Set) return 'set';
  if (v instanceof Uint8Array) return 'bytes';
  if (typeof v === 'object' && '$global' in v) return `global ${(v as PyGlobal).$global}`;
  return typeof v;
}
