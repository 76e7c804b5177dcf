/**
 * A generic image-folder dataset, in two layouts:
 * - 'classes' (torchvision ImageFolder): root/<class>/**\/<image>. Classes are the sub-folder names sorted by
 *   code point (not locale), the label is the index in that order, files are found recursively and sorted, and
 *   symlinks are followed (torchvision: os.walk(followlinks=True)). A class folder with no image is an error,
 *   as torchvision's allow_empty=False.
 * - 'flat': every image in root (and below, with recursive: true), no labels (label -1), as the MillionAID or
 *   Potsdam pretraining sets are used.
 *
 * Non-image files: skipped and counted (`skipped`, one summary warning), or an error naming the first one with
 * strict: true. Hidden entries (a leading dot: .DS_Store, .git) are ignored without a count. An image is
 * recognised by extension, case-insensitive: .tif .tiff .jpg .jpeg .png .webp (the formats io/ decodes);
 * a broken image is only found when decoded (decodeImageFolderSample names it).
 *
 * Anchor: torchvision.datasets.ImageFolder / DatasetFolder (find_classes, make_dataset, IMG_EXTENSIONS).
 */
import { readdir, realpath, stat } from 'node:fs/promises';
import { extname, join, relative, sep } from 'node:path';
import { CmidError } from '../runtime/errors.js';
import { readRaster } from '../io/read-raster.js';
import type { SampleMapFactory } from './sample-map.js';

/** Extensions recognised as images (lower case, with the dot). */
export const IMAGE_EXTENSIONS = ['.tif', '.tiff', '.jpg', '.jpeg', '.png', '.webp'] as const;

export interface ImageFolderOptions {
  /** 'classes': root/<class>/...; 'flat': images directly in root. Default: 'classes'. */
  layout?: 'classes' | 'flat';
  /** Flat layout only: also take images from sub-folders. Default: false. */
  recursive?: boolean;
  /** Default: IMAGE_EXTENSIONS. */
  extensions?: readonly string[];
  /** A non-image file is an error instead of a skip. Default: false. */
  strict?: boolean;
  /** Receives the one summary warning about skipped files. Default: console.warn. Pass () => {} to silence. */
  warn?: (message: string) => void;
}

/** One image: its path and label (class index; -1 in the flat layout). Structured-cloneable, for the loader. */
export interface ImageFolderSample {
  path: string;
  label: number;
}

/** An image decoded to float32 HWC, the layout transforms/ works on. */
export interface HwcImage {
  data: Float32Array;
  height: number;
  width: number;
  channels: number;
}

/** Code-point order, the same on every machine and locale (Python's sorted()). */
const byCodePoint = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

const isHidden = (name: string): boolean => name.startsWith('.');

async function kindOf(path: string): Promise<'dir' | 'file' | 'other'> {
  try {
    const s = await stat(path); // follows symlinks
    return s.isDirectory() ? 'dir' : s.isFile() ? 'file' : 'other';
  } catch {
    return 'other'; // a dangling symlink
  }
}

/**
 * @example
 * const ucm = await ImageFolder.open('data/ucm/Images');
 * // ucm.classes ['agricultural', 'airplane', ...], ucm.samples[0] { path: '.../agricultural/agricultural00.tif', label: 0 }
 * const mill = await ImageFolder.open('data/millionaid/train', { layout: 'flat', recursive: true }); // labels -1
 */
export class ImageFolder {
  /** Class names in label order ([] for the flat layout). */
  readonly classes: readonly string[];
  /** Class name -> label. */
  readonly classToIndex: Readonly<Record<string, number>>;
  /** Sorted by class, then path. */
  readonly samples: readonly ImageFolderSample[];
  /** Files left out because their extension is not an image's (paths). */
  readonly skipped: readonly string[];

  private constructor(
    readonly root: string,
    readonly layout: 'classes' | 'flat',
    classes: string[],
    samples: ImageFolderSample[],
    skipped: string[],
  ) {
    this.classes = classes;
    this.classToIndex = Object.fromEntries(classes.map((c, i) => [c, i]));
    this.samples = samples;
    this.skipped = skipped;
  }

  get length(): number {
    return this.samples.length;
  }

