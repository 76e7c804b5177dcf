/**
 * EuroSAT (Helber et al. 2019): 27,000 Sentinel-2 patches of 64 x 64 px in 10 classes, in two releases:
 * - RGB (variant 'rgb'): `2750/<Class>/<Class>_<n>.jpg` (EuroSAT.zip), 3 bands = B04, B03, B02.
 * - all bands (variant 'ms'): `ds/images/remote_sensing/otherDatasets/sentinel_2/tif/<Class>/<Class>_<n>.tif`
 *   (EuroSATallBands.zip, torchgeo's EuroSAT), 13 bands uint16 in the order of EuroSAT.msBands.
 * Any folder holding the 10 class folders is found under `root` (searched up to 7 levels deep).
 * Class ids are torchgeo's (alphabetical = code-point order): AnnualCrop = 0 ... SeaLake = 9.
 *
 * Split: torchgeo's split files `eurosat-train.txt`, `eurosat-val.txt`, `eurosat-test.txt` (one file name per
 * line, from arXiv 1911.06721; they list .jpg names, matched here by stem so they serve the .tif release too)
 * are read from `splitDir`, else from the first of root, the class-folder parent chain up to root that has them.
 * As in torchgeo, images listed nowhere are left out (with a warning). Without split files a seeded stratified
 * split is made (default 60/20/20, see stratifiedSplit in split.ts).
 *
 * Band selection (MS only): `bands: 'rgb'` reads B04, B03, B02 (indices [3, 2, 1]); an array of indices or names
 * ('B08', 'B8A' = 'B08A') reads those, in that order; default 'all' (13).
 */
import { basename, dirname, extname, join, relative } from 'node:path';
import { readdir, readFile } from 'node:fs/promises';
import { CmidError, ImageFolder } from '@cmid/core';
import type { SceneDataset, SceneSample, SplitRatios, Warn } from './types.js';
import { byCodePoint, isDir, isFile, listDirs, resolveRatios, sortSamples, stratifiedSplit } from './split.js';

export type EuroSatVariant = 'rgb' | 'ms';

export interface EuroSatOptions {
  /** Which release. Default 'rgb'. */
  variant?: EuroSatVariant;
  /** 'auto': split files when present, else generated; 'files': they must exist; 'seeded': always generate. Default 'auto'. */
  split?: 'auto' | 'files' | 'seeded';
  /** Folder of the eurosat-*.txt files. Default: searched (see the file comment). */
  splitDir?: string;
  /** Seed of a generated split. Default 0. */
  seed?: number;
  /** Ratios of a generated split. Default { train: 0.6, val: 0.2, test: 0.2 }. */
  ratios?: SplitRatios;
  /** MS only: 'all' (default), 'rgb' (= ['B04', 'B03', 'B02']), or band indices / names in output order. */
  bands?: 'all' | 'rgb' | ReadonlyArray<number | string>;
  /** Non-fatal reports. Default console.warn. */
  warn?: Warn;
}

const EXTENSIONS: Record<EuroSatVariant, readonly string[]> = { rgb: ['.jpg', '.jpeg', '.png'], ms: ['.tif', '.tiff'] };

