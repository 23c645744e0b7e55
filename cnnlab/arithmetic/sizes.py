"""Output sizes along one axis: convolution, pooling, transposed convolution, 'same' padding.

Every function works on ONE axis (height or width); call it twice for a 2-D layer.
Symbols: I input size, K filter (or pool) size, D dilation, S stride, P padding, C cropping,
O output size.
"""
from __future__ import annotations

from ._core import Result
from .checks import positive_int, sides
from .formatting import format_number as n
from .formatting import lines_cols, plural

CONV_FORMULA = "floor((I - ((K - 1)·D + 1) + P_before + P_after) / S) + 1"
POOL_FORMULA = "floor((I - K + P_before + P_after) / S) + 1"
SAME_FORMULA = ("O = ceil(I / S); P_total = max((O - 1)·S + ((K - 1)·D + 1) - I, 0); "
                "P_before = floor(P_total / 2); P_after = P_total - P_before")
TRANSPOSED_FORMULA = "(I - 1)·S + K - C_before - C_after"


def effective_filter_size(k, dilation=1) -> Result:
    """The span of a dilated filter: (K - 1)·D + 1.

    >>> effective_filter_size(3, 2).value
    5
    >>> effective_filter_size(3, 4).substituted
    '(3 - 1)·4 + 1 = 2·4 + 1 = 9'
    """
    func = "effective_filter_size"
    k = positive_int(func, "k (filter size)", k)
    d = positive_int(func, "dilation", dilation)
    e = (k - 1) * d + 1
    if k == 1:
        notes = ["a 1-tap filter spans 1 position whatever the dilation"]
    elif d == 1:
        notes = [f"with dilation 1 the {k} taps are adjacent: the filter spans its own size"]
    else:
        notes = [f"the filter still has {k} taps (weights); neighbouring taps are {d} apart, "
                 f"with {plural(d - 1, 'skipped position')} between them, so it spans {e}",
                 f"for comparison: dilation {d - 1} spans {(k - 1) * (d - 1) + 1} and dilation "
                 f"{d + 1} spans {(k - 1) * (d + 1) + 1}"]
    return Result(e, None, "(K - 1)·D + 1", f"({k} - 1)·{d} + 1 = {k - 1}·{d} + 1 = {e}", notes)


def check_window_fits(who: str, inputs, kernels, pads, dilations=None) -> tuple:
    """The effective window sizes, per axis, unless a window is larger than the padded input
    on some axis; then the one "no window fits" ValueError of cnnlab, starting with ``who``
    (a function name, or "<layer label>: <parameter> = <value>" for a layer).

    inputs, kernels : one size per axis (1 axis for the per-axis functions, 2 for a layer);
    pads : one (before, after) pair per axis; dilations : one per axis for a convolution,
    None for pooling (its window has no holes).

    >>> check_window_fits("f", (8,), (3,), ((1, 1),), (2,))
    (5,)
    >>> check_window_fits("Convolution2D layer: filter_size = (7, 7)", (8, 8), (7, 7),
    ...                   ((1, 1), (1, 1)), (2, 2))
    Traceback (most recent call last):
        ...
    ValueError: Convolution2D layer: filter_size = (7, 7): with dilation (2, 2) the filter spans 13x13 ((7 - 1)·2 + 1 by (7 - 1)·2 + 1), larger than the padded input 10x10 (8 + 1 + 1 by 8 + 1 + 1)
    """
    pool = dilations is None
    dilations = (1,) * len(kernels) if pool else tuple(dilations)
    spans = tuple((k - 1) * d + 1 for k, d in zip(kernels, dilations))    # (K - 1)·D + 1
    padded = tuple(i + b + a for i, (b, a) in zip(inputs, pads))
    if all(e <= p for e, p in zip(spans, padded)):
        return spans
    by = " by ".join
    padded_sums = by(f"{i} + {b} + {a}" for i, (b, a) in zip(inputs, pads))
    if len(spans) == 1:         # one axis: the per-axis arithmetic's sentence
        e, (k,), (d,) = spans[0], kernels, dilations
        what = f"pool size {e}" if pool else f"effective filter size {e} (({k} - 1)·{d} + 1)"
        raise ValueError(f"{who}: {what} is larger than the padded input size {padded[0]} "
                         f"({padded_sums}); no window fits")
    x = "x".join
    if pool:
        what = f"the {x(map(str, kernels))} window is"
    else:
        what = (f"with dilation {dilations} the filter spans {x(map(str, spans))} ("
                + by(f"({k} - 1)·{d} + 1" for k, d in zip(kernels, dilations)) + "),")
    raise ValueError(f"{who}: {what} larger than the padded input {x(map(str, padded))} "
                     f"({padded_sums})")


def _starts(o: int, s: int) -> str:
    """How the window start positions read: '0', '0 and 2', '0, 2, …, 30'."""
    if o == 1:
        return "the only window starts at 0"
    if o == 2:
        return f"windows start at 0 and {s}"
    return f"windows start at 0, {s}, …, {n((o - 1) * s)}"


