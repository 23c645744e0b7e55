"""The filters of a convolution layer: one small map per filter and input channel.

Reads a convolution ``LayerRecord`` (``.weights`` FH×FW×(C/G)×F, ``.effective_weights``,
``.bias``, ``.channels_of(f)``, ``.dilation``) or a built ``Convolution2D`` layer (its
``params`` and properties). Rows are filters, columns the input channels each filter sees
(with groups, filter f sees only its group's channels: the panel titles say which).

Layout: each filter is a block of panels, one per input channel it sees, and the blocks are
laid out in rows like a page of text (as many per row as fit ``max_width`` inches, the rows
balanced), so six single-channel 5×5 filters make a 3×2 grid with room for readable numbers
(cells wide enough for 9-point numbers).

Colours: the diverging map of every cnnlab weight picture (``canvas.WEIGHTS``, PuOr,
colour-blind safe) centred on 0, with one symmetric range for the whole picture, so a
weight's colour means the same in every panel. Small filters (at most
5×5 taps, at most 24 panels) have their numbers written in. ``effective=True`` draws the
dilated filter: the taps in place and the holes between them white and cross-hatched (as in
the convolution step picture).
"""
from __future__ import annotations

import numpy as np
from matplotlib.patches import Rectangle

from .. import arithmetic as ar
from ..arithmetic.formatting import cell, fixed
from .canvas import WEIGHTS as CMAP
from .network_view import shape_text
from .style import Picture, figure, font, inches


def _filter_data(source):
    """(weights, effective weights, bias, dilation, channels_of, name) from a LayerRecord or a
    conv layer: what the record holds, or the layer's own parameters and properties."""
    if hasattr(source, "weights") and hasattr(source, "channels_of"):
        return (np.asarray(source.weights), np.asarray(source.effective_weights),
                np.asarray(source.bias), tuple(source.dilation), source.channels_of,
                source.name)
    params = getattr(source, "params", {})
    if "weights" not in params or getattr(source, "kind", "") != "conv":
        raise ValueError(f"filters_figure: {source!r} is not a convolution layer or record "
                         "(it needs FH×FW×(C/G)×F weights)")
    w = np.asarray(params["weights"])

    def channels_of(f):
        return list(ar.group_channels(f, num_filters=source.num_filters, groups=source.groups,
                                      channels_per_group=w.shape[2]))
    return (w, source.effective_weights(), np.asarray(source.bias), tuple(source.dilation),
            channels_of, source.name)