export class EuroSAT {
  static readonly classes = [
    'AnnualCrop', 'Forest', 'HerbaceousVegetation', 'Highway', 'Industrial', 'Pasture', 'PermanentCrop', 'Residential', 'River', 'SeaLake',
  ] as const;
  /** Band order of the all-bands GeoTIFFs (torchgeo's all_band_names). */
  static readonly msBands = ['B01', 'B02', 'B03', 'B04', 'B05', 'B06', 'B07', 'B08', 'B08A', 'B09', 'B10', 'B11', 'B12'] as const;
  /** What the RGB release holds, and what bands: 'rgb' selects from the MS release. */
  static readonly rgbBands = ['B04', 'B03', 'B02'] as const;
  /**
   * Mean and std of each all-bands GeoTIFF band over the dataset, in digital numbers, in msBands order (torchgeo's
   * EuroSATDataModule statistics).
   */
  static readonly msMean = [1354.40546513, 1118.24399958, 1042.92983953, 947.62620298, 1199.47283961, 1999.79090914, 2369.22292565, 2296.82608323, 732.08340178, 12.11327804, 1819.01027855, 1118.92391149, 2594.14080798] as const;
  static readonly msStd = [245.71762908, 333.00778264, 395.09249139, 593.75055589, 566.4170017, 861.18399006, 1086.63139075, 1117.98170791, 404.91978886, 4.77584468, 1002.58768311, 761.30323499, 1231.58581042] as const;
  static readonly imageSize = { width: 64, height: 64 } as const;
  static readonly splitFiles = { train: 'eurosat-train.txt', val: 'eurosat-val.txt', test: 'eurosat-test.txt' } as const;
  static readonly defaultRatios = { train: 0.6, val: 0.2, test: 0.2 } as const;

  /** MS band selection -> 0-based indices (undefined = all 13). Errors list the valid names. */
  static resolveBands(bands: EuroSatOptions['bands']): number[] | undefined {
    if (bands === undefined || bands === 'all') return undefined;
    const list = bands === 'rgb' ? EuroSAT.rgbBands : bands;
    if (!Array.isArray(list) || list.length === 0) {
      throw new CmidError('config', `EuroSAT: bands must be 'all', 'rgb' or a non-empty list of band indices/names, got ${JSON.stringify(bands)}.`);
    }
    return list.map((b) => {
      if (typeof b === 'number') {
        if (Number.isInteger(b) && b >= 0 && b < EuroSAT.msBands.length) return b;
        throw new CmidError('config', `EuroSAT: band index ${b} is out of range 0..12 (0-based, order ${EuroSAT.msBands.join(', ')}).`);
      }
      const name = String(b).toUpperCase().replace(/^B8A$/, 'B08A').replace(/^B(\d)$/, 'B0$1');
      const i = (EuroSAT.msBands as readonly string[]).indexOf(name);
      if (i < 0) throw new CmidError('config', `EuroSAT: unknown band "${b}". Valid: ${EuroSAT.msBands.join(', ')}, or 'rgb'.`);
      return i;
    });
  }

  /** The folder holding the 10 class folders of `variant` under `root` (breadth first, 7 levels, 2000 folders at most). */
  static async locate(root: string, variant: EuroSatVariant): Promise<string> {
    if (!(await isDir(root))) {
      throw new CmidError('input', `EuroSAT: ${root} is not a folder. Pass the folder the EuroSAT archive was extracted to.`, { file: root });
    }
    let level = [root];
    let visited = 0;
    let other: string | undefined;
    for (let depth = 0; depth <= 7 && level.length > 0 && visited < 2000; depth++) {
      const next: string[] = [];
      for (const dir of level) {
        visited++;
        const subs = await listDirs(dir);
        if (EuroSAT.classes.every((c) => subs.includes(c))) {
          const found = await EuroSAT.variantOf(join(dir, EuroSAT.classes[0]));
          if (found === variant) return dir;
          other ??= dir;
          continue;
        }
        for (const s of subs) next.push(join(dir, s));
      }
      level = next;
    }
    const hint =
      other !== undefined
        ? ` Found the ${variant === 'rgb' ? 'all-bands GeoTIFF' : 'RGB JPEG'} release at ${other}: use kind '${variant === 'rgb' ? 'eurosat-ms' : 'eurosat'}' for it.`
        : '';
    throw new CmidError(
      'input',
      `EuroSAT: no ${variant === 'rgb' ? 'RGB (.jpg)' : 'all-bands (.tif)'} class folders under ${root} ` +
        `(expected ${variant === 'rgb' ? '2750/<Class>/<Class>_<n>.jpg' : 'ds/images/remote_sensing/otherDatasets/sentinel_2/tif/<Class>/<Class>_<n>.tif'}, ` +
        `with the folders ${EuroSAT.classes.join(', ')}).${hint} Pass the folder the archive was extracted to.`,
      { file: root },
    );
  }

