"""PyTorch CPU reference for the compiled-engine bench (Debian python3-torch 1.13 + torchvision).

Usage: /usr/bin/python3 torch_train_step.py ARCH BATCH SIZE THREADS REPS
Prints one JSON line: {"arch", "step_s" (median), "peak_rss_mib", "gemm_gflops"}. The training step is the one the
TypeScript bench compiles: train-mode forward, mean-square loss on the pooled features, backward, SGD with momentum
0.9. gemm_gflops is a 2048^3 float32 matmul in the same process: Debian's torch uses a generic BLAS (about
6 GFLOP/s), which flatters GEMM-heavy comparisons against it (Swin); convolutions use oneDNN.
"""
import json
import resource
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
model.train()
x = torch.randn(batch, 3, size, size)
opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)


def step():
    opt.zero_grad()
    loss = model(x).pow(2).mean()
    loss.backward()
    opt.step()


step()
ts = []
for _ in range(reps):
    t0 = time.perf_counter()
    step()
    ts.append(time.perf_counter() - t0)

a = torch.randn(2048, 2048)
b = torch.randn(2048, 2048)
t0 = time.perf_counter()
a @ b
gemm = 2 * 2048 ** 3 / (time.perf_counter() - t0) / 1e9
print(json.dumps({"arch": arch, "step_s": statistics.median(ts), "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "gemm_gflops": gemm}))
