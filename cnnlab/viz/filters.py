"""The filters of a convolution layer: one small map per filter and input channel.

Reads a convolution ``LayerRecord`` (``.weights`` FH×FW×(C/G)×F, ``.effective_weights``,
``.bias``, ``.channels_of(f)``, ``.dilation``) or a built ``Convolution2D`` layer (its
``params`` and properties). Rows are filters, columns the input channels each filter sees
(with groups, filter f sees only its group's channels: the column titles say which).

Colours: the diverging map of every cnnlab weight picture (``canvas.WEIGHTS``, PuOr,
colour-blind safe) centred on 0, with one symmetric range for the whole picture, so a
weight's colour means the same in every panel. Small filters (at most
5×5 taps, at most 24 panels) have their numbers written in. ``effective=True`` draws the
dilated filter: the taps in place and the holes between them white and cross-hatched (as in
the convolution step picture).
"""
from __future__ import annotations

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from .. import arithmetic as ar
from ..arithmetic.formatting import cell, fixed
from .canvas import WEIGHTS as CMAP
from .network_view import shape_text


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
                   dpi: int = 80) -> Figure:
    """A grid of filter (row) × input channel (column) weight maps.

    ``filters``: which filter indices to draw (default the first ``max_filters``);
    ``max_channels``: input channels per filter; ``numbers``: write the weights in the cells
    (default: when the filter has at most 25 taps and the grid at most 24 panels).
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
    if numbers:          # room for a 5-character number in every cell
        panel_inches = max(panel_inches, 0.42 * max(eh if effective else fh,
                                                     ew if effective else fw))
    limit = float(np.max(np.abs(w[..., chosen]))) if w.size else 1.0
    limit = limit if limit > 0 else 1.0
    rows, cols = len(chosen), shown_c
    width = max(1.3 + cols * panel_inches, 4.6)
    fig = Figure(figsize=(width, 0.75 + rows * panel_inches), dpi=dpi)
    FigureCanvasAgg(fig)
    grid = fig.add_gridspec(rows, cols + 1, width_ratios=[1.3] + [panel_inches] * cols,
                            left=0.01, right=min(0.99, (1.3 + cols * panel_inches) / width),
                            bottom=0.01, top=1 - 0.62 / (0.75 + rows * panel_inches),
                            wspace=0.1, hspace=0.3)
    what = (f"dilated {fh}×{fw} filter spans {eh}×{ew} (holes hatched)" if effective and
            (dh, dw) != (1, 1) else f"weights {shape_text(w.shape)} (FH×FW×C/G×F)")
    fig.suptitle(f"{name}: {what}\ncolour range ±{cell(limit)} (0 is white)", fontsize=9.5,
                 x=0.02, ha="left", y=0.995, va="top")
    for r, k in enumerate(chosen):
        label = fig.add_subplot(grid[r, 0])
        label.axis("off")
        label.text(0, 0.5, f"filter {k}\nbias {cell(bias[k])}", fontsize=8.5,
                   va="center", transform=label.transAxes)
        seen = channels_of(k)
        for j in range(shown_c):
            ax = fig.add_subplot(grid[r, j + 1])
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
                    ax.text(x, y, fixed(v, 2), ha="center", va="center", fontsize=7,
                            color="white" if abs(v) > 0.6 * limit else "black")
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0 or cg > 1 and seen != channels_of(chosen[r - 1]):
                ax.set_title(f"in ch {seen[j]}", fontsize=8, pad=2)
    return fig