  private static async variantOf(classDir: string): Promise<EuroSatVariant | undefined> {
    for (const name of (await readdir(classDir)).sort(byCodePoint)) {
      const ext = extname(name).toLowerCase();
      if (EXTENSIONS.rgb.includes(ext)) return 'rgb';
      if (EXTENSIONS.ms.includes(ext)) return 'ms';
    }
    return undefined;
  }

  /**
   * Lists the images and reads or makes the split.
   *
   * @example
   * const ds = await EuroSAT.open('data/eurosat', { variant: 'ms', bands: 'rgb' });
   * // ds.name 'eurosat-ms', ds.fileBands 13, ds.bandIndices [3, 2, 1], ds.bands 3, ds.val defined
   */
  static async open(root: string, options: EuroSatOptions = {}): Promise<SceneDataset> {
    const variant = options.variant ?? 'rgb';
    if (variant !== 'rgb' && variant !== 'ms') throw new CmidError('config', `EuroSAT: variant '${String(variant)}' is not valid. Valid: 'rgb', 'ms'.`);
    const warn = options.warn ?? console.warn;
    const classDir = await EuroSAT.locate(root, variant);
    const folder = await ImageFolder.open(classDir, { extensions: EXTENSIONS[variant], warn });
    const extra = folder.classes.filter((c) => !(EuroSAT.classes as readonly string[]).includes(c));
    if (extra.length > 0) {
      throw new CmidError(
        'input',
        `EuroSAT: ${classDir} has folder(s) besides the 10 classes: ${extra.join(', ')}. Move them out, or use kind 'folder' for another class set.`,
        { file: classDir },
      );
    }
    let bandIndices: number[] | undefined;
    if (variant === 'ms') bandIndices = EuroSAT.resolveBands(options.bands);
    else if (options.bands !== undefined && options.bands !== 'all' && options.bands !== 'rgb') {
      throw new CmidError('config', "EuroSAT: bands selects bands of the all-bands release (kind 'eurosat-ms'); the RGB release always has B04, B03, B02.");
    }
    const common = {
      name: variant === 'rgb' ? 'eurosat' : 'eurosat-ms',
      root: classDir,
      classes: [...EuroSAT.classes],
      fileBands: variant === 'rgb' ? 3 : EuroSAT.msBands.length,
      bands: variant === 'rgb' ? 3 : (bandIndices?.length ?? EuroSAT.msBands.length),
      bandNames: variant === 'rgb' ? [...EuroSAT.rgbBands] : (bandIndices ?? EuroSAT.msBands.map((_, i) => i)).map((i) => EuroSAT.msBands[i]!),
      nominalSize: { ...EuroSAT.imageSize },
      ...(bandIndices === undefined ? {} : { bandIndices }),
      ...(variant === 'ms'
        ? (() => {
            const idx = bandIndices ?? EuroSAT.msBands.map((_, i) => i);
            return { normalization: { mean: idx.map((i) => EuroSAT.msMean[i]!), std: idx.map((i) => EuroSAT.msStd[i]!), pixelMax: 1, source: "EuroSAT band statistics (torchgeo's EuroSATDataModule)" } };
          })()
        : {}),
    };
    const samples = folder.samples.map((s) => ({ path: s.path, label: s.label }));
    const mode = options.split ?? 'auto';
    if (!['auto', 'files', 'seeded'].includes(mode)) {
      throw new CmidError('config', `EuroSAT: split '${String(mode)}' is not valid. Valid: 'auto', 'files', 'seeded'.`);
    }
    const splitDir = mode === 'seeded' ? undefined : (options.splitDir ?? (await EuroSAT.findSplitDir(root, classDir)));
    if (mode === 'files' || (mode === 'auto' && splitDir !== undefined)) {
      const dir = splitDir ?? options.splitDir ?? root;
      const split = await EuroSAT.readSplit(samples, dir, warn);
      return { ...common, ...split.sets, split: { source: 'files', files: split.files } };
    }
    const ratios = resolveRatios('EuroSAT', options.ratios ?? EuroSAT.defaultRatios);
    const seed = options.seed ?? 0;
    const byClass = EuroSAT.classes.map((_, c) => samples.filter((s) => s.label === c).map((s) => s.path));
    const { train, val, test } = stratifiedSplit(byClass, ratios, seed);
    return { ...common, train, test, ...(ratios.val > 0 ? { val } : {}), split: { source: 'seeded', seed, ratios } };
  }

