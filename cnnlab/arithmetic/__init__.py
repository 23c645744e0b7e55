"""Every size, count and formula in cnnlab, with the formula and the numbers shown.

Layers compute their output shapes here; widgets and lessons show ``formula`` and
``substituted``; students check textbook calculations. Each function returns a ``Result``
(value, unfloored, formula, substituted, notes, quotient; ``exact`` is an alias of
``unfloored``) and raises ``ValueError`` naming the parameter,
its value and the failing arithmetic.

Sizes work along ONE axis (call twice for height and width); parameter and connection counts
take the filter size as an int or an (h, w) pair.

>>> from cnnlab.arithmetic import conv_output_size, conv_parameters
>>> r = conv_output_size(32, 5, stride=2, padding=2)
>>> r.value, r.unfloored, r.quotient    # floor(15.5) + 1 = 16; unfloored 15.5 + 1
(16, 16.5, 15.5)
>>> print(r.substituted)  # doctest: +NORMALIZE_WHITESPACE
floor((32 - ((5 - 1)·1 + 1) + 2 + 2) / 2) + 1 = floor((32 - 5 + 2 + 2) / 2) + 1
= floor(31 / 2) + 1 = floor(15.5) + 1 = 16
>>> conv_parameters(5, 3, 8).value
608
"""
from . import padding
from . import checks, formatting
from ._core import Result
from .checks import is_sequence
from .formatting import format_number
from .counts import (batchnorm_parameters, conv_connections, conv_multiply_adds, conv_parameters,
                     fc_connections, fc_multiply_adds, fc_parameters, neurons,
                     transposed_conv_multiply_adds, transposed_conv_parameters)
from .filters import dilate, dilated_taps, effective_filter_hw, group_channels, window_taps
from .receptive import ReceptiveField, receptive_field, receptive_field_of
from .receptive_span import InputSpan, conv_input_span, transposed_conv_input_span
from .sizes import (check_window_fits, conv_output_size, effective_filter_size,
                    pool_output_size, same_padding, transposed_conv_output_size)

__all__ = [
    "Result", "ReceptiveField",
    "InputSpan", "conv_input_span", "transposed_conv_input_span",
    "effective_filter_size", "effective_filter_hw", "dilated_taps", "dilate", "group_channels",
    "window_taps", "check_window_fits", "conv_output_size", "pool_output_size", "same_padding",
    "transposed_conv_output_size",
    "conv_parameters", "transposed_conv_parameters", "fc_parameters", "batchnorm_parameters",
    "neurons", "conv_connections", "fc_connections", "conv_multiply_adds", "fc_multiply_adds",
    "transposed_conv_multiply_adds",
    "receptive_field", "receptive_field_of",
    "format_number", "is_sequence",
]
