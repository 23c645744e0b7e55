"""``cnnlab bench``: cnnlab's fast backend and PyTorch's CPU build, side by side, in one process.

Two networks from the fast-path issue:

* LeNet-5 (conv 5×5×6 pad 2, ReLU, max pool 2, conv 5×5×16, ReLU, max pool 2, FC 120, ReLU,
  FC 84, ReLU, FC 10, softmax cross-entropy), batch 64, 28×28×1;
* the reference documents' network (conv 3×3×16 pad 1, BN, ReLU, max pool 2/2, conv 3×3×32
  pad 1, BN, ReLU, FC 10), batch 128.

A training step is what ``train_network`` does per iteration (forward in training mode, the
fused softmax + cross-entropy gradient, backward, SGD with momentum 0.9 and L2 1e-4); for
PyTorch the same layers, ``CrossEntropyLoss`` and ``torch.optim.SGD``. Inference is a forward
pass in prediction mode. Both engines get the same thread count. cnnlab runs as a Network
does by default: fused conv/batch-norm (+ReLU)(+max pool) stages on its thread pool
(``--per-layer``: one fast kernel per layer instead).

How it measures (the machine may be shared and noisy, so only long, paired runs mean
anything): each round runs a *block* of ``--steps`` consecutive steps per engine, the order
of the engines alternates from round to round, and ``--rounds`` rounds are run. The table gives
the median images/s of each engine, the ratio of those medians, and the median with the
range of the per-round paired ratios (cnnlab / PyTorch within the same round, which cancels
slow drifts of the machine's load). The 1-minute load average is printed before and after
each row.

Each block starts with untimed steps for ``SETTLE_SECONDS``: an engine that has just
finished leaves its threads spinning for several milliseconds (PyTorch's OpenMP threads,
cnnlab's pool helpers for a shorter while), and the engine that follows pays for them —
measured on LeNet-5 inference, cnnlab's first steps after a PyTorch block took 1.67, 1.72,
1.40, 1.33 ms against 1.13–1.17 from the sixth on, and PyTorch's first step after a cnnlab
block 1.80 against 1.50. Both engines get the same settling time, so the blocks measure
each engine running, not the handover.

Cold compile: the first fast step of each network in a fresh process with an empty Numba
cache (a subprocess with its own NUMBA_CACHE_DIR), which shares the compiling with a helper
process (``kernels/fast/compile_ahead.py``), and the same without the helper; warm start:
the first step of a later process that finds the cache.

These processes may write Python's bytecode cache (``PYTHONDONTWRITEBYTECODE`` is taken
out of their environment), as an installed package has its ``.pyc`` files. Where that
variable is set for every process and cnnlab is installed in place (``pip install -e``), as
on the machine these figures were measured on, every process otherwise compiled cnnlab's
103 modules from source, 0.12 s of each warm start (0.58-0.64 against 0.47-0.49 s for the
reference network); the compile of the kernels was the same either way.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

NETWORKS = {"lenet5": 64, "reference": 128}
#: the cnnlab.models function of each network
MODELS = {"lenet5": "lenet5", "reference": "reference_example"}
#: the issue's measuring rules: blocks of at least 10 steps, at least 15 rounds
DEFAULT_ROUNDS, DEFAULT_STEPS = 15, 10
#: untimed steps at the start of each block, at least this long (see the module)
SETTLE_SECONDS = 0.02


def load_average() -> float | None:
    """The 1-minute load average, or None where the system does not report it."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return None


def _load_text() -> str:
    load = load_average()
    return "n/a" if load is None else f"{load:.2f}"


def _cnnlab_runner(which, batch, dtype, rng, fused=True):
    from . import models
    from .network import Network
    from .solvers import SGDM
    from .training import _metric, _snapshot
    layers = getattr(models, MODELS[which])()
    net = Network(layers, seed=0, backend="fast", dtype=dtype)
    x = rng.random((batch, 28, 28, 1)).astype(dtype)
    t = rng.integers(0, 10, batch)
    net.fit_normalization(x)
    net.fused = fused                        # --per-layer: False, one kernel per layer
    solver = SGDM(momentum=0.9, l2_regularization=1e-4)

    def train():
        with net.computing():                # as train_network holds it for its whole loop
            _snapshot(net)                   # train_network keeps the last good weights
            loss, y = net.training_pass(x, t, stop_if_not_finite=True)
            _metric("classification", y, t)
            solver.step(net, 0.01)

    def infer():
        net.predict(x, batch_size=batch)
    return train, infer


