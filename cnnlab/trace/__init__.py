"""The instrumented engine: record every intermediate of a forward pass and step through it.

    trace = net.trace(image)               # or cnnlab.trace.trace_network(net, image)
    rec = trace["conv_1"]                  # .input .padded_input .effective_weights .output
    for step in rec.steps(filter=0):       # one WindowStep per output position, made lazily
        print(step)                        # 3·0 + 3·1 + ... + bias 0 = 12
    trace.receptive_field("conv_2", 3, 4)  # the input region one neuron sees
    for rec in trace:                      # every layer: rec.num_steps, rec.step_at(k)
        print(rec.step_at(0).text())       # .value .flat_index .reads .text()
"""
from .budget import DEFAULT_BUDGET_BYTES, TraceBudgetError, estimate_bytes
from .receptive import NeuronField
from .records import ConvolutionRecord, LayerRecord, PoolingRecord, TransposedRecord
from .step_base import Step
from .steps import BackwardStep, PoolStep, WindowStep
from .steps_dense import DenseStep
from .steps_elementwise import ActivationStep, DropoutStep, InputStep
from .steps_norm import BatchNormStep, CrossNormStep
from .steps_output import LossStep, SoftmaxStep
from .trace import Trace, trace_network

__all__ = ["trace_network", "Trace", "LayerRecord", "ConvolutionRecord", "TransposedRecord",
           "PoolingRecord", "WindowStep", "PoolStep", "BackwardStep", "NeuronField", "Step",
           "ActivationStep", "InputStep", "DropoutStep", "BatchNormStep", "CrossNormStep",
           "DenseStep", "SoftmaxStep", "LossStep",
           "TraceBudgetError", "DEFAULT_BUDGET_BYTES", "estimate_bytes"]
