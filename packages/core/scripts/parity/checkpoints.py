"""Writes .pth fixtures and their expected values for packages/core/test/checkpoint (PyTorch is the oracle).

Usage: /usr/bin/python3 checkpoints.py <out_dir>

Writes <out_dir>/*.pth and <out_dir>/expected/: one raw little-endian .bin per tensor (contiguous, the bits
torch holds; bool as uint8 0/1, bfloat16/float16 as their 16-bit patterns) and index.json
{case: {"tensors": {key: {dtype, shape, file}}, "meta": {...}}}. Raw files rather than safetensors because the
Debian image has no `safetensors` Python package. Nothing here executes anything read from a file; the
"malicious" fixtures only *name* os.system / builtins.eval in their pickles.
"""
import collections
import io
import json
import os
import pickle
import sys
import zipfile

import torch

torch.manual_seed(0)
out = sys.argv[1]
exp_dir = os.path.join(out, "expected")
os.makedirs(exp_dir, exist_ok=True)
index = {}

DTYPE = {
    torch.float32: "float32", torch.float16: "float16", torch.bfloat16: "bfloat16", torch.float64: "float64",
    torch.int64: "int64", torch.int32: "int32", torch.int16: "int16", torch.int8: "int8", torch.uint8: "uint8",
    torch.bool: "bool",
}


def raw_bytes(t):
    t = t.detach().contiguous().reshape(-1)
    if t.dtype == torch.bfloat16:
        t = t.view(torch.int16)
    elif t.dtype == torch.bool:
        t = t.to(torch.uint8)
    return t.numpy().tobytes()


def expect(case, sd, meta=None):
    entry = {"tensors": {}, "meta": meta or {}}
    for i, (k, v) in enumerate(sd.items()):
        fname = f"{case}.{i}.bin"
        with open(os.path.join(exp_dir, fname), "wb") as f:
            f.write(raw_bytes(v))
        entry["tensors"][k] = {"dtype": DTYPE[v.dtype], "shape": list(v.shape), "file": fname}
    index[case] = entry


# 1. every dtype, plus views: non-contiguous, offset, stride 0, shared storage, scalar, empty
base = torch.randn(40)
sd = collections.OrderedDict()
sd["f32"] = torch.randn(3, 4)
sd["f16"] = (torch.randn(5, 3) * 100).half()
sd["f16_special"] = torch.tensor([0.0, -0.0, 6e-8, 65504.0, float("inf"), float("-inf"), float("nan")], dtype=torch.float16)
sd["bf16"] = torch.randn(2, 3, 4).bfloat16()
sd["f64"] = torch.randn(7, dtype=torch.float64)
sd["i64"] = torch.tensor([0, -1, 2**53 + 1, -(2**62), 2**63 - 1], dtype=torch.int64)
sd["i32"] = torch.randint(-(2**31), 2**31 - 1, (6,), dtype=torch.int32)
sd["i16"] = torch.randint(-(2**15), 2**15 - 1, (6,), dtype=torch.int16)
sd["i8"] = torch.randint(-128, 127, (6,), dtype=torch.int8)
sd["u8"] = torch.randint(0, 255, (2, 3), dtype=torch.uint8)
sd["bool"] = torch.tensor([[True, False, True], [False, False, True]])
sd["scalar"] = torch.tensor(3.5)
sd["num_batches_tracked"] = torch.tensor(7, dtype=torch.int64)
sd["empty"] = torch.zeros(0, 3)
m = torch.randn(4, 6)
sd["transposed"] = m.t()  # non-contiguous, shares m's storage
sd["step_slice"] = m[:, ::2]  # stride 2 in the last dim, same storage again
sd["offset_slice"] = base[5:17].view(3, 4)  # storage offset 5
sd["shared_a"] = base[:20]  # two views of one storage
sd["shared_b"] = base[20:]
sd["expanded"] = torch.arange(3, dtype=torch.float32).expand(2, 3)  # stride 0
sd["conv_perm"] = torch.randn(2, 3, 4, 5).permute(0, 2, 3, 1)  # NHWC view of NCHW data
p = torch.nn.Parameter(torch.randn(2, 2))
sd["parameter"] = p  # pickled through _rebuild_parameter
torch.save(sd, os.path.join(out, "dtypes.pth"))
expect("dtypes", sd)
expect("dtypes_as_f32", collections.OrderedDict((k, sd[k].float()) for k in ("f16", "f16_special", "bf16")))

# 2. nested training checkpoint with optimizer state and metadata
net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
net(torch.randn(5, 3)).sum().backward()
opt.step()
nested = {
    "state_dict": net.state_dict(),  # an OrderedDict with _metadata (pickled through BUILD)
    "epoch": 3,
    "optimizer": opt.state_dict(),
    "arch": "resnet50",
    "best_acc": 0.75,
    "big": 2**70,
    "neg": -5,
    "flag": True,
    "nothing": None,
    "blob": b"\x00\xffab",
    "pair": (1, "two"),
    "tags": {"a", "b"},
    "lst": [1, 2.5, "x"],
}
torch.save(nested, os.path.join(out, "nested.pth"))
expect("nested", net.state_dict(), {"epoch": 3, "arch": "resnet50", "best_acc": 0.75, "big": str(2**70)})
expect("nested_momentum", collections.OrderedDict((str(k), v["momentum_buffer"]) for k, v in opt.state_dict()["state"].items()))

