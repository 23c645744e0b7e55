"""cnnlab/inception.py: GoogLeNet's inception (3a), sizes and parameters by hand."""
import numpy as np

import cnnlab as cl
from cnnlab import models


def test_inception_3a_sizes_and_parameters():
    g = cl.LayerGraph([cl.ImageInput((28, 28, 192), normalization="none")])
    out = models.inception_block(g, "imageinput", f1x1=64, f3x3_reduce=96, f3x3=128,
                                 f5x5_reduce=16, f5x5=32, pool_proj=32, name="3a")
    net = cl.Network(g, backend="reference", dtype="float64")
    assert out == "3a_cat" and net[out].output_shape == (28, 28, 64 + 128 + 32 + 32)
    assert net.sources("3a_cat") == ["3a_1x1_relu", "3a_3x3_relu", "3a_5x5_relu",
                                     "3a_pool_proj_relu"]
    # K·K·C_in·F + F per convolution, GoogLeNet's table: 163,696 for inception (3a)
    by_hand = (192 * 64 + 64) + (192 * 96 + 96) + (9 * 96 * 128 + 128) + (192 * 16 + 16) \
        + (25 * 16 * 32 + 32) + (192 * 32 + 32)
    assert net.num_parameters == by_hand == 163_696
    # the concatenation stacks the branch outputs, 1x1 first
    x = np.random.default_rng(0).standard_normal((1, 28, 28, 192))
    t = net.trace(x[0])
    np.testing.assert_array_equal(t["3a_cat"].output[..., :64], t["3a_1x1_relu"].output)
    np.testing.assert_array_equal(t["3a_cat"].output[..., -32:], t["3a_pool_proj_relu"].output)
