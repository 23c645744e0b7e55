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


def explorer_stills():
    """The ArithmeticCalculator's card, and NetworkExplorer / TrainingMonitor pictures of a
    LeNet-5 trained briefly on generated digits."""
    import numpy as np

    import cnnlab as cl
    from cnnlab.datasets import digits_split
    from cnnlab.models import lenet5
    from cnnlab.viz.arithmetic_card import arithmetic_card
    from cnnlab.viz.network_view import network_view
    from cnnlab.viz.receptive_field import ReceptiveFieldView
    from cnnlab.viz.training_curves import TrainingCurves
    arithmetic_card(input_size=32, filter_size=5, stride=2, padding=2, channels=3,
                    filters=8).savefig(HERE / "arithmetic_card.png")
    x, y, xv, yv = digits_split(2000, 500, seed=0)
    net, info = cl.train_network(
        x / 255, y, lenet5(), cl.TrainingOptions(
            "adam", initial_learn_rate=0.002, max_epochs=2, mini_batch_size=50, seed=0,
            validation_data=(xv / 255, yv), validation_frequency=10, verbose=False,
            progress_bar=False))
    curves = TrainingCurves()
    curves.update(info)
    (HERE / "training_curves.png").write_bytes(curves.png())
    trace = net.trace(xv[np.argmax(yv == 3)] / 255)
    network_view(trace, max_channels=6).savefig(HERE / "network_view.png")
    view = ReceptiveFieldView()
    view.show(trace, trace.receptive_field("conv_2", 4, 5),
              value=float(trace["conv_2"].output[4, 5, 0]))
    (HERE / "receptive_field.png").write_bytes(view.png())


def main():
    for name, function, options in GIFS:
        path = function(output=HERE / name, **options)
        print(f"{path.name}: {path.stat().st_size / 1024:.0f} KB")
    stills()
    explorer_stills()
    for name in ("conv_step.png", "pool_step.png", "dropout.png", "arithmetic_card.png",
                 "training_curves.png", "network_view.png", "receptive_field.png"):
        print(f"{name}: {(HERE / name).stat().st_size / 1024:.0f} KB")


if __name__ == "__main__":
    main()
