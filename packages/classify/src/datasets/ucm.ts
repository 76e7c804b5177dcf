/**
 * UC Merced Land Use (Yang & Newsam 2010): 2,100 RGB TIFFs, 21 classes x 100, 256 x 256 px at 0.3 m.
 * Class ids are alphabetical (agricultural = 0 ... tenniscourt = 20), the ids of CMID's train.txt/test.txt.
 *
 * Layouts accepted (the first that matches, under `root`):
 * - `img/` + `train.txt`/`test.txt`: CMID's reference layout (official-CMID:Pretrain/Dataset/UCM.py), every image
 *   in one flat folder, split lines `<file name> <class index>`. Without split files the label of a flat image is
 *   read from its name (`airplane00.tif` -> airplane).
 * - `Images/<class>/<class>NN.tif`, `UCMerced_LandUse/Images/...` (the official release), or `root` being the
 *   Images folder itself (its split files then sit beside it, in the parent).
 *
 * Split: with `train.txt`/`test.txt` in `splitDir` (default: the folder holding img/ or Images/) they are read,
 * and every line is checked (format, known class id, file present, id agrees with the file's class folder or
 * name, no file in both). Otherwise an 8:2 split is generated, seeded and stratified per class (see
 * stratifiedSplit in split.ts); CMID gives no seed or procedure, so pin it with `writeSplit: true`, which writes
 * both files in the reference format (basenames, as its img/ is flat), atomically.
 *
 * Sizes: a few real UCM images are not 256 x 256 (e.g. 256 x 253). The reader keeps them as stored; the classify
 * transforms resize every image (torchgeo resizes on load to the same effect). `checkDataset(ds)` lists them.
 */
import { basename, dirname, join } from 'node:path';
import { CmidError, ImageFolder } from '@cmid/core';
import type { SceneDataset, SceneSample, Warn } from './types.js';
import {
  formatLabelSplit,
  isDir,
  isFile,
  listDirs,
  readLabelSplitFile,
  resolveRatios,
  sortSamples,
  stratifiedSplit,
  writeSplitFiles,
} from './split.js';

export interface UcmOptions {
  /** 'auto': split files when present, else generated; 'files': they must exist; 'seeded': always generate. Default 'auto'. */
  split?: 'auto' | 'files' | 'seeded';
  /** Folder of train.txt/test.txt, for reading and writing. Default: the folder holding img/ or Images/. */
  splitDir?: string;
  /** Seed of a generated split. Default 0. */
  seed?: number;
  /** Train fraction of a generated split (per class; the rest is test). Default 0.8 (CMID's 8:2). */
  trainRatio?: number;
  /** Write a generated split to splitDir as train.txt/test.txt. Never overwrites existing files. Default false. */
  writeSplit?: boolean;
  /** Non-fatal reports (skipped non-image files, images in no split file). Default console.warn. */
  warn?: Warn;
}

interface UcmLayout {
  kind: 'img' | 'images';
  /** img/ or Images/. */
  imagesDir: string;
  /** Where split files live by default. */
  base: string;
}

interface Listed {
  path: string;
  /** -1 when a flat image's name does not tell its class. */
  label: number;
}

export class UCMerced {
  /** Class names in id order (alphabetical). */
  static readonly classes = [
    'agricultural', 'airplane', 'baseballdiamond', 'beach', 'buildings', 'chaparral', 'denseresidential', 'forest',
    'freeway', 'golfcourse', 'harbor', 'intersection', 'mediumresidential', 'mobilehomepark', 'overpass', 'parkinglot',
    'river', 'runway', 'sparseresidential', 'storagetanks', 'tenniscourt',
  ] as const;
  /** Nominal image size; a few real files differ and are resized by the transforms. */
  static readonly imageSize = { width: 256, height: 256 } as const;
  /** The reference's split file names. */
  static readonly splitFiles = { train: 'train.txt', test: 'test.txt' } as const;
  static readonly defaultTrainRatio = 0.8;

  /** The class a UCM file name implies (`airplane07.tif` -> 1), or -1. */
  static labelFromName(name: string): number {
    const m = /^([a-z]+?)(\d+)\.[a-z0-9]+$/i.exec(name);
    return m === null ? -1 : (UCMerced.classes as readonly string[]).indexOf(m[1]!.toLowerCase());
  }

