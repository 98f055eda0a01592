#!/usr/bin/env python3
"""PyTorch reference models for `odemor import` (docs/import.md).

Builds each built-in odemor model as a PyTorch nn.Module whose state_dict() names are the model's naming
convention, computing exactly what the odemor IR computes:

- the ODE block is integrated with classical RK4 and fixed steps: ceil((t1 - t0)/dt - 1e-9) steps of dt from
  t = t0 + i*dt, the last one shortened to land on t1 (core's driver);
- a sequence (ode-rnn) or input signal (mlp-node) is fed as u(t) = seq[j], j = floor((t - t0)/d + 1e-9) clamped
  to [0, steps - 1], at every stage time t + c_i*h;
- a 'same' max-pool pads as TensorFlow does (floor(total/2) before, the rest after, padded values never win);
- images are NCHW here and NHWC in odemor: the fixture inputs are stored NHWC (odemor's layout) and permuted
  to NCHW for PyTorch.

With fixed seeds it writes, per model, the weights as safetensors (written with struct + json: torch 1.13 has no
safetensors package) and a JSON file with the import settings, fixed inputs and the logits, computed in float64
from the stored weights. Run with Debian's python3-torch:

    /usr/bin/python3 scripts/torch-reference.py core/test/fixtures/torch
"""
import json
import math
import os
import struct
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

ACT = {'tanh': torch.tanh, 'relu': torch.relu, 'softplus': F.softplus, 'identity': lambda v: v}


def seq_index(t, t0, d, steps):
    j = math.floor((t - t0) / d + 1e-9)
    return min(steps - 1, max(0, j))


def rk4(f, y, t0, t1, dt):
    n = max(0, math.ceil((t1 - t0) / dt - 1e-9))
    for i in range(n):
        t = t0 + i * dt
        h = t1 - t if i == n - 1 else dt
        k1 = f(t, y)
        k2 = f(t + 0.5 * h, y + (0.5 * h) * k1)
        k3 = f(t + 0.5 * h, y + (0.5 * h) * k2)
        k4 = f(t + h, y + h * k3)
        y = y + (h / 6) * (k1 + 2 * k2 + 2 * k3 + k4)
    return y


