/**
 * ModuleList: a module that only holds children under the names '0', '1', … in the order they are added, so that
 * nested state_dict keys such as `layer1.0.conv1.weight` or `ffn.layers.0.0.weight` come out as in PyTorch.
 */
import { Module } from './module.js';

export class ModuleList<T extends Module = Module> extends Module {
  readonly items: T[] = [];

  /** Registers `m` under the next index and returns it. */
  add<M extends T>(m: M): M {
    this.items.push(this.child(String(this.items.length), m));
    return m;
  }
}