  private static async findSplitDir(root: string, classDir: string): Promise<string | undefined> {
    const candidates = [root];
    for (let d = classDir; ; d = dirname(d)) {
      candidates.push(d);
      if (relative(root, d) === '' || relative(root, d).startsWith('..') || dirname(d) === d) break;
    }
    for (const dir of candidates) {
      if ((await isFile(join(dir, EuroSAT.splitFiles.train))) || (await isFile(join(dir, EuroSAT.splitFiles.test)))) return dir;
    }
    return undefined;
  }

  private static async readSplit(
    samples: readonly SceneSample[],
    dir: string,
    warn: Warn,
  ): Promise<{ sets: { train: SceneSample[]; test: SceneSample[]; val?: SceneSample[] }; files: string[] }> {
    const stem = (name: string): string => basename(name, extname(name));
    const byStem = new Map(samples.map((s) => [stem(s.path), s]));
    const used = new Map<string, string>();
    let absent = 0;
    const files: string[] = [];
    const read = async (file: string): Promise<SceneSample[]> => {
      files.push(file);
      const out: SceneSample[] = [];
      const lines = (await readFile(file, 'utf8')).split(/\r?\n/);
      for (let i = 0; i < lines.length; i++) {
        const name = lines[i]!.trim();
        if (name === '') continue;
        const where = `${file}:${i + 1}`;
        const key = stem(name);
        const cls = /^(.+)_\d+$/.exec(key)?.[1];
        if (/\s/.test(name) || cls === undefined || !(EuroSAT.classes as readonly string[]).includes(cls)) {
          throw new CmidError(
            'input',
            `${where}: "${name}" is not a EuroSAT file name (expected one <Class>_<n>.jpg or .tif per line, Class one of ${EuroSAT.classes.join(', ')}).`,
            { file },
          );
        }
        const other = used.get(key);
        if (other !== undefined) throw new CmidError('input', `${where}: ${name} is also listed at ${other}; a file belongs to one split.`, { file });
        used.set(key, where);
        const hit = byStem.get(key);
        if (hit === undefined) absent++;
        else out.push({ ...hit });
      }
      return sortSamples(out);
    };
    for (const part of ['train', 'test'] as const) {
      const file = join(dir, EuroSAT.splitFiles[part]);
      if (!(await isFile(file))) {
        throw new CmidError(
          'input',
          `EuroSAT: split file ${file} is missing (train and test split files are needed, val is optional). ` +
            "Add it (torchgeo's eurosat-*.txt), or pass split: 'seeded' to generate a split.",
          { file },
        );
      }
    }
    const train = await read(join(dir, EuroSAT.splitFiles.train));
    const valFile = join(dir, EuroSAT.splitFiles.val);
    const val = (await isFile(valFile)) ? await read(valFile) : undefined;
    const test = await read(join(dir, EuroSAT.splitFiles.test));
    const unlisted = samples.filter((s) => !used.has(stem(s.path))).length;
    if (absent > 0 || unlisted > 0) {
      warn(
        `EuroSAT ${dir}: ${absent > 0 ? `${absent} listed file(s) are not on disk` : ''}${absent > 0 && unlisted > 0 ? '; ' : ''}` +
          `${unlisted > 0 ? `${unlisted} image(s) are in no split file and are left out` : ''} (as torchgeo does).`,
      );
    }
    return { sets: { train, test, ...(val === undefined ? {} : { val }) }, files };
  }
}
