"""One step of a transposed convolution, drawn as the ordinary convolution it equals.

A transposed convolution with stride s, an FH×FW filter and cropping (t, b, l, r) gives the
same output as a stride-1 convolution of the *upsampled input* — the input with s - 1 zeros
inserted between neighbouring values, FH - 1 (FW - 1) zeros added on every side, then cut by
the cropping — with the filter rotated by 180°:

    y[i, j, f] = Σ_{u, v, c} up[i + u, j + v, c] · w[FH-1-u, FW-1-v, f, c] + b[f]

The trace records exactly this (``record.upsampled_input``, ``record.upsampled_mask``: 0 an
input value, 1 an inserted zero, 2 padding; ``record.effective_weights``: the rotated filter),
so this picture is the convolution step picture (``conv_step.ConvStepFigure``) of that
reading: inserted zeros tinted light grey and dotted, padding grey and hatched, the window
sliding one cell at a time. Why this reading and not the "scatter" one (each input pixel
stamps a scaled copy of the filter into the output, overlapping stamps adding up)? Each output
cell is then ONE window and ONE written-out sum — the same picture, controls and checks as an
ordinary convolution — and the inserted zeros show directly why a stride-2 transposed
convolution doubles the size; the scatter view needs several partial stamps per cell before a
value is final.
"""
from __future__ import annotations

from .conv_step import ConvStepFigure


class TransposedStepFigure(ConvStepFigure):
    """The step picture of a transposed convolution record (see the module docstring).

    Same attributes and methods as ``ConvStepFigure``; ``inserted`` is the mask of inserted
    zeros.
    """

    input_label = "upsampled input"
    filter_label = "rotated filter"
    title_lines = 3
    kinds, kind_text = ("transposed-conv",), "a transposed convolution"

    def __init__(self, record, filter: int = 0, **options):
        self.checked(record, filter)
        self.inserted = record.upsampled_mask == 1
        super().__init__(record, filter, **options)

    def _input_title(self, ch):
        rec = self.record
        sh, sw = rec.upsampling_stride
        fh, fw = rec.filter_size
        h, w = rec.input_shape[:2]
        lines = [f"upsampled input, ch {ch} (from {h}×{w})"]
        if sh > 1 or sw > 1:
            lines.append(f"stride {sh}×{sw}: {sh - 1}, {sw - 1} zeros inserted (dotted)")
        pad = f"{fh - 1}×{fw - 1} zero padding (hatched)"
        if any(rec.cropping):
            pad += f", cropped {tuple(int(v) for v in rec.cropping)}"
        lines.append(pad)
        return "\n".join(lines)
