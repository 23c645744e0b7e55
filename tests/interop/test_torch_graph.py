"""cnnlab/interop/torch_graph.py: a layer graph exported to PyTorch computes the same."""
import numpy as np
import pytest

import cnnlab as cl
from cnnlab import models
from tests.test_graph_pass import classifier_graph

from .helpers import require, run_torch, set_batchnorm_statistics, tolerance

torch = require("torch")

GRAPHS = {"blocks": (classifier_graph, (6, 6, 3)),
          "resnet_digits": (models.resnet_digits, (28, 28, 1)),
          "inception": (None, (8, 8, 5))}


def _inception():
    g = cl.LayerGraph([cl.ImageInput((8, 8, 5), normalization="zscore")])
    out = models.inception_block(g, "imageinput", f1x1=2, f3x3_reduce=3, f3x3=4,
                                 f5x5_reduce=2, f5x5=3, pool_proj=2, name="i")
    g.add_layers([cl.GlobalAveragePooling2D(name="gap"), cl.FullyConnected(4), cl.Softmax(),
                  cl.Classification()])
    return g.connect(out, "gap")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("which", sorted(GRAPHS))
def test_a_graph_exported_to_torch_computes_the_same(which, dtype):
    make, size = GRAPHS[which]
    net = cl.Network((make or _inception)(), seed=2, dtype=dtype, backend="reference")
    x = np.random.default_rng(3).standard_normal((4,) + size).astype(dtype)
    if net.layers[0].normalization != "none":
        net.fit_normalization(x)
    set_batchnorm_statistics(net)
    model = cl.to_torch(net)
    assert type(model).__name__ == "LayerGraphModule"
    y = net.predict(x)
    got = run_torch(model, x)
    assert got.shape == y.shape
    np.testing.assert_allclose(got, y, rtol=0, atol=tolerance(dtype))


def test_an_exported_graph_can_be_traced_by_torch_fx():
    """Which layers hand on N×K is fixed when the module is made, not read from the tensors,
    so torch.fx follows the module (cnnlab.from_torch reads it back that way)."""
    net = cl.Network(models.resnet_digits(), seed=2, dtype="float64", backend="reference")
    x = np.random.default_rng(3).standard_normal((2, 28, 28, 1))
    net.fit_normalization(x)
    model = cl.to_torch(net)
    traced = torch.fx.symbolic_trace(model)
    ops = [n.target for n in traced.graph.nodes if n.op == "call_method"]
    assert ops.count("reshape") == 1 and ops.count("flatten") == 1    # after fc; the scores
    np.testing.assert_allclose(run_torch(traced, x), net.predict(x), rtol=0, atol=1e-12)


def test_torch_code_of_a_graph_says_to_use_to_torch():
    net = cl.Network(classifier_graph(), backend="reference")
    with pytest.raises(ValueError, match=r"to_torch_code .*works on chains of layers; this "
                                         r"network is a layer graph \(branches join at cat, "
                                         r"res_add\)"):
        net.to_torch_code()
