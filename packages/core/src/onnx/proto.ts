/**
 * A minimal protobuf encoder for the ONNX messages we emit (ModelProto and what it contains).
 * Hand-written instead of protobufjs-generated code: the exporter and the compiled training engine only ever
 * *write* ONNX, the subset is small and stable (onnx.proto field numbers below), and this keeps @cmid/core free of
 * a protobuf runtime. Repeated scalars are written unpacked, which every proto2 and proto3 parser accepts.
 */

export const enum TensorDataType {
  FLOAT = 1,
  UINT8 = 2,
  INT8 = 3,
  UINT16 = 4,
  INT16 = 5,
  INT32 = 6,
  INT64 = 7,
  BOOL = 9,
  FLOAT16 = 10,
  DOUBLE = 11,
}

export type AttributeValue =
  | { type: 'float'; value: number }
  | { type: 'int'; value: number | bigint }
  | { type: 'string'; value: string }
  | { type: 'floats'; value: readonly number[] }
  | { type: 'ints'; value: readonly (number | bigint)[] }
  | { type: 'tensor'; value: TensorProto };

export interface NodeProto {
  opType: string;
  inputs: readonly string[];
  outputs: readonly string[];
  name?: string;
  domain?: string;
  attributes?: Record<string, AttributeValue>;
}

export interface TensorProto {
  name?: string;
  dataType: TensorDataType;
  dims: readonly number[];
  /** Little-endian raw bytes of the values. */
  rawData: Uint8Array;
}

export interface ValueInfoProto {
  name: string;
  elemType: TensorDataType;
  /** A number is a fixed size, a string a symbolic (dynamic) dimension such as 'batch'. */
  shape: readonly (number | string)[];
}

export interface GraphProto {
  name: string;
  nodes: readonly NodeProto[];
  inputs: readonly ValueInfoProto[];
  outputs: readonly ValueInfoProto[];
  initializers?: readonly TensorProto[];
  valueInfo?: readonly ValueInfoProto[];
}

export interface ModelProto {
  graph: GraphProto;
  /** Default opset of the ai.onnx domain. */
  opset: number;
  /** IR version: 8 fits opsets 15-17 (onnxruntime rejects a too-new IR), 9 up to opset 20. */
  irVersion?: number;
  producerName?: string;
  producerVersion?: string;
  extraOpsets?: readonly { domain: string; version: number }[];
  metadata?: Record<string, string>;
}

class Writer {
  private chunks: Uint8Array[] = [];
  private scratch: number[] = [];

  private flushScratch(): void {
    if (this.scratch.length > 0) {
      this.chunks.push(Uint8Array.from(this.scratch));
      this.scratch = [];
    }
  }

  varint(v: number | bigint): void {
    let x = BigInt.asUintN(64, BigInt(v));
    while (x >= 0x80n) {
      this.scratch.push(Number(x & 0x7fn) | 0x80);
      x >>= 7n;
    }
    this.scratch.push(Number(x));
  }

  tag(field: number, wire: 0 | 1 | 2 | 5): void {
    this.varint((field << 3) | wire);
  }

  int(field: number, v: number | bigint): void {
    this.tag(field, 0);
    this.varint(v);
  }

