export { encodeModel, floatTensor, int64Tensor, TensorDataType } from './proto.js';
export type { ModelProto, GraphProto, NodeProto, TensorProto, ValueInfoProto, AttributeValue } from './proto.js';
export { createSession, loadOrt, type SessionOptions, type ExecutionProvider } from './session.js';
export { exportFunction, exportModule, encodeIrGraph, type ExportOptions, type ExportResult, type EncodeOptions } from './export.js';
export { LOWERINGS } from './lower.js';
export { OnnxRunner, normalizeNhwc, type Normalization } from './runner.js';
export { readOnnxMetadata } from './metadata.js';
