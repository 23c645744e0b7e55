"""pytest collects the package for doctests (--doctest-modules): without the optional torch or
onnx package the modules that import it are left out instead of failing to import."""
import importlib.util

collect_ignore = []
if importlib.util.find_spec("torch") is None:
    collect_ignore += ["torch_export.py", "torch_import.py", "torch_modules.py",
                       "torch_graph.py", "torch_fx.py", "torch_fx_ops.py"]
if importlib.util.find_spec("onnx") is None:
    collect_ignore += ["onnx_export.py", "onnx_import.py", "onnx_nodes.py"]
