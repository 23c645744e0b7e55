"""``cnnlab step``: one convolution (or pooling) on a small integer input, window by window,
or one step of any layer of a whole network.

    cnnlab step --input 5x5 --filter 3 --padding 1 --stride 2
    cnnlab step --example                      # the reference documents' 5x5 example
    cnnlab step --input 4x4 --pool max --filter 2 --stride 2
    cnnlab step --input 5x5 --filter 3 --padding 1 --padding-value replicate --position 0,0

The input and weights are small integers drawn from --seed so every sum can be checked by
hand; the network is a real one-layer cnnlab Network and every number printed comes from its
trace.

Any layer of a whole network, forward or backward (``cli_layer.py``):

    cnnlab step --layer relu_1 --at 3,4,0      # LeNet-5 on a generated digit: output (3, 4, 0)
    cnnlab step --layer fc_1 --at 17           # step 17: neuron 17's sum
    cnnlab step --model reference --layer batchnorm_1 --at 5,5,2 --backward
    cnnlab step --network lenet5.cnnlab --layer softmax --at 3
    cnnlab step --layer conv_1 --param weights --at 0,0,0,2

--at K is the K-th step (channel by channel, each row by row; fully connected, softmax and
output layers in flat order), --at ROW,COL[,CHANNEL] the step at that position of the output
(of the input with --backward). The network is --network FILE, else --model (LeNet-5 when only
--layer is given; untrained, weights from --seed); the image --image FILE.npy or the
generated digit of --seed. --at, --backward or --param without --layer step the example's
layer.
"""
from __future__ import annotations

import argparse

from .. import examples, spec
from ..helpformat import HelpFormatter, plain
from . import cli_layer
from .text import grid


def _pair(text, what):
    v = spec.value(text)
    v = (v, v) if isinstance(v, int) else v
    if not (isinstance(v, tuple) and len(v) == 2 and all(isinstance(i, int) for i in v)):
        raise ValueError(f"--{what} = {text!r}: expected N or HxW, e.g. 5 or 5x7")
    return v


def build(args):
    """The one-layer network and its input, from the command-line options (built by
    ``cnnlab.examples``, as the explorers and animations build theirs)."""
    from ..layers.pool import AveragePooling2D, MaxPooling2D
    if args.example:
        return examples.reference_convolution()
    size, padding = _pair(args.input, "input"), spec.value(args.padding)
    if args.channels < 1:
        raise ValueError(f"--channels = {args.channels}: need at least 1")
    if args.pool:
        # pooling on the same 0..3 input a convolution of this seed would see
        _rng, x = examples.small_input(size, args.channels, args.seed)
        cls = MaxPooling2D if args.pool == "max" else AveragePooling2D
        return examples.one_layer(x, cls(_pair(args.filter, "filter"), stride=args.stride,
                                          padding=padding)), x
    return examples.conv_example(size, _pair(args.filter, "filter"), stride=args.stride,
                                 dilation=args.dilation, padding=padding,
                                 padding_value=spec.value(args.padding_value),
                                 channels=args.channels, bias=args.bias, seed=args.seed)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="cnnlab step", description=plain(__doc__),
                                formatter_class=HelpFormatter)
    p.add_argument("--input", default="5x5", help="input size: H or HxW")
    p.add_argument("--channels", type=int, default=1, help="input channels")
    p.add_argument("--filter", default="3", help="filter (or pool) size: K or KHxKW")
    p.add_argument("--stride", type=_stride, default=1, help="N or a,b")
    p.add_argument("--padding", default="0", help="p, a,b, t,b,l,r or same")
    p.add_argument("--padding-value", default="0",
                   help="a number, symmetric-include-edge, symmetric-exclude-edge, replicate")
    p.add_argument("--dilation", type=_stride, default=1, help="N or a,b")
    p.add_argument("--bias", type=float, default=0.0, help="the filter's bias")
    p.add_argument("--pool", choices=("max", "average"), help="pool instead of convolving")
    p.add_argument("--seed", type=int, default=0, help="draws the small integer input and weights")
    p.add_argument("--position", help="ROW,COL: show only this output position")
    p.add_argument("--example", action="store_true",
                   help="the reference documents' 5x5 input and 3x3 kernel")
    p.add_argument("--max-terms", type=int, default=30,
                   help="the longest sum written out in full")
    cli_layer.add_options(p)
    a = p.parse_args(argv)
    if cli_layer.wanted(a):
        return cli_layer.run(a, lambda: build(a))
    net, x = build(a)
    rec = net.trace(x)[1]
    print(f"{rec.layer.describe()}; input {'x'.join(map(str, x.shape))}, output "
          f"{'x'.join(map(str, rec.output_shape))}")
    for name, r in rec.arithmetic.items():
        if name.startswith("output"):
            print(f"  {name}: {r.substituted}")
    for c in range(x.shape[2]):
        print(f"\npadded input, channel {c} (padding cells in brackets):")
        print(grid(rec.padded_input[:, :, c], mask=rec.padding_mask))
    if not a.pool:
        for c in range(rec.effective_weights.shape[2]):
            print(f"\nfilter, channel {c}" + (" (dilated: zeros in the holes)"
                                             if max(rec.dilation) > 1 else "") + ":")
            print(grid(rec.effective_weights[:, :, c, 0]))
    print()
    if a.position:
        row, col = _position(a.position)
        steps = [rec.step(row, col, 0)]
    else:
        steps = rec.steps(0)
    for s in steps:
        print(s.text(max_terms=a.max_terms))
    print("\noutput:")
    print(grid(rec.output[:, :, 0]))
    return 0


def _position(text):
    parts = text.replace("x", ",").split(",")
    if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
        raise ValueError(f"--position = {text!r}: expected ROW,COL, e.g. 0,0")
    return int(parts[0]), int(parts[1])


def _stride(text):
    v = spec.value(text)
    if isinstance(v, tuple) and len(v) == 2:
        return v
    if isinstance(v, int):
        return v
    raise argparse.ArgumentTypeError(f"{text!r}: expected N or a,b")
