"""Reference tensors for ResNet parity (Debian python3-torch 1.13 + torchvision).

Usage: /usr/bin/python3 resnet.py OUT_DIR [resnet18 resnet50 ...]
For each arch writes OUT_DIR/<arch>.pth (state_dict, torchvision keys, no fc) and OUT_DIR/<arch>.expected.safetensors:
  input (NCHW), eval_layer1..4 + eval_pooled (eval mode), train_pooled + train_layer4 and the running statistics
  after one train-mode forward (bn stats), and for resnet18 the weights after one SGD step (lr 0.1, momentum 0.9,
  weight decay 1e-4) on a fixed cross-entropy loss of a linear head (head weights included).
"""
import sys

import torch
import torchvision

from common import randomize_bn, save_safetensors

torch.set_num_threads(1)
out_dir = sys.argv[1]
archs = sys.argv[2:] or ["resnet18", "resnet50"]
size = 64  # small input: every stage still runs (64 -> 2x2 at stride 32)

for arch in archs:
    gen = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    model = getattr(torchvision.models, arch)()
    model.fc = torch.nn.Identity()
    randomize_bn(model, gen)
    x = torch.randn(4, 3, size, size, generator=gen)
    sd = {k: v.clone() for k, v in model.state_dict().items()}  # state_dict() returns live views
    torch.save(sd, f"{out_dir}/{arch}.pth")
    expected = {"input": x}

    def stages(m, inp):
        h = m.maxpool(m.relu(m.bn1(m.conv1(inp))))
        outs = []
        for layer in (m.layer1, m.layer2, m.layer3, m.layer4):
            h = layer(h)
            outs.append(h)
        return outs

    model.eval()
    with torch.no_grad():
        outs = stages(model, x)
        for i, o in enumerate(outs):
            expected[f"eval_layer{i + 1}"] = o
        expected["eval_pooled"] = model(x)

    # float64 reference of the train-mode forward: PyTorch's own float32 error against it bounds what two
    # correct float32 implementations can agree to (about 1e-4 for ResNet-50 with batch statistics)
    m64 = getattr(torchvision.models, arch)()
    m64.fc = torch.nn.Identity()
    m64.load_state_dict(sd)
    m64 = m64.double().train()
    with torch.no_grad():
        expected["train_layer4_f64"] = stages(m64, x.double())[-1].float()
    model.train()
    with torch.no_grad():
        outs = stages(model, x)
        expected["train_layer4"] = outs[-1]
        expected["train_pooled"] = outs[-1].mean(dim=(2, 3))
    for k, v in model.state_dict().items():
        if "running_" in k or "num_batches_tracked" in k:
            expected[f"after_train_forward.{k}"] = v.clone()

    if arch == "resnet18":
        # one SGD step from the saved weights, train mode, on a fixed linear head
        model.load_state_dict(sd)
        model.train()
        head = torch.nn.Linear(model_dim := 512, 5)
        with torch.no_grad():
            head.weight.copy_(0.05 * torch.randn(5, model_dim, generator=gen))
            head.bias.copy_(0.01 * torch.randn(5, generator=gen))
        expected["head.weight"] = head.weight.detach().clone()
        expected["head.bias"] = head.bias.detach().clone()
        labels = torch.tensor([1, 3, 0, 4])
        expected["labels"] = labels
        opt = torch.optim.SGD(list(model.parameters()) + list(head.parameters()), lr=0.1, momentum=0.9, weight_decay=1e-4)
        loss = torch.nn.functional.cross_entropy(head(model(x)), labels)
        opt.zero_grad()
        loss.backward()
        for k, p in model.named_parameters():
            expected[f"grad.{k}"] = p.grad.detach().clone()
        opt.step()
        expected["sgd_loss"] = loss.detach().reshape(1)
        for k, v in model.state_dict().items():
            expected[f"after_sgd.{k}"] = v.clone()
        expected["after_sgd.head.weight"] = head.weight.detach().clone()
        expected["after_sgd.head.bias"] = head.bias.detach().clone()

    save_safetensors(expected, f"{out_dir}/{arch}.expected.safetensors", {"arch": arch, "torch": torch.__version__})
    print(f"wrote {arch}")
