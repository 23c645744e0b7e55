"""PyTorch and ONNX, in and out: one call each way.

    model = cnnlab.to_torch(net)                       # torch.nn.Sequential, same numbers
    net2 = cnnlab.from_torch(model, input_size=(28, 28, 1))
    net4 = cnnlab.from_torch(resnet, input_size=(28, 28, 1))   # traced by torch.fx: a graph
    cnnlab.to_onnx(net, "net.onnx")                    # view it in Netron
    net3 = cnnlab.from_onnx("net.onnx")
    print(net.to_torch_code())

torch and onnx are imported only when one of these is called (``pip install cnnlab[torch]``,
``cnnlab[onnx]``); ``import cnnlab`` needs neither. What cannot be represented exactly raises
:class:`InteropError`, naming the layer (module, node) and the option.
"""
from __future__ import annotations

from .common import InteropError

_INSTALL = {"torch": "pip install torch (or cnnlab[torch])",
            "onnx": "pip install onnx (or cnnlab[onnx])"}


def _require(package):
    import importlib.util
    if importlib.util.find_spec(package) is None:
        raise ImportError(f"this needs the {package} package, which is not installed: "
                          f"{_INSTALL[package]}")


def to_torch(net):
    """cnnlab Network -> ``torch.nn.Sequential`` (see ``cnnlab.interop.torch_export``)."""
    _require("torch")
    from .torch_export import to_torch as convert
    return convert(net)


def from_torch(module, input_size, **options):
    """A PyTorch module -> cnnlab Network: an ``nn.Sequential`` as a chain, any other module
    traced by ``torch.fx`` into a layer graph (see ``cnnlab.interop.torch_import``)."""
    _require("torch")
    from .torch_import import from_torch as convert
    return convert(module, input_size, **options)


def to_onnx(net, path=None, **options):
    """cnnlab Network -> an ONNX file at ``path`` (see ``cnnlab.interop.onnx_export``)."""
    _require("onnx")
    from .onnx_export import to_onnx as convert
    return convert(net, path, **options)


def from_onnx(path, **options):
    """An ONNX file (or ModelProto) -> cnnlab Network (see ``cnnlab.interop.onnx_import``)."""
    _require("onnx")
    from .onnx_import import from_onnx as convert
    return convert(path, **options)


def to_torch_code(net) -> str:
    """The PyTorch code that builds the same network (architecture; weights via to_torch)."""
    from .torch_code import torch_code
    return torch_code(net)


__all__ = ["InteropError", "to_torch", "from_torch", "to_onnx", "from_onnx", "to_torch_code"]
