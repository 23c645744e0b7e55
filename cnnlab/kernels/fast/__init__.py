"""Fast kernels (Numba + BLAS): same functions, signatures and results as the reference.

Compiled on first use of each function (``cache=True``: later processes load the machine code
from ``__pycache__`` instead of compiling). The reference kernels are the definition; tests
check these against them on every configuration hypothesis generates.
"""
from .conv import (conv2d_forward, conv2d_backward, conv2d_transpose_forward,  # noqa: F401
                   conv2d_transpose_backward)
from .pool import (maxpool2d_forward, maxpool2d_backward, avgpool2d_forward,  # noqa: F401
                   avgpool2d_backward)
from .norm import (batch_moments, batchnorm_forward, batchnorm_backward,  # noqa: F401
                   lrn_forward, lrn_backward)
from .elementwise import (relu_forward, relu_backward, leaky_relu_forward,  # noqa: F401
                          leaky_relu_backward, clipped_relu_forward, clipped_relu_backward,
                          tanh_forward, tanh_backward, sigmoid_forward, sigmoid_backward)