  /** Lists the folder; throws a CmidError naming the folder (or file) and the fix when it cannot be used. */
  static async open(root: string, options: ImageFolderOptions = {}): Promise<ImageFolder> {
    const layout = options.layout ?? 'classes';
    const exts = new Set((options.extensions ?? IMAGE_EXTENSIONS).map((e) => e.toLowerCase()));
    const expected = layout === 'classes' ? '<root>/<class>/<image>' : '<root>/<image>';
    const rootKind = await kindOf(root);
    if (rootKind !== 'dir') {
      throw new CmidError(
        'input',
        `ImageFolder: ${root} ${rootKind === 'file' ? 'is a file, not a folder' : 'does not exist'}. Pass the dataset folder (expected ${expected}).`,
        { file: root },
      );
    }
    const skipped: string[] = [];
    const images: string[] = [];
    const seenDirs = new Set<string>();
    const walk = async (dir: string, deep: boolean, out: string[]): Promise<void> => {
      const real = await realpath(dir);
      if (seenDirs.has(real)) return; // a symlink cycle
      seenDirs.add(real);
      const names = (await readdir(dir)).filter((n) => !isHidden(n)).sort(byCodePoint);
      for (const name of names) {
        const path = join(dir, name);
        const kind = await kindOf(path);
        if (kind === 'dir') {
          if (deep) await walk(path, deep, out);
        } else if (kind === 'file' && exts.has(extname(name).toLowerCase())) {
          out.push(path);
        } else if (kind === 'file') {
          if (options.strict) {
            throw new CmidError(
              'input',
              `ImageFolder: ${path} is not an image (recognised: ${[...exts].join(' ')}). Move it out of ${root}, or drop strict: true to skip such files.`,
              { file: path },
            );
          }
          skipped.push(path);
        }
      }
    };

    let classes: string[] = [];
    const samples: ImageFolderSample[] = [];
    if (layout === 'flat') {
      await walk(root, options.recursive ?? false, images);
      for (const path of images) samples.push({ path, label: -1 });
    } else {
      const entries = (await readdir(root)).filter((n) => !isHidden(n)).sort(byCodePoint);
      for (const name of entries) {
        const kind = await kindOf(join(root, name));
        if (kind === 'dir') classes.push(name);
        else if (kind === 'file') skipped.push(join(root, name)); // files beside the class folders belong to no class
      }
      if (classes.length === 0) {
        throw new CmidError(
          'input',
          `ImageFolder: no class folders in ${root} (expected ${expected}). For images directly in the folder pass layout: 'flat'.`,
          { file: root },
        );
      }
      const empty: string[] = [];
      for (let label = 0; label < classes.length; label++) {
        const found: string[] = [];
        seenDirs.clear();
        await walk(join(root, classes[label]!), true, found);
        if (found.length === 0) empty.push(classes[label]!);
        for (const path of found) samples.push({ path, label });
      }
      if (empty.length > 0) {
        throw new CmidError(
          'input',
          `ImageFolder: no image in class folder(s) ${empty.map((c) => join(root, c)).join(', ')} (recognised: ${[...exts].join(' ')}). ` +
            'Remove the empty folders or add their images.',
          { file: join(root, empty[0]!) },
        );
      }
    }
    if (samples.length === 0) {
      const hint = layout === 'flat' && !options.recursive ? " Images in sub-folders? Pass recursive: true, or layout: 'classes'." : '';
      throw new CmidError('input', `ImageFolder: no image in ${root} (recognised: ${[...exts].join(' ')}; expected ${expected}).${hint}`, { file: root });
    }
    if (skipped.length > 0) {
      const shown = skipped.slice(0, 3).map((p) => relative(root, p).split(sep).join('/'));
      (options.warn ?? console.warn)(
        `ImageFolder ${root}: skipped ${skipped.length} non-image file(s) (${shown.join(', ')}${skipped.length > 3 ? ', ...' : ''}); ` +
          'pass strict: true to make this an error.',
      );
    }
    if (layout === 'flat') classes = [];
    return new ImageFolder(root, layout, classes, samples, skipped);
  }

  /** Reads sample `i` as float32 HWC (all bands, file values unscaled). */
  async load(i: number): Promise<{ image: HwcImage; label: number; path: string }> {
    const s = this.samples[i];
    if (s === undefined) throw new CmidError('input', `ImageFolder ${this.root}: index ${i} is out of range 0..${this.samples.length - 1}.`);
    return decodeImageFolderSample({})(s);
  }
}

/** Options of decodeImageFolderSample. */
export interface DecodeImageOptions {
  /** 0-based bands to read. Default: all. */
  bands?: readonly number[];
}

/**
 * The decode step as a loader sample map: ImageFolderSample -> { image (float32 HWC), label, path }.
 * Point the loader at it with IMAGE_FOLDER_DECODE, or call it from your own map before the augmentations.
 */
export const decodeImageFolderSample = ((options: DecodeImageOptions = {}) =>
  async (sample: ImageFolderSample) => {
    const r = await readRaster(sample.path, options.bands === undefined ? {} : { bands: options.bands });
    return { image: { data: r.data, height: r.height, width: r.width, channels: r.bands }, label: sample.label, path: sample.path };
  }) satisfies SampleMapFactory<ImageFolderSample, { image: HwcImage; label: number; path: string }, DecodeImageOptions>;

/** Loader map reference for decodeImageFolderSample (works from the sources and from the built files). */
export const IMAGE_FOLDER_DECODE = { module: import.meta.url, export: 'decodeImageFolderSample' } as const;