def _padding(func: str, padding, i: int, k: int, s: int, d: int):
    """(before, after, note or None) from an int, a pair, or 'same'."""
    if isinstance(padding, str):
        if padding != "same":
            raise ValueError(f"{func}: padding = {padding!r} is not understood; use an integer, "
                             "a (before, after) pair or 'same'")
        b, a = same_padding(i, k, stride=s, dilation=d).value
        return b, a, (f"'same' padding: {b} before and {a} after make the output "
                      f"ceil({i} / {s}) = {-(-i // s)}")
    b, a = sides(func, "padding", padding)
    return b, a, None


def _windows(func: str, i, k, stride, padding, dilation, *, pool: bool) -> Result:
    """The sliding-window output size shared by convolution and pooling."""
    what = "pool size" if pool else "filter size"
    i = positive_int(func, "i (input size)", i)
    k = positive_int(func, f"k ({what})", k)
    s = positive_int(func, "stride", stride)
    d = 1 if pool else positive_int(func, "dilation", dilation)
    b, a, same_note = _padding(func, padding, i, k, s, d)
    (e,) = check_window_fits(func, (i,), (k,), ((b, a),), None if pool else (d,))
    length = i + b + a
    num = length - e
    o, rem = num // s + 1, num % s
    steps = [] if pool else [f"floor(({i} - (({k} - 1)·{d} + 1) + {b} + {a}) / {s}) + 1"]
    steps += [f"floor(({i} - {e} + {b} + {a}) / {s}) + 1", f"floor({n(num)} / {s}) + 1",
              f"floor({n(num / s)}) + 1" if rem else f"{n(num // s)} + 1", n(o)]
    notes = [same_note] if same_note else []
    if d > 1:
        notes.append(f"dilation {d}: the {k}-tap filter spans {e} positions")
    last = (o - 1) * s
    if rem == 0:
        notes.append(f"{n(num)} / {s} is a whole number: {_starts(o, s)}, and the last window "
                     f"ends exactly on the last position of the padded input ({n(length)} long), "
                     "so nothing is discarded")
    else:
        unused_pad = min(rem, a)
        real = rem - unused_pad
        where = (f"positions {n(length - rem)}..{n(length - 1)}" if rem > 1
                 else f"position {n(length - 1)}")
        text = (f"{n(num)} / {s} + 1 = {n(num / s + 1)} is not a whole number, so it is floored "
                f"to {n(o)}. The padded input is {n(length)} long ({b} + {n(i)} + {a}); "
                f"{_starts(o, s)} and the last one covers positions {n(last)}..{n(last + e - 1)}, "
                f"so the last {lines_cols(rem)} at the bottom/right ({where}) "
                f"{'is' if rem == 1 else 'are'} never visited by any window. ")
        if real == 0:
            text += ("That is padding, so no input is lost: only some of the outermost padding "
                     "on the bottom/right is discarded.")
        elif unused_pad == 0:
            text += (f"{'It is' if rem == 1 else 'They are'} real input: the last "
                     f"{lines_cols(real)} of the input {'is' if real == 1 else 'are'} ignored.")
        else:
            text += (f"{n(unused_pad)} of them {'is' if unused_pad == 1 else 'are'} padding and "
                     f"{n(real)} {'is' if real == 1 else 'are'} real input: the last "
                     f"{lines_cols(real)} of the input {'is' if real == 1 else 'are'} ignored.")
        notes.append(text)
    if pool and k > s:
        notes.append(f"windows overlap: pool size {k} > stride {s}, so neighbouring windows "
                     f"share {plural(k - s, 'position')}")
    elif pool and k == s:
        notes.append(f"pool size = stride = {s}: windows tile the input without overlap or gaps")
    if s > e:
        span = what if pool else "effective filter size"
        notes.append(f"windows skip inputs: the stride {s} is larger than the {span} {e}, so"
                     f" {plural(s - e, 'position')} between neighbouring windows "
                     f"{'is' if s - e == 1 else 'are'} never read")
    if b >= e or last >= b + i:
        notes.append("at least one window lies entirely in the padding and sees no input")
    return Result(o, num / s + 1, POOL_FORMULA if pool else CONV_FORMULA, " = ".join(steps), notes,
                  quotient=num / s)


def conv_output_size(i, k, *, stride=1, padding=0, dilation=1) -> Result:
    """Convolution output size along one axis.

    floor((I - ((K - 1)·D + 1) + P_before + P_after) / S) + 1. ``padding`` is an int (both
    sides), a (before, after) pair, or "same" (output ceil(I / S), see ``same_padding``).

    ``unfloored`` is the size before the floor, ``quotient`` the division inside it:

    >>> r = conv_output_size(32, 5, stride=2, padding=2)
    >>> r.value, r.unfloored, r.quotient
    (16, 16.5, 15.5)
    >>> conv_output_size(28, 6, stride=4, padding=1).value   # height: filter 6, padding 1
    7
    """
    return _windows("conv_output_size", i, k, stride, padding, dilation, pool=False)