  /** Finds the layout under `root`; throws the not-found error. */
  static async locate(root: string): Promise<UcmLayout> {
    if (await isDir(join(root, 'img'))) return { kind: 'img', imagesDir: join(root, 'img'), base: root };
    if (await isDir(join(root, 'Images'))) return { kind: 'images', imagesDir: join(root, 'Images'), base: root };
    const nested = join(root, 'UCMerced_LandUse');
    if (await isDir(join(nested, 'Images'))) return { kind: 'images', imagesDir: join(nested, 'Images'), base: nested };
    const dirs = await listDirs(root);
    if (UCMerced.classes.filter((c) => dirs.includes(c)).length >= 2) return { kind: 'images', imagesDir: root, base: dirname(root) };
    throw new CmidError(
      'input',
      `UCMerced: no images under ${root} (expected Images/<class>/<class>NN.tif, UCMerced_LandUse/Images/..., or img/ with train.txt/test.txt). ` +
        'Pass the folder that holds them (--data <dir>), or run "cmid synth ucm" for a synthetic copy.',
      { file: root },
    );
  }

  /**
   * Lists the images and makes or reads the split.
   *
   * @example
   * const ds = await UCMerced.open('data/UCMerced_LandUse', { seed: 0, writeSplit: true });
   * // ds.classes[0] 'agricultural', ds.train.length 1680, ds.test.length 420; data/UCMerced_LandUse/train.txt written
   */
  static async open(root: string, options: UcmOptions = {}): Promise<SceneDataset> {
    const warn = options.warn ?? console.warn;
    const layout = await UCMerced.locate(root);
    const listed = await UCMerced.list(layout, warn);
    const splitDir = options.splitDir ?? layout.base;
    const trainFile = join(splitDir, UCMerced.splitFiles.train);
    const testFile = join(splitDir, UCMerced.splitFiles.test);
    const [hasTrain, hasTest] = [await isFile(trainFile), await isFile(testFile)];
    const mode = options.split ?? 'auto';
    if (!['auto', 'files', 'seeded'].includes(mode)) {
      throw new CmidError('config', `UCMerced: split '${String(mode)}' is not valid. Valid: 'auto', 'files', 'seeded'.`);
    }
    const common = {
      name: 'ucm',
      root: layout.base,
      classes: [...UCMerced.classes],
      bands: 3,
      fileBands: 3,
      nominalSize: { ...UCMerced.imageSize },
    };
    if (mode === 'files' || (mode === 'auto' && (hasTrain || hasTest))) {
      for (const [file, has] of [[trainFile, hasTrain], [testFile, hasTest]] as const) {
        if (!has) {
          throw new CmidError(
            'input',
            `UCMerced: split file ${file} is missing (${mode === 'files' ? "split: 'files' requires" : 'found the other of'} train.txt and test.txt in ${splitDir}). ` +
              "Add it, remove the other one, or pass split: 'seeded' to generate the split.",
            { file },
          );
        }
      }
      const { train, test } = await UCMerced.readSplit(listed, layout, trainFile, testFile, warn);
      return { ...common, train, test, split: { source: 'files', files: [trainFile, testFile] } };
    }
    const unlabeled = listed.filter((s) => s.label < 0);
    if (unlabeled.length > 0) {
      throw new CmidError(
        'input',
        `UCMerced: ${unlabeled[0]!.path} does not name its class (expected <class>NN.tif, e.g. airplane00.tif) and there is no train.txt/test.txt in ${splitDir}. ` +
          'Rename the files, or add the split files ("<file name> <class index>" lines).',
        { file: unlabeled[0]!.path },
      );
    }
    const ratios = resolveRatios('UCMerced', { train: options.trainRatio ?? UCMerced.defaultTrainRatio });
    const seed = options.seed ?? 0;
    const byClass = UCMerced.classes.map((_, c) => listed.filter((s) => s.label === c).map((s) => s.path));
    const { train, test } = stratifiedSplit(byClass, ratios, seed);
    const ds: SceneDataset = { ...common, train, test, split: { source: 'seeded', seed, ratios } };
    if (options.writeSplit) {
      if (hasTrain || hasTest) {
        throw new CmidError(
          'input',
          `UCMerced: not writing the generated split: ${hasTrain ? trainFile : testFile} exists. Delete the old split files first, or drop split: 'seeded' to use them.`,
          { file: hasTrain ? trainFile : testFile },
        );
      }
      ds.split.written = await UCMerced.writeSplit(splitDir, ds);
    }
    return ds;
  }

