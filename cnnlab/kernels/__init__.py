"""Kernel backends: the arithmetic of every layer, with no knowledge of layers.

Two backends expose the same functions with the same signatures:

- ``cnnlab.kernels.reference``: plain loops that read like the formula; the definition.
- ``cnnlab.kernels.fast``: Numba versions that agree with the reference to float tolerance.

``padding`` holds the four padding modes, shared by both.
"""
from __future__ import annotations

BACKENDS = ("reference", "fast")


def get_backend(name: str = "reference"):
    """Return the kernel module called ``name`` ("reference" or "fast")."""
    if name == "reference":
        from . import reference
        return reference
    if name == "fast":
        from . import fast
        return fast
    raise ValueError(f"backend = {name!r}: expected one of {', '.join(BACKENDS)}")