def tf_same(size, k, s):
    out = -(-size // s)
    total = max((out - 1) * s + k - size, 0)
    return total // 2, total - total // 2


def maxpool_same(x, k, s):
    pt, pb = tf_same(x.shape[2], k, s)
    pl, pr = tf_same(x.shape[3], k, s)
    return F.max_pool2d(F.pad(x, (pl, pr, pt, pb), value=-math.inf), k, s)


def antisym(W, gamma):
    return W - W.t() - gamma * torch.eye(W.shape[0], dtype=W.dtype)


# ───────────────────────────── conv-node ─────────────────────────────
class ConvODEFunc(nn.Module):
    def __init__(self, C, h, w, act):
        super().__init__()
        self.conv = nn.Conv2d(C, C, 3, padding=1)
        # a per-element bias [C, h, w] besides the conv's own [C] (odemor's b is per element)
        self.bias = nn.Parameter(0.1 * torch.randn(C, h, w))
        self.act = ACT[act]

    def forward(self, t, x):
        return self.act(self.conv(x) + self.bias)


class ConvNode(nn.Module):
    def __init__(self, H, W, cin, C, classes, act, solver):
        super().__init__()
        h, w = (H - 2 - 3) // 3 + 1, (W - 2 - 3) // 3 + 1
        self.downsample = nn.Sequential(nn.Conv2d(cin, C, 3), nn.ReLU(), nn.MaxPool2d(3, 3))
        self.odefunc = ConvODEFunc(C, h, w, act)
        self.fc = nn.Linear(C * (-(-h // 3)) * (-(-w // 3)), classes)
        self.solver = solver

    def forward(self, x):  # x: NCHW
        s = self.solver
        z = rk4(self.odefunc, self.downsample(x), s['t0'], s['t1'], s['dt'])
        z = F.relu(torch.flatten(maxpool_same(z, 3, 3), 1))
        return self.fc(z)


# ───────────────────────────── dense-node ─────────────────────────────
class DenseODEFunc(nn.Module):
    def __init__(self, n, act):
        super().__init__()
        self.linear = nn.Linear(n, n)
        self.act = ACT[act]

    def forward(self, t, x):
        return self.act(self.linear(x))


class AntisymmetricODEFunc(nn.Module):
    """x' = σ((W − Wᵀ − γI) x + b) (+ Z u(t) for the ode-rnn)."""

    def __init__(self, n, act, gamma, features=None):
        super().__init__()
        self.W = nn.Parameter(torch.randn(n, n) / math.sqrt(n))
        self.b = nn.Parameter(0.1 * torch.randn(n))
        if features:
            self.Z = nn.Linear(features, n, bias=False)
        self.act = ACT[act]
        self.gamma = gamma

    def forward(self, t, x, u=None):
        y = self.act(F.linear(x, antisym(self.W, self.gamma), self.b))
        return y if u is None else y + self.Z(u)


class DenseNode(nn.Module):
    def __init__(self, d, n, classes, act, solver, pre_tanh=False, gamma=None):
        super().__init__()
        self.encoder = nn.Linear(d, n)
        self.odefunc = DenseODEFunc(n, act) if gamma is None else AntisymmetricODEFunc(n, act, gamma)
        self.fc = nn.Linear(n, classes)
        self.pre_tanh = pre_tanh
        self.solver = solver

    def forward(self, x):  # images NCHW, flattened (c, h, w)
        z = self.encoder(torch.flatten(x, 1))
        if self.pre_tanh:
            z = torch.tanh(z)
        s = self.solver
        return self.fc(rk4(self.odefunc, z, s['t0'], s['t1'], s['dt']))


# ───────────────────────────── ode-rnn ─────────────────────────────
class OdeRnn(nn.Module):
    def __init__(self, steps, features, n, classes, act, gamma, solver):
        super().__init__()
        self.odefunc = AntisymmetricODEFunc(n, act, gamma, features)
        self.fc = nn.Linear(n, classes)
        self.steps, self.n, self.solver = steps, n, solver
        self.d = (solver['t1'] - solver['t0']) / steps

    def forward(self, seq):  # [B, steps, features]
        s = self.solver
        f = lambda t, x: self.odefunc(t, x, seq[:, seq_index(t, s['t0'], self.d, self.steps)])
        x0 = torch.zeros(seq.shape[0], self.n, dtype=seq.dtype)
        return self.fc(rk4(f, x0, s['t0'], s['t1'], s['dt']))


# ───────────────────────────── mlp-node ─────────────────────────────
class MlpODEFunc(nn.Module):
    """x' = fc2(σ(fc1(x) + input(u(t))))."""

    def __init__(self, n, m, act, channels=None):
        super().__init__()
        self.fc1 = nn.Linear(n, m)
        self.fc2 = nn.Linear(m, n)
        if channels:
            self.input = nn.Linear(channels, m, bias=False)
        self.act = ACT[act]

    def forward(self, t, x, u=None):
        pre = self.fc1(x)
        if u is not None:
            pre = pre + self.input(u)
        return self.fc2(self.act(pre))


class MlpNodeClassifier(nn.Module):
    def __init__(self, d, n, m, classes, act, solver):
        super().__init__()
        if n != d:
            self.encoder = nn.Linear(d, n)
        self.odefunc = MlpODEFunc(n, m, act)
        self.fc = nn.Linear(n, classes)
        self.solver = solver

    def forward(self, x):
        z = torch.flatten(x, 1)
        if hasattr(self, 'encoder'):
            z = self.encoder(z)
        s = self.solver
        return self.fc(rk4(self.odefunc, z, s['t0'], s['t1'], s['dt']))


class MlpNodeTrajectory(nn.Module):
    def __init__(self, n, m, act, solver, times, signal):
        super().__init__()
        self.odefunc = MlpODEFunc(n, m, act, signal['channels'])
        self.solver, self.times, self.signal = solver, times, signal

    def forward(self, x0, u):  # x0 [B, n], u [B, steps, channels] → states at the times [B, T·n]
        s, sig = self.solver, self.signal
        f = lambda t, x: self.odefunc(t, x, u[:, seq_index(t, s['t0'], sig['stepDuration'], sig['steps'])])
        out, x, frm = [], x0, s['t0']
        for end in self.times:
            x = rk4(f, x, frm, end, s['dt'])
            out.append(x)
            frm = end
        return torch.cat(out, 1)


# ───────────────────────────── files ─────────────────────────────
def save_safetensors(path, state, dtype, metadata):
    header, blobs, offset = {}, [], 0
    for name, t in state.items():
        t = t.detach().contiguous()
        if dtype == 'F64':
            b = t.double().numpy().astype('<f8').tobytes()
        elif dtype == 'F32':
            b = t.float().numpy().astype('<f4').tobytes()
        elif dtype == 'F16':
            b = t.half().numpy().astype('<f2').tobytes()
        elif dtype == 'BF16':
            b = t.bfloat16().view(torch.int16).numpy().astype('<i2').tobytes()
        else:
            raise ValueError(dtype)
        header[name] = {'dtype': dtype, 'shape': list(t.shape), 'data_offsets': [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    header['__metadata__'] = metadata
    hb = json.dumps(header, separators=(',', ':')).encode('utf-8')
    hb += b' ' * (-len(hb) % 8)  # the format allows trailing spaces; aligns the byte buffer
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(hb)))
        f.write(hb)
        for b in blobs:
            f.write(b)


def round_params(model, dtype):
    """Make the stored weights exactly what the file holds (F16 / BF16 / F32 round; F64 keeps double, and gets a
    perturbation below float32's resolution so that its weights are not float32 values)."""
    gen = torch.Generator().manual_seed(7)
    with torch.no_grad():
        for p in model.parameters():
            if dtype == 'F64':
                p.add_(1e-9 * torch.randn(p.shape, generator=gen, dtype=torch.float64))
            if dtype == 'F16':
                p.copy_(p.half().double())
            elif dtype == 'BF16':
                p.copy_(p.bfloat16().double())
            elif dtype == 'F32':
                p.copy_(p.float().double())


def f32(shape, gen):
    return torch.randn(*shape, generator=gen, dtype=torch.float32)


def fixture(out_dir, name, model, dtype, settings, inputs, run):
    """inputs: name → float32 tensors in odemor's layout (NHWC); run(model, inputs as float64) → logits."""
    model = model.double()
    round_params(model, dtype)
    model.eval()
    with torch.no_grad():
        logits = run(model, {k: v.double() for k, v in inputs.items()})
    save_safetensors(os.path.join(out_dir, f'{name}.safetensors'), model.state_dict(), dtype,
                     {'producer': 'scripts/torch-reference.py', 'model': settings['as']})
    doc = {
        'name': name,
        'weights': f'{name}.safetensors',
        'dtype': dtype,
        'torch': torch.__version__,
        **settings,
        'batch': int(next(iter(inputs.values())).shape[0]),
        **{k: [float(x) for x in v.flatten().tolist()] for k, v in inputs.items()},
        'logits': [float(x) for x in logits.flatten().tolist()],
    }
    with open(os.path.join(out_dir, f'{name}.json'), 'w') as f:
        json.dump(doc, f, indent=None)
        f.write('\n')
    print(f'{name}: {dtype}, {sum(p.numel() for p in model.parameters())} parameters, logits {tuple(logits.shape)}')


def nchw(x):
    return x.permute(0, 3, 1, 2)


def main(out_dir):
    os.makedirs(out_dir, exist_ok=True)

    # conv-node: a non-square image with 2 channels (h = 6, w = 7: the 'same' pool pads one column on the left)
    torch.manual_seed(1)
    g = torch.Generator().manual_seed(101)
    solver = {'use': 'rk4', 'dt': 0.25, 't0': 0.0, 't1': 1.0}
    H, W, cin, C, classes = 20, 23, 2, 4, 5
    fixture(out_dir, 'conv-node', ConvNode(H, W, cin, C, classes, 'tanh', solver), 'F32',
            {'as': 'conv-node', 'input': [H, W, cin], 'solver': solver, 'options': {}},
            {'x': f32((3, H, W, cin), g)}, lambda m, i: m(nchw(i['x'])))

    # dense-node: [4, 3] inputs (flattened), softplus, tanh after the encoder; float64 weights
    torch.manual_seed(2)
    g = torch.Generator().manual_seed(102)
    solver = {'use': 'rk4', 'dt': 0.2, 't0': 0.0, 't1': 1.0}
    fixture(out_dir, 'dense-node', DenseNode(12, 6, 3, 'softplus', solver, pre_tanh=True), 'F64',
            {'as': 'dense-node', 'input': [4, 3], 'solver': solver, 'options': {'activation': 'softplus', 'preActivation': 'tanh'}},
            {'x': f32((4, 4, 3), g)}, lambda m, i: m(i['x']))

    # dense-node, antisymmetric, on [3, 4, 2] images (the encoder reads (c, h, w) in PyTorch, (h, w, c) in odemor)
    torch.manual_seed(3)
    g = torch.Generator().manual_seed(103)
    solver = {'use': 'rk4', 'dt': 0.1, 't0': 0.0, 't1': 0.5}
    fixture(out_dir, 'dense-node-antisymmetric', DenseNode(24, 5, 3, 'relu', solver, gamma=0.05), 'F32',
            {'as': 'dense-node', 'input': [3, 4, 2], 'solver': solver, 'options': {'activation': 'relu', 'antisymmetric': {'gamma': 0.05}}},
            {'x': f32((3, 3, 4, 2), g)}, lambda m, i: m(nchw(i['x'])))

    # ode-rnn: 5 steps of 3 features, stepDuration (t1 − t0)/steps = 0.2 (stage times land on the boundaries)
    torch.manual_seed(4)
    g = torch.Generator().manual_seed(104)
    solver = {'use': 'rk4', 'dt': 0.1, 't0': 0.0, 't1': 1.0}
    fixture(out_dir, 'ode-rnn', OdeRnn(5, 3, 8, 4, 'tanh', 0.01, solver), 'F32',
            {'as': 'ode-rnn', 'input': [5, 3], 'solver': solver, 'options': {}},
            {'x': f32((3, 5, 3), g)}, lambda m, i: m(i['x']))

    # mlp-node classifier on [2, 3] inputs with an encoder 6 → 5; bfloat16 weights
    torch.manual_seed(5)
    g = torch.Generator().manual_seed(105)
    solver = {'use': 'rk4', 'dt': 0.25, 't0': 0.0, 't1': 1.0}
    fixture(out_dir, 'mlp-node', MlpNodeClassifier(6, 5, 7, 3, 'tanh', solver), 'BF16',
            {'as': 'mlp-node', 'input': [2, 3], 'solver': solver, 'options': {}},
            {'x': f32((3, 2, 3), g)}, lambda m, i: m(i['x']))

    # mlp-node trajectory model with an input signal u [10 steps, 2 channels]; float16 weights
    torch.manual_seed(6)
    g = torch.Generator().manual_seed(106)
    solver = {'use': 'rk4', 'dt': 0.05, 't0': 0.0, 't1': 1.0}
    times = [0.25, 0.5, 0.75, 1.0]
    signal = {'steps': 10, 'channels': 2, 'stepDuration': 0.1}
    fixture(out_dir, 'mlp-node-trajectory', MlpNodeTrajectory(3, 8, 'tanh', solver, times, signal), 'F16',
            {'as': 'mlp-node', 'solver': solver, 'options': {}, 'times': times, 'signal': signal},
            {'x': f32((3, 3), g), 'u': f32((3, 10, 2), g)}, lambda m, i: m(i['x'], i['u']))


if __name__ == '__main__':
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), '..', 'core', 'test', 'fixtures', 'torch'))
