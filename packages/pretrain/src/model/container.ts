/** A module that holds children under explicit names ('0', '3', 'last_layer', ...), so keys match PyTorch. */
import { Module } from '@cmid/core';

export class Container extends Module {
  add<M extends Module>(name: string, module: M): M {
    return this.child(name, module);
  }
}
