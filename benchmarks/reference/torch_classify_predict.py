"""PyTorch CPU reference for the classify predict bench (Debian python3-torch 1.13 + torchvision).

Usage: /usr/bin/python3 torch_classify_predict.py ARCH CLASSES BATCH SIZE THREADS REPS [IMAGE_DIR]
Prints one JSON line: {"forward_img_s"} = eval-mode classifier forward under no_grad on random batches, and, with
IMAGE_DIR, {"end_to_end_img_s"} = PIL decode + timm's eval transform (Resize 256 bicubic, CenterCrop 224,
ToTensor, Normalize) + forward over every image in the folder tree. Medians over REPS.
Debian's torch uses a generic BLAS (about 6 GFLOP/s on a 2048^3 matmul); convolutions use oneDNN.
"""
import json
import os
import statistics
import sys
import time

import torch
import torchvision
from PIL import Image
from torchvision import transforms as T

arch, classes, batch, size, threads, reps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
image_dir = sys.argv[7] if len(sys.argv) > 7 else None
torch.set_num_threads(threads)
torch.manual_seed(0)
model = getattr(torchvision.models, arch)(num_classes=classes).eval()
x = torch.randn(batch, 3, size, size)


def median_time(f):
    f()
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


out = {}
with torch.no_grad():
    out["forward_img_s"] = batch / median_time(lambda: model(x))
    if image_dir:
        files = sorted(os.path.join(d, f) for d, _, fs in os.walk(image_dir) for f in fs if f.lower().endswith((".tif", ".jpg", ".png")))
        tf = T.Compose([T.Resize(int(size / 0.875), interpolation=T.InterpolationMode.BICUBIC), T.CenterCrop(size), T.ToTensor(), T.Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))])

        def run():
            for i in range(0, len(files), batch):
                xs = torch.stack([tf(Image.open(p).convert("RGB")) for p in files[i:i + batch]])
                model(xs).softmax(1)

        out["end_to_end_img_s"] = len(files) / median_time(run)
        out["images"] = len(files)
print(json.dumps(out))