def _torch_runner(which, batch, dtype, rng):
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
    tdtype = torch.float64 if dtype == "float64" else torch.float32
    model = model.to(tdtype)
    x = torch.from_numpy(rng.random((batch, 1, 28, 28)).astype(dtype))
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
    """Images/s of ``steps`` timed steps, after untimed ones for SETTLE_SECONDS."""
    settle = time.perf_counter() + SETTLE_SECONDS
    fn()
    while time.perf_counter() < settle:
        fn()
    start = time.perf_counter()
    for _ in range(steps):
        fn()
    return steps * batch / (time.perf_counter() - start)


def measure(which, *, rounds, steps, use_torch, dtype="float32", fused=True):
    """Per mode ("train", "infer"): {"cnnlab": [images/s per round], "pytorch": [...]}.

    Round r runs one block of ``steps`` steps per engine, in an order that alternates with
    r; the lists are aligned by round, so element r of each is a pair.
    """
    batch = NETWORKS[which]
    rng = np.random.default_rng(0)
    extra = {} if fused else {"fused": False}   # (the default call keeps its short form)
    runners = {"cnnlab": _cnnlab_runner(which, batch, dtype, rng, **extra)}
    if use_torch:
        runners["pytorch"] = _torch_runner(which, batch, dtype, rng)
    for train, infer in runners.values():     # warm up (compiles, allocator, caches)
        for _ in range(2):
            train(), infer()
    engines = list(runners)
    result = {}
    for m, mode in enumerate(("train", "infer")):
        samples = {e: [] for e in engines}
        for r in range(rounds):
            order = engines if r % 2 == 0 else engines[::-1]
            for engine in order:
                samples[engine].append(_rate(runners[engine][m], steps, batch))
        result[mode] = samples
    return result


def summarize(samples) -> dict:
    """Medians per engine and, with PyTorch, the ratio of medians and the paired ratios."""
    out = {e: statistics.median(v) for e, v in samples.items()}
    if "pytorch" in samples:
        pairs = [a / b for a, b in zip(samples["cnnlab"], samples["pytorch"])]
        out["ratio"] = out["cnnlab"] / out["pytorch"]
        out["paired"] = statistics.median(pairs)
        out["paired_range"] = (min(pairs), max(pairs))
    return out


_STARTUP = """
import time, numpy as np
t0 = time.perf_counter()
import cnnlab as cl
from cnnlab import models
net = cl.Network(models.{model}(), seed=0, backend="fast")
net.fused = {fused}
x = np.random.default_rng(0).random(({batch}, 28, 28, 1), dtype=np.float32)
net.loss_and_gradients(x, np.arange({batch}) % 10)
net.predict(x)
print(time.perf_counter() - t0)
"""


def startup_times(which="lenet5", fused=True):
    """(cold, cold without the compile helper, warm) seconds to the end of the first
    training step and prediction of network ``which`` in a new process: with an empty Numba
    cache (``kernels/fast/compile_ahead.py`` shares the compiling with a helper process),
    the same with CNNLAB_COMPILE_HELPER=0, then with the cache the first one wrote."""
    code = _STARTUP.format(model=MODELS[which], fused=fused, batch=NETWORKS[which])
    times = []
    with tempfile.TemporaryDirectory() as cache, tempfile.TemporaryDirectory() as alone:
        for directory, helper in ((cache, "1"), (alone, "0"), (cache, "1")):
            env = dict(os.environ, NUMBA_CACHE_DIR=directory, CNNLAB_COMPILE_HELPER=helper)
            env.pop("PYTHONDONTWRITEBYTECODE", None)      # see the module
            out = subprocess.run([sys.executable, "-c", code], env=env, check=True,
                                 capture_output=True, text=True).stdout
            times.append(float(out.strip().splitlines()[-1]))
    return tuple(times)


