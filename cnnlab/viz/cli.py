"""``cnnlab animate``: a GIF (or MP4) of every window of a small layer.

    cnnlab animate conv --input 5x5 --filter 3 --padding 1 --stride 2 -o conv.gif
    cnnlab animate conv --input 7 --dilation 2 --padding 2 --padding-value replicate -o d.gif
    cnnlab animate pool --input 6 --filter 3 --stride 2 --mode max -o pool.gif
    cnnlab animate transposed --input 3 --filter 3 --stride 2 -o up.gif

The layer is a real one-layer cnnlab network on small integers drawn from --seed (see
``cnnlab.viz.animate``); one frame per output position. ``-o`` ending in .mp4 writes MP4
when ffmpeg is installed.
"""
from __future__ import annotations

import argparse

from .. import spec
from ..helpformat import HelpFormatter, plain


def _value(text):
    return spec.value(text)


def _size(text):
    v = spec.value(text)
    if isinstance(v, int) or (isinstance(v, tuple) and len(v) == 2):
        return v
    raise argparse.ArgumentTypeError(f"{text!r}: expected N or HxW, e.g. 5 or 5x7")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="cnnlab animate", description=plain(__doc__),
                                formatter_class=HelpFormatter)
    p.add_argument("kind", choices=("conv", "pool", "transposed"), help="which layer")
    p.add_argument("--input", type=_size, default=None,
                   help="input size N or HxW (default 5 for conv, 6 for pool, 3 transposed)")
    p.add_argument("--filter", type=_size, default=3, help="filter (pool) size K or KHxKW")
    p.add_argument("--stride", type=_value, default=None,
                   help="N or a,b (default 1 for conv, 2 for pool and transposed)")
    p.add_argument("--padding", type=_value, default=0,
                   help="p, a,b, t,b,l,r or same (transposed: the cropping)")
    p.add_argument("--padding-value", type=_value, default=0,
                   help="a number, replicate, symmetric-include-edge, symmetric-exclude-edge")
    p.add_argument("--dilation", type=_value, default=1, help="N or a,b")
    p.add_argument("--channels", type=int, default=1, help="input channels")
    p.add_argument("--mode", choices=("max", "average"), default="max", help="pooling mode")
    p.add_argument("--seed", type=int, default=0, help="draws the small integer input")
    p.add_argument("--fps", type=float, default=2.0, help="frames per second")
    p.add_argument("-o", "--output", required=True, help="out.gif or out.mp4")
    return p


def main(argv=None) -> int:
    from .animate import animate_convolution, animate_pooling, animate_transposed
    a = build_parser().parse_args(argv)
    common = dict(output=a.output, fps=a.fps, channels=a.channels, seed=a.seed)
    if a.kind == "conv":
        path = animate_convolution(input_size=a.input or 5, filter_size=a.filter,
                                   stride=a.stride or 1, padding=a.padding,
                                   dilation=a.dilation, padding_value=a.padding_value,
                                   **common)
    elif a.kind == "pool":
        path = animate_pooling(input_size=a.input or 6, pool_size=a.filter,
                               stride=a.stride or 2, padding=a.padding, mode=a.mode, **common)
    else:
        path = animate_transposed(input_size=a.input or 3, filter_size=a.filter,
                                  stride=a.stride or 2, cropping=a.padding, **common)
    print(f"wrote {path}")
    return 0
