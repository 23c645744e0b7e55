"""A design exercise's check: does a learner's network fit a parameter budget?

    from cnnlab.design_check import check_design
    check_design(my_layers, budget=10_000)

The count is ``cnnlab.analyze``'s: per layer, weights plus biases (a convolution
FH·FW·C·F + F, a fully connected layer outputs·inputs + outputs, batch norm 2 per channel).
Like ``cnnlab.testing.check_answer`` it prints one line and never raises for a learner's
mistake: "Fill in" for ``None``, "Right!" with the total when the network fits, and "Not yet"
with a hint naming the layer that holds the most parameters (the one to shrink first) when it
does not, or the error the network raised when it cannot be built (a wrong size, a layer out of
place).
"""
from __future__ import annotations

import math

from .analysis import analyze
from .network import Network


def check_design(layers, budget: int, *, input_size=None, outputs: int | None = None) -> bool:
    """Print whether ``layers`` (a list of cnnlab layers, or a Network) has at most ``budget``
    learnable parameters; return True when it does.

    ``input_size`` is passed to ``cnnlab.analyze`` (needed only if the list does not start
    with an ImageInput). ``outputs``: if given, the network must also end in an output
    layer (Softmax + Classification, or Regression) and give that many values, e.g. 10 for
    ten classes, so that a design that fits can be trained. A budget (or ``outputs``) that is
    not a positive whole number is refused (that is the lesson's mistake, not the learner's).

    >>> import cnnlab as cl
    >>> net = [cl.ImageInput((28, 28, 1)), cl.Convolution2D(3, 4), cl.FullyConnected(10)]
    >>> check_design(net, 10_000)      # (9 + 1)·4 = 40, then 10·(26·26·4) + 10 = 27,050
    Not yet: you wrote a network with 27,090 learnable parameters, 17,090 over the budget of 10,000. Hint: fc_1 holds 27,050 of them (99.9%): make its input smaller (pool or stride before it) or give it fewer outputs.
    False
    """
    if isinstance(budget, bool) or not isinstance(budget, int) or budget <= 0:
        raise ValueError(f"check_design: budget = {budget!r}; expected a positive whole number "
                         "of parameters")
    if outputs is not None and (isinstance(outputs, bool) or not isinstance(outputs, int)
                                or outputs <= 0):
        raise ValueError(f"check_design: outputs = {outputs!r}; expected a positive whole "
                         "number (the classes) or None")
    if layers is None:
        print("Fill in your answer (replace None), then run this cell again.")
        return False
    try:
        net = layers if isinstance(layers, Network) else Network(
            list(layers), input_size=input_size, backend="reference")
        analysis = analyze(net)
    except (ValueError, TypeError) as e:
        print(f"Not yet: you wrote a network that cannot be built: {e}")
        return False
    if outputs is not None:
        given = math.prod(net.output_shape)
        if net.loss_layer is None:
            print(f"Not yet: you wrote a network that ends in {net.layers[-1].name}, not in an "
                  "output layer: end it with cl.Softmax(), cl.Classification() (or "
                  "cl.Regression()) so that it can be trained.")
            return False
        if given != outputs:
            print(f"Not yet: you wrote a network with {given} outputs; it needs {outputs} "
                  f"(one per class): give the last fully connected layer {outputs} outputs.")
            return False
    total = analysis.total_parameters
    if total <= budget:
        print(f"Right! {total:,} learnable parameters, within the budget of {budget:,}.")
        return True
    top = max(analysis.rows, key=lambda r: r.parameters)
    advice = {"fc": "make its input smaller (pool or stride before it) or give it fewer "
                    "outputs",
              "conv": "give it fewer filters, smaller filters or fewer input channels"}
    kind = "fc" if "Fully" in top.type else "conv"
    print(f"Not yet: you wrote a network with {total:,} learnable parameters, "
          f"{total - budget:,} over the budget of {budget:,}. Hint: {top.name} holds "
          f"{top.parameters:,} of them ({top.parameters / total:.1%}): {advice[kind]}.")
    return False
