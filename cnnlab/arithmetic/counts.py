"""Counts: learnable parameters, neurons (activations), connections, multiply-adds.

Symbols: K_h, K_w filter height and width, C input channels, F filters, G groups,
O_h, O_w output height and width, N_in, N_out fully connected input and output sizes.
"""
from __future__ import annotations

from ._core import Result
from .checks import filter_hw, positive_int, size_product
from .formatting import format_number as n


def _grouped(func: str, num_channels, num_filters, groups) -> tuple[int, int, int]:
    """(C, F, G) checked: G must divide both C and F."""
    c = positive_int(func, "num_channels", num_channels)
    f = positive_int(func, "num_filters", num_filters)
    g = positive_int(func, "groups", groups)
    for name, v in (("num_channels", c), ("num_filters", f)):
        if v % g:
            raise ValueError(f"{func}: groups = {g} does not divide {name} = {v} "
                             f"({v} / {g} = {n(v / g)} is not a whole number)")
    return c, f, g


def _per_filter(h: int, w: int, c: int, g: int) -> tuple[str, str, int]:
    """Symbolic and substituted inputs per filter (K_h·K_w·C), and the number."""
    if g == 1:
        return "K_h·K_w·C", f"{h}·{w}·{c}", h * w * c
    return "K_h·K_w·(C / G)", f"{h}·{w}·({c} / {g})", h * w * (c // g)


def _group_note(c: int, f: int, g: int) -> list[str]:
    if g == 1:
        return []
    return [f"with {g} groups each filter sees only C / G = {c // g} of the {c} channels; "
            f"{f // g} filters per group"]


def conv_parameters(filter_size, num_channels, num_filters, *, groups=1, bias=True) -> Result:
    """Learnable numbers of a convolution: K_h·K_w·(C / G)·F weights + F biases.

    ``bias=False`` (a convolution without bias, as ResNet and MobileNet use before batch
    normalization): K_h·K_w·(C / G)·F weights only.

    >>> conv_parameters(5, 3, 8).substituted
    '(5·5·3 + 1)·8 = 76·8 = 608'
    >>> conv_parameters(5, 1, 10).value
    260
    >>> conv_parameters(3, 64, 64, bias=False).substituted
    '3·3·64·64 = 576·64 = 36,864'
    """
    func = "conv_parameters"
    h, w = filter_hw(func, filter_size)
    c, f, g = _grouped(func, num_channels, num_filters, groups)
    sym, sub, per = _per_filter(h, w, c, g)
    if not bias:
        total = per * f
        notes = [f"each filter has {sub} = {n(per)} weights and no bias",
                 f"{f} filters: {n(total)} weights; the layer has no bias (it adds a fixed 0, "
                 "nothing to learn)"] + _group_note(c, f, g)
        return Result(total, None, f"{sym}·F", f"{sub}·{f} = {n(per)}·{f} = {n(total)}", notes)
    total = (per + 1) * f
    notes = [f"each filter has {sub} = {n(per)} weights and 1 bias: {n(per + 1)} learnable "
             "numbers",
             f"{f} filters: {n(per * f)} weights + {f} biases = {n(total)}"] + _group_note(c, f, g)
    text = f"({sub} + 1)·{f} = {n(per + 1)}·{f} = {n(total)}"
    return Result(total, None, f"({sym} + 1)·F", text, notes)


def transposed_conv_parameters(filter_size, num_channels, num_filters) -> Result:
    """Learnable numbers of a transposed convolution: K_h·K_w·F·C weights + F biases.

    >>> transposed_conv_parameters(4, 3, 16).value
    784
    >>> transposed_conv_parameters((2, 3), 4, 5).substituted
    '2·3·5·4 + 5 = 120 + 5 = 125'
    """
    func = "transposed_conv_parameters"
    h, w = filter_hw(func, filter_size)
    c = positive_int(func, "num_channels", num_channels)
    f = positive_int(func, "num_filters", num_filters)
    weights = h * w * f * c
    notes = [f"the weights form a {h}×{w}×{f}×{c} array (K_h×K_w×F×C: filters before "
             "channels, the reverse of a convolution), plus one bias per filter",
             f"those are the weights of the convolution from F = {f} to C = {c} channels whose "
             f"input gradient this layer computes, but the biases belong to the F = {f} output "
             f"channels here: not that convolution's (K_h·K_w·F + 1)·C = "
             f"{n((h * w * f + 1) * c)}"]
    return Result(weights + f, None, "K_h·K_w·F·C + F",
                  f"{h}·{w}·{f}·{c} + {f} = {n(weights)} + {f} = {n(weights + f)}", notes)


def fc_parameters(input_size, output_size) -> Result:
    """Learnable numbers of a fully connected layer: (N_in + 1)·N_out.

    ``input_size`` may be a shape, e.g. (14, 14, 10), whose product is the number of inputs.

    >>> fc_parameters((10, 14, 14), 200).substituted
    'N_in = 10·14·14 = 1,960; (1,960 + 1)·200 = 1,961·200 = 392,200'
    """
    func = "fc_parameters"
    i, shown = size_product(func, "input_size", input_size)
    o = positive_int(func, "output_size", output_size)
    pre = f"N_in = {shown}; " if shown != n(i) else ""
    notes = [f"each of the {n(o)} neurons has {n(i)} weights + 1 bias = {n(i + 1)}",
             f"{n(i * o)} weights + {n(o)} biases"]
    return Result((i + 1) * o, None, "(N_in + 1)·N_out",
                  f"{pre}({n(i)} + 1)·{n(o)} = {n(i + 1)}·{n(o)} = {n((i + 1) * o)}", notes)


def batchnorm_parameters(num_channels) -> Result:
    """Learnable numbers of batch normalization: 2·C (a scale and an offset per channel).

    >>> batchnorm_parameters(16).value
    32
    """
    c = positive_int("batchnorm_parameters", "num_channels", num_channels)
    notes = ["one learnable scale (γ) and one learnable offset (β) per channel",
             f"batch normalization also keeps a running mean and variance per channel, another "
             f"2·C = {n(2 * c)} numbers, but they are statistics of the data, not learned by "
             "gradient descent, so they are not counted"]
    return Result(2 * c, None, "2·C", f"2·{c} = {n(2 * c)}", notes)


def neurons(height, width, channels) -> Result:
    """Neurons (activations) of a layer's output: H·W·C.

    >>> neurons(16, 16, 8).value
    2048
    """
    func = "neurons"
    h = positive_int(func, "height", height)
    w = positive_int(func, "width", width)
    c = positive_int(func, "channels", channels)
    return Result(h * w * c, None, "H·W·C", f"{h}·{w}·{c} = {n(h * w * c)}",
                  ["one activation per position per channel, for each image"])


def conv_connections(out_h, out_w, filter_size, num_channels, num_filters, *,
                     groups=1, bias=True) -> Result:
    """Connections of a convolution: (K_h·K_w·C / G + 1)·F·O_h·O_w (the +1 is the bias;
    without a bias, ``bias=False``, it is left out).

    >>> conv_connections(28, 28, 5, 1, 10).value
    203840
    >>> conv_connections(28, 28, 5, 1, 10, bias=False).value
    196000
    """
    func = "conv_connections"
    oh = positive_int(func, "out_h", out_h)
    ow = positive_int(func, "out_w", out_w)
    h, w = filter_hw(func, filter_size)
    c, f, g = _grouped(func, num_channels, num_filters, groups)
    sym, sub, per = _per_filter(h, w, c, g)
    if not bias:
        total = per * f * oh * ow
        notes = [f"each of the {oh}·{ow}·{f} = {n(oh * ow * f)} output neurons receives "
                 f"{n(per)} input connections (no bias)",
                 f"weight sharing: all these connections use only {n(per * f)} distinct "
                 "parameters"] + _group_note(c, f, g)
        return Result(total, None, f"{sym}·F·O_h·O_w",
                      f"{sub}·{f}·{oh}·{ow} = {n(per)}·{f}·{n(oh * ow)} = {n(total)}", notes)
    total = (per + 1) * f * oh * ow
    notes = [f"each of the {oh}·{ow}·{f} = {n(oh * ow * f)} output neurons receives {n(per)} "
             f"input connections plus 1 from its bias: {n(per + 1)}",
             f"the +1 counts the bias as a connection, as the crash-course article does; "
             f"without it: {n(per * f * oh * ow)}",
             f"weight sharing: all these connections use only {n((per + 1) * f)} distinct "
             "parameters"] + _group_note(c, f, g)
    return Result(total, None, f"({sym} + 1)·F·O_h·O_w",
                  f"({sub} + 1)·{f}·{oh}·{ow} = {n(per + 1)}·{f}·{n(oh * ow)} = {n(total)}",
                  notes)


def fc_connections(input_size, output_size) -> Result:
    """Connections of a fully connected layer: (N_in + 1)·N_out (the +1 is the bias).

    >>> fc_connections(1960, 200).value
    392200
    """
    func = "fc_connections"
    i, shown = size_product(func, "input_size", input_size)
    o = positive_int(func, "output_size", output_size)
    pre = f"N_in = {shown}; " if shown != n(i) else ""
    notes = ["every connection has its own weight, so connections = parameters",
             f"the +1 counts the bias as a connection; without it: {n(i * o)}"]
    return Result((i + 1) * o, None, "(N_in + 1)·N_out",
                  f"{pre}({n(i)} + 1)·{n(o)} = {n(i + 1)}·{n(o)} = {n((i + 1) * o)}", notes)


def conv_multiply_adds(out_h, out_w, filter_size, num_channels, num_filters, *,
                       groups=1) -> Result:
    """Multiply-adds of a convolution per image: O_h·O_w·F·K_h·K_w·C / G (biases not counted).

    >>> conv_multiply_adds(16, 16, 5, 3, 8).value
    153600
    """
    func = "conv_multiply_adds"
    oh = positive_int(func, "out_h", out_h)
    ow = positive_int(func, "out_w", out_w)
    h, w = filter_hw(func, filter_size)
    c, f, g = _grouped(func, num_channels, num_filters, groups)
    sym, sub, per = _per_filter(h, w, c, g)
    total = oh * ow * f * per
    notes = [f"one multiply-add per weight for each of the {n(oh * ow * f)} outputs; the "
             f"{n(oh * ow * f)} bias additions are not counted"] + _group_note(c, f, g)
    return Result(total, None, f"O_h·O_w·F·{sym}",
                  f"{oh}·{ow}·{f}·{sub} = {n(oh * ow * f)}·{n(per)} = {n(total)}", notes)


def transposed_conv_multiply_adds(in_h, in_w, filter_size, num_channels, num_filters) -> Result:
    """Multiply-adds of a transposed convolution per image: H·W·C·K_h·K_w·F.

    Every input value is multiplied by every weight of its channel and added into the output
    (the border a layer crops afterwards is computed too; biases not counted).

    >>> transposed_conv_multiply_adds(7, 7, 4, 16, 8).value
    100352
    """
    func = "transposed_conv_multiply_adds"
    ih = positive_int(func, "in_h", in_h)
    iw = positive_int(func, "in_w", in_w)
    h, w = filter_hw(func, filter_size)
    c = positive_int(func, "num_channels", num_channels)
    f = positive_int(func, "num_filters", num_filters)
    total = ih * iw * c * h * w * f
    notes = [f"each of the {n(ih * iw * c)} input values scatters one product per weight of "
             f"its channel ({n(h * w * f)}); the cropped border is computed too, the "
             f"{n(f)} bias additions per output pixel are not counted"]
    return Result(total, None, "H·W·C·K_h·K_w·F",
                  f"{ih}·{iw}·{c}·{h}·{w}·{f} = {n(total)}", notes)


def fc_multiply_adds(input_size, output_size) -> Result:
    """Multiply-adds of a fully connected layer per image: N_in·N_out (biases not counted).

    >>> fc_multiply_adds(1960, 200).value
    392000
    """
    func = "fc_multiply_adds"
    i, shown = size_product(func, "input_size", input_size)
    o = positive_int(func, "output_size", output_size)
    pre = f"N_in = {shown}; " if shown != n(i) else ""
    return Result(i * o, None, "N_in·N_out", f"{pre}{n(i)}·{n(o)} = {n(i * o)}",
                  [f"one multiply-add per weight; the {n(o)} bias additions are not counted"])
