/**
 * The random initialisation of the ResNets that CMID's code builds: timm 0.6.12 `ResNet.init_weights` for the
 * pretraining encoders (cmid.md §3.6) and mmseg's ResNet (`zero_init_residual=True`) for the fine-tuning backbone:
 * every Conv2d kaiming-normal (fan_out, ReLU gain), every BatchNorm2d gamma 1 and beta 0, then the last BN of every
 * residual block (bn3 of a Bottleneck, bn2 of a BasicBlock) gamma 0, so each block starts as the identity.
 *
 * Our ResNet's constructor keeps PyTorch's layer defaults (U(+-1/sqrt(fan_in)) convs), which give weights about 2.5x
 * smaller: under Adan or Adam, whose steps have a fixed size per element, that is a 2.5x larger relative step,
 * so "random init" baselines must use this function to be the network the pretrained one started from.
 */
import * as tf from '@tensorflow/tfjs';
import { BatchNorm2d } from '../nn/layers/batch-norm.js';
import { Conv2d } from '../nn/layers/conv2d.js';
import { kaimingNormalFanOut } from '../nn/init.js';
import type { Module } from '../nn/module.js';

export function timmResnetInit(backbone: Module, options: { zeroInitLast?: boolean } = {}): void {
  const modules = [...backbone.namedModules()];
  for (const [, m] of modules) {
    if (m instanceof Conv2d) {
      const w = m.weight;
      const [kh, kw, , out] = w.shape as [number, number, number, number];
      tf.tidy(() => w.assign(kaimingNormalFanOut([...w.shape], out * kh * kw)));
    }
    if (m instanceof BatchNorm2d) {
      tf.tidy(() => {
        m.weight.assign(tf.onesLike(m.weight));
        m.bias.assign(tf.zerosLike(m.bias));
      });
    }
  }
  if (options.zeroInitLast === false) return;
  const names = new Set(modules.map(([n]) => n));
  for (const [name, m] of modules) {
    if (!(m instanceof BatchNorm2d)) continue;
    const block = name.replace(/\.bn\d$/, '');
    const last = names.has(`${block}.bn3`) ? `${block}.bn3` : `${block}.bn2`;
    if (/^layer\d+\.\d+\.bn\d$/.test(name) && name === last) tf.tidy(() => m.weight.assign(tf.zerosLike(m.weight)));
  }
}
