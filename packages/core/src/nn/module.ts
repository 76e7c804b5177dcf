/**
 * Module: the toolkit's layer abstraction over tfjs ops, built so that parameter names are exactly the PyTorch
 * state_dict keys of the reference implementations (`layer1.0.conv1.weight`). We do not use tfjs-layers: its
 * names cannot be made to match, and we need buffers (batch-norm statistics, index tables) and PyTorch layouts.
 *
 * A module owns parameters (trainable tf.Variables in tfjs layout, each tagged with its PyTorch layout and whether
 * weight decay applies), buffers (non-trainable variables, persistent ones appear in the state dict) and child
 * modules, all in registration order, which is PyTorch's state_dict order.
 */
import * as tf from '@tensorflow/tfjs';
import type { TorchLayout } from './layout.js';

export interface Parameter {
  variable: tf.Variable;
  layout: TorchLayout;
  /** Weight decay applies (false for norms, biases, position tables, tokens: timm's rule). */
  decay: boolean;
}

export interface Buffer {
  variable: tf.Variable;
  persistent: boolean;
  /** dtype written to checkpoints; tfjs stores int64 buffers as int32. */
  torchDtype: 'float32' | 'int64';
}

export abstract class Module {
  training = true;
  private readonly params = new Map<string, Parameter>();
  private readonly buffers = new Map<string, Buffer>();
  private readonly children = new Map<string, Module>();

  /** Register a trainable parameter; `init` is in tfjs layout and is kept (not cloned). */
  protected param(name: string, init: tf.Tensor, layout: TorchLayout = 'plain', decay?: boolean): tf.Variable {
    // timm's default: no decay for 1-D parameters (norm weights, biases) and scalars.
    const withDecay = decay ?? init.rank > 1;
    const variable = tf.variable(init, true);
    init.dispose();
    this.params.set(name, { variable, layout, decay: withDecay });
    return variable;
  }

  protected buffer(name: string, init: tf.Tensor, options: { persistent?: boolean; torchDtype?: 'float32' | 'int64' } = {}): tf.Variable {
    const torchDtype = options.torchDtype ?? (init.dtype === 'int32' ? 'int64' : 'float32');
    const variable = tf.variable(init, false);
    init.dispose();
    this.buffers.set(name, { variable, persistent: options.persistent ?? true, torchDtype });
    return variable;
  }

  protected child<M extends Module>(name: string, module: M): M {
    this.children.set(name, module);
    return module;
  }

  /** Child modules in registration order. */
  namedChildren(): [string, Module][] {
    return [...this.children];
  }

  *namedModules(prefix = ''): Generator<[string, Module]> {
    yield [prefix, this];
    for (const [name, m] of this.children) yield* m.namedModules(prefix === '' ? name : `${prefix}.${name}`);
  }

  /** Parameters with their full dotted names, in PyTorch state_dict order. */
  namedParameters(): [string, Parameter][] {
    const out: [string, Parameter][] = [];
    for (const [prefix, m] of this.namedModules()) {
      for (const [name, p] of m.params) out.push([prefix === '' ? name : `${prefix}.${name}`, p]);
    }
    return out;
  }

  namedBuffers(): [string, Buffer][] {
    const out: [string, Buffer][] = [];
    for (const [prefix, m] of this.namedModules()) {
      for (const [name, b] of m.buffers) out.push([prefix === '' ? name : `${prefix}.${name}`, b]);
    }
    return out;
  }

  /** Trainable variables (frozen ones excluded). */
  trainableVariables(): tf.Variable[] {
    return this.namedParameters()
      .map(([, p]) => p.variable)
      .filter((v) => v.trainable);
  }

  /** Entries in PyTorch state_dict order: each module's parameters, then its persistent buffers, then children. */
  stateEntries(): { name: string; variable: tf.Variable; layout: TorchLayout; torchDtype: 'float32' | 'int64' }[] {
    const out: { name: string; variable: tf.Variable; layout: TorchLayout; torchDtype: 'float32' | 'int64' }[] = [];
    for (const [prefix, m] of this.namedModules()) {
      const full = (n: string) => (prefix === '' ? n : `${prefix}.${n}`);
      for (const [n, p] of m.params) out.push({ name: full(n), variable: p.variable, layout: p.layout, torchDtype: 'float32' });
      for (const [n, b] of m.buffers) {
        if (b.persistent) out.push({ name: full(n), variable: b.variable, layout: 'plain', torchDtype: b.torchDtype });
      }
    }
    return out;
  }

  /** Train mode for this module and all children (batch-norm uses batch statistics, drop-path is active). */
  train(mode = true): this {
    for (const [, m] of this.namedModules()) m.training = mode;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Freeze (or unfreeze) every parameter whose name matches `filter` (default: all). */
  freeze(filter: (name: string) => boolean = () => true, frozen = true): this {
    for (const [name, p] of this.namedParameters()) if (filter(name)) p.variable.trainable = !frozen;
    return this;
  }

  /**
   * Parameter groups for the optimiser: weight decay on `decay`, none on `noDecay` (1-D parameters, biases, and
   * the names in `extraNoDecay`, e.g. relative_position_bias_table, pos_embed, cls_token, mask_token).
   */
  parameterGroups(extraNoDecay: readonly string[] = []): { decay: [string, tf.Variable][]; noDecay: [string, tf.Variable][] } {
    const decay: [string, tf.Variable][] = [];
    const noDecay: [string, tf.Variable][] = [];
    for (const [name, p] of this.namedParameters()) {
      if (!p.variable.trainable) continue;
      const excluded = extraNoDecay.some((k) => name === k || name.endsWith(`.${k}`));
      (p.decay && !excluded ? decay : noDecay).push([name, p.variable]);
    }
    return { decay, noDecay };
  }

  /** Number of parameter elements (all, or trainable only). */
  numParameters(trainableOnly = false): number {
    return this.namedParameters()
      .filter(([, p]) => !trainableOnly || p.variable.trainable)
      .reduce((n, [, p]) => n + p.variable.size, 0);
  }

  dispose(): void {
    for (const [, p] of this.namedParameters()) p.variable.dispose();
    for (const [, b] of this.namedBuffers()) b.variable.dispose();
  }
}
