"""Steps of a fully connected layer: one output neuron, Σ wᵢxᵢ + b over the flattened input.

    y_k = Σ_{i = 0..D−1} W[k, i]·x_i + b_k,   x = the input H×W×C flattened in C order

so term i reads the input at (row, col, channel) = unravel(i, H×W×C). The steps walk the
neurons in order (step k is neuron k, flat index k of the 1×1×K output). ``value`` is the
sum in float64 from the recorded input and weights; ``output`` what the network recorded.
``text()`` writes the sum under the printed-sums rule of ``cnnlab.trace.sums`` (factors to 4
significant figures; "=" when the printed factors multiplied, added and rounded give the
printed value).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..arithmetic.formatting import factor
from .step_base import Step, products_text


@dataclass(frozen=True)
class DenseStep(Step):
    """One neuron of a fully connected layer (fields of ``Step`` plus):

    neuron : k (the output channel; row = col = 0 for the usual 1×1×K output)
    inputs : (D,) the flattened input x;  weights : (D,) the weight row W[k, :]
    products : (D,) W[k, i]·x_i;  running_sum : (D,) the cumulative sum of the products
    total : Σ products;  bias : b_k;  value : total + bias
    input_positions : D×3 int array, the (row, col, channel) in the layer's input of term i
    input_shape : the H×W×C input before flattening
    """
    neuron: int
    inputs: np.ndarray
    weights: np.ndarray
    products: np.ndarray
    running_sum: np.ndarray
    total: float
    bias: float
    input_positions: np.ndarray
    input_shape: tuple

    @property
    def reads(self) -> str:
        return (f"the {len(self.inputs)} inputs ({'x'.join(map(str, self.input_shape))} "
                f"flattened), weight row {self.neuron} and bias {self.neuron}")

    def term_text(self, i: int) -> str:
        """Term i: ``w·x`` and where x sits, e.g. ``0.12·(-0.5) from input (0, 3, 1)``."""
        r, c, ch = self.input_positions[i]
        return (f"W[{self.neuron}, {i}]·x[{i}] = {factor(self.weights[i])}·"
                f"{factor(self.inputs[i])} = {factor(self.products[i])} "
                f"(x from input ({r}, {c}, channel {ch}))")

    def products_text(self, max_terms: int = 12) -> str:
        """``w·x + w·x + ... + bias b = value`` (``step_base.products_text``)."""
        return products_text(self.weights, self.inputs, self.value, bias=self.bias,
                             max_terms=max_terms)

    def text(self, max_terms: int = 12) -> str:
        return f"neuron {self.neuron}: " + self.products_text(max_terms)


def dense_step(rec, row, col, ch) -> DenseStep:
    x = rec.flattened_input.astype(np.float64)
    w = rec.weights[ch].astype(np.float64)
    products = w * x
    total = float(products.sum())
    bias = float(rec.bias[ch])
    positions = np.stack(np.unravel_index(np.arange(x.size), rec.input_shape), axis=-1)
    return DenseStep(row=row, col=col, channel=ch,
                     flat_index=int(np.ravel_multi_index((row, col, ch), rec.output_shape)),
                     value=total + bias, output=float(rec.output[row, col, ch]), neuron=ch,
                     inputs=x, weights=w, products=products, running_sum=np.cumsum(products),
                     total=total, bias=bias, input_positions=positions,
                     input_shape=tuple(rec.input_shape))

