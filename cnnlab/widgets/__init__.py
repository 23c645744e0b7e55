"""ipywidgets explorers built on :mod:`cnnlab.viz`: controls wired to the engine and a picture.

Each is an ``ipywidgets.Box`` subclass: it displays by itself, composes with other widgets,
and constructs with no arguments on a small example.
"""
from .arithmetic import ArithmeticCalculator
from .convolution import ConvolutionExplorer
from .dropout import DropoutExplorer
from .network import NetworkExplorer
from .pooling import PoolingExplorer
from .stepper import ForwardStepper
from .training import TrainingMonitor

__all__ = ["ConvolutionExplorer", "PoolingExplorer", "DropoutExplorer", "ArithmeticCalculator",
           "NetworkExplorer", "TrainingMonitor", "ForwardStepper"]
