"""Which input positions reach a given set of output positions, along one axis, exactly.

``receptive.py`` gives the textbook recurrence (size, jump, start): one size for every output,
the window running on into the padding. A particular neuron's field is a *set* of positions,
and these functions compute it layer by layer, per axis (height and width separately: every
layer here acts on the two axes independently, so a field is rows × columns).

Convolution and pooling (kernel K taps, stride S, dilation D, padding P before): output o
reads the padded-input coordinates

    q = o·S - P + k·D,   k = 0 .. K-1     (the window o·S - P .. o·S - P + (K - 1)·D)

A coordinate inside the input (0 <= q <= n - 1) is the input position q. A padding coordinate
is a constant (zero, or -inf for max pooling) and reaches nothing, unless the padding copies
the input ("replicate", "symmetric-...": then it is the input row it copies, the same
``kernels.padding.source_index`` the layers pad with).

Transposed convolution (kernel K taps, stride S, dilation D, cropping C before): input i paints
the full output at i·S + k·D; after cropping, output o is full position o + C. So output o
receives input i exactly when o + C - i·S = k·D for some tap 0 <= k <= K - 1; with D = 1

    i from ceil((o + C - K + 1) / S) to floor((o + C) / S),   clipped to 0 .. n - 1.

There is no padding: positions outside the input do not exist. When S > K some outputs
receive no input at all (only the bias).

>>> conv_input_span([0, 1], 6, 3, stride=2, padding=1).value
InputSpan(indices=(0, 1, 2, 3), first=-1, last=3)
>>> transposed_conv_input_span([4], 4, 3, stride=2).value
InputSpan(indices=(1, 2), first=1, last=2)
"""
from __future__ import annotations

from typing import NamedTuple

from ._core import Result
from .checks import nonnegative_int, positive_int, sides
from .formatting import format_number as n
from .formatting import plural
from .sizes import conv_output_size, transposed_conv_output_size

CONV_FORMULA = "q = o·S - P + k·D, k = 0 .. K - 1; input positions are 0 <= q <= n - 1"
TRANSPOSED_FORMULA = ("o + C - i·S = k·D, k = 0 .. K - 1; with D = 1: i from "
                      "ceil((o + C - K + 1) / S) to floor((o + C) / S), 0 <= i <= n - 1")


class InputSpan(NamedTuple):
    """What a set of outputs reads of one layer's input, along one axis.

    indices : the input positions that reach them, sorted (padding that copies the input is
        counted as the position it copies; constant padding reaches nothing);
    first, last : the window the layer reads, inclusive, in input coordinates before clipping
        (negative, or past n - 1, where it runs into the padding); None when nothing is read.

    >>> span = conv_input_span([2], 4, 3, padding=1).value    # output 2 reads 1..3
    >>> span.indices, span.first, span.last
    ((1, 2, 3), 1, 3)
    """
    indices: tuple
    first: int | None
    last: int | None


def _outputs(func: str, outputs, size: int) -> list[int]:
    """The output positions as sorted distinct ints, each checked against the output size."""
    if isinstance(outputs, (int, bool)) or not hasattr(outputs, "__iter__"):
        outputs = [outputs]
    found = sorted({nonnegative_int(func, "outputs", o) for o in outputs})
    if found and found[-1] >= size:
        raise ValueError(f"{func}: outputs contains {found[-1]}, outside the {size} output "
                         f"positions 0..{size - 1}")
    return found


def _span_text(outs) -> str:
    if not outs:
        return "no outputs"
    return f"output {outs[0]}" if len(outs) == 1 else f"outputs {outs[0]}..{outs[-1]}"


