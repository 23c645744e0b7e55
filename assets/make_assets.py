"""Regenerate every picture in assets/ with cnnlab's own code: ``python assets/make_assets.py``.

GIFs (one frame per output position, made by ``cnnlab.viz.animate``) and PNG stills of the
step pictures and widgets, all on the small integer examples of ``cnnlab.viz.animate`` (the
same ones ``cnnlab animate`` draws) so every number can be checked by hand.
"""
from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from cnnlab.viz.animate import (animate_convolution, animate_pooling,  # noqa: E402
                                animate_transposed, conv_example, pool_example, traced)
from cnnlab.viz.dropout_view import DropoutView  # noqa: E402

GIFS = [
    ("conv_5x5_f3_p1_s2.gif", animate_convolution,
     dict(input_size=5, filter_size=3, padding=1, stride=2, fps=1.5)),
    ("conv_dilated_replicate.gif", animate_convolution,
     dict(input_size=7, filter_size=3, dilation=2, padding=1, stride=2,
          padding_value="replicate", fps=1.5)),
    ("conv_2_channels.gif", animate_convolution,
     dict(input_size=4, filter_size=2, channels=2, stride=2, fps=1.5)),
    ("pool_max_3x3_s2_p1.gif", animate_pooling,
     dict(input_size=5, pool_size=3, stride=2, padding=1, mode="max", fps=1.5)),
    ("pool_average_overlap.gif", animate_pooling,
     dict(input_size=5, pool_size=3, stride=1, mode="average", fps=2)),
    ("transposed_3x3_s2.gif", animate_transposed,
     dict(input_size=2, filter_size=3, stride=2, fps=2)),
]


def dropout_png(path):
    import numpy as np
    import cnnlab as cl
    x = np.random.default_rng(0).integers(1, 10, (8, 8, 1)).astype(float)
    net = cl.Network([cl.ImageInput(x.shape, normalization="none"), cl.Dropout(0.5)],
                     dtype="float64", backend="reference", seed=0)
    path.write_bytes(DropoutView(net.trace(x, training=True)[1]).png())


def stills():
    from cnnlab.viz.conv_step import ConvStepFigure
    from cnnlab.viz.pool_step import PoolStepFigure
    rec = traced(*conv_example(5, 3, padding=1, stride=2))
    (HERE / "conv_step.png").write_bytes(ConvStepFigure(rec).show_step((1, 1)).png())
    rec = traced(*pool_example(5, 3, stride=2, padding=1))
    (HERE / "pool_step.png").write_bytes(PoolStepFigure(rec).show_step((1, 0)).png())
    dropout_png(HERE / "dropout.png")


def main():
    for name, function, options in GIFS:
        path = function(output=HERE / name, **options)
        print(f"{path.name}: {path.stat().st_size / 1024:.0f} KB")
    stills()
    for name in ("conv_step.png", "pool_step.png", "dropout.png"):
        print(f"{name}: {(HERE / name).stat().st_size / 1024:.0f} KB")


if __name__ == "__main__":
    main()
