"""Pictures of what the engine computed: matplotlib renderers and GIF export.

Renderers read a :class:`cnnlab.trace.Trace` (or an arithmetic Result, or a TrainingInfo)
and draw it; they never compute network values themselves. Each step picture is one
persistent figure whose artists are updated in place (fast enough to scrub with a slider).

    ConvStepFigure(trace["conv_1"]).show_step((row, col)).png()
    animate_convolution(input_size=5, filter_size=3, padding=1, stride=2, output="conv.gif")
    step_picture(trace["fc_1"]).show_step(3).png()          # any layer's step, forward/backward
    animate_pass(net, image, "pass.gif", direction="both")   # a whole pass for slides
    graph_view(net, highlight="layer2_1_add")  # a layer graph: branches side by side, joins
    augmented_samples(aug, images)          # an ImageDataAugmenter's random variants
    set_style("projector")                  # bigger text and pictures for a classroom

Every figure and picture object shows itself as a PNG in a notebook (``_repr_png_``).
"""
from .animate import animate_convolution, animate_pooling, animate_transposed
from .animate_pass import animate_pass
from .arithmetic_card import ArithmeticCard, arithmetic_card
from .augmentation_view import augmented_samples
from .conv_step import ConvStepFigure
from .dropout_view import DropoutView
from .filters import filters_figure
from .graph_view import GraphView, graph_view
from .network_view import LayerMapsView, network_view
from .pool_step import PoolStepFigure
from .receptive_field import ReceptiveFieldView
from .step_pictures import step_picture
from .style import Picture, get_style, set_style, style
from .training_curves import TrainingCurves, training_curves
from .transposed_step import TransposedStepFigure

__all__ = ["ConvStepFigure", "PoolStepFigure", "TransposedStepFigure", "DropoutView",
           "ArithmeticCard", "arithmetic_card", "LayerMapsView", "network_view",
           "filters_figure", "ReceptiveFieldView", "TrainingCurves", "training_curves",
           "animate_convolution", "animate_pooling", "animate_transposed", "animate_pass",
           "step_picture", "augmented_samples", "set_style", "get_style", "style", "Picture",
           "graph_view", "GraphView"]
