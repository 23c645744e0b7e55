"""Shared by the interop tests: the optional packages, running PyTorch exactly, the zoo."""
import contextlib
import importlib
import os
import warnings

import numpy as np
import pytest

import cnnlab as cl


def require(package):
    """The package, or a skip; with CNNLAB_REQUIRE_TORCH=1 a missing package fails (CI)."""
    if os.environ.get("CNNLAB_REQUIRE_TORCH") == "1":
        return importlib.import_module(package)
    return pytest.importorskip(package)


@contextlib.contextmanager
def exact_torch():
    """No gradients and no oneDNN: PyTorch 2.13's oneDNN float32 conv2d is wrong on some
    shapes on this CPU, and the plain kernels are the ones to compare with."""
    import torch
    with warnings.catch_warnings():
        # switching oneDNN off warns about TF32 on Intel GPUs (filterwarnings = error)
        warnings.simplefilter("ignore", UserWarning)
        with torch.backends.mkldnn.flags(enabled=False), torch.no_grad():
            yield


def run_torch(model, x):
    """model on cnnlab images N×H×W×C, returned in cnnlab's layout (N×K for a flat output)."""
    import torch
    from cnnlab.interop.common import images_from_chw, images_to_chw
    with exact_torch():
        y = model(torch.from_numpy(images_to_chw(x))).numpy()
    return y if y.ndim == 2 else images_from_chw(y)


def tolerance(dtype):
    """The agreement the issue asks for: 1e-6 in float32, 1e-12 in float64 (relative to
    the size of the outputs, which are O(1) here)."""
    return 1e-6 if np.dtype(dtype) == np.float32 else 1e-12


def set_batchnorm_statistics(net, seed=3):
    """Trained-looking running statistics (not 0 and 1), so a copy that lost them shows."""
    rng = np.random.default_rng(seed)
    for layer in net.layers:
        if isinstance(layer, cl.BatchNormalization):
            c = layer.input_shape[2]
            layer.state["trained_mean"][...] = rng.normal(0, 0.5, c)
            layer.state["trained_variance"][...] = rng.uniform(0.5, 2.0, c)
            layer.params["scale"][...] = rng.uniform(0.5, 1.5, c)
            layer.params["offset"][...] = rng.normal(0, 0.3, c)


def zoo_layers():
    """Every option that maps: asymmetric padding, each padding value, dilation, groups,
    LRN, padded pooling (even and uneven), clipped ReLU, batch norm, transposed conv.

    ONNX keeps LRN's alpha/beta/bias, LeakyRelu's alpha and batch norm's epsilon as float32
    attributes, so the zoo uses values that are float32 numbers (0.25, 0.125, 2^-17): the
    float64 round trip is then exact to 1e-12 (see test_onnx for the rounding otherwise)."""
    return [
        cl.ImageInput((9, 10, 3), normalization="zscore"),
        cl.Convolution2D(3, 6, padding=(1, 2, 0, 1), name="conv_asym"),       # zeros, uneven
        cl.BatchNormalization(epsilon=2.0 ** -17),
        cl.ClippedReLU(2.0),
        cl.Convolution2D((3, 2), 6, padding=1, padding_value="replicate", groups=3,
                         dilation=(1, 2)),
        cl.CrossChannelNormalization(3, alpha=0.25, beta=0.75, k=1.5),
        cl.Convolution2D(3, 4, padding=(2, 1, 1, 2), padding_value=-0.5),       # constant
        cl.Convolution2D(3, 4, padding=1, padding_value="symmetric-exclude-edge",
                         has_bias=False),
        cl.LeakyReLU(0.125),
        cl.MaxPooling2D(3, stride=2, padding=(1, 0, 1, 1)),                     # uneven
        cl.AveragePooling2D(2, stride=1, padding=1),                            # even
        cl.TransposedConvolution2D(3, 5, stride=2, cropping=(1, 0, 1, 1)),      # output_padding
        cl.TransposedConvolution2D(2, 4, stride=1, cropping=(0, 1, 0, 0)),      # a crop module
        cl.Tanh(),
        cl.Convolution2D(1, 4, stride=2, padding="same"),
        cl.Sigmoid(),
        cl.AveragePooling2D(2, stride=2, padding=(0, 1, 1, 0)),
        cl.FullyConnected(7), cl.ReLU(), cl.Dropout(0.3), cl.FullyConnected(5),
        cl.Softmax(), cl.Classification(),
    ]


def global_pool_layers():
    return [cl.ImageInput((6, 5, 2), normalization="rescale-symmetric",
                          normalization_dimension="element"),        # a statistic per pixel
            cl.Convolution2D(3, 4, padding="same"), cl.ReLU(), cl.GlobalMaxPooling2D(),
            cl.FullyConnected(3), cl.Convolution2D(1, 3), cl.GlobalAveragePooling2D(),
            cl.FullyConnected(2), cl.Softmax()]


def zoo(dtype="float32", layers=zoo_layers, seed=0):
    net = cl.Network(layers(), seed=seed, dtype=dtype)
    x = images(net, 4, seed + 1)
    net.fit_normalization(x)
    set_batchnorm_statistics(net)
    return net, x


def images(net, n=3, seed=1):
    return np.random.default_rng(seed).normal(0.5, 0.3, (n,) + net.input_size).astype(
        net.dtype)


def onnx_evaluator(model):
    """onnx.reference.ReferenceEvaluator, with LRN as the ONNX operator spec defines it.

    onnx 1.23's reference LRN loops over ``x.shape[0]`` (the batch) instead of the channels,
    so it is right only when N = C; this one follows the spec's formula:
    square_sum[n, c] = Σ x[n, i]² for i in max(0, c - floor((size-1)/2)) ..
    min(C-1, c + ceil((size-1)/2)), y = x / (bias + alpha/size · square_sum)^beta.
    """
    import math

    from onnx.reference import ReferenceEvaluator
    from onnx.reference.op_run import OpRun

    class LRN(OpRun):
        op_domain = ""

        def _run(self, x, alpha=None, beta=None, bias=None, size=None):
            # the attributes arrive as float32 numbers: compute alpha/size in x's precision
            alpha, beta, bias = float(alpha), float(beta), float(bias)
            square_sum = np.zeros_like(x)
            before, after = math.floor((size - 1) / 2), math.ceil((size - 1) / 2)
            for c in range(x.shape[1]):
                lo, hi = max(0, c - before), min(x.shape[1], c + after + 1)
                square_sum[:, c] = np.sum(x[:, lo:hi] ** 2, axis=1)
            return ((x / (bias + (alpha / size) * square_sum) ** beta).astype(x.dtype),)

    return ReferenceEvaluator(model, new_ops=[LRN])


def run_onnx(model, x):
    """An ONNX model on cnnlab images N×H×W×C, in cnnlab's layout (N×K when flat)."""
    from cnnlab.interop.common import images_from_chw, images_to_chw
    name = model.graph.input[0].name
    y = onnx_evaluator(model).run(None, {name: images_to_chw(x)})[0]
    return y if y.ndim == 2 else images_from_chw(y)