  /** Writes train.txt/test.txt (`<basename> <label>`) for a UCM dataset, atomically. Returns the paths. */
  static async writeSplit(dir: string, ds: Pick<SceneDataset, 'train' | 'test'>): Promise<string[]> {
    const names = new Map<string, string>();
    const lines = (samples: SceneSample[]): Array<{ name: string; label: number }> =>
      samples.map((s) => {
        const name = basename(s.path);
        const other = names.get(name);
        if (other !== undefined && other !== s.path) {
          throw new CmidError('input', `UCMerced: cannot write a flat split file: ${s.path} and ${other} have the same file name. Rename one.`, { file: s.path });
        }
        names.set(name, s.path);
        if (name !== name.trim()) throw new CmidError('input', `UCMerced: file name "${name}" starts or ends with white space; rename it.`, { file: s.path });
        return { name, label: s.label };
      });
    return writeSplitFiles(dir, {
      [UCMerced.splitFiles.train]: formatLabelSplit(lines(ds.train)),
      [UCMerced.splitFiles.test]: formatLabelSplit(lines(ds.test)),
    });
  }

  private static async list(layout: UcmLayout, warn: Warn): Promise<Listed[]> {
    if (layout.kind === 'img') {
      const folder = await ImageFolder.open(layout.imagesDir, { layout: 'flat', warn });
      return folder.samples.map((s) => ({ path: s.path, label: UCMerced.labelFromName(basename(s.path)) }));
    }
    const folder = await ImageFolder.open(layout.imagesDir, { warn });
    const known = UCMerced.classes as readonly string[];
    const missing = known.filter((c) => !folder.classes.includes(c));
    const extra = folder.classes.filter((c) => !known.includes(c));
    if (missing.length > 0 || extra.length > 0) {
      throw new CmidError(
        'input',
        `UCMerced: ${layout.imagesDir} does not hold the 21 UCM class folders` +
          `${missing.length > 0 ? `; missing: ${missing.join(', ')}` : ''}${extra.length > 0 ? `; unexpected: ${extra.join(', ')}` : ''}. ` +
          "Point at the UCMerced_LandUse folder of the official release, or use kind 'folder' for another class set.",
        { file: layout.imagesDir },
      );
    }
    // ImageFolder sorts classes by code point; UCM's names are lower case, so its order is the alphabetical id order
    return folder.samples.map((s) => ({ path: s.path, label: s.label }));
  }

  private static async readSplit(
    listed: readonly Listed[],
    layout: UcmLayout,
    trainFile: string,
    testFile: string,
    warn: Warn,
  ): Promise<{ train: SceneSample[]; test: SceneSample[] }> {
    const byName = new Map<string, Listed | 'duplicate'>();
    for (const s of listed) byName.set(basename(s.path), byName.has(basename(s.path)) ? 'duplicate' : s);
    const used = new Map<string, string>();
    const read = async (file: string): Promise<SceneSample[]> => {
      const out: SceneSample[] = [];
      for (const l of await readLabelSplitFile(file, UCMerced.classes)) {
        const where = `${file}:${l.line}`;
        const hit = byName.get(l.name);
        if (hit === undefined) {
          throw new CmidError('input', `${where}: ${l.name} is not in ${layout.imagesDir}. Check the file name, or regenerate the split files for this copy.`, { file });
        }
        if (hit === 'duplicate') {
          throw new CmidError('input', `${where}: ${l.name} matches several files under ${layout.imagesDir}; file names must be unique.`, { file });
        }
        if (hit.label >= 0 && hit.label !== l.label) {
          throw new CmidError(
            'input',
            `${where}: ${l.name} has class id ${l.label} (${UCMerced.classes[l.label]}) but is a ${UCMerced.classes[hit.label]} image (id ${hit.label}). ` +
              'Ids must be alphabetical, 0-based (agricultural = 0 ... tenniscourt = 20).',
            { file },
          );
        }
        const other = used.get(l.name);
        if (other !== undefined) {
          throw new CmidError('input', `${where}: ${l.name} is also listed in ${other}; train and test must not share images.`, { file });
        }
        used.set(l.name, where);
        out.push({ path: hit.path, label: l.label });
      }
      return sortSamples(out);
    };
    const train = await read(trainFile);
    const test = await read(testFile);
    const unlisted = listed.length - used.size;
    if (unlisted > 0) warn(`UCMerced ${layout.imagesDir}: ${unlisted} image(s) are in neither ${trainFile} nor ${testFile}; they are left out.`);
    return { train, test };
  }
}
