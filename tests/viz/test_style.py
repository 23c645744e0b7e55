"""cnnlab.viz.style: the projector style scales text and pictures everywhere, "default"
goes back, an unknown name is refused; every figure or picture object a renderer returns
shows as PNG in a notebook without %matplotlib inline."""
import numpy as np
import pytest
from IPython.core.formatters import DisplayFormatter

import cnnlab as cl
import cnnlab.viz as viz
from cnnlab.examples import conv_example, pool_example, traced


@pytest.fixture(autouse=True)
def default_style():
    viz.set_style("default")
    yield
    viz.set_style("default")


def _conv_record():
    net, x = conv_example(5, 3, padding=1, stride=2)
    return traced(net, x)


def _fonts(fig):
    return sorted(t.get_fontsize() for t in fig.findobj(lambda a: hasattr(a, "get_fontsize"))
                  if t.get_text())


def test_projector_makes_text_and_pictures_bigger_and_default_goes_back():
    before = viz.ConvStepFigure(_conv_record())
    w0, h0 = before.canvas.figure.get_size_inches()
    fonts0 = _fonts(before.canvas.figure)
    assert viz.set_style("projector").name == "projector"
    big = viz.ConvStepFigure(_conv_record())
    w1, h1 = big.canvas.figure.get_size_inches()
    assert (w1, h1) == pytest.approx((1.25 * w0, 1.25 * h0))
    # every title and caption 1.5 times the points (cell numbers: at least as big)
    assert max(_fonts(big.canvas.figure)) == pytest.approx(1.5 * max(fonts0))
    assert min(_fonts(big.canvas.figure)) >= min(fonts0)
    viz.set_style("default")
    again = viz.ConvStepFigure(_conv_record())
    assert tuple(again.canvas.figure.get_size_inches()) == (w0, h0)
    assert _fonts(again.canvas.figure) == fonts0


def test_the_style_reaches_static_figures_and_the_context_restores():
    from cnnlab.models import lenet5
    net = cl.Network(lenet5(), seed=0)
    small = viz.filters_figure(net["conv_1"])
    with viz.style("projector") as st:
        assert st.font_scale == 1.5 and viz.get_style().name == "projector"
        big = viz.filters_figure(net["conv_1"])
    assert viz.get_style().name == "default"
    assert big.get_size_inches() == pytest.approx(1.25 * small.get_size_inches())
    assert big.texts[0].get_fontsize() == pytest.approx(1.5 * small.texts[0].get_fontsize())


@pytest.mark.parametrize("name", ["Projector", "dark", "", None, 3])
def test_unknown_style_is_refused(name):
    with pytest.raises(ValueError, match=r"unknown style .*expected one of 'default', "
                                         r"'projector'"):
        viz.set_style(name)
    assert viz.get_style().name == "default"


def _returned_pictures():
    net = cl.Network([cl.ImageInput((8, 8, 1), normalization="none"),
                      cl.Convolution2D(3, 2), cl.ReLU(), cl.FullyConnected(3), cl.Softmax(),
                      cl.Classification()], seed=0)
    trace = net.trace(np.random.default_rng(0).random((8, 8, 1)))
    pnet, px = pool_example()
    info = cl.TrainingInfo(total_iterations=1, iterations_per_epoch=1, max_epochs=1,
                           task="classification")
    maps = viz.LayerMapsView()
    maps.show(trace["conv_1"])
    return {
        "filters_figure": viz.filters_figure(net["conv_1"]),
        "network_view": viz.network_view(trace),
        "arithmetic_card": viz.arithmetic_card(net["conv_1"]),
        "training_curves": viz.training_curves(info),
        "augmented_samples": viz.augmented_samples(cl.ImageDataAugmenter(), np.zeros((1, 4, 4))),
        "ConvStepFigure": viz.ConvStepFigure(_conv_record()),
        "PoolStepFigure": viz.PoolStepFigure(traced(pnet, px)),
        "LayerMapsView": maps,
    }


def test_every_returned_picture_displays_as_png_without_matplotlib_inline():
    # a fresh IPython formatter knows no matplotlib printer (that is what
    # %matplotlib inline would register): only the objects' own _repr_png_ can answer
    formatter = DisplayFormatter()
    for name, picture in _returned_pictures().items():
        data, _ = formatter.format(picture)
        assert "image/png" in data, name
        assert data["image/png"].startswith(b"\x89PNG\r\n\x1a\n"), name
