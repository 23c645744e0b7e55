"""How fast the ForwardStepper steps: a benchmark per layer, not a test.

    cnnlab bench-stepper                          # LeNet-5 and the reference network
    cnnlab bench-stepper --networks lenet5 --steps 30 --direction backward

For every layer of the walk it measures, from the control to the new PNG bytes in the
stepper's ``ipywidgets.Image`` (what a click does in the kernel; the browser's round trip,
about 60 ms in JupyterLab, comes on top):

* **enter**: ``step_over_layer()`` into the layer the first time (its picture is built);
* **revisit**: entering it again (the picture is kept);
* **step**: ``step()`` within the layer, ``--steps`` times: median, 90th percentile, and the
  median CPU time (wall time depends on what else runs on the machine, CPU time less).

Targets (issue 17): a step <= 30 ms, moving to another layer <= 150 ms.
"""
from __future__ import annotations

import argparse
import time

import numpy as np

NETWORKS = ("lenet5", "reference")


def _network(which):
    from .datasets import make_digits
    from .models import lenet5, reference_example
    from .network import Network
    images, labels = make_digits(2, seed=0)
    images = images / 255.0
    net = Network(lenet5(normalization="none") if which == "lenet5" else reference_example(),
                  seed=0)
    if which == "reference":
        net.fit_normalization(images)
    return net, images[0], int(labels[0])


def _timed(fn):
    start, cpu = time.perf_counter(), time.process_time()
    fn()
    return (time.perf_counter() - start) * 1000, (time.process_time() - cpu) * 1000


def stepper_benchmark(network: str = "lenet5", steps: int = 20,
                      direction: str = "forward") -> list[dict]:
    """One row per layer of the walk: name, kind, enter_ms, revisit_ms, step_median_ms,
    step_p90_ms, step_cpu_ms, png_bytes (see the module docstring)."""
    from .widgets.stepper import ForwardStepper
    if network not in NETWORKS:
        raise ValueError(f"stepper_benchmark: network = {network!r} must be one of "
                         f"{', '.join(NETWORKS)}")
    net, image, label = _network(network)
    w = ForwardStepper(net, image, labels=label)
    w.direction = direction
    rows = []
    for i, rec in enumerate(w.walk):
        if i == 0:
            enter = revisit = float("nan")       # drawn when the stepper was made
        else:
            w.go_to(i - 1, 0)
            enter = _timed(w.step_over_layer)[0]
            w.go_to(i - 1, 0)
            revisit = _timed(w.step_over_layer)[0]
        n = min(steps, w.num_steps - 1)
        wall, cpu = [], []
        for _ in range(n):
            t, c = _timed(w.step)
            wall.append(t)
            cpu.append(c)
        rows.append({"layer": rec.name, "kind": rec.kind, "enter_ms": enter,
                     "revisit_ms": revisit,
                     "step_median_ms": float(np.median(wall)) if wall else float("nan"),
                     "step_p90_ms": float(np.percentile(wall, 90)) if wall else float("nan"),
                     "step_cpu_ms": float(np.median(cpu)) if cpu else float("nan"),
                     "steps": n, "png_bytes": len(bytes(w.image.value))})
    return rows


def table(rows) -> str:
    lines = [f"{'layer':<13}{'kind':<17}{'enter':>8}{'revisit':>9}{'step':>8}{'p90':>8}"
             f"{'cpu':>8}{'png KB':>8}"]
    for r in rows:
        lines.append(f"{r['layer']:<13}{r['kind']:<17}{r['enter_ms']:>8.0f}"
                     f"{r['revisit_ms']:>9.0f}{r['step_median_ms']:>8.1f}"
                     f"{r['step_p90_ms']:>8.1f}{r['step_cpu_ms']:>8.1f}"
                     f"{r['png_bytes'] / 1024:>8.0f}")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="cnnlab bench-stepper", description=__doc__.split("\n")[0])
    p.add_argument("--networks", nargs="+", choices=NETWORKS, default=list(NETWORKS))
    p.add_argument("--steps", type=int, default=20, help="steps timed per layer")
    p.add_argument("--direction", choices=("forward", "backward"), nargs="+",
                   default=["forward", "backward"])
    args = p.parse_args(argv)
    for which in args.networks:
        for d in args.direction:
            print(f"\n{which}, {d} (milliseconds; targets: step <= 30, enter <= 150)")
            print(table(stepper_benchmark(which, args.steps, d)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
