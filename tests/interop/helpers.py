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
    LRN, padded pooling (even and uneven), clipped ReLU, batch norm, transposed conv."""
    return [
        cl.ImageInput((9, 10, 3), normalization="zscore"),
        cl.Convolution2D(3, 6, padding=(1, 2, 0, 1), name="conv_asym"),       # zeros, uneven
        cl.BatchNormalization(),
        cl.ClippedReLU(2.0),
        cl.Convolution2D((3, 2), 6, padding=1, padding_value="replicate", groups=3,
                         dilation=(1, 2)),
        cl.CrossChannelNormalization(3, alpha=0.3, beta=0.75, k=1.5),
        cl.Convolution2D(3, 4, padding=(2, 1, 1, 2), padding_value=-0.5),       # constant
        cl.Convolution2D(3, 4, padding=1, padding_value="symmetric-exclude-edge",
                         has_bias=False),
        cl.LeakyReLU(0.1),
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
    return [cl.ImageInput((6, 5, 2), normalization="rescale-symmetric"),
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