def pool_output_size(i, k, *, stride=1, padding=0) -> Result:
    """Pooling output size along one axis: floor((I - K + P_before + P_after) / S) + 1.

    ``padding`` is an int, a (before, after) pair, or "same". Notes say whether windows
    overlap (K > S) or skip inputs (S > K).

    >>> pool_output_size(28, 2, stride=2).value
    14
    >>> pool_output_size(13, 3, stride=2).notes[-1]
    'windows overlap: pool size 3 > stride 2, so neighbouring windows share 1 position'
    """
    return _windows("pool_output_size", i, k, stride, padding, 1, pool=True)


def same_padding(i, k, *, stride=1, dilation=1) -> Result:
    """The (before, after) padding that makes a convolution's output ceil(I / S) (MATLAB rule).

    Total padding max((O - 1)·S + ((K - 1)·D + 1) - I, 0); before = floor(total / 2), the
    odd remainder goes after (bottom/right). ``unfloored`` and ``quotient`` are I / S,
    before the ceiling.

    >>> same_padding(5, 4).value
    (1, 2)
    >>> same_padding(28, 3, stride=2).value
    (0, 1)
    """
    func = "same_padding"
    i = positive_int(func, "i (input size)", i)
    k = positive_int(func, "k (filter size)", k)
    s = positive_int(func, "stride", stride)
    d = positive_int(func, "dilation", dilation)
    e = (k - 1) * d + 1
    o = -(-i // s)
    raw = (o - 1) * s + e - i
    total = max(raw, 0)
    b = total // 2
    a = total - b
    text = (f"O = ceil({i} / {s}) = {o}; P_total = max(({o} - 1)·{s} + (({k} - 1)·{d} + 1) - "
            f"{i}, 0) = max({raw}, 0) = {total}; P_before = floor({total} / 2) = {b}; "
            f"P_after = {total} - {b} = {a}")
    notes = [f"the output will be ceil({i} / {s}) = {o}"
             + (": with stride 1 it equals the input size" if s == 1 else "")]
    if raw < 0:
        notes.append(f"no padding is needed: ({o} - 1)·{s} + {e} = {raw + i} already fits "
                     f"inside the input of {i}")
    elif total % 2:
        notes.append(f"the total {total} is odd: the extra row/column goes after (bottom/right), "
                     f"{b} before and {a} after")
    elif total:
        notes.append(f"the total {total} is even: {b} on each side")
    return Result((b, a), i / s, SAME_FORMULA, text, notes, quotient=i / s)


def transposed_conv_output_size(i, k, *, stride=1, cropping=0) -> Result:
    """Transposed convolution output size along one axis: (I - 1)·S + K - C_before - C_after.

    ``cropping`` is an int (both sides), a (before, after) pair, or "same" (output I·S; crops
    K - S in total, the odd one on the bottom/right).

    >>> transposed_conv_output_size(8, 4, stride=2, cropping=1).value
    16
    >>> transposed_conv_output_size(3, 3, stride=2, cropping="same").value
    6
    """
    func = "transposed_conv_output_size"
    i = positive_int(func, "i (input size)", i)
    k = positive_int(func, "k (filter size)", k)
    s = positive_int(func, "stride", stride)
    full = (i - 1) * s + k
    notes = [f"uncropped output ({i} - 1)·{s} + {k} = {n(full)}: each of the {plural(i, 'input')} "
             f"adds a {k}-long copy of the filter, copies {s} apart"]
    if isinstance(cropping, str):
        if cropping != "same":
            raise ValueError(f"{func}: cropping = {cropping!r} is not understood; use an integer, "
                             "a (before, after) pair or 'same'")
        if k < s:
            raise ValueError(f"{func}: cropping = 'same' needs the filter size to be at least "
                             f"the stride: K - S = {k} - {s} = {k - s} is negative")
        cb = (k - s) // 2
        ca = k - s - cb
        notes.append(f"'same' cropping removes K - S = {k - s} ({cb} before, {ca} after"
                     + (", the odd one on the bottom/right" if (k - s) % 2 else "")
                     + f") so the output is I·S = {n(i * s)}")
    else:
        cb, ca = sides(func, "cropping", cropping)
    o = full - cb - ca
    if o <= 0:
        raise ValueError(f"{func}: cropping {cb} + {ca} leaves no output: ({i} - 1)·{s} + {k} - "
                         f"{cb} - {ca} = {o}")
    if s > k:
        notes.append(f"the stride {s} is larger than the filter size {k}: between neighbouring "
                     f"copies {plural(s - k, 'position')} "
                     f"{'receives' if s - k == 1 else 'receive'} nothing from the input "
                     "(only the bias)")
    elif k > s:
        notes.append(f"neighbouring copies overlap by {plural(k - s, 'position')}; overlapping "
                     "contributions are added")
    text = f"({i} - 1)·{s} + {k} - {cb} - {ca} = {i - 1}·{s} + {k} - {cb + ca} = {n(o)}"
    return Result(o, None, TRANSPOSED_FORMULA, text, notes)
