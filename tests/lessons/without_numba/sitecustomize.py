"""Put on PYTHONPATH with CNNLAB_BLOCK_NUMBA=1: this Python cannot import numba.

Python imports ``sitecustomize`` at start-up, before any user code, so every process started
with this folder on PYTHONPATH (a Jupyter kernel, a ``python -c``) behaves as on a machine
where Numba cannot be installed (Pyodide/JupyterLite): ``import numba`` raises ImportError.
Without the variable the module does nothing (pytest's doctest collection imports it too).
"""
import os
import sys

if os.environ.get("CNNLAB_BLOCK_NUMBA") == "1":
    sys.modules["numba"] = None         # import numba -> ModuleNotFoundError
