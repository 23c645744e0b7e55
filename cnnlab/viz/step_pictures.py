"""Which step picture draws which layer: ``step_picture(record, direction)``.

Every picture has the same small interface, so that the stepper and ``animate_pass`` need not
know the layer type:

    figure = step_picture(trace["fc_1"])            # forward; "backward" for gradients
    figure.show_step(k)                              # step k of the record
    figure.png()                                     # PNG bytes
    figure.step, figure.index, figure.canvas         # the step drawn, k, the Canvas

=====================================  =========================================
layer kind                             forward picture
=====================================  =========================================
conv, transposed-conv, pooling         ``window_steps.WindowLayerStepFigure`` (today's
                                       convolution / pooling pictures, map by map)
relu, leakyrelu, clippedrelu, tanh,    ``activation_step.ActivationStepFigure``
sigmoid
batchnorm                              ``batchnorm_step.BatchNormStepFigure``
crossnorm                              ``crossnorm_step.CrossNormStepFigure``
dropout                                ``dropout_step.DropoutStepFigure``
imageinput                             ``input_step.InputStepFigure``
fc                                     ``fc_step.FullyConnectedStepFigure``
softmax                                ``softmax_step.SoftmaxStepFigure``
classoutput, regressionoutput          ``loss_step.LossStepFigure``
add, depthcat (the joins of a layer    ``join_step.JoinStepFigure`` (every input, the
graph)                                 layer that fed it, the sum / the copied channel)
=====================================  =========================================

Backward, every layer kind with backward steps is drawn by
``backward_step.BackwardStepFigure`` (incoming gradient, local derivative, product): an
Addition's steps too (∂y/∂in_i = 1: dL/dy passed whole to every input, the caption naming
each); a DepthConcatenation has none (it hands each input its slice of dL/dy, recorded
whole in ``input_gradients``).
"""
from __future__ import annotations

from .activation_step import FORMULAS as ACTIVATION_KINDS
from .activation_step import ActivationStepFigure
from .backward_step import BackwardStepFigure
from .batchnorm_step import BatchNormStepFigure
from .crossnorm_step import CrossNormStepFigure
from .dropout_step import DropoutStepFigure
from .fc_step import FullyConnectedStepFigure
from .input_step import InputStepFigure
from .join_step import JoinStepFigure
from .loss_step import LossStepFigure
from .softmax_step import SoftmaxStepFigure
from .window_steps import FIGURES as WINDOW_KINDS
from .window_steps import WindowLayerStepFigure

FORWARD = {**{k: WindowLayerStepFigure for k in WINDOW_KINDS},
           **{k: ActivationStepFigure for k in ACTIVATION_KINDS},
           "batchnorm": BatchNormStepFigure, "crossnorm": CrossNormStepFigure,
           "dropout": DropoutStepFigure, "imageinput": InputStepFigure,
           "fc": FullyConnectedStepFigure, "softmax": SoftmaxStepFigure,
           "classoutput": LossStepFigure, "regressionoutput": LossStepFigure,
           "add": JoinStepFigure, "depthcat": JoinStepFigure}
DIRECTIONS = ("forward", "backward")


def step_picture(record, direction: str = "forward", **options):
    """The step picture of ``record`` for ``direction`` ("forward" or "backward")."""
    if direction not in DIRECTIONS:
        raise ValueError(f"step_picture: direction = {direction!r} must be \"forward\" or "
                         "\"backward\"")
    if direction == "backward":
        return BackwardStepFigure(record, **options)
    if record.kind not in FORWARD:
        raise ValueError(f"step_picture: no step picture for {record.name} "
                         f"({record.type_name}, kind {record.kind!r}); pictures exist for "
                         f"{', '.join(sorted(FORWARD))}")
    return FORWARD[record.kind](record, **options)


def steps_of(record, direction: str = "forward") -> int:
    """How many steps ``record`` has in ``direction`` (0 when it has none)."""
    if direction == "backward":
        if getattr(record, "input_gradient", None) is None:
            return 0
        return int(getattr(record, "num_backward_steps", 0) or 0)
    return int(getattr(record, "num_steps", 0) or 0) if record.kind in FORWARD else 0
