"""BLAS matrix products callable from inside nogil Numba code, and cached across processes.

``np.dot`` inside Numba compiles slowly (~6 s, one implementation per layout, with its shape
error formatting) and a ctypes function pointer would bake an address into the machine code
(so ``cache=True`` could not reuse it in another process). Instead the Fortran ``sgemm`` /
``dgemm`` of the BLAS numpy itself uses are registered with LLVM once per process under fixed
names, ``cnnlab_sgemm64`` / ``cnnlab_dgemm64``, and the compiled kernels call those names:
the cached code links to whatever address this process registered.

Which BLAS: the one numpy loaded (found through threadpoolctl, which lists the BLAS
libraries of the process), by its 64-bit-integer (ILP64) Fortran names — numpy's wheels
bundle OpenBLAS built that way (``scipy_sgemm_64_``). One integer width for every process,
so a cached kernel always matches the symbol it calls. scipy is not needed. Where numpy's
BLAS has no such symbol (a numpy built against another BLAS) importing this module raises
ImportError, and the fused stages are unavailable (the per-layer fast kernels still run).

``matmul(a, ta, b, tb, c, beta)`` computes, for row-major (C-contiguous) 2-D arrays,

    c = op(a) · op(b) + beta · c          op(m) = mᵀ when its flag is True

Fortran BLAS is column-major: a row-major m×n matrix is, to it, the n×m matrix mᵀ with
leading dimension n. So the row-major product c = op(a)·op(b) is asked for as the
column-major product cᵀ = op(b)ᵀ·op(a)ᵀ, i.e. gemm(tb, ta, n, m, k, 1, b, ldb, a, lda, beta,
c, n) — the operands swap places and each keeps its own transpose flag.

BLAS runs on one thread here (``threads.kernel_threads`` caps numpy's BLAS): the
parallelism comes from the chunk workers that call it (``pool_threads.py``).
"""
from __future__ import annotations

import ctypes

import llvmlite.binding as llvm
import numpy as np
from numba import types
from numba.extending import register_jitable

#: ILP64 Fortran names, as OpenBLAS builds with a symbol suffix spell them
_NAMES = {"s": ("scipy_sgemm_64_", "sgemm_64_", "sgemm64_"),
          "d": ("scipy_dgemm_64_", "dgemm_64_", "dgemm64_")}


def _find_gemm():
    """{"s": address, "d": address} of numpy's ILP64 sgemm/dgemm, and the library's path."""
    from threadpoolctl import threadpool_info
    tried = []
    for info in threadpool_info():
        if info.get("user_api") != "blas":
            continue
        path = info["filepath"]
        tried.append(path)
        lib = ctypes.CDLL(path)
        found = {}
        for kind, names in _NAMES.items():
            for name in names:
                if hasattr(lib, name):
                    found[kind] = ctypes.cast(getattr(lib, name), ctypes.c_void_p).value
                    break
        if len(found) == 2:
            return found, path
    raise ImportError("cnnlab's fused stages call BLAS with 64-bit integers (the ILP64 "
                      "sgemm/dgemm numpy's wheels bundle, e.g. scipy_sgemm_64_); none of "
                      f"the BLAS libraries loaded has them: {tried or 'no BLAS found'}")


_ADDRESSES, BLAS_PATH = _find_gemm()
for _kind, _addr in _ADDRESSES.items():
    llvm.add_symbol(f"cnnlab_{_kind}gemm64", _addr)

_P = types.voidptr
# void ?gemm(char *transa, char *transb, int64 *m, int64 *n, int64 *k, T *alpha, T *a,
#            int64 *lda, T *b, int64 *ldb, T *beta, T *c, int64 *ldc)  (all by reference)
_sgemm = types.ExternalFunction("cnnlab_sgemm64", types.void(*([_P] * 13)))
_dgemm = types.ExternalFunction("cnnlab_dgemm64", types.void(*([_P] * 13)))

_N, _T = 78, 84           # ord("N"), ord("T")


@register_jitable
def matmul(a, ta, b, tb, c, beta):
    """c = op(a)·op(b) + beta·c for C-contiguous 2-D arrays of one dtype (see the module).

    Callable from compiled code only. Registered as an overload rather than as its own
    ``njit`` function so that it is compiled once per dtype: a dispatcher called with the
    constants ``True`` / ``False`` compiles one specialization per literal value
    (``Literal[bool]``), three of them for a LeNet-5 step (measured 0.96 + 0.38 + 0.33 s of
    cold compile), while an overload is typed with plain booleans first. The compiled
    kernels that call it are cached with it (``cache=True`` on the callers)."""
    m, n = c.shape
    k = a.shape[0] if ta else a.shape[1]
    ints = np.empty(6, np.int64)
    ints[0] = n                       # rows of the column-major result cᵀ
    ints[1] = m
    ints[2] = k
    ints[3] = b.shape[1]              # leading dimensions: the row lengths
    ints[4] = a.shape[1]
    ints[5] = n
    flags = np.empty(2, np.uint8)
    flags[0] = _T if tb else _N
    flags[1] = _T if ta else _N
    scalars = np.empty(2, c.dtype)
    scalars[0] = 1
    scalars[1] = beta
    args = (flags[0:].ctypes, flags[1:].ctypes, ints[0:].ctypes, ints[1:].ctypes,
            ints[2:].ctypes, scalars[0:].ctypes, b.ctypes, ints[3:].ctypes, a.ctypes,
            ints[4:].ctypes, scalars[1:].ctypes, c.ctypes, ints[5:].ctypes)
    if c.itemsize == 4:
        _sgemm(*args)
    else:
        _dgemm(*args)
