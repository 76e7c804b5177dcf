/**
 * Pattern rewrites of the traced IR before lowering, for ops whose tfjs gradient takes more full-size passes than
 * the ONNX graph needs. Each rewrite keeps the values and their ids (so names, outputs and assigns are untouched)
 * and only replaces the nodes that compute them.
 *
 * - ReLU gradient: tfjs computes dy * cast(step(x)) (Step lowered as Greater + Where(1, 0), then a Mul: three
 *   passes over the activation). Rewritten as one internal node `CmidWherePositive(x, dy)` = dy * [x > 0], when the
 *   Step and the Cast feed nothing else; lowered as Greater + Cast + Mul (onnxruntime's Where is not vectorised,
 *   and the Mul keeps tfjs's result for a non-finite dy where x <= 0). Where x is a ReLU's input, the node reads
 *   that ReLU's output instead (relu(x) > 0 exactly where x > 0): the pre-ReLU activation is then not kept from the
 *   forward to the backward (PyTorch keeps only the output too), about 0.5 GiB of a ResNet-50 step at batch 8.
 *   The Identity copies tfjs saved of it, now unread, are removed.
 */
import type { IrGraph, IrNode } from './ir.js';

/** The internal op the ReLU-gradient rewrite emits: inputs [x, dy], output dy * [x > 0]. */
export const WHERE_POSITIVE = 'CmidWherePositive';

export function fuseReluGrad(g: IrGraph): IrGraph {
  const producer = new Map<number, IrNode>();
  const consumers = new Map<number, number>();
  for (const n of g.nodes) {
    if (n.folded) continue;
    for (const o of n.outputs) producer.set(o, n);
    for (const i of n.inputs) consumers.set(i, (consumers.get(i) ?? 0) + 1);
  }
  for (const o of g.outputs) consumers.set(o, (consumers.get(o) ?? 0) + 1);
  const only = (id: number) => consumers.get(id) === 1;
  // x -> Relu(x): the gradient reads the ReLU's output instead of its input (same sign test), so the input, which
  // nothing else in the backward needs, is freed after the forward (PyTorch saves only the output too)
  // (tfjs saves the input through an Identity, which is followed back to the value the Relu read)
  const reluOf = new Map<number, number>();
  const identitySource = new Map<number, number>();
  for (const n of g.nodes) {
    if (n.folded) continue;
    if (n.op === 'Relu') reluOf.set(n.inputs[0]!, n.outputs[0]!);
    else if (n.op === 'Identity' && n.inputs.length === 1) identitySource.set(n.outputs[0]!, n.inputs[0]!);
  }
  const reluOutput = (x: number): number | undefined => {
    for (let v: number | undefined = x, hops = 0; v !== undefined && hops < 64; v = identitySource.get(v), hops++) {
      const r = reluOf.get(v);
      if (r !== undefined) return r;
    }
    return undefined;
  };
  const drop = new Set<IrNode>();
  const replace = new Map<IrNode, IrNode>();
  for (const n of g.nodes) {
    if (n.folded || n.op !== 'Multiply' || n.inputs.length !== 2) continue;
    for (const side of [0, 1]) {
      let id = n.inputs[side]!;
      let cast: IrNode | undefined;
      let p = producer.get(id);
      if (p?.op === 'Cast' && (p.attrs as { dtype?: string }).dtype === 'float32' && only(id)) {
        cast = p;
        id = p.inputs[0]!;
        p = producer.get(id);
      }
      if (p?.op !== 'Step' || ((p.attrs as { alpha?: number }).alpha ?? 0) !== 0 || !only(id)) continue;
      const x = p.inputs[0]!, dy = n.inputs[1 - side]!;
      if (g.values[x]!.dtype !== 'float32' || g.values[dy]!.dtype !== 'float32' || g.values[n.outputs[0]!]!.dtype !== 'float32') continue;
      // the result must have the shape Where(x > 0, dy, 0) broadcasts to: the Mul's own output shape
      if (g.values[x]!.shape.join() !== g.values[n.outputs[0]!]!.shape.join() && g.values[dy]!.shape.join() !== g.values[n.outputs[0]!]!.shape.join()) continue;
      drop.add(p);
      if (cast !== undefined) drop.add(cast);
      replace.set(n, { op: WHERE_POSITIVE, inputs: [reluOutput(x) ?? x, dy], outputs: n.outputs, attrs: {}, inputNames: ['x', 'dy'] });
      break;
    }
  }
  if (replace.size === 0) return g;
  return dropDeadIdentities({ ...g, nodes: g.nodes.filter((n) => !drop.has(n)).map((n) => replace.get(n) ?? n) });
}

/** Removes Identity nodes whose output nothing reads (the copies tfjs saved for a gradient that no longer uses them). */
function dropDeadIdentities(g: IrGraph): IrGraph {
  const read = new Set<number>(g.outputs);
  for (const n of g.nodes) if (!n.folded) for (const i of n.inputs) read.add(i);
  const dead = new Set(g.nodes.filter((n) => !n.folded && n.op === 'Identity' && n.outputs.every((o) => !read.has(o))));
  return dead.size === 0 ? g : dropDeadIdentities({ ...g, nodes: g.nodes.filter((n) => !dead.has(n)) });
}
