/**
 * ResNet-18/50 (He et al. 2016, v1.5: stride on the 3x3 conv) in torchvision's key layout, which is also the
 * layout of the CMID ResNet-50 checkpoints after extraction (timm 0.6.12 `resnet50`, same names) and of the
 * BYOL / MoCo / Barlow Twins / SwAV / SeCo baselines. No classifier: forward() returns the global-average-pooled
 * embedding, features() the four stage maps at strides 4, 8, 16, 32. NHWC throughout.
 */
import * as tf from '@tensorflow/tfjs';
import { Module } from '../nn/module.js';
import { ModuleList } from '../nn/module-list.js';
import { Conv2d } from '../nn/layers/conv2d.js';
import { BatchNorm2d } from '../nn/layers/batch-norm.js';
import { addRelu } from '../ops/add-relu.js';
import { globalAvgPool, maxPool2d } from '../nn/layers/pool.js';
import type { Backbone, FeatureHooks, FeatureInfo } from './feature-info.js';

/** The projection shortcut: downsample.0 (1x1 conv) and downsample.1 (BN). */
class Downsample extends ModuleList {
  readonly conv: Conv2d;
  readonly bn: BatchNorm2d;
  constructor(inC: number, outC: number, stride: number) {
    super();
    this.conv = this.add(new Conv2d(inC, outC, 1, { stride, bias: false }));
    this.bn = this.add(new BatchNorm2d(outC));
  }
  forward(x: tf.Tensor4D): tf.Tensor4D {
    return this.bn.forward(this.conv.forward(x)) as tf.Tensor4D;
  }
}

interface Block extends Module {
  forward(x: tf.Tensor4D): tf.Tensor4D;
}

class BasicBlock extends Module implements Block {
  static readonly expansion = 1;
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly downsample: Downsample | undefined;
  constructor(inC: number, width: number, stride: number, downsample: boolean) {
    super();
    this.conv1 = this.child('conv1', new Conv2d(inC, width, 3, { stride, padding: 1, bias: false }));
    this.bn1 = this.child('bn1', new BatchNorm2d(width));
    this.conv2 = this.child('conv2', new Conv2d(width, width, 3, { padding: 1, bias: false }));
    this.bn2 = this.child('bn2', new BatchNorm2d(width));
    this.downsample = downsample ? this.child('downsample', new Downsample(inC, width, stride)) : undefined;
  }
  forward(x: tf.Tensor4D): tf.Tensor4D {
    let h = this.bn1.forwardRelu(this.conv1.forward(x)) as tf.Tensor4D;
    h = this.bn2.forward(this.conv2.forward(h)) as tf.Tensor4D;
    const identity = this.downsample === undefined ? x : this.downsample.forward(x);
    return addRelu(h, identity) as tf.Tensor4D;
  }
}

class Bottleneck extends Module implements Block {
  static readonly expansion = 4;
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly conv3: Conv2d;
  readonly bn3: BatchNorm2d;
  readonly downsample: Downsample | undefined;
  constructor(inC: number, width: number, stride: number, downsample: boolean) {
    super();
    this.conv1 = this.child('conv1', new Conv2d(inC, width, 1, { bias: false }));
    this.bn1 = this.child('bn1', new BatchNorm2d(width));
    this.conv2 = this.child('conv2', new Conv2d(width, width, 3, { stride, padding: 1, bias: false }));
    this.bn2 = this.child('bn2', new BatchNorm2d(width));
    this.conv3 = this.child('conv3', new Conv2d(width, width * 4, 1, { bias: false }));
    this.bn3 = this.child('bn3', new BatchNorm2d(width * 4));
    this.downsample = downsample ? this.child('downsample', new Downsample(inC, width * 4, stride)) : undefined;
  }
  forward(x: tf.Tensor4D): tf.Tensor4D {
    let h = this.bn1.forwardRelu(this.conv1.forward(x)) as tf.Tensor4D;
    h = this.bn2.forwardRelu(this.conv2.forward(h)) as tf.Tensor4D;
    h = this.bn3.forward(this.conv3.forward(h)) as tf.Tensor4D;
    const identity = this.downsample === undefined ? x : this.downsample.forward(x);
    return addRelu(h, identity) as tf.Tensor4D;
  }
}

class Stage extends ModuleList {
  forward(x: tf.Tensor4D): tf.Tensor4D {
    let h = x;
    for (const b of this.items as Block[]) h = b.forward(h);
    return h;
  }
}

export interface ResNetOptions {
  /** Input bands (3 for RGB; e.g. 13 for Sentinel-2). Default 3. */
  inChannels?: number;
  /** Width of the stem and first stage (64 in the standard models; smaller for fast tests). Default 64. */
  baseWidth?: number;
}

export const RESNET_VARIANTS = {
  resnet18: { block: 'basic', layers: [2, 2, 2, 2] },
  resnet50: { block: 'bottleneck', layers: [3, 4, 6, 3] },
} as const;
export type ResNetVariant = keyof typeof RESNET_VARIANTS;

export class ResNet extends Module implements Backbone {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly stages: Stage[];
  readonly featureInfo: FeatureInfo[];
  readonly embedDim: number;

  constructor(readonly variant: ResNetVariant, { inChannels = 3, baseWidth = 64 }: ResNetOptions = {}) {
    super();
    const spec = RESNET_VARIANTS[variant];
    const expansion = spec.block === 'basic' ? 1 : 4;
    const Block = spec.block === 'basic' ? BasicBlock : Bottleneck;
    this.conv1 = this.child('conv1', new Conv2d(inChannels, baseWidth, 7, { stride: 2, padding: 3, bias: false }));
    this.bn1 = this.child('bn1', new BatchNorm2d(baseWidth));
    this.stages = [];
    this.featureInfo = [];
    let inC = baseWidth;
    spec.layers.forEach((n, i) => {
      const width = baseWidth * 2 ** i;
      const stride = i === 0 ? 1 : 2;
      const stage = this.child(`layer${i + 1}`, new Stage());
      for (let b = 0; b < n; b++) {
        const needsDown = b === 0 && (stride !== 1 || inC !== width * expansion);
        stage.add(new Block(inC, width, b === 0 ? stride : 1, needsDown));
        inC = width * expansion;
      }
      this.stages.push(stage);
      this.featureInfo.push({ name: `layer${i + 1}`, channels: inC, stride: 4 * 2 ** i });
    });
    this.embedDim = inC;
  }

  features(x: tf.Tensor4D, hooks: FeatureHooks = {}): tf.Tensor4D[] {
    let h = this.bn1.forwardRelu(this.conv1.forward(x)) as tf.Tensor4D;
    h = maxPool2d(h, 3, 2, 1);
    if (hooks.stem !== undefined) h = hooks.stem(h);
    const out: tf.Tensor4D[] = [];
    for (const s of this.stages) {
      h = s.forward(h);
      out.push(h);
    }
    return out;
  }

  forward(x: tf.Tensor4D): tf.Tensor2D {
    const maps = this.features(x);
    return globalAvgPool(maps[maps.length - 1]!);
  }
}

export const resnet18 = (o: ResNetOptions = {}) => new ResNet('resnet18', o);
export const resnet50 = (o: ResNetOptions = {}) => new ResNet('resnet50', o);