  float(field: number, v: number): void {
    this.tag(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.scratch.push(...b);
  }

  bytes(field: number, b: Uint8Array): void {
    this.tag(field, 2);
    this.varint(b.length);
    this.flushScratch();
    this.chunks.push(b);
  }

  string(field: number, s: string): void {
    this.bytes(field, new TextEncoder().encode(s));
  }

  message(field: number, encode: (w: Writer) => void): void {
    const sub = new Writer();
    encode(sub);
    this.bytes(field, sub.finish());
  }

  finish(): Uint8Array {
    this.flushScratch();
    let n = 0;
    for (const c of this.chunks) n += c.length;
    const out = new Uint8Array(n);
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }
}

function writeTensor(w: Writer, t: TensorProto): void {
  for (const d of t.dims) w.int(1, d);
  w.int(2, t.dataType);
  if (t.name !== undefined) w.string(8, t.name);
  w.bytes(9, t.rawData);
}

const ATTR_TYPE = { float: 1, int: 2, string: 3, tensor: 4, floats: 6, ints: 7 } as const;

function writeAttribute(w: Writer, name: string, a: AttributeValue): void {
  w.string(1, name);
  switch (a.type) {
    case 'float':
      w.float(2, a.value);
      break;
    case 'int':
      w.int(3, a.value);
      break;
    case 'string':
      w.string(4, a.value);
      break;
    case 'tensor':
      w.message(5, (m) => writeTensor(m, a.value));
      break;
    case 'floats':
      for (const v of a.value) w.float(7, v);
      break;
    case 'ints':
      for (const v of a.value) w.int(8, v);
      break;
  }
  w.int(20, ATTR_TYPE[a.type]);
}

function writeNode(w: Writer, n: NodeProto): void {
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  if (n.name !== undefined) w.string(3, n.name);
  w.string(4, n.opType);
  for (const [k, v] of Object.entries(n.attributes ?? {})) w.message(5, (m) => writeAttribute(m, k, v));
  if (n.domain !== undefined) w.string(7, n.domain);
}

function writeValueInfo(w: Writer, v: ValueInfoProto): void {
  w.string(1, v.name);
  w.message(2, (type) =>
    type.message(1, (tensor) => {
      tensor.int(1, v.elemType);
      tensor.message(2, (shape) => {
        for (const d of v.shape) {
          shape.message(1, (dim) => (typeof d === 'number' ? dim.int(1, d) : dim.string(2, d)));
        }
      });
    }),
  );
}

function writeGraph(w: Writer, g: GraphProto): void {
  for (const n of g.nodes) w.message(1, (m) => writeNode(m, n));
  w.string(2, g.name);
  for (const t of g.initializers ?? []) w.message(5, (m) => writeTensor(m, t));
  for (const v of g.inputs) w.message(11, (m) => writeValueInfo(m, v));
  for (const v of g.outputs) w.message(12, (m) => writeValueInfo(m, v));
  for (const v of g.valueInfo ?? []) w.message(13, (m) => writeValueInfo(m, v));
}

/** Serialise a model to the ONNX binary format. */
export function encodeModel(model: ModelProto): Uint8Array {
  const w = new Writer();
  w.int(1, model.irVersion ?? (model.opset <= 17 ? 8 : 9));
  w.string(2, model.producerName ?? '@cmid/core');
  if (model.producerVersion !== undefined) w.string(3, model.producerVersion);
  w.message(7, (m) => writeGraph(m, model.graph));
  w.message(8, (m) => {
    m.string(1, '');
    m.int(2, model.opset);
  });
  for (const o of model.extraOpsets ?? []) {
    w.message(8, (m) => {
      m.string(1, o.domain);
      m.int(2, o.version);
    });
  }
  for (const [k, v] of Object.entries(model.metadata ?? {})) {
    w.message(14, (m) => {
      m.string(1, k);
      m.string(2, v);
    });
  }
  return w.finish();
}

/** A float32 tensor initializer from values. */
export function floatTensor(name: string, dims: readonly number[], values: Float32Array): TensorProto {
  return { name, dataType: TensorDataType.FLOAT, dims, rawData: new Uint8Array(values.buffer, values.byteOffset, values.byteLength) };
}

/** An int64 tensor initializer (shapes, axes, pads). */
export function int64Tensor(name: string, dims: readonly number[], values: readonly (number | bigint)[]): TensorProto {
  const b = new BigInt64Array(values.map((v) => BigInt(v)));
  return { name, dataType: TensorDataType.INT64, dims, rawData: new Uint8Array(b.buffer) };
}
