"""torchvision/PIL reference for the decode + augment bench (packages/core/bench/data.bench.ts).

Usage: /usr/bin/python3 torch_data_pipeline.py ROOT PIPELINE WORKERS BATCH EPOCHS SEED
       /usr/bin/python3 torch_data_pipeline.py ROOT breakdown REPS SEED [LIMIT]
  ROOT      an ImageFolder root (the synthetic MillionAID folder: ROOT/test/P*.jpg)
  PIPELINE  cmid   : CMID's ParallelTransform written with torchvision (see CmidTransform)
            simple : RandomResizedCrop(224) + RandomHorizontalFlip + ToTensor + Normalize(ImageNet)
  WORKERS   0 = everything in this process with torch.set_num_threads(1); N > 0 = DataLoader(num_workers=N,
            persistent_workers=True), each worker single-threaded as torch makes them
  EPOCHS    passes over the folder; the first is a warm-up and is not counted (WORKERS = 0: its first two batches
            only; WORKERS > 0: a whole epoch, which includes starting the workers)
Prints one JSON line: {"pipeline", "workers", "images", "epoch_s": [...timed epochs], "images_per_s" (median),
"peak_rss_mib"}. The breakdown form times, in this process on one thread, PIL decode alone and each transform
alone on pre-decoded images (median of REPS passes over the first LIMIT images, default all): {"decode_img_s", "cmid_augment_img_s", "simple_augment_img_s"}.
Decode is PIL (Image.open(...).convert('RGB'), what torchvision's ImageFolder does); batches are
collated by torch's default_collate (in the workers when WORKERS > 0).

The CMID transform follows the TypeScript parallelTransform step for step, with torchvision's operators where the
reference (albumentations/OpenCV, not installed here) has no torchvision twin written differently:
  global resize to 224 (PIL bicubic) when the width is not 224;
  view: RandomResizedCrop(224, scale (0.3, 1), ratio (3/4, 4/3), bilinear) -> hflip p 0.5 -> ColorJitter(0.4, 0.4,
        0.2, 0.1) p 0.8 -> Gaussian blur p 1 (kernel 3/5/7, sigma U(0.1, 2)) -> ToTensor -> Gauss noise p 0.6
        (variance U(10, 50) in 0..255 units, clamped) -> solarize p 0.2 -> grayscale p 0.2 -> Normalize(CMID);
  img:  RandomResizedCrop -> hflip -> ToTensor -> Normalize(CMID);
  block masks (32-px blocks, 30 of 49) for img and view, mean-filled copies, 7x7 cell-centre grids.
"""
import json
import math
import random
import resource
import statistics
import sys
import time

import numpy as np
import torch
import torchvision.transforms as T
import torchvision.transforms.functional as F
from torchvision.datasets import ImageFolder
from torchvision.transforms import InterpolationMode

CMID_MEAN = [0.33797, 0.3605, 0.3348]
CMID_STD = [0.1359, 0.1352, 0.1407]
IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]


