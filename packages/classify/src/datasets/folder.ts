/**
 * Any ImageFolder tree as a scene-classification set: AID (30 classes, 600 x 600 JPEG), NWPU-RESISC45 (45 classes,
 * 256 x 256 JPEG), or your own `root/<class>/<image>`. Classes are the folder names in code-point order (as
 * torchvision's ImageFolder), images are found recursively inside each class folder.
 *
 * Two layouts, detected from the tree:
 * - pre-split: `root/train/<class>/...` and `root/test/<class>/...` (and optionally `root/val/<class>/...`); the
 *   classes are train's, and a val/test class folder train lacks is an error.
 * - one tree: a seeded stratified split with `trainRatio` (and `valRatio`) per class, see stratifiedSplit in
 *   split.ts. AID's protocols train on 20% or 50%, NWPU-RESISC45's on 10% or 20%: pass the ratio, or a protocol
 *   name from FOLDER_PROTOCOLS ('aid-20', 'nwpu-10', ...).
 *
 * The band count is taken from the first training image's header; every image must have it (readScene's
 * expectBands), so a stray greyscale or RGBA file is reported by checkDataset / readScene with its path.
 */
import { basename, join } from 'node:path';
import { CmidError, ImageFolder } from '@cmid/core';
import { inspectScene } from './read-scene.js';
import type { SceneDataset, SceneSample, Warn } from './types.js';
import { listDirs, resolveRatios, stratifiedSplit } from './split.js';

/** Train fractions of the usual AID / NWPU-RESISC45 protocols (the rest is test). */
export const FOLDER_PROTOCOLS = { 'aid-20': 0.2, 'aid-50': 0.5, 'nwpu-10': 0.1, 'nwpu-20': 0.2 } as const;
export type FolderProtocol = keyof typeof FOLDER_PROTOCOLS;

export interface FolderOptions {
  /** 'auto' (default): pre-split when root has train/ and test/, else one tree. */
  layout?: 'auto' | 'classes' | 'presplit';
  /** Train fraction per class (one-tree layout), or a protocol name. Default 0.8. */
  trainRatio?: number | FolderProtocol;
  /** Validation fraction per class (one-tree layout). Default 0 (no val split). */
  valRatio?: number;
  /** Seed of the split. Default 0. */
  seed?: number;
  /** Dataset name. Default: the root folder's name. */
  name?: string;
  /** Non-fatal reports (skipped non-image files). Default console.warn. */
  warn?: Warn;
}

const SPLIT_DIRS = ['train', 'val', 'test'] as const;

export class SceneFolder {
  static readonly protocols = FOLDER_PROTOCOLS;
  static readonly defaultTrainRatio = 0.8;

  /** True when root looks pre-split: it has train/ and test/ and no other sub-folder but val/. */
  static async isPresplit(root: string): Promise<boolean> {
    const dirs = await listDirs(root);
    return dirs.includes('train') && dirs.includes('test') && dirs.every((d) => (SPLIT_DIRS as readonly string[]).includes(d));
  }

  /**
   * @example
   * const aid = await SceneFolder.open('data/AID', { trainRatio: 'aid-20', seed: 1 }); // 20% of each class to train
   * const mine = await SceneFolder.open('data/mine'); // mine/train/<class>, mine/test/<class> detected
   */
  static async open(root: string, options: FolderOptions = {}): Promise<SceneDataset> {
    const warn = options.warn ?? console.warn;
    const layout = options.layout ?? 'auto';
    if (!['auto', 'classes', 'presplit'].includes(layout)) {
      throw new CmidError('config', `SceneFolder: layout '${String(layout)}' is not valid. Valid: 'auto', 'classes', 'presplit'.`);
    }
    const presplit = layout === 'presplit' || (layout === 'auto' && (await SceneFolder.isPresplit(root)));
    const name = options.name ?? basename(root);
    let ds: Omit<SceneDataset, 'bands' | 'fileBands'>;
    if (presplit) {
      const dirs = await listDirs(root);
      for (const d of ['train', 'test']) {
        if (!dirs.includes(d)) {
          throw new CmidError('input', `SceneFolder: ${join(root, d)} is missing; a pre-split tree needs train/<class>/ and test/<class>/.`, { file: join(root, d) });
        }
      }
      const train = await ImageFolder.open(join(root, 'train'), { warn });
      const classes = [...train.classes];
      const remap = async (split: 'val' | 'test'): Promise<SceneSample[]> => {
        const f = await ImageFolder.open(join(root, split), { warn });
        const unknown = f.classes.filter((c) => !classes.includes(c));
        if (unknown.length > 0) {
          throw new CmidError(
            'input',
            `SceneFolder: ${join(root, split)} has class folder(s) that ${join(root, 'train')} lacks: ${unknown.join(', ')}. ` +
              'Every class needs training images; add them to train/ or remove the folders.',
            { file: join(root, split, unknown[0]!) },
          );
        }
        return f.samples.map((s) => ({ path: s.path, label: classes.indexOf(f.classes[s.label]!) }));
      };
      const val = dirs.includes('val') ? await remap('val') : undefined;
      ds = {
        name,
        root,
        classes,
        train: train.samples.map((s) => ({ path: s.path, label: s.label })),
        test: await remap('test'),
        ...(val === undefined ? {} : { val }),
        split: { source: 'folders', files: [join(root, 'train'), ...(val === undefined ? [] : [join(root, 'val')]), join(root, 'test')] },
      };
    } else {
      const folder = await ImageFolder.open(root, { warn });
      const tr = options.trainRatio ?? SceneFolder.defaultTrainRatio;
      let train: number;
      if (typeof tr === 'number') train = tr;
      else if (Object.prototype.hasOwnProperty.call(FOLDER_PROTOCOLS, tr)) train = FOLDER_PROTOCOLS[tr];
      else throw new CmidError('config', `SceneFolder: trainRatio '${String(tr)}' is neither a number nor a protocol. Valid: ${Object.keys(FOLDER_PROTOCOLS).join(', ')}.`);
      const ratios = resolveRatios('SceneFolder', { train, val: options.valRatio ?? 0 });
      const seed = options.seed ?? 0;
      const byClass = folder.classes.map((_, c) => folder.samples.filter((s) => s.label === c).map((s) => s.path));
      const split = stratifiedSplit(byClass, ratios, seed);
      ds = {
        name,
        root,
        classes: [...folder.classes],
        train: split.train,
        test: split.test,
        ...(ratios.val > 0 ? { val: split.val } : {}),
        split: { source: 'seeded', seed, ratios },
      };
    }
    const probe = ds.train[0] ?? ds.test[0];
    if (probe === undefined) throw new CmidError('input', `SceneFolder: ${root} gave no images to any split.`, { file: root });
    const { bands } = await inspectScene(probe.path);
    return { ...ds, bands, fileBands: bands };
  }
}