def conv_input_span(outputs, input_size, kernel, *, stride=1, dilation=1, padding=0,
                    padding_value=0) -> Result:
    """The input positions (and window) read by ``outputs`` of a convolution or pooling axis.

    kernel : the number of taps K (not the dilated span); padding : P or (before, after);
    padding_value : a number (constant padding, reaches no input) or a padding mode of
    ``cnnlab.kernels.padding`` ("replicate", "symmetric-include-edge",
    "symmetric-exclude-edge"), whose padded cells are copies of input positions.

    >>> r = conv_input_span([0], 5, 2, dilation=3, padding=2)
    >>> r.value                        # taps at -2 (padding) and 1
    InputSpan(indices=(1,), first=-2, last=1)
    >>> conv_input_span([0], 5, 3, padding=2, padding_value="symmetric-exclude-edge").value
    InputSpan(indices=(0, 1, 2), first=-2, last=0)
    """
    func = "conv_input_span"
    size = positive_int(func, "input_size", input_size)
    k = positive_int(func, "kernel", kernel)
    s = positive_int(func, "stride", stride)
    d = positive_int(func, "dilation", dilation)
    before, after = sides(func, "padding", padding)
    o_size = conv_output_size(size, k, stride=s, padding=(before, after), dilation=d).value
    outs = _outputs(func, outputs, o_size)
    reach = set()
    for o in outs:
        for tap in range(k):
            reach.add(o * s - before + tap * d)
    inside = {q for q in reach if 0 <= q < size}
    notes = []
    padded = sorted(q for q in reach if not 0 <= q < size)
    if padded and isinstance(padding_value, str):
        # a copying padding mode: each padded cell is the input position it copies
        from ..kernels.padding import source_index
        source = source_index(size, before, after, padding_value)
        inside |= {int(source[q + before]) for q in padded}
        notes.append(f"{plural(len(padded), 'padding cell')} read copy input positions "
                     f"({padding_value})")
    elif padded:
        notes.append(f"{plural(len(padded), 'padding cell')} read hold the constant "
                     f"{padding_value!r}: they reach no input")
    if outs and not inside:
        notes.append(f"{_span_text(outs)} read only padding: no input position reaches them")
    first = outs[0] * s - before if outs else None
    last = outs[-1] * s - before + (k - 1) * d if outs else None
    if outs:
        substituted = (f"{_span_text(outs)}: first = {outs[0]}·{s} - {before} = {n(first)}, "
                       f"last = {outs[-1]}·{s} - {before} + ({k} - 1)·{d} = {n(last)}; "
                       f"{plural(len(inside), 'input position')} of 0..{size - 1} reached")
    else:
        substituted = "no outputs: nothing is read"
    return Result(InputSpan(tuple(sorted(inside)), first, last), None, CONV_FORMULA,
                  substituted, tuple(notes))


def transposed_conv_input_span(outputs, input_size, kernel, *, stride=1, cropping=0,
                               dilation=1) -> Result:
    """The input positions that paint ``outputs`` of a transposed convolution, along one axis.

    kernel : the number of taps K; cropping : C or (before, after); dilation : D (1 for
    cnnlab's layer). ``first``/``last`` are the smallest and largest position reached (there
    is no padding to run into).

    >>> transposed_conv_input_span([0, 1], 8, 3, stride=2, cropping=1).value
    InputSpan(indices=(0, 1), first=0, last=1)
    >>> r = transposed_conv_input_span([1], 4, 1, stride=2)      # stride 2 > kernel 1
    >>> r.value
    InputSpan(indices=(), first=None, last=None)
    >>> print(r.notes[0])
    output 1 receives no input (only the bias): stride 2 > the 1-tap kernel leaves gaps
    """
    func = "transposed_conv_input_span"
    size = positive_int(func, "input_size", input_size)
    k = positive_int(func, "kernel", kernel)
    s = positive_int(func, "stride", stride)
    d = positive_int(func, "dilation", dilation)
    before, after = sides(func, "cropping", cropping)
    # the layer's kernel spans (K - 1)·D + 1 output positions; the size formula takes that span
    o_size = transposed_conv_output_size(size, (k - 1) * d + 1, stride=s,
                                         cropping=(before, after)).value
    outs = _outputs(func, outputs, o_size)
    reach = set()
    lines = []
    for o in outs:
        full = o + before                     # the position in the uncropped output
        if d == 1:
            lo, hi = -((k - 1 - full) // s), full // s       # ceil((full-K+1)/S), floor(full/S)
            got = range(max(lo, 0), min(hi, size - 1) + 1)
            if len(lines) < 2:
                lines.append(f"o = {o}: i from ceil(({o} + {before} - {k} + 1) / {s}) = {lo} "
                             f"to floor(({o} + {before}) / {s}) = {hi}")
        else:
            got = [(full - tap * d) // s for tap in range(k)
                   if (full - tap * d) % s == 0 and 0 <= (full - tap * d) // s < size]
        reach.update(got)
    idx = tuple(sorted(reach))
    notes = []
    if outs and not idx:
        notes.append(f"{_span_text(outs)} receives no input (only the bias)"
                     + (f": stride {s} > the {k}-tap kernel leaves gaps" if s > (k - 1) * d + 1
                        else ""))
    substituted = "; ".join(lines) if lines else "no outputs: nothing is read"
    if len(outs) > 2 and d == 1:
        substituted += f"; ... ({len(outs)} outputs)"
    substituted += f"; {plural(len(idx), 'input position')} of 0..{size - 1} reached"
    return Result(InputSpan(idx, idx[0] if idx else None, idx[-1] if idx else None), None,
                  TRANSPOSED_FORMULA, substituted, tuple(notes))
