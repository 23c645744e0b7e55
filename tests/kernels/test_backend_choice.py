"""backend="auto": the fast kernels when Numba imports, the reference ones (one warning) when not.

The "no Numba" cases run in a child Python whose start-up blocks ``import numba``
(tests/lessons/without_numba/sitecustomize.py), as on Pyodide where Numba cannot install;
the choice is made once per process, so a fresh process is the honest way to test it.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import cnnlab as cl
from cnnlab.kernels import BackendFallbackWarning, get_backend, reference, resolve_backend

ROOT = Path(__file__).resolve().parents[2]
BLOCKER = ROOT / "tests" / "lessons" / "without_numba"


def run_without_numba(code: str) -> dict:
    """Run ``code`` (which prints one JSON line last) in a Python that cannot import numba."""
    env = dict(os.environ, CNNLAB_BLOCK_NUMBA="1",
               PYTHONPATH=os.pathsep.join([str(BLOCKER), str(ROOT)]))
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_auto_is_fast_where_numba_imports():
    pytest.importorskip("numba")
    assert resolve_backend("auto") == "fast"
    assert cl.Network([cl.ImageInput((4, 4, 1)), cl.ReLU()]).backend == "fast"


def test_reference_never_needs_numba_and_unknown_names_are_refused():
    assert resolve_backend("reference") == "reference"
    assert get_backend("reference") is reference
    with pytest.raises(ValueError, match="backend = 'gpu': expected one of auto, reference"):
        resolve_backend("gpu")


def test_without_numba_auto_falls_back_with_one_warning_and_the_same_numbers(tmp_path):
    # the same small network, fast-saved here, loaded and recomputed where numba is missing
    layers = [cl.ImageInput((6, 6, 1), normalization="none"), cl.Convolution2D(3, 2),
              cl.ReLU(), cl.FullyConnected(3), cl.Softmax()]
    x = np.arange(36, dtype=np.float32).reshape(1, 6, 6, 1) / 36
    saved = cl.Network(layers, seed=3)          # "fast" here when numba imports
    path = tmp_path / "net.cnnlab"
    cl.save(saved, path)
    saved.backend = "reference"
    expected = saved.predict(x)
    result = run_without_numba(f"""
import json, sys, warnings
import numpy as np
import cnnlab as cl
from cnnlab.kernels import BackendFallbackWarning, resolve_backend
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    first = resolve_backend("auto")
    net = cl.Network([cl.ImageInput((6, 6, 1), normalization="none"), cl.Convolution2D(3, 2),
                      cl.ReLU(), cl.FullyConnected(3), cl.Softmax()], seed=3)
    loaded = cl.load({str(path)!r})
try:
    resolve_backend("fast")
    fast_error = ""
except ImportError as e:
    fast_error = str(e)
x = np.arange(36, dtype=np.float32).reshape(1, 6, 6, 1) / 36
print(json.dumps({{
    "first": first, "default": net.backend, "loaded": loaded.backend,
    "warnings": [(w.category.__name__, str(w.message)) for w in caught],
    "fast_error": fast_error, "numba_loaded": "cnnlab.kernels.fast" in sys.modules,
    "predict": net.predict(x).tolist(), "loaded_predict": loaded.predict(x).tolist()}}))
""")
    assert result["first"] == result["default"] == result["loaded"] == "reference"
    # one warning for the whole process, however many networks are built
    assert len(result["warnings"]) == 1
    category, message = result["warnings"][0]
    assert category == BackendFallbackWarning.__name__
    assert "Numba does not import" in message and "reference kernels" in message
    assert "backend = 'fast' needs Numba" in result["fast_error"]
    assert result["numba_loaded"] is False
    # same seed, same weights, same numbers on either side
    np.testing.assert_allclose(result["predict"], expected, rtol=1e-6)
    np.testing.assert_allclose(result["loaded_predict"], expected, rtol=1e-6)