def _parser():
    from .helpformat import HelpFormatter, plain
    p = argparse.ArgumentParser(prog="cnnlab bench", description=plain(__doc__),
                                formatter_class=HelpFormatter)
    p.add_argument("--networks", nargs="+", choices=sorted(NETWORKS),
                   default=["lenet5", "reference"], help="networks to run")
    p.add_argument("--rounds", type=int, default=DEFAULT_ROUNDS,
                   help=f"rounds, engines alternating (default {DEFAULT_ROUNDS})")
    p.add_argument("--steps", type=int, default=DEFAULT_STEPS,
                   help=f"steps per block: one engine, one mode (default {DEFAULT_STEPS})")
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2],
                   help="thread counts to run, the same for both engines (Numba and "
                        "torch.set_num_threads); default: 1 2")
    p.add_argument("--dtypes", nargs="+", choices=("float32", "float64"), default=["float32"],
                   help="float types to run (default float32)")
    p.add_argument("--quick", action="store_true",
                   help="2 rounds of 2 steps, one thread count, no startup (a smoke test, "
                        "not a measurement)")
    p.add_argument("--no-torch", action="store_true", help="cnnlab only")
    p.add_argument("--no-startup", action="store_true", help="skip the cold/warm start runs")
    p.add_argument("--per-layer", action="store_true",
                   help="cnnlab with Network.fused = False (one fast kernel per layer, "
                        "the path before the fused stages) instead of the default")
    return p


def main(argv=None) -> int:
    a = _parser().parse_args(argv)
    if a.rounds < 1 or a.steps < 1 or min(a.threads) < 1:
        raise ValueError("--rounds, --steps and --threads must be at least 1")
    if a.quick:
        a.rounds, a.steps, a.no_startup, a.threads = 2, 2, True, a.threads[-1:]
    import numba
    use_torch = not a.no_torch
    if use_torch:
        try:
            import torch
        except ImportError:
            print("PyTorch is not installed: showing cnnlab alone "
                  "(pip install torch==2.13.0 for the comparison)")
            use_torch = False
    if a.rounds < DEFAULT_ROUNDS or a.steps < DEFAULT_STEPS:
        print(f"note: fewer than {DEFAULT_ROUNDS} rounds of {DEFAULT_STEPS} steps: too short "
              "to be believed on a shared machine")
    print(f"{a.rounds} rounds x blocks of {a.steps} steps per engine, order alternating; "
          f"images/s medians; {os.cpu_count()} CPUs; load at start {_load_text()}"
          + ("; cnnlab per layer (no fused stages)" if a.per_layer
             else "; cnnlab with fused stages"))
    head = f"{'network':<11}{'batch':>6}{'thr':>4}{'dtype':>9}{'mode':>7}{'cnnlab':>10}"
    if use_torch:
        head += f"{'pytorch':>10}{'ratio':>8}{'paired (range)':>22}"
    print(head + f"{'load':>12}")
    for threads in a.threads:
        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
        if use_torch:
            torch.set_num_threads(threads)
        for dtype in a.dtypes:
            for which in a.networks:
                before = _load_text()
                r = measure(which, rounds=a.rounds, steps=a.steps, use_torch=use_torch,
                            dtype=dtype, fused=not a.per_layer)
                after = _load_text()
                for mode in ("train", "infer"):
                    s = summarize(r[mode])
                    line = (f"{which:<11}{NETWORKS[which]:>6}{threads:>4}{dtype:>9}{mode:>7}"
                            f"{s['cnnlab']:>10,.0f}")
                    if use_torch:
                        lo, hi = s["paired_range"]
                        line += (f"{s['pytorch']:>10,.0f}{s['ratio']:>7.2f}x"
                                 f"{s['paired']:>9.2f}x ({lo:.2f}-{hi:.2f})")
                    print(line + f"{before + '-' + after:>12}", flush=True)
    if not a.no_startup:
        print("first training step + prediction in a new process:")
        for which in a.networks:
            cold, alone, warm = startup_times(which, not a.per_layer)
            print(f"  {which:<10} cold compile {cold:.1f} s ({alone:.1f} s without the "
                  f"compile helper), warm start from the Numba cache {warm:.2f} s "
                  f"(load {_load_text()})", flush=True)
    return 0