def filters_figure(source, *, filters=None, max_filters: int = 8, max_channels: int = 6,
                   effective: bool = False, numbers=None, panel_inches: float = 1.0,
                   max_width: float = 7.5, dpi: int = 100) -> Picture:
    """A page of filter weight maps: one block per filter, one panel per input channel.

    ``filters``: which filter indices to draw (default the first ``max_filters``);
    ``max_channels``: input channels per filter; ``numbers``: write the weights in the cells
    (default: when the filter has at most 25 taps and the picture at most 24 panels);
    ``max_width``: inches a row of blocks may take (a block wider than that gets its own row).
    """
    w, dilated, bias, (dh, dw), channels_of, name = _filter_data(source)
    fh, fw, cg, f = w.shape
    chosen = list(range(min(f, max_filters))) if filters is None else list(filters)
    for k in chosen:
        if not 0 <= k < f:
            raise ValueError(f"filters_figure: filter index {k} is outside 0..{f - 1}")
    shown_c = min(cg, max_channels)
    if numbers is None:
        numbers = fh * fw <= 25 and len(chosen) * shown_c <= 24
    eh, ew = dilated.shape[:2]                  # (FH - 1)·dh + 1 by (FW - 1)·dw + 1
    taps = ar.dilated_taps((fh, fw), (dh, dw))  # where the taps sit; the rest are holes
    side = max(eh, ew) if effective else max(fh, fw)
    if numbers:          # cells 0.45 in wide: a 5-character number at 9 points fits
        panel_inches = max(panel_inches, 0.45 * side)
    limit = float(np.max(np.abs(w[..., chosen]))) if w.size else 1.0
    limit = limit if limit > 0 else 1.0
    # blocks of shown_c panels; as many per row as fit, the rows balanced (8 -> 4 + 4)
    gap, label_h, head_h, margin = 0.25, 0.42 if cg > 1 else 0.3, 0.95, 0.15
    block_w = shown_c * panel_inches + (shown_c - 1) * 0.08
    per_row = max(1, min(len(chosen), int((max_width + gap) // (block_w + gap))))
    rows = -(-len(chosen) // per_row)
    per_row = -(-len(chosen) // rows)
    width = max(2 * margin + per_row * block_w + (per_row - 1) * gap, 4.6)
    height = head_h + rows * (label_h + panel_inches + 0.12) + margin
    fig = figure(width, height, dpi=dpi)

    def rect(x, y_top, w_, h_):     # inches from the top-left corner -> figure fractions
        return (x / width, 1 - (y_top + h_) / height, w_ / width, h_ / height)

    what = (f"dilated {fh}×{fw} filter spans {eh}×{ew} (holes hatched)" if effective and
            (dh, dw) != (1, 1) else f"weights {shape_text(w.shape)} (FH×FW×C/G×F)")
    fig.suptitle(f"{name}: {what}\ncolour: purple positive, orange negative, 0 white",
                 fontsize=font(10), x=0.02, ha="left", y=1 - 0.06 / height, va="top")
    # one colour bar for the whole page: one symmetric range, the same in every panel
    bar = fig.add_axes(rect(margin + 0.3, 0.62, min(3.0, width - 2 * margin - 0.6), 0.1),
                       label="colourbar")
    bar.imshow(np.linspace(-limit, limit, 256)[None, :], cmap=CMAP, vmin=-limit, vmax=limit,
               aspect="auto", extent=(-limit, limit, 0, 1))
    bar.set_yticks([])
    bar.set_xticks([-limit, 0, limit], [f"−{cell(limit)}", "0", cell(limit)])
    bar.tick_params(labelsize=font(8), length=2, pad=1)
    cell_pt = inches(panel_inches) / side * 72           # the cell as drawn (style-scaled)
    number_pt = min(font(9), 0.92 * cell_pt / (0.62 * 5))
    for b, k in enumerate(chosen):
        r, q = divmod(b, per_row)
        x0 = margin + q * (block_w + gap)
        y0 = head_h + r * (label_h + panel_inches + 0.12)
        fig.text(x0 / width, 1 - (y0 + 0.02) / height, f"filter {k}, bias {cell(bias[k])}",
                 fontsize=font(9), fontweight="bold", va="top", ha="left")
        seen = channels_of(k)
        for j in range(shown_c):
            ax = fig.add_axes(rect(x0 + j * (panel_inches + 0.08), y0 + label_h,
                                   panel_inches, panel_inches))
            if effective:       # the dilated filter, its holes NaN (drawn white, hatched)
                data = np.where(taps, dilated[:, :, j, k], np.nan)
            else:
                data = w[:, :, j, k]
            ax.imshow(np.ma.masked_invalid(data), cmap=CMAP, vmin=-limit, vmax=limit,
                      interpolation="nearest")
            if effective and (dh, dw) != (1, 1):      # holes: white, cross-hatched
                for (y, x) in zip(*np.nonzero(np.isnan(data))):
                    ax.add_patch(Rectangle((x - 0.5, y - 0.5), 1, 1, fill=False, hatch="xx",
                                           ec="#999999", lw=0))
            if numbers:
                for (y, x) in zip(*np.nonzero(np.isfinite(data))):
                    v = data[y, x]
                    ax.text(x, y, fixed(v, 2), ha="center", va="center", fontsize=number_pt,
                            color="white" if abs(v) > 0.6 * limit else "black")
            ax.set_xticks([])
            ax.set_yticks([])
            if cg > 1:
                ax.set_title(f"in ch {seen[j]}", fontsize=font(8), pad=2)
    return fig
