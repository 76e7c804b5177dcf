/**
 * The CMID model (cmid.md §2): student and EMA teacher backbones, the MIM decoder, the MoCo projectors, the
 * DINO-style local heads, the MoCo queue and the local-loss centre, with the reference checkpoint's state-dict keys
 * (`online_encoder.model.*`, `online_encoder.mask_token`, `branch_encoder.*`, `mim2org.decoder_pred.0.*`,
 * `online_projector.layer.0.{0,3}.*`, `class_projector.mlp.*`, `class_projector.last_layer.weight_{g,v}`,
 * `class_loss.center`, `queue`), so `cmid extract` works on either file.
 *
 * Two layouts differ from the reference (docs/deviations.md): `queue` is [K, D], one key per row, newest first
 * (the reference keeps a [D, K] ring with a pointer; see cmidLoss for why), and there is no `queue_ptr`.
 */
import * as tf from '@tensorflow/tfjs';
import {
  CmidError,
  createBackbone,
  Module,
  Rng,
  mocoQueueInit,
  timmResnetInit,
  type Backbone,
} from '@cmid/core';
import type { CmidConfig } from '../config.js';
import { LocalHead, MimHead, ProjectorMlp } from './heads.js';
import { MaskEncoder } from './mask-encoder.js';

class LocalLossState extends Module {
  readonly center: tf.Variable;
  constructor(dim: number) {
    super();
    this.center = this.buffer('center', tf.zeros([1, dim, 1]));
  }
}

export function backboneKind(name: string): 'resnet' | 'swin' {
  if (name.startsWith('resnet')) return 'resnet';
  if (name.startsWith('swin')) return 'swin';
  throw new CmidError('config', `CMID: backbone "${name}" is not supported; use resnet18/resnet50 or swin_t/swin_b (ViT is not part of CMID).`);
}

function copyParameters(from: Module, to: Module): void {
  const src = new Map(from.namedParameters());
  for (const [name, p] of to.namedParameters()) {
    const s = src.get(name);
    if (s === undefined || s.variable.shape.join() !== p.variable.shape.join()) throw new CmidError('config', `CMID: teacher parameter ${name} has no student twin.`);
    p.variable.assign(s.variable);
  }
}

export class CmidModel extends Module {
  readonly onlineEncoder: MaskEncoder;
  readonly branchEncoder: Backbone;
  readonly mim2org: MimHead;
  readonly onlineProjector: ProjectorMlp;
  readonly branchProjector: ProjectorMlp;
  readonly classProjector: LocalHead;
  readonly branchClassProjector: LocalHead;
  readonly classLoss: LocalLossState;
  readonly queue: tf.Variable;
  readonly kind: 'resnet' | 'swin';
  readonly featureDim: number;
  /** Cells of the last feature map, (size / 32)^2. */
  readonly cells: number;

  constructor(readonly config: CmidConfig) {
    super();
    const c = config;
    this.kind = backboneKind(c.backbone);
    const makeBackbone = () => createBackbone(c.backbone, { ...c.backboneOptions });
    const student = makeBackbone();
    if (this.kind === 'resnet') timmResnetInit(student);
    this.onlineEncoder = this.child('online_encoder', new MaskEncoder(student, this.kind));
    const teacher = makeBackbone();
    this.branchEncoder = this.child('branch_encoder', teacher);
    this.featureDim = student.embedDim;
    const stride = student.featureInfo[student.featureInfo.length - 1]!.stride;
    if (stride !== 32) throw new CmidError('config', `CMID: the backbone's output stride is ${stride}; CMID expects 32.`);
    this.cells = (c.size / stride) ** 2;
    this.mim2org = this.child('mim2org', new MimHead(this.featureDim, stride, c.encoderInChannels));
    this.onlineProjector = this.child('online_projector', new ProjectorMlp(this.featureDim, c.hiddenDim, c.outDim));
    this.branchProjector = this.child('branch_projector', new ProjectorMlp(this.featureDim, c.hiddenDim, c.outDim));
    const lh = { inDim: this.featureDim, hiddenDim: c.hiddenDim, bottleneckDim: c.bottleneckDim, outDim: c.classFeatSize, numLayers: c.numLayers, useBn: c.useBn };
    this.classProjector = this.child('class_projector', new LocalHead(lh));
    this.branchClassProjector = this.child('branch_class_projector', new LocalHead(lh));
    this.classLoss = this.child('class_loss', new LocalLossState(c.classFeatSize));
    // MoCo queue: randn [D, K] from a seeded stream, normalised as the reference (quirk 3) or per key (fix)
    const rng = new Rng(c.seed * 7919 + 17);
    const raw = new Float32Array(c.outDim * c.queueSize);
    for (let i = 0; i < raw.length; i++) raw[i] = rng.normal();
    this.queue = this.buffer('queue', mocoQueueInit(raw, c.outDim, c.queueSize, { normalizeKeys: c.fixes.includes('queue-init') }));
    // teacher = student at the start (initialize_momentum_params); teacher parameters are not trained
    copyParameters(student, teacher);
    copyParameters(this.onlineProjector, this.branchProjector);
    copyParameters(this.classProjector, this.branchClassProjector);
    for (const m of [teacher, this.branchProjector, this.branchClassProjector]) m.freeze();
  }

  /** (teacher, student) variable-name pairs of the EMA (cmid.md §7): parameters only, in registration order. */
  emaPairs(): [string, string][] {
    const pairs: [string, string][] = [];
    const add = (t: Module, tp: string, s: Module, sp: string) => {
      const sNames = new Set(s.namedParameters().map(([n]) => n));
      for (const [n] of t.namedParameters()) {
        if (!sNames.has(n)) throw new CmidError('config', `CMID: EMA pair ${tp}${n} has no student ${sp}${n}.`);
        pairs.push([`${tp}${n}`, `${sp}${n}`]);
      }
    };
    add(this.branchEncoder, 'branch_encoder.', this.onlineEncoder.model, 'online_encoder.model.');
    add(this.branchProjector, 'branch_projector.', this.onlineProjector, 'online_projector.');
    add(this.branchClassProjector, 'branch_class_projector.', this.classProjector, 'class_projector.');
    return pairs;
  }

  /** The student backbone as a plain Backbone (for evaluation and extraction). */
  get backbone(): Backbone {
    return this.onlineEncoder.model;
  }
}
