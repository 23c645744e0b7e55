"""Kernel backends: the arithmetic of every layer, with no knowledge of layers.

Two backends expose the same functions with the same signatures:

- ``cnnlab.kernels.reference``: plain loops that read like the formula; the definition.
- ``cnnlab.kernels.fast``: Numba versions that agree with the reference to float tolerance.

``padding`` holds the four padding modes, shared by both.

The default is "auto": the fast kernels when Numba imports, the reference kernels otherwise
(JupyterLite/Pyodide has NumPy and matplotlib but no Numba), with one
:class:`BackendFallbackWarning` per process saying so. Both compute the same numbers, so a
lesson runs the same on either, only slower on the reference one.
"""
from __future__ import annotations

import warnings

BACKENDS = ("auto", "reference", "fast")


class BackendFallbackWarning(UserWarning):
    """backend="auto" found no working Numba and uses the reference kernels (slower)."""


_fast_error: list = []      # [] not tried yet; [None] fast imports; [message] it does not
_warned: list = []          # one fallback warning per process


def fast_unavailable() -> str | None:
    """Why the fast kernels cannot be used here (None when they can); tried once."""
    if not _fast_error:
        try:
            from . import fast  # noqa: F401  (imports numba)
            _fast_error.append(None)
        except ImportError as e:        # no numba, or one that does not load
            _fast_error.append(f"{type(e).__name__}: {e}")
    return _fast_error[0]


def resolve_backend(name: str = "auto") -> str:
    """The backend ``name`` stands for: "auto" becomes "fast" when Numba imports and
    "reference" otherwise (warning once); "fast" without Numba is an ImportError."""
    if name not in BACKENDS:
        raise ValueError(f"backend = {name!r}: expected one of {', '.join(BACKENDS)}")
    if name == "reference":
        return name
    reason = fast_unavailable()
    if reason is None:
        return "fast"
    if name == "fast":
        raise ImportError(f"backend = 'fast' needs Numba, which does not import here "
                          f"({reason}): pip install numba, or use backend='auto' or "
                          "'reference'")
    if not _warned:
        _warned.append(True)
        warnings.warn(f"cnnlab: Numba does not import here ({reason}); using the reference "
                      "kernels (plain loops, the same numbers, slower)",
                      BackendFallbackWarning, stacklevel=3)
    return "reference"


def get_backend(name: str = "reference"):
    """Return the kernel module ``name`` stands for ("auto", "reference" or "fast")."""
    name = resolve_backend(name)
    if name == "reference":
        from . import reference
        return reference
    from . import fast
    return fast
