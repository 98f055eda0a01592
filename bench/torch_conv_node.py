#!/usr/bin/env python3
"""PyTorch reference for bench/training.ts: one training step of odemor's `conv-node` model at batch 128.

The architecture is core/src/model/builtin.ts `convNode` (16 channels, tanh):
  conv 3x3 1->16 'valid' + ReLU + max-pool 3 stride 3 'valid'   (28x28 -> 26x26 -> 8x8)
  ODE block x' = tanh(conv3x3 'same' 16->16 (x) + b), b one value per state entry [16, 8, 8],
    classical RK4, dt 0.1 on [0, 1] (10 steps, 40 right-hand-side evaluations), backprop through the steps
  max-pool 3 stride 3 'same' (TF rule: 8x8 padded by one row/column at the bottom/right -> 3x3)
  flatten (144) -> ReLU -> linear 144->10, softmax cross-entropy, one SGD step.
Random weights and random inputs in [0, 1): only the time counts. Prints one JSON line:
  {"torch": version, "threads": t, "batch": b, "reps": r, "msPerBatch": median, "msAll": [...]}

  python3 bench/torch_conv_node.py --batch 128 --threads 2 --reps 10 --warmup 3
"""
import argparse
import json
import statistics
import time

import torch
import torch.nn.functional as F


class ConvNode(torch.nn.Module):
    def __init__(self, channels=16, classes=10):
        super().__init__()
        c = channels
        self.conv1 = torch.nn.Conv2d(1, c, 3)  # 'valid'
        self.block = torch.nn.Conv2d(c, c, 3, padding=1, bias=False)  # 'same'
        self.b = torch.nn.Parameter(torch.zeros(c, 8, 8))
        self.fc = torch.nn.Linear(c * 3 * 3, classes)

    def rhs(self, x):
        return torch.tanh(self.block(x) + self.b)

    def forward(self, x, dt=0.1, steps=10):
        x = F.max_pool2d(F.relu(self.conv1(x)), 3, 3)
        for _ in range(steps):
            k1 = self.rhs(x)
            k2 = self.rhs(x + 0.5 * dt * k1)
            k3 = self.rhs(x + 0.5 * dt * k2)
            k4 = self.rhs(x + dt * k3)
            x = x + (dt / 6) * (k1 + 2 * k2 + 2 * k3 + k4)
        x = F.pad(x, (0, 1, 0, 1), value=float('-inf'))  # TF 'same' pooling: 8 -> 3
        x = F.max_pool2d(x, 3, 3)
        return self.fc(F.relu(torch.flatten(x, 1)))


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--batch', type=int, default=128)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--reps', type=int, default=10)
    p.add_argument('--warmup', type=int, default=3)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    model = ConvNode()
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    x = torch.rand(a.batch, 1, 28, 28)
    y = torch.randint(0, 10, (a.batch,))

    def step():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss.item()

    for _ in range(a.warmup):
        step()
    times = []
    for _ in range(a.reps):
        t = time.perf_counter()
        step()
        times.append((time.perf_counter() - t) * 1e3)
    print(json.dumps({
        'torch': torch.__version__,
        'threads': torch.get_num_threads(),
        'batch': a.batch,
        'reps': a.reps,
        'msPerBatch': statistics.median(times),
        'msAll': [round(v, 2) for v in times],
    }))


if __name__ == '__main__':
    main()
