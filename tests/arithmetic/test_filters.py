"""Dilation, groups and the window check: the one place layers, trace and viz read them."""
import numpy as np
import pytest

import cnnlab.arithmetic as ar
from cnnlab import Convolution2D, MaxPooling2D
from cnnlab.trace.steps import conv_step


def test_dilate_puts_the_taps_dilation_apart():
    # 2x3 taps, dilation (3, 2): rows 0 and 3, columns 0, 2, 4; span (2-1)·3+1 by (3-1)·2+1
    w = np.arange(1, 7, dtype=float).reshape(2, 3, 1, 1)
    want = np.zeros((4, 5, 1, 1))
    want[0, [0, 2, 4], 0, 0] = [1, 2, 3]
    want[3, [0, 2, 4], 0, 0] = [4, 5, 6]
    np.testing.assert_array_equal(ar.dilate(w, (3, 2)), want)
    assert ar.effective_filter_hw((2, 3), (3, 2)) == (4, 5)
    assert ar.dilated_taps((2, 3), (3, 2)).sum() == 6


def test_the_layer_and_the_picture_use_the_same_dilation():
    conv = Convolution2D(3, 2, dilation=2, weights=np.arange(36.).reshape(3, 3, 2, 2))
    conv.build((9, 9, 2), rng=np.random.default_rng(0), dtype="float64")
    eff = conv.effective_weights()
    assert eff.shape == (5, 5, 2, 2) and conv.effective_filter_size == (5, 5)
    np.testing.assert_array_equal(eff[::2, ::2], conv.params["weights"])
    assert not eff[1::2].any() and not eff[:, 1::2].any()      # the holes are zero


@pytest.mark.parametrize("f, groups, cg, want", [
    (0, 1, 6, (0, 1, 2, 3, 4, 5)),  # ungrouped: every channel
    (2, 2, 3, (3, 4, 5)),           # 6 channels, 4 filters in 2 groups: filter 2 is group 1
    (3, 4, 3, (9, 10, 11)),         # 12 channels in 4 groups: filter 3 sees the 4th block
    (3, 4, 1, (3,)),                # depthwise (4 channels, 4 groups): filter f sees f
])
def test_group_channels(f, groups, cg, want):
    assert ar.group_channels(f, num_filters=4, groups=groups, channels_per_group=cg) == want


def test_group_channels_refuses_a_filter_outside_the_bank():
    with pytest.raises(ValueError, match=r"group_channels: filter = 4: must be an integer in "
                                         r"0\.\.3"):
        ar.group_channels(4, num_filters=4, groups=2, channels_per_group=1)


def test_a_grouped_step_reads_its_groups_channels():
    # 2 groups, 4 input channels, 2 filters: filter 1 reads channels 2 and 3 only
    xp = np.arange(3 * 3 * 4, dtype=float).reshape(3, 3, 4)
    w = np.ones((1, 1, 2, 2))
    step = conv_step(xp, np.zeros((3, 3), bool), w, np.zeros(2), (1, 1), (1, 1), 2, 1, 1, 1,
                     0.0)
    assert step.channels == (2, 3)
    assert step.total == xp[1, 1, 2] + xp[1, 1, 3]


def test_window_taps_by_hand():
    rows, cols = ar.window_taps((2, 3), (2, 1), (3, 2), 2, 1)   # row 2·2 + u·2, col 1·3 + v
    assert rows.tolist() == [4, 6, 8] and cols.tolist() == [3, 4]


def test_one_window_check_for_arithmetic_and_layers():
    # per axis: 7 taps dilated 2 span 13 > 8 + 1 + 1
    with pytest.raises(ValueError, match=r"^conv_output_size: effective filter size 13 "):
        ar.conv_output_size(8, 7, dilation=2, padding=1)
    assert ar.check_window_fits("f", (8, 8), (7, 7), ((1, 1), (1, 1)), (1, 1)) == (7, 7)
    conv = Convolution2D(7, 1, dilation=2, padding=1, name="c")
    with pytest.raises(ValueError) as e:
        conv.build((8, 8, 1), rng=np.random.default_rng(0))
    assert str(e.value).startswith("Convolution2D layer 'c': filter_size = (7, 7): ")
    pool = MaxPooling2D(3, name="p")
    with pytest.raises(ValueError) as e:
        pool.build((2, 5, 1), rng=np.random.default_rng(0))
    assert str(e.value) == ("MaxPooling2D layer 'p': pool_size = (3, 3): the 3x3 window is "
                            "larger than the padded input 2x5 (2 + 0 + 0 by 5 + 0 + 0)")
