"""``cnnlab bench``: cnnlab's fast backend and PyTorch's CPU build, side by side, in one process.

Two networks from the fast-path issue:

* LeNet-5 (conv 5×5×6 pad 2, ReLU, max pool 2, conv 5×5×16, ReLU, max pool 2, FC 120, ReLU,
  FC 84, ReLU, FC 10, softmax cross-entropy), batch 64, 28×28×1;
* the reference documents' network (conv 3×3×16 pad 1, BN, ReLU, max pool 2/2, conv 3×3×32
  pad 1, BN, ReLU, FC 10), batch 128.

A training step is what ``train_network`` does per iteration (forward in training mode, the
fused softmax + cross-entropy gradient, backward, SGD with momentum 0.9 and L2 1e-4); for
PyTorch the same layers, ``CrossEntropyLoss`` and ``torch.optim.SGD``. Inference is a forward
pass in prediction mode. Both engines get the same thread count. The machine is shared and
noisy, so the engines alternate in rounds and the table reports medians and their ratio.

Cold compile: the first fast step in a fresh process with an empty Numba cache (a
subprocess with its own NUMBA_CACHE_DIR); warm start: the first step of a second process
that finds that cache.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

NETWORKS = {"lenet5": 64, "reference": 128}


def _cnnlab_net(which):
    from . import models
    from .network import Network
    layers = models.lenet5() if which == "lenet5" else models.reference_example()
    return Network(layers, seed=0, backend="fast")


def _cnnlab_runner(which, batch, rng):
    from .solvers import SGDM
    from .training import _metric, _snapshot, _step
    net = _cnnlab_net(which)
    x = rng.random((batch, 28, 28, 1), dtype=np.float32)
    t = rng.integers(0, 10, batch)
    net.fit_normalization(x)
    out, solver = net.layers[-1], SGDM(momentum=0.9, l2_regularization=1e-4)

    def train():
        _snapshot(net)                       # train_network keeps the last good weights
        loss, y = _step(net, out, "classification", x, t)
        _metric("classification", y, t)
        solver.step(net, 0.01)

    def infer():
        net.forward(x)
    return train, infer


def _torch_runner(which, batch, rng):
    import torch
    from torch import nn
    torch.manual_seed(0)
    if which == "lenet5":
        model = nn.Sequential(
            nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2, 2),
            nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2, 2), nn.Flatten(),
            nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))
    else:
        model = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2, 2),
            nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.Flatten(),
            nn.Linear(32 * 14 * 14, 10))
    x = torch.from_numpy(rng.random((batch, 1, 28, 28), dtype=np.float32))
    t = torch.from_numpy(rng.integers(0, 10, batch))
    loss_fn = nn.CrossEntropyLoss()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)

    def train():
        model.train()
        opt.zero_grad()
        y = model(x)
        loss = loss_fn(y, t)
        loss.backward()
        opt.step()
        (y.argmax(1) == t).float().mean().item()

    def infer():
        model.eval()
        with torch.no_grad():
            model(x)
    return train, infer


def _rate(fn, steps, batch):
    start = time.perf_counter()
    for _ in range(steps):
        fn()
    return steps * batch / (time.perf_counter() - start)


def measure(which, *, rounds, steps, use_torch):
    """Median images/s per engine and mode: {(engine, mode): value}."""
    from .kernels.fast.threads import kernel_threads
    batch = NETWORKS[which]
    rng = np.random.default_rng(0)
    runners = {"cnnlab": _cnnlab_runner(which, batch, rng)}
    if use_torch:
        runners["pytorch"] = _torch_runner(which, batch, rng)
    samples = {(e, m): [] for e in runners for m in ("train", "infer")}
    for (train, infer) in runners.values():     # warm up (compiles, allocator, caches)
        train(), infer()
    for _ in range(rounds):
        for engine, (train, infer) in runners.items():
            with kernel_threads() if engine == "cnnlab" else contextlib.nullcontext():
                samples[engine, "train"].append(_rate(train, steps, batch))
                samples[engine, "infer"].append(_rate(infer, steps, batch))
    return {k: statistics.median(v) for k, v in samples.items()}


_STARTUP = """
import time, numpy as np
t0 = time.perf_counter()
import cnnlab as cl
from cnnlab.models import lenet5
net = cl.Network(lenet5(), seed=0, backend="fast")
x = np.random.default_rng(0).random((64, 28, 28, 1), dtype=np.float32)
net.loss_and_gradients(x, np.arange(64) % 10)
print(time.perf_counter() - t0)
"""


def startup_times():
    """(cold, warm) seconds to the end of the first LeNet-5 training step in a new process."""
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        times = []
        for _ in range(2):
            out = subprocess.run([sys.executable, "-c", _STARTUP], env=env, check=True,
                                 capture_output=True, text=True).stdout
            times.append(float(out.strip().splitlines()[-1]))
    return times[0], times[1]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="cnnlab bench", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--networks", nargs="+", choices=sorted(NETWORKS),
                   default=["lenet5", "reference"])
    p.add_argument("--rounds", type=int, default=5, help="alternating rounds (median)")
    p.add_argument("--steps", type=int, default=20, help="steps per round and mode")
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                   help="threads for both engines (Numba and torch.set_num_threads)")
    p.add_argument("--quick", action="store_true", help="2 rounds of 2 steps, no startup")
    p.add_argument("--no-torch", action="store_true", help="cnnlab only")
    p.add_argument("--no-startup", action="store_true", help="skip the cold/warm start runs")
    a = p.parse_args(argv)
    if a.rounds < 1 or a.steps < 1 or a.threads < 1:
        raise ValueError("--rounds, --steps and --threads must be at least 1")
    if a.quick:
        a.rounds, a.steps, a.no_startup = 2, 2, True
    import numba
    numba.set_num_threads(min(a.threads, numba.config.NUMBA_NUM_THREADS))
    use_torch = not a.no_torch
    if use_torch:
        try:
            import torch
            torch.set_num_threads(a.threads)
        except ImportError:
            print("PyTorch is not installed: showing cnnlab alone "
                  "(pip install torch==2.13.0 for the comparison)")
            use_torch = False
    print(f"{a.rounds} rounds x {a.steps} steps, {a.threads} threads, float32; "
          "medians in images/s")
    print(f"{'network':<11}{'batch':>6}{'mode':>7}{'cnnlab':>10}"
          + (f"{'pytorch':>10}{'ratio':>8}" if use_torch else ""))
    for which in a.networks:
        r = measure(which, rounds=a.rounds, steps=a.steps, use_torch=use_torch)
        for mode in ("train", "infer"):
            line = f"{which:<11}{NETWORKS[which]:>6}{mode:>7}{r['cnnlab', mode]:>10,.0f}"
            if use_torch:
                line += (f"{r['pytorch', mode]:>10,.0f}"
                         f"{r['cnnlab', mode] / r['pytorch', mode]:>7.2f}x")
            print(line, flush=True)
    if not a.no_startup:
        cold, warm = startup_times()
        print(f"first LeNet-5 training step in a new process: cold compile {cold:.1f} s, "
              f"warm start from the Numba cache {warm:.2f} s")
    return 0