class CmidTransform:
    def __init__(self, size=224):
        self.size = size
        self.scale = (0.3, 1.0)
        self.ratio = (3 / 4, 4 / 3)
        self.jitter = T.RandomApply([T.ColorJitter(0.4, 0.4, 0.2, 0.1)], p=0.8)
        self.blocks = (size // 32) ** 2
        self.count = math.ceil(self.blocks * 0.6)

    def crop(self, pil):
        i, j, h, w = T.RandomResizedCrop.get_params(pil, self.scale, self.ratio)
        flip = random.random() < 0.5
        out = F.resized_crop(pil, i, j, h, w, [self.size, self.size], InterpolationMode.BILINEAR)
        if flip:
            out = F.hflip(out)
        return out, (i, j, h, w), flip

    def grid(self, box, flip, H, W):
        i, j, h, w = box
        n = self.size // 32
        top, left = i / (H - h + 1e-10), j / (W - w + 1e-10)  # the reference's fractional offsets (quirk 1)
        rows = top + (np.arange(n) + 0.5) * h / n
        cols = left + (np.arange(n) + 0.5) * w / n
        if flip:
            cols = cols[::-1]
        g = np.stack(np.meshgrid(rows, cols, indexing="ij"), -1).astype(np.float32)
        return torch.from_numpy(g)

    def mask(self):
        n = self.size // 32
        idx = np.random.permutation(self.blocks)[: self.count]
        m = np.zeros(self.blocks, dtype=np.uint8)
        m[idx] = 1
        m = m.reshape(n, n)
        return m.repeat(8, 0).repeat(8, 1), torch.from_numpy(m.repeat(32, 0).repeat(32, 1)).bool()

    @staticmethod
    def fill(t, pix):
        return torch.where(pix, t.mean((1, 2), keepdim=True), t)

    def __call__(self, pil):
        if pil.width != self.size:
            pil = pil.resize((self.size, self.size), resample=3)  # PIL bicubic
        H, W = pil.height, pil.width
        v, vbox, vflip = self.crop(pil)
        v = self.jitter(v)
        k = random.choice((3, 5, 7))
        s = random.uniform(0.1, 2.0)
        v = F.gaussian_blur(v, [k, k], [s, s])
        v = F.to_tensor(v)
        if random.random() < 0.6:
            sd = math.sqrt(random.uniform(10, 50)) / 255
            v = (v + torch.randn_like(v) * sd).clamp_(0, 1)
        if random.random() < 0.2:
            v = F.solarize(v, 0.5)
        if random.random() < 0.2:
            v = F.rgb_to_grayscale(v, 3)
        v = F.normalize(v, CMID_MEAN, CMID_STD)
        im, ibox, iflip = self.crop(pil)
        im = F.normalize(F.to_tensor(im), CMID_MEAN, CMID_STD)
        imask, ipix = self.mask()
        vmask, vpix = self.mask()
        return {
            "img": im,
            "mim_img": self.fill(im, ipix),
            "mask": torch.from_numpy(imask),
            "view": v,
            "view_mim_img": self.fill(v, vpix),
            "view_mask": torch.from_numpy(vmask),
            "locations": torch.stack([self.grid(ibox, iflip, H, W), self.grid(vbox, vflip, H, W)]),
        }


def simple_transform():
    return T.Compose([T.RandomResizedCrop(224), T.RandomHorizontalFlip(), T.ToTensor(), T.Normalize(IMAGENET_MEAN, IMAGENET_STD)])


def worker_init(wid):
    seed = torch.initial_seed() % 2**32
    random.seed(seed)
    np.random.seed(seed)


def breakdown(root, reps, seed, limit=None):
    torch.set_num_threads(1)
    torch.manual_seed(seed)
    random.seed(seed)
    np.random.seed(seed)
    ds = ImageFolder(root)
    paths = [p for p, _ in ds.samples][:limit]
    loader = ds.loader  # torchvision's pil_loader: open + convert('RGB')

    def rate(fn, items):
        for x in items[:20]:
            fn(x)
        ts = []
        for _ in range(reps):
            t0 = time.perf_counter()
            for x in items:
                fn(x)
            ts.append(time.perf_counter() - t0)
        return len(items) / statistics.median(ts)

    out = {"images": len(paths), "decode_img_s": rate(loader, paths)}
    images = [loader(p) for p in paths]
    out["cmid_augment_img_s"] = rate(CmidTransform(), images)
    out["simple_augment_img_s"] = rate(simple_transform(), images)
    print(json.dumps(out))


def main():
    if sys.argv[2] == "breakdown":
        breakdown(sys.argv[1], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]) if len(sys.argv) > 5 else None)
        return
    root, pipeline, workers, batch, epochs, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
    torch.set_num_threads(1)
    torch.manual_seed(seed)
    random.seed(seed)
    np.random.seed(seed)
    tf = CmidTransform() if pipeline == "cmid" else simple_transform()
    ds = ImageFolder(root, transform=tf)
    kw = dict(batch_size=batch, shuffle=True, num_workers=workers, drop_last=False)
    if workers > 0:
        kw.update(persistent_workers=True, prefetch_factor=2, worker_init_fn=worker_init)
    loader = torch.utils.data.DataLoader(ds, **kw)
    times = []
    n = len(ds)
    for e in range(epochs):
        t0 = time.perf_counter()
        seen = 0
        for b, (x, _) in enumerate(loader):
            seen += (x["img"] if isinstance(x, dict) else x).shape[0]
            if e == 0 and workers == 0 and b == 1:
                break  # in-process warm-up: two batches
        assert seen == n or e == 0, (seen, n)
        times.append(time.perf_counter() - t0)
    timed = times[1:] if len(times) > 1 else times
    med = statistics.median(timed)
    print(json.dumps({
        "pipeline": pipeline,
        "workers": workers,
        "images": n,
        "epoch_s": timed,
        "warmup_s": times[0] if len(times) > 1 else None,
        "images_per_s": n / med,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


if __name__ == "__main__":
    main()
