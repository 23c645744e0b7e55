"""ImageInput normalization: every statistic checked against numpy computed here, by hand.

The expected values below are written with numpy directly from the definition of each
normalization, never read back from the layer.
"""
import numpy as np
import pytest

import cnnlab as cl
import cnnlab.io as cio
import cnnlab.kernels
from cnnlab.datasets.digits import make_digits
from tests.layers import parity

REF = cnnlab.kernels.get_backend("reference")


def built(layer, dtype="float64"):
    layer.build(layer.input_size, rng=np.random.default_rng(0), dtype=dtype, kernels=REF)
    return layer


@pytest.fixture(scope="module")
def digits():
    x, _ = make_digits(200, seed=0)
    return x.astype(np.float64) / 255.0


def rgb(n=6, h=5, w=4, seed=1):
    """Three channels of very different means and spreads (a global std would not do)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, h, w, 3))
    return x * np.array([0.5, 3.0, 20.0]) + np.array([1.0, -4.0, 100.0])


# ---- zscore: mean and standard deviation over the same values --------------------------------

def test_zscore_of_digits_has_std_one_under_auto(digits):
    layer = built(cl.ImageInput((28, 28, 1), normalization="zscore"))
    layer.fit(digits)
    y = layer.forward(digits)
    # one channel: the channel-wise z-score uses one mean and one std over every pixel
    expected = (digits - digits.mean()) / digits.std()
    np.testing.assert_allclose(y, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(y.mean(axis=(0, 1, 2)), [0.0], atol=1e-12)
    np.testing.assert_allclose(y.std(axis=(0, 1, 2)), [1.0], rtol=1e-12)
    assert layer.statistics_dimension == "channel"
    assert layer.state["mean"].shape == layer.state["std"].shape == (1, 1, 1)


def test_zscore_of_digits_float32_network(digits):
    net = cl.Network([cl.ImageInput((28, 28, 1), normalization="zscore")], seed=0)
    net.fit_normalization(digits)
    y = net.forward(digits).astype(np.float64)
    np.testing.assert_allclose(y.std(axis=(0, 1, 2)), [1.0], rtol=1e-5)
    np.testing.assert_allclose(y.mean(axis=(0, 1, 2)), [0.0], atol=1e-5)


def test_zscore_channel_wise_on_three_channels():
    x = rgb()
    layer = built(cl.ImageInput((5, 4, 3), normalization="zscore",
                                normalization_dimension="channel"))
    layer.fit(x)
    mean = np.array([x[..., k].mean() for k in range(3)])
    std = np.array([x[..., k].std() for k in range(3)])
    np.testing.assert_allclose(layer.forward(x), (x - mean) / std, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(layer.forward(x).std(axis=(0, 1, 2)), np.ones(3), rtol=1e-12)


def test_zscore_element_wise_is_per_pixel():
    x = rgb()
    x[:, 0, 0, 1] = 7.0                                   # a constant pixel: std 0
    layer = built(cl.ImageInput((5, 4, 3), normalization="zscore",
                                normalization_dimension="element"))
    layer.fit(x)
    mean = x.sum(axis=0) / len(x)
    std = np.sqrt(((x - mean) ** 2).sum(axis=0) / len(x))
    std[0, 0, 1] = 1.0                                    # documented: only shifted
    y = layer.forward(x)
    np.testing.assert_allclose(y, (x - mean) / std, rtol=1e-12, atol=1e-12)
    per_pixel = y.std(axis=0)
    assert per_pixel[0, 0, 1] == 0
    per_pixel[0, 0, 1] = 1
    np.testing.assert_allclose(per_pixel, np.ones((5, 4, 3)), rtol=1e-12)
    assert layer.statistics_dimension == "element"
    assert "element-wise" in layer.describe()


def test_zscore_over_all_values():
    x = rgb()
    layer = built(cl.ImageInput((5, 4, 3), normalization="zscore",
                                normalization_dimension="all"))
    layer.fit(x)
    flat = x.ravel()
    m = flat.sum() / flat.size
    s = np.sqrt(((flat - m) ** 2).sum() / flat.size)
    y = layer.forward(x)
    np.testing.assert_allclose(y, (x - m) / s, rtol=1e-12, atol=1e-12)
    assert abs(y.std() - 1) < 1e-12
    assert layer.state["std"].shape == (1, 1, 1)


# ---- zerocenter and rescale -------------------------------------------------------------------

def test_zerocenter_auto_is_channel_wise_and_element_gives_the_mean_image():
    x = rgb()
    auto = built(cl.ImageInput((5, 4, 3)))
    auto.fit(x)
    mean = np.array([x[..., k].mean() for k in range(3)])
    np.testing.assert_allclose(auto.forward(x), x - mean, rtol=1e-12, atol=1e-12)
    element = built(cl.ImageInput((5, 4, 3), normalization_dimension="element"))
    element.fit(x)
    np.testing.assert_allclose(element.forward(x), x - x.sum(axis=0) / len(x),
                               rtol=1e-12, atol=1e-12)


def test_rescale_by_hand():
    # two 2x2 images, two channels: channel 0 spans 0..6, channel 1 spans 10..40
    c0 = np.array([[[0.0, 2.0], [4.0, 6.0]], [[1.0, 1.0], [1.0, 1.0]]])
    c1 = np.array([[[10.0, 20.0], [30.0, 40.0]], [[10.0, 10.0], [10.0, 10.0]]])
    x = np.stack([c0, c1], axis=-1)
    zo = built(cl.ImageInput((2, 2, 2), normalization="rescale-zero-one"))
    zo.fit(x)
    y = zo.forward(x)
    np.testing.assert_allclose(y[0, ..., 0], [[0, 1 / 3], [2 / 3, 1]])
    np.testing.assert_allclose(y[0, ..., 1], [[0, 1 / 3], [2 / 3, 1]])
    sym = built(cl.ImageInput((2, 2, 2), normalization="rescale-symmetric"))
    sym.fit(x)
    np.testing.assert_allclose(sym.forward(x)[0, ..., 0], [[-1, -1 / 3], [1 / 3, 1]])
    everything = built(cl.ImageInput((2, 2, 2), normalization="rescale-zero-one",
                                     normalization_dimension="all"))
    everything.fit(x)
    np.testing.assert_allclose(everything.forward(x)[0, ..., 1], [[0.25, 0.5], [0.75, 1]])
    np.testing.assert_allclose(everything.forward(x)[0, ..., 0], [[0, 0.05], [0.1, 0.15]])


# ---- given statistics ---------------------------------------------------------------------------

def test_given_statistics_follow_their_shape_under_auto():
    h, w, c = 2, 3, 2
    x = np.arange(2 * h * w * c, dtype=np.float64).reshape(2, h, w, c)
    scalar = built(cl.ImageInput((h, w, c), normalization="zscore", mean=1.0, std=2.0))
    assert scalar.statistics_dimension == "all"
    np.testing.assert_allclose(scalar.forward(x), (x - 1) / 2)
    channel = built(cl.ImageInput((h, w, c), normalization="zscore", mean=[1, 2],
                                  std=np.array([2, 4]).reshape(1, 1, 2)))
    assert channel.statistics_dimension == "channel"
    np.testing.assert_allclose(channel.forward(x), (x - [1, 2]) / [2, 4])
    image = np.arange(h * w * c, dtype=np.float64).reshape(h, w, c)
    element = built(cl.ImageInput((h, w, c), mean=image))
    assert element.statistics_dimension == "element"
    np.testing.assert_allclose(element.forward(x), x - image)
    # explicit dimension: coarser statistics are broadcast, finer ones refused
    wide = built(cl.ImageInput((h, w, c), mean=3.0, normalization_dimension="channel"))
    assert wide.state["mean"].shape == (1, 1, c)
    with pytest.raises(ValueError, match=r"ImageInput layer: mean = .*'all' needs one number"):
        cl.ImageInput((h, w, c), mean=[1, 2], normalization_dimension="all")
    with pytest.raises(ValueError, match="ImageInput layer: normalization_dimension = 'pixel'"):
        cl.ImageInput((h, w, c), normalization_dimension="pixel")


def test_backward_divides_by_the_same_std():
    x = rgb()
    layer = built(cl.ImageInput((5, 4, 3), normalization="zscore"))
    layer.fit(x)
    layer.forward(x)
    dy = np.ones_like(x)
    std = np.array([x[..., k].std() for k in range(3)])
    np.testing.assert_allclose(layer.backward(dy), dy / std, rtol=1e-12)


# ---- saved and loaded ---------------------------------------------------------------------------

@pytest.mark.parametrize("dimension", ["auto", "channel", "element", "all"])
def test_save_load_keeps_dimension_and_statistics(tmp_path, dimension):
    x = rgb()
    net = cl.Network([cl.ImageInput((5, 4, 3), normalization="zscore",
                                    normalization_dimension=dimension), cl.FullyConnected(2)],
                     seed=0, dtype="float64", backend="reference")
    net.fit_normalization(x)
    cl.save(net, tmp_path / "n.cnnlab")
    back = cl.load(tmp_path / "n.cnnlab")
    first = back["imageinput"]
    assert first.normalization_dimension == dimension
    assert first.statistics_dimension == net["imageinput"].statistics_dimension
    for key in ("mean", "std"):
        np.testing.assert_array_equal(first.state[key], net["imageinput"].state[key])
    np.testing.assert_array_equal(back.forward(x), net.forward(x))


def test_load_refuses_a_statistic_of_the_wrong_shape():
    net = cl.Network([cl.ImageInput((5, 4, 3), normalization="zscore",
                                    normalization_dimension="channel")],
                     seed=0, dtype="float64", backend="reference")
    net.fit_normalization(rgb())
    manifest, arrays = cio.network_manifest(net), cio.network_arrays(net)
    arrays["imageinput/std"] = np.ones((5, 4, 3))          # element-wise in a channel layer
    with pytest.raises(ValueError, match=r"'imageinput/std'.*std = .*\(5, 4, 3\)"):
        cio.network_from_manifest(manifest, arrays, source="test")
    arrays["imageinput/std"] = np.zeros((1, 1, 3))
    with pytest.raises(ValueError, match=r"'imageinput/std'.*must be positive"):
        cio.network_from_manifest(manifest, arrays, source="test")


def test_image_input_normalizations_by_hand():
    x = np.array([[[[0.0], [2.0]], [[4.0], [6.0]]]])              # one 2x2x1 image
    z = parity.built(cl.ImageInput((2, 2, 1), normalization="zscore", mean=1.0, std=2.0), (2, 2, 1),
              "float64")
    assert np.array_equal(z.forward(x)[0, :, :, 0], [[-0.5, 0.5], [1.5, 2.5]])
    r = parity.built(cl.ImageInput((2, 2, 1), normalization="rescale-zero-one"), (2, 2, 1),
                     "float64")
    r.fit(x)
    assert np.array_equal(r.forward(x)[0, :, :, 0], [[0, 1 / 3], [2 / 3, 1]])
    # MATLAB's default ("auto", statistics fitted) subtracts one mean per channel
    c = parity.built(cl.ImageInput((2, 2, 1)), (2, 2, 1), "float64")
    c.fit(np.concatenate([x, x + 2]))                              # channel mean (3 + 5) / 2 = 4
    assert np.array_equal(c.forward(x)[0, :, :, 0], [[-4, -2], [0, 2]])
    e = parity.built(cl.ImageInput((2, 2, 1), normalization_dimension="element"), (2, 2, 1),
                     "float64")
    e.fit(np.concatenate([x, x + 2]))                              # mean image = x + 1
    assert np.array_equal(e.forward(x)[0, :, :, 0], -np.ones((2, 2)))
    with pytest.raises(ValueError, match="normalization"):
        cl.ImageInput((2, 2), normalization="whiten")
