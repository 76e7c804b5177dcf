/**
 * The backbone registry: an explicit list (no import side effects), the names the CLI and configs accept, and
 * the old names that still resolve with a warning.
 *
 * ```ts
 * const swin = createBackbone('swin_b', { inChannels: 4 });
 * const tiny = createBackbone('swin_t', { embedDim: 16, depths: [1, 1, 1, 1], numHeads: [1, 1, 1, 1] });
 * ```
 */
import { CmidError } from '../runtime/errors.js';
import type { Backbone } from './feature-info.js';
import { resnet18, resnet50 } from './resnet.js';
import { swin_b, swin_t } from './swin.js';
import { vit_b16 } from './vit.js';

export const BACKBONES = { resnet18, resnet50, swin_t, swin_b, vit_b16 } as const;
export type BackboneName = keyof typeof BACKBONES;
/** The options object of a backbone's factory (ResNetOptions, SwinOptions or VitOptions). */
export type BackboneOptions<N extends BackboneName> = NonNullable<Parameters<(typeof BACKBONES)[N]>[0]>;

/** Renamed or foreign spellings -> registry names. Resolving one logs a warning. */
export const ALIASES: Readonly<Record<string, BackboneName>> = {
  swin_base: 'swin_b',
  swin_tiny: 'swin_t',
  swin_base_patch4_window7_224: 'swin_b',
  swin_tiny_patch4_window7_224: 'swin_t',
  vit_base_patch16: 'vit_b16',
  vit_base_patch16_224: 'vit_b16',
};

export function isBackboneName(name: string): name is BackboneName {
  return Object.prototype.hasOwnProperty.call(BACKBONES, name);
}

/** A registry name, or an alias resolved to one (with a warning); unknown names throw listing the valid ones. */
export function resolveBackboneName(name: string, warn: (message: string) => void = console.warn): BackboneName {
  if (isBackboneName(name)) return name;
  const target = Object.prototype.hasOwnProperty.call(ALIASES, name) ? ALIASES[name] : undefined;
  if (target !== undefined) {
    warn(`backbone "${name}" is an old name for "${target}"; use "${target}".`);
    return target;
  }
  throw new CmidError('config', `Unknown backbone "${name}". Valid: ${Object.keys(BACKBONES).join(', ')} (aliases: ${Object.keys(ALIASES).join(', ')}).`);
}

/** Builds a backbone by registry name or alias, with that family's options. */
export function createBackbone<N extends BackboneName>(name: N, options?: BackboneOptions<N>): Backbone;
export function createBackbone(name: string, options?: object): Backbone;
export function createBackbone(name: string, options: object = {}): Backbone {
  const resolved = resolveBackboneName(name);
  const factory = BACKBONES[resolved] as (o: object) => Backbone;
  return factory(options);
}
