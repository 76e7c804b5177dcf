"""PyTorch CPU reference timings for the backbone bench (Debian python3-torch 1.13 + torchvision).

Usage: /usr/bin/python3 torch_backbones.py ARCH BATCH SIZE THREADS REPS
Prints one JSON line: {"arch", "forward_s", "train_step_s"} (medians; eval-mode forward under no_grad; training
step = train-mode forward, mean-square loss on the pooled features, backward, SGD step).
Note: Debian's torch uses a generic BLAS (a 2048^3 matmul runs at about 6 GFLOP/s), which flatters GEMM-heavy
comparisons against it (Swin, ViT); convolutions use oneDNN.
"""
import json
import statistics
import sys
import time

import torch
import torchvision

arch, batch, size, threads, reps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
torch.set_num_threads(threads)
torch.manual_seed(0)
model = getattr(torchvision.models, arch)()
if hasattr(model, "fc"):
    model.fc = torch.nn.Identity()
else:
    model.head = torch.nn.Identity()
x = torch.randn(batch, 3, size, size)
opt = torch.optim.SGD(model.parameters(), lr=0.01)


def timed(f):
    f()
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def forward():
    model.eval()
    with torch.no_grad():
        model(x)


def step():
    model.train()
    opt.zero_grad()
    loss = model(x).pow(2).mean()
    loss.backward()
    opt.step()


print(json.dumps({"arch": arch, "forward_s": timed(forward), "train_step_s": timed(step), "torch": torch.__version__}))
