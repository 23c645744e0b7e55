"""Receptive fields: agree with cnnlab.arithmetic and with the pixels that really matter."""
import numpy as np
import pytest
from hypothesis import assume, given, strategies as st

import cnnlab as cl
from cnnlab import arithmetic as ar


@st.composite
def linear_stacks(draw):
    """Convolutions and average pools (linear, so influence = non-zero gradient)."""
    layers, spatial = [], []
    for _ in range(draw(st.integers(1, 3))):
        if draw(st.booleans()):
            k, s, p = draw(st.integers(1, 3)), draw(st.integers(1, 2)), draw(st.integers(0, 1))
            layers.append(cl.Convolution2D(k, 2, stride=s, padding=p,
                                           weights_initializer="narrow-normal",
                                           bias_initializer="zeros"))
        else:
            k, s = draw(st.integers(1, 2)), draw(st.integers(1, 2))
            p = 0
            layers.append(cl.AveragePooling2D(k, stride=s))
        spatial.append((k, s, p))
    size = draw(st.integers(6, 12))
    return layers, spatial, size


def influence(net, x, name, row, col, channel=0):
    """Input pixels whose value changes output (row, col, channel) of layer ``name``."""
    body = net.layers[:net.names.index(name) + 1]
    y = x[None]
    for layer in body:
        y = layer.forward(y)
    dy = np.zeros_like(y)
    dy[0, row, col, channel] = 1
    for layer in reversed(body[1:]):
        dy = layer.backward(dy)
    return np.abs(dy[0]).sum(axis=-1) > 0


@given(linear_stacks(), st.integers(0, 1000))
def test_field_bounds_match_the_arithmetic_and_the_gradient(stack, seed):
    layers, spatial, size = stack
    try:
        net = cl.Network([cl.ImageInput((size, size, 1), normalization="none"), *layers],
                         seed=seed, dtype="float64", backend="reference")
    except ValueError:
        assume(False)
    x = np.random.default_rng(seed).standard_normal((size, size, 1))
    tr = net.trace(x)
    last = tr[-1]
    oh, ow = last.output_shape[:2]
    fields = ar.receptive_field(spatial).value[-1]
    for row, col in {(0, 0), (oh - 1, ow - 1), (oh // 2, ow // 3)}:
        rf = tr.receptive_field(last.name, row, col)
        assert rf.size == (fields.size, fields.size)
        first, last_ = ar.receptive_field_of(spatial, row).value
        assert rf.unclipped[0] == first and rf.unclipped[2] == last_ + 1
        seen = influence(net, x, last.name, row, col)
        assert not (seen & ~rf.mask).any()          # nothing outside the field matters
        rows, cols = np.nonzero(seen)
        if len(rows):                                # strides never skip: the box is exact
            if all(s <= k for k, s, _ in spatial):
                assert (rows.min(), cols.min()) == (rf.top, rf.left)
                assert (rows.max() + 1, cols.max() + 1) == (rf.bottom, rf.right)


def test_lenet_field_and_chain():
    from cnnlab.models import lenet5
    net = cl.Network(lenet5(), seed=0)
    tr = net.trace(np.zeros((28, 28, 1), np.float32))
    rf = tr.receptive_field("conv_2", 0, 0)
    # conv 5 pad 2, pool 2/2, conv 5: size 5 + 1·1 + 4·2 = 14, starting at -2
    assert rf.size == (14, 14) and rf.unclipped == (-2, -2, 12, 12)
    assert (rf.top, rf.left, rf.bottom, rf.right) == (0, 0, 12, 12)
    assert [name for name, _ in rf.chain][:3] == ["conv_2", "maxpool_1", "relu_1"]
    assert rf.mask.sum() == 144
    fc = tr.receptive_field("fc_1", 0, 0)             # fully connected sees everything
    assert fc.mask.all()
    with pytest.raises(ValueError, match="row = 10"):
        tr.receptive_field("conv_2", 10, 0)