# 3. torchvision resnet18 state_dict, bare and with DataParallel/mmcv prefixes in a wrapper
try:
    import torchvision

    rn = torchvision.models.resnet18().state_dict()
except Exception:  # torchvision absent: an equivalent layout from a hand-built stand-in
    rn = collections.OrderedDict((f"layer1.{i}.conv1.weight", torch.randn(8, 8, 3, 3)) for i in range(4))
torch.save(rn, os.path.join(out, "resnet18.pth"))
torch.save({"state_dict": collections.OrderedDict(("module.backbone." + k, v) for k, v in rn.items()), "epoch": 1},
           os.path.join(out, "resnet18_prefixed.pth"))
expect("resnet18", rn)

# 4. a stand-in CMID pretraining checkpoint (the real key layout, small tensors)
model = collections.OrderedDict()
for k in list(rn.keys())[:30]:
    model["online_encoder.model." + k] = torch.randn(3)
model["online_encoder.mask_token"] = torch.zeros(1, 64, 1, 1)
for k in list(rn.keys())[:30]:
    model["branch_encoder." + k] = torch.randn(3)
model["mim2org.decoder_pred.0.weight"] = torch.randn(4, 2, 1, 1)
model["online_projector.layer.0.0.weight"] = torch.randn(2, 2)
model["class_loss.center"] = torch.randn(1, 8, 1)
model["queue"] = torch.randn(8, 16)
model["queue_ptr"] = torch.zeros(1, dtype=torch.int64)
torch.save({"epoch": 2, "num_gpus": 1, "model": model, "optimizer": {"state": {}, "param_groups": []}},
           os.path.join(out, "cmid_full.pth"))
prefix = "online_encoder.model."  # what official-CMID extract.py keeps and strips
expect("cmid_extracted", collections.OrderedDict((k[len(prefix):], v) for k, v in model.items() if k.startswith(prefix)))


# 5. malicious pickles inside a real torch zip layout. Pickling only records the name; nothing runs.
class Evil:
    def __reduce__(self):
        return (os.system, ("touch " + os.path.join(out, "PWNED"),))


class EvilEval:
    def __reduce__(self):
        return (eval, ("1+1",))


torch.save({"weight": torch.ones(2), "payload": Evil()}, os.path.join(out, "malicious.pth"))
torch.save({"payload": EvilEval()}, os.path.join(out, "malicious_eval.pth"))

# 6. legacy (non-zip) format
torch.save(sd, os.path.join(out, "legacy.pth"), _use_new_zipfile_serialization=False)


# 7. re-zipped variants of dtypes.pth: deflated entries, zip64 records, a missing storage, a short storage,
#    an unknown opcode. Python's zipfile writes zip64 records when ZIP64_LIMIT is lowered.
def rezip(src, dst, transform=None, compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", compression=compression) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if transform is not None:
                data = transform(info.filename, data)
                if data is None:
                    continue
            zout.writestr(info.filename, data)


src = os.path.join(out, "dtypes.pth")
rezip(src, os.path.join(out, "deflated.pth"), compression=zipfile.ZIP_DEFLATED)
saved = zipfile.ZIP64_LIMIT, zipfile.ZIP_FILECOUNT_LIMIT
zipfile.ZIP64_LIMIT, zipfile.ZIP_FILECOUNT_LIMIT = 16, 2
try:
    rezip(src, os.path.join(out, "zip64.pth"))
finally:
    zipfile.ZIP64_LIMIT, zipfile.ZIP_FILECOUNT_LIMIT = saved
# Saturate the classic end record, as an archive past 4 GiB has it, so readers must follow the zip64 locator.
with open(os.path.join(out, "zip64.pth"), "r+b") as f:
    data = bytearray(f.read())
    at = data.rfind(b"PK\x05\x06")
    data[at + 8:at + 20] = b"\xff" * 12
    f.seek(0)
    f.write(data)
rezip(src, os.path.join(out, "missing_storage.pth"), lambda n, d: None if n.endswith("/data/0") else d)
rezip(src, os.path.join(out, "short_storage.pth"), lambda n, d: d[: len(d) // 2] if n.endswith("/data/0") else d)
rezip(src, os.path.join(out, "bad_opcode.pth"), lambda n, d: b"\x80\x02}q\x00\xff." if n.endswith("data.pkl") else d)

# torch itself must read the re-zipped files (they are valid checkpoints, not our invention). torch 1.13's
# reader refuses Python's zip64 variant, so that one is checked with Python's zipfile only.
checks = {}
for name in ("deflated", "zip64"):
    try:
        got = torch.load(os.path.join(out, name + ".pth"))
        checks[name] = all(torch.equal(got[k], sd[k]) if k != "f16_special" else True for k in sd)
    except Exception as e:  # noqa: BLE001
        checks[name] = f"torch.load failed: {e}"
index["_torch_reads"] = checks
with zipfile.ZipFile(os.path.join(out, "zip64.pth")) as z:
    index["_zip64_python_reads"] = all(z.read(i.filename) == zipfile.ZipFile(src).read(i.filename) for i in z.infolist())

with open(os.path.join(exp_dir, "index.json"), "w") as f:
    json.dump(index, f, indent=1)
print("ok", len(index))
