"""BLAS matrix products callable from inside nogil Numba code, and cached across processes.

``np.dot`` inside Numba compiles slowly (~6 s, one implementation per layout, with its shape
error formatting) and a ctypes function pointer would bake an address into the machine code
(so ``cache=True`` could not reuse it in another process). Instead the Fortran ``sgemm`` /
``dgemm`` of scipy's BLAS (``scipy.linalg.cython_blas``) are registered with LLVM once per
process under fixed names, ``cnnlab_sgemm`` / ``cnnlab_dgemm``, and the compiled kernels
call those names: the cached code links to whatever address this process registered.

``matmul(a, ta, b, tb, c, beta)`` computes, for row-major (C-contiguous) 2-D arrays,

    c = op(a) · op(b) + beta · c          op(m) = mᵀ when its flag is True

Fortran BLAS is column-major: a row-major m×n matrix is, to it, the n×m matrix mᵀ with
leading dimension n. So the row-major product c = op(a)·op(b) is asked for as the
column-major product cᵀ = op(b)ᵀ·op(a)ᵀ, i.e. gemm(tb, ta, n, m, k, 1, b, ldb, a, lda, beta,
c, n) — the operands swap places and each keeps its own transpose flag.

BLAS runs on one thread here (``threads.kernel_threads`` caps scipy's BLAS too): the
parallelism comes from the chunk workers that call it (``pool_threads.py``).
"""
from __future__ import annotations

import llvmlite.binding as llvm
import numba
import numpy as np
from numba import types
from numba.core.extending import get_cython_function_address


def _register():
    for name in ("sgemm", "dgemm"):
        addr = get_cython_function_address("scipy.linalg.cython_blas", name)
        llvm.add_symbol("cnnlab_" + name, addr)


_register()

_P = types.voidptr
# void ?gemm(char *transa, char *transb, int *m, int *n, int *k, T *alpha, T *a, int *lda,
#            T *b, int *ldb, T *beta, T *c, int *ldc)   (every argument by reference)
_sgemm = types.ExternalFunction("cnnlab_sgemm", types.void(*([_P] * 13)))
_dgemm = types.ExternalFunction("cnnlab_dgemm", types.void(*([_P] * 13)))

_N, _T = 78, 84           # ord("N"), ord("T")


@numba.njit(nogil=True, cache=True)
def matmul(a, ta, b, tb, c, beta):
    """c = op(a)·op(b) + beta·c for C-contiguous 2-D arrays of one dtype (see the module)."""
    m, n = c.shape
    k = a.shape[0] if ta else a.shape[1]
    ints = np.empty(6, np.int32)
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
